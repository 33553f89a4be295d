using System.Net;
using Ledger.Api.Tests.Support;
using Newtonsoft.Json.Linq;
using Snapshooter.Xunit;

namespace Ledger.Api.Tests.Reports;

public sealed class BalanceSheetTests(SharedApp shared) : SharedAppTest(shared)
{
    [Fact]
    public async Task Balance_sheet_after_a_year_end_close_rolls_up_parents_and_balances()
    {
        var book = await SampleBook.CreateAsync(App, closeFiscal2025: true);
        var sheet = await App.Admin.GetJsonOkAsync($"/v1/books/{book}/reports/balance-sheet?asOf=2026-02-28");

        Assert.Equal("16850.00", sheet["assets"]!["total"]!.GetValue<string>());
        var bank = sheet["assets"]!["accounts"]!.AsArray().Single(a => a!["account"]!.GetValue<string>() == "1010")!;
        Assert.Equal("10350.00", bank["balance"]!.GetValue<string>());
        Assert.Equal("15350.00", bank["subtotal"]!.GetValue<string>()); // 1010 itself plus its child 1011
        Assert.Equal("6200.00", sheet["liabilities"]!["total"]!.GetValue<string>());
        Assert.Equal("10650.00", sheet["equity"]!["total"]!.GetValue<string>());
        Assert.Equal("1800.00", sheet["equity"]!["currentYearEarnings"]!.GetValue<string>());
        Assert.Equal("0.00", sheet["equity"]!["unclosedRetainedEarnings"]!.GetValue<string>());
        Assert.True(sheet["check"]!["balanced"]!.GetValue<bool>());
        Snapshot.Match(JToken.Parse(sheet.ToJsonString()));
    }

    [Fact]
    public async Task An_unclosed_earlier_year_shows_as_retained_earnings_unclosed()
    {
        var book = await SampleBook.CreateAsync(App, closeFiscal2025: false);
        var sheet = await App.Admin.GetJsonOkAsync($"/v1/books/{book}/reports/balance-sheet?asOf=2026-02-28");

        Assert.Equal("1800.00", sheet["equity"]!["currentYearEarnings"]!.GetValue<string>());
        Assert.Equal("-1150.00", sheet["equity"]!["unclosedRetainedEarnings"]!.GetValue<string>());
        Assert.Equal("10650.00", sheet["equity"]!["total"]!.GetValue<string>());
        Assert.DoesNotContain(sheet["equity"]!["accounts"]!.AsArray(), a => a!["account"]!.GetValue<string>() == "3900");
        Assert.True(sheet["check"]!["balanced"]!.GetValue<bool>());
    }

    [Fact]
    public async Task On_the_closing_day_the_year_is_in_retained_earnings_and_nothing_is_current()
    {
        var book = await SampleBook.CreateAsync(App, closeFiscal2025: true);
        var sheet = await App.Admin.GetJsonOkAsync($"/v1/books/{book}/reports/balance-sheet?asOf=2025-12-31");

        Assert.Equal("0.00", sheet["equity"]!["currentYearEarnings"]!.GetValue<string>());
        Assert.Equal("0.00", sheet["equity"]!["unclosedRetainedEarnings"]!.GetValue<string>());
        var retained = sheet["equity"]!["accounts"]!.AsArray().Single(a => a!["account"]!.GetValue<string>() == "3900")!;
        Assert.Equal("-1150.00", retained["balance"]!.GetValue<string>());
        Assert.True(sheet["check"]!["balanced"]!.GetValue<bool>());
    }

    [Fact]
    public async Task A_correction_posted_to_a_closed_year_after_its_close_is_that_years_earnings_on_its_closing_day()
    {
        var book = await SampleBook.CreateAsync(App, closeFiscal2025: true);
        // Reopened (an admin clears the lock date), corrected in the closed year and in the one before it, not closed again.
        Assert.Equal(HttpStatusCode.OK, (await App.Admin.PutAsync($"/v1/books/{book}/lock-date",
            new StringContent("""{"date":null}""", System.Text.Encoding.UTF8, "application/json"))).StatusCode);
        await App.PostEntryOkAsync(book, "2025-12-20", "Late bank fee", ("6000", "10.00", null), ("1010", null, "10.00"));
        await App.PostEntryOkAsync(book, "2024-12-31", "Fee of the year before", ("6000", "3.00", null), ("1010", null, "3.00"));

        var sheet = await App.Admin.GetJsonOkAsync($"/v1/books/{book}/reports/balance-sheet?asOf=2025-12-31");
        // The fiscal year containing asOf is 2025: its own correction is its earnings, the one dated 2024 an earlier year's.
        Assert.Equal("-10.00", sheet["equity"]!["currentYearEarnings"]!.GetValue<string>());
        Assert.Equal("-3.00", sheet["equity"]!["unclosedRetainedEarnings"]!.GetValue<string>());
        Assert.True(sheet["check"]!["balanced"]!.GetValue<bool>());
        // The year after: both are earlier years' now, and 2026's own result is this year's as before.
        var next = await App.Admin.GetJsonOkAsync($"/v1/books/{book}/reports/balance-sheet?asOf=2026-02-28");
        Assert.Equal("1800.00", next["equity"]!["currentYearEarnings"]!.GetValue<string>());
        Assert.Equal("-13.00", next["equity"]!["unclosedRetainedEarnings"]!.GetValue<string>());
    }

    [Fact]
    public async Task Rejects_a_malformed_date_or_instant_naming_the_parameter()
    {
        var book = await App.CreateBookAsync();
        await (await App.Admin.GetAsync($"/v1/books/{book}/reports/balance-sheet?asOf=2026-02-30")).AssertValidationErrorAsync("asOf");
        await (await App.Admin.GetAsync($"/v1/books/{book}/reports/balance-sheet?knownAt=yesterday")).AssertValidationErrorAsync("knownAt");
        await (await App.Admin.GetAsync($"/v1/books/{book}/reports/balance-sheet?knownAt=2026-04-05T00:00:00%2B02:00")).AssertValidationErrorAsync("knownAt");
        await (await App.Admin.GetAsync($"/v1/books/{book}/reports/balance-sheet?format=xml")).AssertValidationErrorAsync("format");
    }
}
