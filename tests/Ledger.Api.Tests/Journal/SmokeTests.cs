using System.Net;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Journal;

public sealed class SmokeTests(SharedApp shared) : SharedAppTest(shared)
{
    [Fact]
    public async Task Posts_a_balanced_entry_and_reports_it_in_the_trial_balance()
    {
        var book = await App.CreateBookAsync();
        var response = await App.Admin.PostEntryAsync(book, "2026-01-05", "Sale", ("1010", "100.50", null), ("4000", null, "100.50"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);

        var tb = await (await App.Admin.GetAsync($"/v1/books/{book}/reports/trial-balance?asOf=2026-01-31")).ReadJsonAsync();
        Assert.Equal("100.50", tb["totals"]!["debit"]!.GetValue<string>());
        Assert.Equal("100.50", tb["totals"]!["credit"]!.GetValue<string>());
    }
}
