using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ledger.Browser.Tests.Support;
using OpenQA.Selenium.Chrome;
using Xunit.Abstractions;

namespace Ledger.Browser.Tests.SwaggerUi;

/// <summary>
/// Swagger UI in a real browser against the real API process: a person opens /swagger, authorizes with a key, and
/// uses "Try it out" to create a book and read its trial balance. What the page shows is checked against the API
/// itself, so the test fails unless the browser's requests really reached the API and came back onto the page.
/// </summary>
[Trait("Category", "Slow")]
public sealed class SwaggerUiTryItOutTests(LedgerApiProcess api, ITestOutputHelper output) : IClassFixture<LedgerApiProcess>
{
    [SkippableFact]
    public async Task Authorized_try_it_out_creates_a_book_and_shows_its_trial_balance()
    {
        Skip.If(DebianChromium.MissingReason is not null, DebianChromium.MissingReason);
        using var browser = DebianChromium.Start();
        try
        {
            await CreateABookAndReadItsTrialBalance(browser);
        }
        catch
        {
            // What the browser showed when it went wrong, and what the API printed, to tell a UI change from an API error.
            output.WriteLine($"Screenshot at failure: {TestArtifacts.SaveScreenshot(browser, "swagger-ui-failure.png")}");
            output.WriteLine($"Page at failure: {TestArtifacts.SavePageSource(browser, "swagger-ui-failure.html")}");
            output.WriteLine($"API output:\n{api.RecentOutput}");
            throw;
        }
    }

    private async Task CreateABookAndReadItsTrialBalance(ChromeDriver browser)
    {
        using var http = api.AdminClient();
        var page = SwaggerUiPage.Open(browser, api.BaseAddress);
        page.Authorize(LedgerApiProcess.AdminKey);

        // A name no other book has, so the book the API returns below can only be the one the browser created.
        var bookName = $"Browser book {Guid.NewGuid():N}";
        var createBook = page.Operation("POST", "/v1/books");
        createBook.TryItOut();
        createBook.SetBody(JsonSerializer.Serialize(new { name = bookName, currency = "EUR", chart = "standard" }));
        var created = createBook.Execute();
        Assert.True(created.Status == 201, $"POST /v1/books in Swagger UI answered {created.Status}: {created.Body}");
        Assert.EndsWith("/v1/books", created.RequestUrl.Trim());
        var shownBook = JsonNode.Parse(created.Body)!;
        var bookId = shownBook["id"]!.GetValue<string>();
        Assert.Equal(bookName, shownBook["name"]!.GetValue<string>());
        Assert.Equal("EUR", shownBook["currency"]!.GetValue<string>());
        // The book the page shows is the book the API stored, field for field.
        var storedBook = await GetJsonAsync(http, $"/v1/books/{bookId}");
        Assert.True(JsonNode.DeepEquals(shownBook, storedBook), $"Page: {shownBook.ToJsonString()}\nAPI: {storedBook.ToJsonString()}");
        output.WriteLine($"Screenshot of the created book: {TestArtifacts.SaveScreenshot(browser, "swagger-ui-create-book.png")}");

        // An entry posted past the browser, so the trial balance on the page has amounts only this book has (a fresh
        // book's would be all zeros, which a wrong book or a canned answer would match too).
        var entry = await http.PostAsJsonAsync($"/v1/books/{bookId}/journal-entries", new
        {
            date = "2024-01-15",
            description = "Invoice 1001",
            lines = new object[] { new { account = "1010", debit = "1250.00" }, new { account = "4000", credit = "1250.00" } },
        });
        Assert.True(entry.StatusCode == HttpStatusCode.Created, $"Posting the entry answered {(int)entry.StatusCode}: {await entry.Content.ReadAsStringAsync()}");

        var trialBalance = page.Operation("GET", "/v1/books/{bookId}/reports/trial-balance");
        trialBalance.TryItOut();
        trialBalance.SetParameter("bookId", bookId);
        // A fixed date, so the page's report and the API's below are the same report whatever today is.
        trialBalance.SetParameter("asOf", "2024-12-31");
        var report = trialBalance.Execute();
        Assert.True(report.Status == 200, $"The trial balance in Swagger UI answered {report.Status}: {report.Body}");
        Assert.Contains($"/v1/books/{bookId}/reports/trial-balance", report.RequestUrl);
        var shownReport = JsonNode.Parse(report.Body)!;
        Assert.Equal("1250.00", shownReport["totals"]!["debit"]!.GetValue<string>());
        Assert.Equal("1250.00", shownReport["totals"]!["credit"]!.GetValue<string>());
        var apiReport = await GetJsonAsync(http, $"/v1/books/{bookId}/reports/trial-balance?asOf=2024-12-31");
        Assert.True(JsonNode.DeepEquals(shownReport, apiReport), $"Page: {shownReport.ToJsonString()}\nAPI: {apiReport.ToJsonString()}");
        output.WriteLine($"Screenshot of the trial balance: {TestArtifacts.SaveScreenshot(browser, "swagger-ui-trial-balance.png")}");
    }

    private static async Task<JsonNode> GetJsonAsync(HttpClient http, string url)
    {
        var response = await http.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {url} answered {(int)response.StatusCode}: {body}");
        return JsonNode.Parse(body)!;
    }
}
