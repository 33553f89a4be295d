using System.Net.Http.Json;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Journal;

/// <summary>
/// Validation problems written by Kestrel, the API as its own process. In-process (TestServer) a problem is written
/// another way, so the rest of the suite never saw the first validation problem of a new process answered 500:
/// System.Text.Json refused to write the "errors" keys through the string converter (now TextWithoutControlCharactersConverter) on that first write.
/// </summary>
public sealed class KestrelProblemTests : IAsyncLifetime
{
    private readonly string _databasePath = TestDatabase.Create();
    private ApiProcess _api = null!;

    public async Task InitializeAsync() => _api = await ApiProcess.StartAsync(_databasePath);

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        TestDatabase.Delete(_databasePath);
    }

    [Fact]
    public async Task The_first_validation_problem_of_a_new_process_is_a_400_naming_the_field()
    {
        using var client = _api.Client();
        var created = await client.PostAsJsonAsync("/v1/books", new { name = "Problems", currency = "EUR", chart = "standard" });
        var book = (await created.ReadJsonAsync())["id"]!.GetValue<string>();
        const string unbalanced = """{"date":"2026-01-05","description":"x","lines":[{"account":"1010","debit":"10.00"},{"account":"4000","credit":"9.99"}]}""";
        for (var i = 0; i < 2; i++)
            await (await client.PostRawAsync($"/v1/books/{book}/journal-entries", unbalanced)).AssertValidationErrorAsync("lines");
    }
}
