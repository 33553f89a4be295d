using System.Net;
using Ledger.Api.Tests.Reports;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Periods;

public sealed class BookSettingsTests(SharedApp shared) : SharedAppTest(shared)
{
    [Fact]
    public async Task Patch_sets_fiscal_year_start_and_retained_earnings_account()
    {
        var book = await App.CreateBookAsync();
        await App.CreateAccountAsync(book, "3950", "equity");
        var response = await App.Admin.PatchJsonAsync($"/v1/books/{book}", new { fiscalYearStartMonth = 4, retainedEarningsAccount = "3950" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var patched = await response.ReadJsonAsync();
        Assert.Equal(4, patched["fiscalYearStartMonth"]!.GetValue<int>());
        Assert.Equal("3950", patched["retainedEarningsAccount"]!.GetValue<string>());
        Assert.Equal("Test book", patched["name"]!.GetValue<string>());

        var read = await App.Admin.GetJsonOkAsync($"/v1/books/{book}");
        Assert.Equal(4, read["fiscalYearStartMonth"]!.GetValue<int>());

        // The same settings sent again change nothing, and the log says so by saying nothing.
        async Task<long> LastSequenceAsync() => (await App.Admin.GetJsonOkAsync($"/v1/books/{book}/events?limit=1000"))["lastSequence"]!.GetValue<long>();
        var before = await LastSequenceAsync();
        Assert.Equal(HttpStatusCode.OK, (await App.Admin.PatchJsonAsync($"/v1/books/{book}", new { fiscalYearStartMonth = 4, name = "Test book" })).StatusCode);
        Assert.Equal(before, await LastSequenceAsync());
        Assert.Equal(HttpStatusCode.OK, (await App.Admin.PatchJsonAsync($"/v1/books/{book}", new { name = "Renamed" })).StatusCode);
        Assert.Equal(before + 1, await LastSequenceAsync());
    }

    [Fact]
    public async Task Patch_rejects_bad_settings_naming_the_field()
    {
        var book = await App.CreateBookAsync();
        var url = $"/v1/books/{book}";
        await (await App.Admin.PatchJsonAsync(url, new { fiscalYearStartMonth = 13 })).AssertValidationErrorAsync("fiscalYearStartMonth");
        await (await App.Admin.PatchJsonAsync(url, new { fiscalYearStartMonth = 0 })).AssertValidationErrorAsync("fiscalYearStartMonth");
        await (await App.Admin.PatchJsonAsync(url, new { fiscalYearStartMonth = "April" })).AssertValidationErrorAsync("fiscalYearStartMonth");
        await (await App.Admin.PatchJsonAsync(url, new { retainedEarningsAccount = "9999" })).AssertValidationErrorAsync("retainedEarningsAccount");
        await (await App.Admin.PatchJsonAsync(url, new { retainedEarningsAccount = "4000" })).AssertValidationErrorAsync("retainedEarningsAccount");
        await (await App.Admin.PatchJsonAsync(url, new { })).AssertValidationErrorAsync("body");
        Assert.Equal(1, (await App.Admin.GetJsonOkAsync(url))["fiscalYearStartMonth"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_read_key_cannot_change_settings()
    {
        var book = await App.CreateBookAsync();
        var reader = App.Client(await App.CreateKeyAsync(book, "read"));
        await (await reader.PatchJsonAsync($"/v1/books/{book}", new { fiscalYearStartMonth = 4 })).AssertProblemAsync(HttpStatusCode.Forbidden);
    }
}
