using System.Net;
using System.Net.Http.Json;
using Ledger.Api.Tests.Reports;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Periods;

public sealed class YearEndCloseTests(SharedApp shared) : SharedAppTest(shared)
{
    [Fact]
    public async Task Closing_moves_income_and_expense_into_retained_earnings_and_locks_the_year()
    {
        var book = await SampleBook.CreateAsync(App, closeFiscal2025: false);
        var entry = await App.Admin.CloseYearAsync(book, "2025-12-31");

        Assert.True(entry["closingEntry"]!.GetValue<bool>());
        Assert.Equal("2025-12-31", entry["date"]!.GetValue<string>());
        var lines = entry["lines"]!.AsArray().Select(l => (
            l!["account"]!.GetValue<string>(), l["debit"]?.GetValue<string>(), l["credit"]?.GetValue<string>())).ToList();
        Assert.Equal(
        [
            ("4000", "1500.00", null), ("4010", "800.00", null),
            ("6000", null, "1200.00"), ("6100", null, "2000.00"), ("6110", null, "250.00"),
            ("3900", "1150.00", null), // a loss reduces retained earnings
        ], lines);

        var lockDate = await App.Admin.GetJsonOkAsync($"/v1/books/{book}/lock-date");
        Assert.Equal("2025-12-31", lockDate["lockDate"]!.GetValue<string>());
        var history = (await App.Admin.GetJsonOkAsync($"/v1/books/{book}/lock-date/history"))["items"]!.AsArray();
        Assert.Equal("year-end-close", history.Single()!["source"]!.GetValue<string>());
        var closes = (await App.Admin.GetJsonOkAsync($"/v1/books/{book}/year-end-closes"))["items"]!.AsArray();
        Assert.Equal(entry["id"]!.GetValue<long>(), closes.Single()!["entryId"]!.GetValue<long>());
        Assert.Equal("2025-01-01", closes.Single()!["fiscalYearStart"]!.GetValue<string>());

        // Temporary accounts start the new year at zero; the trial balance includes the closing entry.
        var tb = await App.Admin.GetJsonOkAsync($"/v1/books/{book}/reports/trial-balance?asOf=2025-12-31");
        Assert.DoesNotContain(tb["lines"]!.AsArray(), l => l!["type"]!.GetValue<string>() is "income" or "expense");

        var again = await App.Admin.PostAsJsonAsync($"/v1/books/{book}/year-end-close", new { fiscalYearEnd = "2025-12-31" });
        await again.AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains("already closed", (await again.ReadJsonAsync())["detail"]!.GetValue<string>());
        // A closing entry and the lock date it moves are history the audit vouches for.
        var verified = await App.Admin.GetJsonAsync($"/v1/books/{book}/audit/verify");
        Assert.True(verified["valid"]!.GetValue<bool>(), verified.ToJsonString());
    }

    [Fact]
    public async Task An_archived_expense_account_with_a_balance_is_closed_too()
    {
        var book = await App.CreateBookAsync();
        var posted = await App.Admin.PostEntryAsync(book, "2025-05-01", "Old rent", ("6000", "300.00", null), ("1010", null, "300.00"));
        Assert.Equal(HttpStatusCode.Created, posted.StatusCode);
        var archive = await App.Admin.PatchAsJsonAsync($"/v1/books/{book}/accounts/6000", new { archived = true });
        Assert.Equal(HttpStatusCode.OK, archive.StatusCode);

        var entry = await App.Admin.CloseYearAsync(book, "2025-12-31");
        var lines = entry["lines"]!.AsArray().Select(l => (l!["account"]!.GetValue<string>(), l["debit"]?.GetValue<string>(), l["credit"]?.GetValue<string>()));
        Assert.Equal([("6000", null, "300.00"), ("3900", "300.00", null)], lines);

        // Archived still means no ordinary postings.
        var refused = await App.Admin.PostEntryAsync(book, "2026-01-02", "New rent", ("6000", "1.00", null), ("1010", null, "1.00"));
        await refused.AssertValidationErrorAsync("lines[0].account");
    }

    [Fact]
    public async Task Closing_a_year_sweeps_earlier_unclosed_years_too()
    {
        var book = await App.CreateBookAsync();
        await App.Admin.PostEntryOkAsync(book, "2024-05-01", "Old sale", ("1010", "400.00", null), ("4000", null, "400.00"));
        await App.Admin.PostEntryOkAsync(book, "2025-05-01", "Sale", ("1010", "100.00", null), ("4000", null, "100.00"));
        var entry = await App.Admin.CloseYearAsync(book, "2025-12-31");
        var lines = entry["lines"]!.AsArray();
        Assert.Equal("500.00", lines.Single(l => l!["account"]!.GetValue<string>() == "4000")!["debit"]!.GetValue<string>());
        Assert.Equal("500.00", lines.Single(l => l!["account"]!.GetValue<string>() == "3900")!["credit"]!.GetValue<string>());

        // The earlier year is now behind the lock date: it can no longer be closed separately.
        var earlier = await App.Admin.PostAsJsonAsync($"/v1/books/{book}/year-end-close", new { fiscalYearEnd = "2024-12-31" });
        await earlier.AssertProblemAsync(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task A_year_with_nothing_to_close_is_still_closed_by_an_entry_without_lines()
    {
        var book = await App.CreateBookAsync();
        await App.Admin.PostEntryOkAsync(book, "2025-03-01", "Capital", ("1010", "100.00", null), ("3000", null, "100.00"));
        var entry = await App.Admin.CloseYearAsync(book, "2025-12-31");
        Assert.Empty(entry["lines"]!.AsArray());
        Assert.True(entry["closingEntry"]!.GetValue<bool>());
        Assert.Equal("2025-12-31", (await App.Admin.GetJsonOkAsync($"/v1/books/{book}/lock-date"))["lockDate"]!.GetValue<string>());
        // An entry without lines is what the close posts, not a sign of a line taken out.
        var verified = await App.Admin.GetJsonOkAsync($"/v1/books/{book}/audit/verify");
        Assert.True(verified["valid"]!.GetValue<bool>(), verified.ToJsonString());
    }

    [Fact]
    public async Task Fiscal_year_end_must_end_a_fiscal_year_of_the_book()
    {
        var book = await App.CreateBookAsync();
        var url = $"/v1/books/{book}/year-end-close";
        await (await App.Admin.PostAsJsonAsync(url, new { fiscalYearEnd = "2025-06-30" })).AssertValidationErrorAsync("fiscalYearEnd");
        await (await App.Admin.PostAsJsonAsync(url, new { fiscalYearEnd = "not a date" })).AssertValidationErrorAsync("fiscalYearEnd");
        await (await App.Admin.PostAsJsonAsync(url, new { })).AssertValidationErrorAsync("fiscalYearEnd");
        // A year that has not ended yet cannot be closed (or its future locked).
        var nextYearEnd = $"{DateTime.UtcNow.Year + 1}-12-31";
        await (await App.Admin.PostAsJsonAsync(url, new { fiscalYearEnd = nextYearEnd })).AssertValidationErrorAsync("fiscalYearEnd");

        Assert.Equal(HttpStatusCode.OK, (await App.Admin.PatchJsonAsync($"/v1/books/{book}", new { fiscalYearStartMonth = 7 })).StatusCode);
        await (await App.Admin.PostAsJsonAsync(url, new { fiscalYearEnd = "2025-12-31" })).AssertValidationErrorAsync("fiscalYearEnd");
        await App.Admin.CloseYearAsync(book, "2025-06-30");

        // Once a year is closed its start month is fixed.
        var refused = await App.Admin.PatchJsonAsync($"/v1/books/{book}", new { fiscalYearStartMonth = 1 });
        await refused.AssertProblemAsync(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Closing_needs_a_retained_earnings_account()
    {
        var book = await App.CreateBookAsync(chart: null);
        await App.CreateAccountAsync(book, "1000", "asset");
        await App.CreateAccountAsync(book, "4000", "income");
        await App.Admin.PostEntryOkAsync(book, "2025-03-01", "Sale", ("1000", "100.00", null), ("4000", null, "100.00"));

        var refused = await App.Admin.PostAsJsonAsync($"/v1/books/{book}/year-end-close", new { fiscalYearEnd = "2025-12-31" });
        await refused.AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains("retainedEarningsAccount", (await refused.ReadJsonAsync())["detail"]!.GetValue<string>());
        Assert.Null((await App.Admin.GetJsonOkAsync($"/v1/books/{book}/lock-date"))["lockDate"]);
    }

    [Fact]
    public async Task A_locked_year_must_be_reopened_by_an_admin_before_it_can_be_closed()
    {
        var book = await SampleBook.CreateAsync(App, closeFiscal2025: false);
        await App.Admin.PutJsonAsync($"/v1/books/{book}/lock-date", new { date = "2026-01-31" });
        var refused = await App.Admin.PostAsJsonAsync($"/v1/books/{book}/year-end-close", new { fiscalYearEnd = "2025-12-31" });
        await refused.AssertProblemAsync(HttpStatusCode.Conflict);
        var detail = (await refused.ReadJsonAsync())["detail"]!.GetValue<string>();
        Assert.Contains("2026-01-31", detail);
        // Advice a close can follow: move the lock date back (an admin's), not "date the entry later".
        Assert.Contains("lock-date", detail);
        Assert.DoesNotContain("Date the entry", detail);
        Assert.Empty((await App.Admin.GetJsonOkAsync($"/v1/books/{book}/year-end-closes"))["items"]!.AsArray());

        await App.Admin.PutJsonAsync($"/v1/books/{book}/lock-date", new { date = "2025-11-30" });
        await App.Admin.CloseYearAsync(book, "2025-12-31");
    }

    [Fact]
    public async Task An_earlier_year_cannot_be_closed_after_a_later_one_even_once_reopened()
    {
        var book = await App.CreateBookAsync();
        await App.Admin.PostEntryOkAsync(book, "2024-05-01", "Old sale", ("1010", "400.00", null), ("4000", null, "400.00"));
        await App.Admin.PostEntryOkAsync(book, "2025-05-01", "Sale", ("1010", "100.00", null), ("4000", null, "100.00"));
        await App.Admin.CloseYearAsync(book, "2025-12-31");
        Assert.Equal(HttpStatusCode.OK, (await App.Admin.PutJsonAsync($"/v1/books/{book}/lock-date", new { date = "2024-06-30" })).StatusCode);
        var entriesBefore = (await App.Admin.GetJsonOkAsync($"/v1/books/{book}/journal-entries"))["items"]!.AsArray().Count;

        var earlier = await App.Admin.PostAsJsonAsync($"/v1/books/{book}/year-end-close", new { fiscalYearEnd = "2024-12-31" });
        await earlier.AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains("2025-12-31", (await earlier.ReadJsonAsync())["detail"]!.GetValue<string>());

        // Nothing moved twice: sales stay closed out, retained earnings hold both years once, the lock date is where the admin put it.
        Assert.Equal(entriesBefore, (await App.Admin.GetJsonOkAsync($"/v1/books/{book}/journal-entries"))["items"]!.AsArray().Count);
        var tb = await App.Admin.GetJsonOkAsync($"/v1/books/{book}/reports/trial-balance?asOf=2025-12-31");
        Assert.DoesNotContain(tb["lines"]!.AsArray(), l => l!["account"]!.GetValue<string>() == "4000");
        Assert.Equal("500.00", tb["lines"]!.AsArray().Single(l => l!["account"]!.GetValue<string>() == "3900")!["credit"]!.GetValue<string>());
        Assert.Equal("2024-06-30", (await App.Admin.GetJsonOkAsync($"/v1/books/{book}/lock-date"))["lockDate"]!.GetValue<string>());
    }
}
