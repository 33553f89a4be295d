using System.Net;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Reports;

/// <summary>
/// Dates are accepted from 0001-01-01 to 9999-12-31. Every route that takes a date must answer them with a result
/// or a 4xx, never a 500 from calendar arithmetic that leaves the calendar (a fiscal year ending in 10000, the month after
/// December 9999, the day before 0001-01-01).
/// </summary>
public sealed class CalendarEdgeTests(SharedApp shared) : SharedAppTest(shared)
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    public async Task Reports_answer_dates_at_both_ends_of_the_calendar(int fiscalYearStartMonth)
    {
        var book = await SampleBook.CreateAsync(App, closeFiscal2025: false);
        Assert.Equal(HttpStatusCode.OK,
            (await App.Admin.PatchJsonAsync($"/v1/books/{book}", new { fiscalYearStartMonth })).StatusCode);
        await App.Admin.PostEntryOkAsync(book, "9999-12-31", "Last day", ("1010", "1.00", null), ("4000", null, "1.00"));
        await App.Admin.PostEntryOkAsync(book, "0001-01-01", "First day", ("6000", "2.00", null), ("1010", null, "2.00"));

        var routes = new List<string>();
        foreach (var date in new[] { "0001-01-01", "0001-12-31", "9999-01-01", "9999-12-01", "9999-12-31" })
        {
            routes.Add($"reports/trial-balance?asOf={date}");
            routes.Add($"reports/balance-sheet?asOf={date}");
            routes.Add($"reports/income-statement?to={date}");
            routes.Add($"reports/income-statement?to={date}&columns=month");
            routes.Add($"reports/income-statement?from={date}&to={date}&compareFrom={date}&compareTo={date}&columns=month");
            routes.Add($"accounts/1010/ledger?to={date}");
            routes.Add($"accounts/1010/ledger?from={date}&to=9999-12-31");
            routes.Add($"reports/general-ledger?to={date}");
        }
        routes.Add("reports/income-statement?from=9998-11-15&to=9999-12-31&columns=month");
        routes.Add("accounts/1010/ledger?from=0001-01-01&to=9999-12-31&limit=1");
        routes.Add("reports/general-ledger?from=0001-01-01&to=9999-12-31");

        foreach (var route in routes)
        {
            var response = await App.Admin.GetAsync($"/v1/books/{book}/{route}");
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{route}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        // The whole history, in one report, still balances.
        var sheet = await App.Admin.GetJsonOkAsync($"/v1/books/{book}/reports/balance-sheet?asOf=9999-12-31");
        Assert.True(sheet["check"]!["balanced"]!.GetValue<bool>(), sheet.ToJsonString());
    }

    [Fact]
    public async Task Monthly_columns_over_the_whole_calendar_are_refused_rather_than_built()
    {
        var book = await SampleBook.CreateAsync(App, closeFiscal2025: false);
        var response = await App.Admin.GetAsync($"/v1/books/{book}/reports/income-statement?from=0001-01-01&to=9999-12-31&columns=month");
        await response.AssertValidationErrorAsync("columns");
    }

    [Fact]
    public async Task Closing_or_locking_the_last_day_of_the_calendar_is_a_clear_4xx()
    {
        var book = await SampleBook.CreateAsync(App, closeFiscal2025: false);
        var close = await App.Admin.PostAsync($"/v1/books/{book}/year-end-close",
            new StringContent("""{"fiscalYearEnd":"9999-12-31"}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.True((int)close.StatusCode is >= 400 and < 500, $"{(int)close.StatusCode} {await close.Content.ReadAsStringAsync()}");

        // A lock date closes periods that have passed: the end of the calendar is refused, not stored.
        var lockDate = await App.Admin.PutJsonAsync($"/v1/books/{book}/lock-date", new { date = "9999-12-31" });
        await lockDate.AssertValidationErrorAsync("date");
        var post = await App.Admin.PostEntryAsync(book, "9999-12-31", "not locked", ("1010", "1.00", null), ("4000", null, "1.00"));
        Assert.Equal(HttpStatusCode.Created, post.StatusCode);
    }
}
