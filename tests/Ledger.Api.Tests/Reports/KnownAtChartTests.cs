using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;
using NodaTime;
using NodaTime.Testing;

namespace Ledger.Api.Tests.Reports;

/// <summary>
/// knownAt exists so that "last quarter's statements can be pulled again exactly as they were" (issue 4). A report
/// pulled with knownAt = K must therefore answer the same whatever changes after K. These tests change no entries at
/// all after K, only book and account settings that the API allows to change, and the reports as known at K must not.
/// </summary>
public sealed class KnownAtChartTests : FakeClockAppTest
{

    private async Task<(string Book, string KnownAt)> BookKnownAtAsync()
    {
        var book = await App.CreateBookAsync();
        await App.PostEntryOkAsync(book, "2025-03-10", "Spring sale", ("1010", "1000.00", null), ("4000", null, "1000.00"));
        await App.PostEntryOkAsync(book, "2025-09-10", "Autumn sale", ("1010", "500.00", null), ("4000", null, "500.00"));
        Clock.AdvanceHours(1);
        var knownAt = "2026-04-01T10:00:00Z";
        Clock.AdvanceHours(1);
        return (book, knownAt);
    }

    [Fact]
    public async Task A_balance_sheet_as_known_at_an_instant_keeps_its_figures_when_the_fiscal_year_start_changes_later()
    {
        var (book, knownAt) = await BookKnownAtAsync();
        var url = $"/v1/books/{book}/reports/balance-sheet?asOf=2025-10-31&knownAt={knownAt}";
        var before = await Admin.GetJsonOkAsync(url);
        Assert.Equal("1500.00", before["equity"]!["currentYearEarnings"]!.GetValue<string>());

        // Allowed: no fiscal year of the book has been closed.
        var patch = await Admin.PatchJsonAsync($"/v1/books/{book}", new { fiscalYearStartMonth = 7 });
        Assert.Equal(System.Net.HttpStatusCode.OK, patch.StatusCode);

        var after = await Admin.GetJsonOkAsync(url);
        // Read with today's start month, the split would become currentYearEarnings 500.00, unclosedRetainedEarnings 1000.00.
        Assert.True(JsonNode.DeepEquals(before, after), $"As known at {knownAt}, the balance sheet was\n{before}\nand is now\n{after}");
    }

    [Fact]
    public async Task A_trial_balance_as_known_at_an_instant_keeps_the_account_names_it_had()
    {
        var (book, knownAt) = await BookKnownAtAsync();
        var url = $"/v1/books/{book}/reports/trial-balance?asOf=2025-12-31&knownAt={knownAt}";
        var before = await Admin.GetJsonOkAsync(url);

        var patch = await Admin.PatchJsonAsync($"/v1/books/{book}/accounts/4000", new { name = "Revenue (renamed later)" });
        Assert.Equal(System.Net.HttpStatusCode.OK, patch.StatusCode);

        var after = await Admin.GetJsonOkAsync(url);
        Assert.True(JsonNode.DeepEquals(before, after), $"As known at {knownAt}, the trial balance was\n{before}\nand is now\n{after}");
    }

    [Fact]
    public async Task Statements_as_known_at_an_instant_keep_the_names_of_then_while_todays_show_the_new_ones()
    {
        var (book, knownAt) = await BookKnownAtAsync();
        var urls = new[]
        {
            $"/v1/books/{book}/reports/balance-sheet?asOf=2025-12-31&knownAt={knownAt}",
            $"/v1/books/{book}/reports/income-statement?from=2025-01-01&to=2025-12-31&knownAt={knownAt}",
        };
        var before = new List<JsonNode>();
        foreach (var url in urls) before.Add(await Admin.GetJsonOkAsync(url));

        foreach (var code in new[] { "1010", "4000" })
            Assert.Equal(System.Net.HttpStatusCode.OK, (await Admin.PatchJsonAsync($"/v1/books/{book}/accounts/{code}", new { name = $"Renamed {code}" })).StatusCode);
        await App.CreateAccountAsync(book, "4500", "income"); // created later, and empty: listed in neither

        for (var i = 0; i < urls.Length; i++)
        {
            var after = await Admin.GetJsonOkAsync(urls[i]);
            Assert.True(JsonNode.DeepEquals(before[i], after), $"{urls[i]} was\n{before[i]}\nand is now\n{after}");
        }
        var today = (await Admin.GetJsonOkAsync($"/v1/books/{book}/reports/income-statement?from=2025-01-01&to=2025-12-31"))["income"]!["accounts"]!.AsArray();
        Assert.Equal("Renamed 4000", today.Single(a => a!["account"]!.GetValue<string>() == "4000")!["name"]!.GetValue<string>());
    }
}
