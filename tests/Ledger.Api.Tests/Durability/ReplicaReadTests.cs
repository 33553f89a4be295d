#if POSTGRES
using System.Net;
using Dapper;
using Ledger.Api.Tests.Support;
using Npgsql;

namespace Ledger.Api.Tests.Durability;

/// <summary>
/// With <c>ConnectionStrings:LedgerReplica</c> set, lists and reports read a streaming hot standby (started here from a
/// base backup of a primary of its own), while reads that must see the caller's own write still do: the answer to a
/// POST, the entry fetched by id right after, and reports as known at an instant.
/// </summary>
[Trait("Category", "Slow")]
public sealed class ReplicaReadTests : IAsyncLifetime
{
    private PostgresCluster _primary = null!;
    private PostgresCluster _standby = null!;
    private LedgerApp _app = null!;

    public async Task InitializeAsync()
    {
        Skip.If(PostgresCluster.UnavailableReason is not null, PostgresCluster.UnavailableReason);
        _primary = PostgresCluster.StartNew("replica-primary");
        var database = _primary.CreateDatabase();
        _standby = _primary.StartStandby();
        var replica = new NpgsqlConnectionStringBuilder(database) { Port = _standby.Port }.ConnectionString;
        _app = LedgerApp.OnExistingFile(database, settings: new Dictionary<string, string> { ["ConnectionStrings:LedgerReplica"] = replica });
        _ = _app.Services; // start the host: it migrates the primary, which the standby replays
        await WaitForReplayAsync();
    }

    public async Task DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        _standby?.Stop();
        _primary?.Stop();
    }

    [Fact]
    public async Task Lists_read_the_replica_while_own_writes_and_known_at_reports_see_the_primary()
    {
        var book = await _app.CreateBookAsync();
        var first = await _app.PostEntryOkAsync(book, "2026-03-01", "Before the pause", ("1010", "10.00", null), ("4000", null, "10.00"));
        await WaitForReplayAsync();
        Assert.Single(await _app.AllEntriesAsync(book));

        // Hold the standby's replay: from here on it lags the primary, as a replica under load does.
        await ExecuteOnStandbyAsync("SELECT pg_wal_replay_pause()");
        try
        {
            var posted = await _app.PostEntryOkAsync(book, "2026-03-02", "During the pause", ("1010", "5.00", null), ("4000", null, "5.00"));
            Assert.Equal(2, posted["number"]!.GetValue<long>()); // the POST answers from the primary

            // The list comes from the replica, which has not replayed the new entry...
            Assert.Single(await _app.AllEntriesAsync(book));
            // ...but the entry is served by id right after its POST, from the primary.
            var byId = await _app.Admin.GetJsonAsync($"/v1/books/{book}/journal-entries/{posted["id"]}");
            Assert.Equal("During the pause", byId["description"]!.GetValue<string>());
            // A report as known at now counts every commit so far: the replica has not caught up, so the primary answers.
            var now = DateTime.UtcNow.AddSeconds(-0).ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'");
            var knownAt = await _app.Admin.GetJsonAsync($"/v1/books/{book}/reports/trial-balance?asOf=2026-12-31&knownAt={now}");
            Assert.Equal("15.00", knownAt["totals"]!["debit"]!.GetValue<string>());
            // An entry the replica holds, reversed just now: read by id, it already names its reversal.
            var reversal = await (await _app.Admin.PostRawAsync($"/v1/books/{book}/journal-entries/{first["id"]}/reverse",
                """{"date":"2026-03-03"}""")).AssertCreatedAsync();
            var reversed = await _app.Admin.GetJsonAsync($"/v1/books/{book}/journal-entries/{first["id"]}");
            Assert.Equal(reversal["id"]!.GetValue<long>(), reversed["reversedBy"]!.GetValue<long>());
        }
        finally
        {
            await ExecuteOnStandbyAsync("SELECT pg_wal_replay_resume()");
        }

        await WaitForReplayAsync();
        Assert.Equal(3, (await _app.AllEntriesAsync(book)).Count);
        Assert.Equal(HttpStatusCode.OK, (await _app.Admin.GetAsync($"/v1/books/{book}/journal-entries/{first["id"]}")).StatusCode);

        // The replica goes down: lists and reports are answered by the primary, not refused.
        _standby.Stop();
        Assert.Equal(3, (await _app.AllEntriesAsync(book)).Count);
        var trialBalance = await _app.Admin.GetJsonAsync($"/v1/books/{book}/reports/trial-balance?asOf=2026-12-31");
        Assert.Equal("5.00", trialBalance["totals"]!["debit"]!.GetValue<string>());
        var later = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'");
        Assert.Equal(HttpStatusCode.OK,
            (await _app.Admin.GetAsync($"/v1/books/{book}/reports/trial-balance?asOf=2026-12-31&knownAt={later}")).StatusCode);
    }

    private async Task ExecuteOnStandbyAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_standby.AdminConnectionString);
        await connection.OpenAsync();
        await connection.ExecuteAsync(sql);
    }

    /// <summary>Waits (at most 30 s) until the standby has replayed everything the primary has written so far.</summary>
    private async Task WaitForReplayAsync()
    {
        string lsn;
        await using (var primary = new NpgsqlConnection(_primary.AdminConnectionString))
        {
            await primary.OpenAsync();
            lsn = (await primary.ExecuteScalarAsync<string>("SELECT pg_current_wal_lsn()::text"))!;
        }
        await using var standby = new NpgsqlConnection(_standby.AdminConnectionString);
        await standby.OpenAsync();
        for (var i = 0; i < 3000; i++)
        {
            if (await standby.ExecuteScalarAsync<bool>("SELECT COALESCE(pg_last_wal_replay_lsn() >= CAST(@lsn AS pg_lsn), false)", new { lsn })) return;
            await Task.Delay(10);
        }
        throw new TimeoutException("The standby did not catch up within 30 s.");
    }
}
#endif
