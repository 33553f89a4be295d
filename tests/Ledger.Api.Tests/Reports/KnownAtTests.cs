using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;
using NodaTime;
using NodaTime.Testing;

namespace Ledger.Api.Tests.Reports;

/// <summary>
/// Reports pulled "as known at" an instant reproduce exactly what they said then, whatever was posted since:
/// backdated corrections, reversals and a year-end close.
/// </summary>
public sealed class KnownAtTests : FakeClockAppTest
{

    [Fact]
    public async Task Last_quarters_statements_come_back_exactly_after_backdated_corrections()
    {
        var book = await SampleBook.CreateAsync(App, closeFiscal2025: false);
        var entry = await App.Admin.PostEntryOkAsync(book, "2026-03-20", "Invoice 3, paid at once", ("1010", "900.00", null), ("4010", null, "900.00"));
        var reports = new[]
        {
            $"/v1/books/{book}/reports/trial-balance?asOf=2026-03-31",
            $"/v1/books/{book}/reports/balance-sheet?asOf=2026-03-31",
            $"/v1/books/{book}/reports/income-statement?from=2026-01-01&to=2026-03-31&compareFrom=2025-01-01&compareTo=2025-03-31&columns=month",
            $"/v1/books/{book}/reports/balance-sheet?asOf=2025-12-31",
        };
        var asThen = new List<JsonNode>();
        foreach (var url in reports) asThen.Add(await App.Admin.GetJsonOkAsync(url));

        // Days later: corrections dated inside the quarter, a reversal back-dated to its original, and the 2025 close.
        Clock.AdvanceDays(4);
        const string knownAt = "2026-04-05T00:00:00Z";
        Clock.AdvanceDays(5);
        await App.Admin.PostEntryOkAsync(book, "2026-02-10", "Missed bill", ("6200", "75.50", null), ("2200", null, "75.50"));
        await App.Admin.PostEntryOkAsync(book, "2025-11-30", "Late 2025 accrual", ("6300", "40.00", null), ("2200", null, "40.00"));
        var reversed = await App.Admin.PostJsonAsync($"/v1/books/{book}/journal-entries/{entry["id"]}/reverse", new { });
        Assert.Equal(System.Net.HttpStatusCode.Created, reversed.StatusCode);
        await App.Admin.CloseYearAsync(book, "2025-12-31");
        await App.Admin.PostEntryOkAsync(book, "2026-04-08", "April sale", ("1010", "10.00", null), ("4000", null, "10.00"));

        for (var i = 0; i < reports.Length; i++)
        {
            var now = await App.Admin.GetJsonOkAsync(reports[i]);
            Assert.False(JsonNode.DeepEquals(asThen[i], now), $"The corrections should have changed {reports[i]}.");
            var again = await App.Admin.GetJsonOkAsync($"{reports[i]}&knownAt={knownAt}");
            Assert.Equal(knownAt, again["knownAt"]!.GetValue<string>());
            again.AsObject().Remove("knownAt");
            Assert.True(JsonNode.DeepEquals(asThen[i], again), $"{reports[i]} as known at {knownAt}:\n{again}\nwas:\n{asThen[i]}");
        }
    }

    [Fact]
    public async Task Known_at_counts_entries_recorded_at_or_before_the_instant_to_the_fraction_of_a_second()
    {
        var book = await App.CreateBookAsync();
        await App.Admin.PostEntryOkAsync(book, "2026-03-01", "First", ("1010", "1.00", null), ("4000", null, "1.00"));
        Clock.Advance(Duration.FromMilliseconds(500));
        var second = await App.Admin.PostEntryOkAsync(book, "2026-03-01", "Second", ("1010", "2.00", null), ("4000", null, "2.00"));
        Assert.StartsWith("2026-04-01T09:00:00.5", second["createdAt"]!.GetValue<string>());

        async Task<string> DebitsKnownAt(string instant) =>
            (await App.Admin.GetJsonOkAsync($"/v1/books/{book}/reports/trial-balance?asOf=2026-03-31&knownAt={instant}"))["totals"]!["debit"]!.GetValue<string>();

        Assert.Equal("0.00", await DebitsKnownAt("2026-04-01T08:59:59.999Z"));
        Assert.Equal("1.00", await DebitsKnownAt("2026-04-01T09:00:00Z"));
        Assert.Equal("1.00", await DebitsKnownAt("2026-04-01T09:00:00.4999999Z"));
        Assert.Equal("3.00", await DebitsKnownAt("2026-04-01T09:00:00.5Z"));
        await (await App.Admin.GetAsync($"/v1/books/{book}/reports/trial-balance?knownAt=2026-04-01")).AssertValidationErrorAsync("knownAt");
        await (await App.Admin.GetAsync($"/v1/books/{book}/reports/income-statement?knownAt=soon")).AssertValidationErrorAsync("knownAt");
    }

    [Fact]
    public async Task A_report_known_at_this_instant_does_not_change_when_more_is_posted_within_the_sameClock_tick()
    {
        var book = await App.CreateBookAsync();
        await App.Admin.PostEntryOkAsync(book, "2026-03-01", "First", ("1010", "1.00", null), ("4000", null, "1.00"));
        // The clock stands still: the next post happens at the very instant the report was pulled as known at.
        var now = NodaTime.Text.InstantPattern.ExtendedIso.Format(Clock.GetCurrentInstant());
        var url = $"/v1/books/{book}/reports/trial-balance?asOf=2026-03-31&knownAt={now}";
        var before = await App.Admin.GetJsonOkAsync(url);
        Assert.Equal("1.00", before["totals"]!["debit"]!.GetValue<string>());

        var second = await App.Admin.PostEntryOkAsync(book, "2026-03-01", "Second", ("1010", "2.00", null), ("4000", null, "2.00"));
        Assert.True(Parse(second["createdAt"]) > ParseInstant(now),
            $"recorded at {second["createdAt"]}, after a report was pulled as known at {now}");
        Assert.True(JsonNode.DeepEquals(before, await App.Admin.GetJsonOkAsync(url)));
        Assert.Equal("3.00", (await App.Admin.GetJsonOkAsync($"/v1/books/{book}/reports/trial-balance?asOf=2026-03-31"))["totals"]!["debit"]!.GetValue<string>());
    }

    [Fact]
    public async Task Known_at_a_future_instant_is_refused_because_that_report_could_still_change()
    {
        var book = await App.CreateBookAsync();
        foreach (var report in new[] { "trial-balance?", "balance-sheet?", "income-statement?" })
        {
            var response = await App.Admin.GetAsync($"/v1/books/{book}/reports/{report}knownAt=2026-04-01T09:00:01Z");
            var problem = await response.AssertValidationErrorAsync("knownAt");
            Assert.Contains("2026-04-01T09:00:00Z", problem.ToJsonString());
        }
        Assert.Equal(System.Net.HttpStatusCode.OK,
            (await App.Admin.GetAsync($"/v1/books/{book}/reports/trial-balance?knownAt=2026-04-01T09:00:00Z")).StatusCode);
    }

    [Fact]
    public async Task AClock_set_back_after_a_restart_never_records_new_entries_before_old_ones()
    {
        var book = await App.CreateBookAsync();
        var first = await App.Admin.PostEntryOkAsync(book, "2026-03-01", "Before restart", ("1010", "1.00", null), ("4000", null, "1.00"));
        var knownAt = first["createdAt"]!.GetValue<string>();

        App = await App.RestartAsync(new FakeClock(Instant.FromUtc(2026, 3, 1, 9, 0)));
        var second = await App.Admin.PostEntryOkAsync(book, "2026-03-01", "After restart", ("1010", "2.00", null), ("4000", null, "2.00"));
        Assert.True(Parse(second["createdAt"]) >= ParseInstant(knownAt),
            $"recorded at {second["createdAt"]}, before the entry recorded at {knownAt}");
    }

    private static Instant Parse(JsonNode? node) => ParseInstant(node!.GetValue<string>());

}
