using System.Net;
using Ledger.Api.Tests.Reports;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.ApiKeys;

/// <summary>With no Ledger:AdminKey configured, the first start generates one and leaves it beside the database, owner-only.</summary>
public sealed class GeneratedAdminKeyTests : IAsyncLifetime
{
    private static readonly Dictionary<string, string> NoConfiguredKey = new() { ["Ledger:AdminKey"] = "" };
    private readonly string _databasePath = Path.Combine(Path.GetTempPath(), $"ledger-test-{Guid.NewGuid():N}.db");
    private string KeyFile => _databasePath + ".admin-key";

    private LedgerApp? _app;
    private LedgerApp App => _app!;

    // Each test starts the app itself, after preparing the directory.
    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
        foreach (var path in new[] { KeyFile, _databasePath + ".target", _databasePath, _databasePath + "-wal", _databasePath + "-shm" })
            File.Delete(path);
    }

    [Fact]
    public async Task The_generated_key_is_written_owner_only_works_and_is_kept_across_restarts()
    {
        var key = await StartAndReadKeyAsync();
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(KeyFile));
        Assert.Equal(HttpStatusCode.OK, (await App.Client(key).GetAsync("/v1/books")).StatusCode);

        _app = await App.RestartAsync();
        _ = App.Services; // a restart with an admin key in the database generates none
        Assert.Equal(key, (await File.ReadAllTextAsync(KeyFile)).Trim());
        Assert.Equal(HttpStatusCode.OK, (await App.Client(key).GetAsync("/v1/books")).StatusCode);
    }

    [Fact]
    public async Task The_only_admin_key_is_not_revoked()
    {
        var key = await StartAndReadKeyAsync();
        var admin = App.Client(key);
        var keys = (await admin.GetJsonOkAsync("/v1/api-keys")).AsArray();
        var id = keys.Single(k => k!["scopes"]![0]!.GetValue<string>() == "admin")!["id"]!.GetValue<string>();

        var refused = await admin.DeleteAsync($"/v1/api-keys/{id}");
        await refused.AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains("Ledger:AdminKey", (await refused.ReadJsonAsync())["detail"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/v1/books")).StatusCode);

        // With a configured admin key beside it, the generated one can go.
        await App.DisposeAsync();
        _app = LedgerApp.OnExistingFile(_databasePath, settings: new Dictionary<string, string> { ["Ledger:AdminKey"] = "configured-for-this-test-0123456789" });
        var configured = App.Client("configured-for-this-test-0123456789");
        Assert.Equal(HttpStatusCode.NoContent, (await configured.DeleteAsync($"/v1/api-keys/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await App.Client(key).GetAsync("/v1/books")).StatusCode);
    }

    [Fact]
    public async Task A_file_already_at_the_key_path_is_replaced_and_a_link_there_is_not_followed()
    {
        if (OperatingSystem.IsWindows()) return; // symbolic links need privileges there
        var target = _databasePath + ".target";
        await File.WriteAllTextAsync(target, "someone else's file");
        File.CreateSymbolicLink(KeyFile, target);

        var key = await StartAndReadKeyAsync();

        Assert.Equal("someone else's file", await File.ReadAllTextAsync(target));
        Assert.Null(new FileInfo(KeyFile).LinkTarget);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(KeyFile));
        Assert.Equal(HttpStatusCode.OK, (await App.Client(key).GetAsync("/v1/books")).StatusCode);
    }

    private async Task<string> StartAndReadKeyAsync()
    {
        _app = LedgerApp.OnExistingFile(_databasePath, settings: NoConfiguredKey); // starting the host runs the bootstrap
        var key = (await File.ReadAllTextAsync(KeyFile)).Trim();
        Assert.StartsWith("ldg_", key);
        return key;
    }
}
