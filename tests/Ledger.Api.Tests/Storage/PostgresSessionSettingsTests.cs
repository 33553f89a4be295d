#if POSTGRES
using Dapper;
using Ledger.Api.Infrastructure;
using Ledger.Api.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Ledger.Api.Tests.Storage;

/// <summary>
/// The API's PostgreSQL connections run without JIT compilation: the server compiles only when a statement's estimated
/// cost is high, which for Ledger's index lookups happens when the statistics are stale (right after a large import),
/// and compiling then cost ten times the statement (a mid-history trial balance: 170-240 ms against 17 ms). A
/// deployment that sets jit itself in the connection string's Options keeps its own choice.
/// </summary>
public sealed class PostgresSessionSettingsTests(SharedApp shared) : SharedAppTest(shared)
{
    [SkippableFact]
    public async Task The_apis_reads_and_writes_run_without_jit()
    {
        var database = App.Services.GetRequiredService<LedgerDatabase>();
        await using (var read = await database.OpenReadAsync())
            Assert.Equal("off", await read.ExecuteScalarAsync<string>("SHOW jit"));

        var book = await App.CreateBookAsync();
        var writer = App.Services.GetRequiredService<LedgerWriter>();
        Assert.Equal("off", await writer.WriteBookAsync(book, s => s.Connection.ExecuteScalar<string>("SHOW jit")));
    }

    [SkippableFact]
    public async Task Jit_named_in_the_connection_strings_options_is_left_as_given()
    {
        using var database = new PostgresLedgerDatabase($"{TestDatabase.ConnectionString(App.DatabasePath)};Options=-c jit=on");
        await using var read = await database.OpenReadAsync();
        Assert.Equal("on", await read.ExecuteScalarAsync<string>("SHOW jit"));
    }
}
#endif
