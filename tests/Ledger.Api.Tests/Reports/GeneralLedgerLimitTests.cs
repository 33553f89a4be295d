using System.Net;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Reports;

/// <summary>The general ledger is answered whole, so a period too large to hold is refused with a way forward.</summary>
public sealed class GeneralLedgerLimitTests : AppTest
{
    protected override LedgerApp StartApp() =>
        LedgerApp.Start(settings: new Dictionary<string, string> { ["Ledger:GeneralLedgerMaxPostings"] = "6" });

    [Fact]
    public async Task A_period_over_the_limit_is_a_400_naming_the_period_and_a_shorter_one_answers()
    {
        var book = await App.CreateBookAsync();
        foreach (var day in new[] { "2026-01-05", "2026-01-20", "2026-02-05", "2026-02-20" })
            Assert.Equal(HttpStatusCode.Created,
                (await App.Admin.PostEntryAsync(book, day, "Sale", ("1010", "10.00", null), ("4000", null, "10.00"))).StatusCode);

        var whole = await App.Admin.GetAsync($"/v1/books/{book}/reports/general-ledger?from=2026-01-01&to=2026-02-28");
        var problem = await whole.AssertValidationErrorAsync("to");
        Assert.Contains("8 postings", problem.ToJsonString());

        var january = await App.Admin.GetAsync($"/v1/books/{book}/reports/general-ledger?from=2026-01-01&to=2026-01-31");
        Assert.Equal(HttpStatusCode.OK, january.StatusCode);
        var accounts = (await january.ReadJsonAsync())["accounts"]!.AsArray();
        Assert.Equal(["1010", "4000"], accounts.Select(a => a!["account"]!.GetValue<string>()));
    }
}
