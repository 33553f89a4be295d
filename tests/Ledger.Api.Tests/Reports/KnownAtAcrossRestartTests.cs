using System.Text.Json.Nodes;
using Ledger.Api.Tests.Reports;
using Ledger.Api.Tests.Support;
using NodaTime;
using NodaTime.Testing;

namespace Ledger.Api.Tests.Reports;

/// <summary>
/// README (knownAt): "nothing committed afterwards is recorded at or before it (entries' createdAt are these recording
/// instants, never earlier than ones already stored, even if the server's clock is set back)". RecordingClock.Resume
/// only looks at MAX(commits.recorded_at), and commits rows exist only for groups that wrote entries: instants stored
/// by groups without entries (account versions, fiscal-year changes) and instants a knownAt report settled are
/// forgotten by a restart, so after a restart on a clock set back new entries are recorded before them.
/// </summary>
public sealed class KnownAtAcrossRestartTests : AppTest
{
    private readonly FakeClock _clock = new(Instant.FromUtc(2026, 4, 1, 9, 0));

    protected override LedgerApp StartApp() => LedgerApp.Start(_clock);

    [Fact]
    public async Task After_a_restart_on_a_clock_set_back_an_entry_is_not_recorded_before_the_account_it_posts_to()
    {
        var book = await App.CreateBookAsync();
        await Admin.PostEntryOkAsync(book, "2026-03-01", "Sale", ("1010", "1.00", null), ("4000", null, "1.00"));
        _clock.AdvanceHours(1);
        // Recorded at 10:00 in account_versions, but this group writes no entry, so no commits row remembers 10:00.
        await App.CreateAccountAsync(book, "1999", "asset");
        var accountCreated = (await App.AccountAsync(book, "1999"))["createdAt"]!.GetValue<string>();

        // The server restarts with its clock half an hour behind (NTP step, VM restore).
        var restarted = new FakeClock(Instant.FromUtc(2026, 4, 1, 9, 30));
        App = await App.RestartAsync(restarted);
        var entry = await Admin.PostEntryOkAsync(book, "2026-03-02", "Sale to new account", ("1999", "2.00", null), ("4000", null, "2.00"));
        var recorded = entry["createdAt"]!.GetValue<string>();

        // Pulled as known at the instant the entry was recorded (not in the future: the clock reads 09:30).
        var report = await Admin.GetJsonOkAsync($"/v1/books/{book}/reports/trial-balance?asOf=2026-03-31&knownAt={recorded}");
        // Actual: the entry (recorded 09:30) is counted but account 1999 (recorded 10:00) is not in the chart, so the
        // trial balance is debit 1.00 / credit 3.00.
        Assert.True(report["totals"]!["debit"]!.GetValue<string>() == report["totals"]!["credit"]!.GetValue<string>(),
            $"Entry recorded at {recorded}, its account at {accountCreated}; the trial balance as known at {recorded} does not balance:\n{report}");
        Assert.True(Parse(recorded) >= Parse(accountCreated),
            $"The entry was recorded at {recorded}, before its account 1999, recorded at {accountCreated}.");
    }

    [Fact]
    public async Task A_report_pulled_as_known_at_an_instant_before_a_restart_comes_back_the_same_after_it()
    {
        var book = await App.CreateBookAsync();
        await Admin.PostEntryOkAsync(book, "2026-03-01", "Sale", ("1010", "1.00", null), ("4000", null, "1.00"));
        _clock.AdvanceHours(1);
        const string knownAt = "2026-04-01T10:00:00Z";
        var url = $"/v1/books/{book}/reports/trial-balance?asOf=2026-03-31&knownAt={knownAt}";
        var before = await Admin.GetJsonOkAsync(url);

        // A restart with the clock a minute behind the instant that report settled.
        var restarted = new FakeClock(Instant.FromUtc(2026, 4, 1, 9, 59));
        App = await App.RestartAsync(restarted);
        var entry = await Admin.PostEntryOkAsync(book, "2026-03-02", "Posted after the restart", ("1010", "2.00", null), ("4000", null, "2.00"));
        restarted.AdvanceMinutes(2);

        var after = await Admin.GetJsonOkAsync(url);
        // Actual: the entry posted after the report is recorded at 09:59 and now counts as known at 10:00 (debit 3.00).
        Assert.True(JsonNode.DeepEquals(before, after),
            $"Posted after the report, recorded at {entry["createdAt"]}; as known at {knownAt} the trial balance was\n{before}\nand is now\n{after}");
    }

    private static Instant Parse(string text) => NodaTime.Text.InstantPattern.ExtendedIso.Parse(text).GetValueOrThrow();
}
