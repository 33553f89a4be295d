using System.Text.Json;
using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.OpenApi;

/// <summary>
/// The committed openapi/ledger.json is the contract other tools generate clients from: it must be exactly
/// what the running app serves.
/// </summary>
public sealed class OpenApiDocumentTests
{
    private const string RefreshCommand = "UPDATE_OPENAPI=1 dotnet test --filter FullyQualifiedName~OpenApiDocumentTests";

    [Fact]
    public async Task Committed_document_matches_the_running_app()
    {
        await using var app = LedgerApp.Start();
        var response = await app.Client(null).GetAsync("/swagger/v1/swagger.json");
        response.EnsureSuccessStatusCode();
        var served = Normalize(await response.Content.ReadAsStringAsync());

        var path = Path.Combine(RepositoryRoot(), "openapi", "ledger.json");
        if (Environment.GetEnvironmentVariable("UPDATE_OPENAPI") == "1")
        {
            await File.WriteAllTextAsync(path, served);
            return;
        }
        var committed = File.Exists(path) ? Normalize(await File.ReadAllTextAsync(path)) : "";
        Assert.True(committed == served,
            $"openapi/ledger.json differs from the document the app serves. If the API change is intended, refresh it with:\n  {RefreshCommand}");
    }

    [Fact]
    public async Task Swagger_ui_is_served_without_a_key()
    {
        await using var app = LedgerApp.Start();
        var response = await app.Client(null).GetAsync("/swagger/index.html");
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
    }

    private static string Normalize(string json) =>
        JsonNode.Parse(json)!.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";

    private static string RepositoryRoot() => RepositoryFiles.Root;
}
