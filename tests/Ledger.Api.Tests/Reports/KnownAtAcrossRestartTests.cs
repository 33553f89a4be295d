using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;
using NodaTime;
using NodaTime.Testing;

namespace Ledger.Api.Tests.Reports;

/// <summary>
/// README (knownAt): entries' createdAt are "never earlier than ones already stored, even if the server's clock is set
/// back", and nothing committed after a report is recorded at or before its knownAt. Both must hold across a restart:
/// instants stored by groups without entries (account versions) and instants a report settled on must not be forgotten.
/// </summary>
public sealed class KnownAtAcrossRestartTests : FakeClockAppTest
{

    [Fact]
    public async Task After_a_restart_on_aClock_set_back_an_entry_is_not_recorded_before_the_account_it_posts_to()
    {
        var book = await App.CreateBookAsync();
        await Admin.PostEntryOkAsync(book, "2026-03-01", "Sale", ("1010", "1.00", null), ("4000", null, "1.00"));
        Clock.AdvanceHours(1);
        // Recorded at 10:00 by a group that writes no entry.
        await App.CreateAccountAsync(book, "1999", "asset");
        var accountCreated = (await App.AccountAsync(book, "1999"))["createdAt"]!.GetValue<string>();

        // The server restarts with its clock half an hour behind (NTP step, VM restore).
        var restarted = new FakeClock(Instant.FromUtc(2026, 4, 1, 9, 30));
        App = await App.RestartAsync(restarted);
        var entry = await Admin.PostEntryOkAsync(book, "2026-03-02", "Sale to new account", ("1999", "2.00", null), ("4000", null, "2.00"));
        var recorded = entry["createdAt"]!.GetValue<string>();

        // Pulled as known at the instant the entry was recorded (not in the future: the clock reads 09:30).
        var report = await Admin.GetJsonOkAsync($"/v1/books/{book}/reports/trial-balance?asOf=2026-03-31&knownAt={recorded}");
        // Were the entry recorded at 09:30, before its account, the chart as known then would leave 1999 out and the
        // trial balance would not balance (debit 1.00 / credit 3.00).
        Assert.True(report["totals"]!["debit"]!.GetValue<string>() == report["totals"]!["credit"]!.GetValue<string>(),
            $"Entry recorded at {recorded}, its account at {accountCreated}; the trial balance as known at {recorded} does not balance:\n{report}");
        Assert.True(ParseInstant(recorded) >= ParseInstant(accountCreated),
            $"The entry was recorded at {recorded}, before its account 1999, recorded at {accountCreated}.");
    }

    [Fact]
    public async Task A_report_pulled_as_known_at_an_instant_before_a_restart_comes_back_the_same_after_it()
    {
        var book = await App.CreateBookAsync();
        await Admin.PostEntryOkAsync(book, "2026-03-01", "Sale", ("1010", "1.00", null), ("4000", null, "1.00"));
        Clock.AdvanceHours(1);
        const string knownAt = "2026-04-01T10:00:00Z";
        var url = $"/v1/books/{book}/reports/trial-balance?asOf=2026-03-31&knownAt={knownAt}";
        var before = await Admin.GetJsonOkAsync(url);

        // A restart with the clock a minute behind the instant that report settled.
        var restarted = new FakeClock(Instant.FromUtc(2026, 4, 1, 9, 59));
        App = await App.RestartAsync(restarted);
        var entry = await Admin.PostEntryOkAsync(book, "2026-03-02", "Posted after the restart", ("1010", "2.00", null), ("4000", null, "2.00"));
        restarted.AdvanceMinutes(2);

        var after = await Admin.GetJsonOkAsync(url);
        // Were the entry stamped at 09:59, it would now count as known at 10:00 (debit 3.00).
        Assert.True(JsonNode.DeepEquals(before, after),
            $"Posted after the report, recorded at {entry["createdAt"]}; as known at {knownAt} the trial balance was\n{before}\nand is now\n{after}");
    }

}
