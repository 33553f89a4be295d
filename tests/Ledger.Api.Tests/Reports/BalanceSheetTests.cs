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
    public async Task Rejects_a_malformed_date_or_instant_naming_the_parameter()
    {
        var book = await App.CreateBookAsync();
        await (await App.Admin.GetAsync($"/v1/books/{book}/reports/balance-sheet?asOf=2026-02-30")).AssertValidationErrorAsync("asOf");
        await (await App.Admin.GetAsync($"/v1/books/{book}/reports/balance-sheet?knownAt=yesterday")).AssertValidationErrorAsync("knownAt");
        await (await App.Admin.GetAsync($"/v1/books/{book}/reports/balance-sheet?knownAt=2026-04-05T00:00:00%2B02:00")).AssertValidationErrorAsync("knownAt");
        await (await App.Admin.GetAsync($"/v1/books/{book}/reports/balance-sheet?format=xml")).AssertValidationErrorAsync("format");
    }
}
