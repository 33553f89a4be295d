using System.Net;
using System.Net.Http.Json;
using Ledger.Api.Tests.Reports;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Books;

public sealed class BooksTests(SharedApp shared) : SharedAppTest(shared)
{
    [Theory]
    [InlineData("EUR", 2)]
    [InlineData("USD", 2)]
    [InlineData("JPY", 0)]
    [InlineData("KWD", 3)]
    public async Task A_book_gets_its_currency_digits_from_the_ISO_table(string currency, int digits)
    {
        var response = await Admin.PostAsJsonAsync("/v1/books", new { name = $"{currency} book", currency });
        var book = await response.AssertCreatedAsync();
        var id = book["id"]!.GetValue<string>();
        Assert.Equal(currency, book["currency"]!.GetValue<string>());
        Assert.Equal(digits, book["currencyDigits"]!.GetValue<int>());
        Assert.Equal($"{currency} book", book["name"]!.GetValue<string>());
        Assert.EndsWith($"/v1/books/{id}", response.Headers.Location!.ToString());

        var fetched = await Admin.GetJsonAsync($"/v1/books/{id}");
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(book, fetched), $"{book.ToJsonString()} vs {fetched.ToJsonString()}");
    }

    [Theory]
    [InlineData("eur")]
    [InlineData("EURO")]
    [InlineData("XXX")]
    [InlineData("")]
    [InlineData("12")]
    public async Task An_unknown_currency_is_400_on_currency(string currency)
    {
        // The app is shared with the class's other tests, whose books stay listed: this request must add none.
        var booksBefore = (await Admin.GetJsonAsync("/v1/books")).ToJsonString();
        var response = await Admin.PostAsJsonAsync("/v1/books", new { name = "bad", currency });
        await response.AssertValidationErrorAsync("currency");
        Assert.Equal(booksBefore, (await Admin.GetJsonAsync("/v1/books")).ToJsonString());
    }

    [Fact]
    public async Task Missing_fields_and_unknown_charts_are_400_naming_the_field()
    {
        var booksBefore = (await Admin.GetJsonAsync("/v1/books")).ToJsonString();
        await (await Admin.PostRawAsync("/v1/books", """{"name":"x"}""")).AssertValidationErrorAsync("currency");
        await (await Admin.PostRawAsync("/v1/books", """{"currency":"EUR"}""")).AssertValidationErrorAsync("name");
        await (await Admin.PostRawAsync("/v1/books", """{"name":"","currency":"EUR"}""")).AssertValidationErrorAsync("name");
        await (await Admin.PostRawAsync("/v1/books", """{"name":"x","currency":"EUR","chart":"fancy"}""")).AssertValidationErrorAsync("chart");
        await (await Admin.PostRawAsync("/v1/books", """{"name":"x","currency":"EUR","owner":"me"}""")).AssertProblemAsync(HttpStatusCode.BadRequest);
        await (await Admin.PostRawAsync("/v1/books", """{"name":"x","currency":"EUR""")).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(booksBefore, (await Admin.GetJsonAsync("/v1/books")).ToJsonString());
    }

    [Fact]
    public async Task The_standard_chart_seeds_accounts_of_all_five_types()
    {
        var book = await App.CreateBookAsync(chart: "standard");
        var accounts = (await Admin.GetJsonAsync($"/v1/books/{book}/accounts")).AsArray();
        var types = accounts.Select(a => a!["type"]!.GetValue<string>()).ToHashSet();
        Assert.Equal(new HashSet<string> { "asset", "liability", "equity", "income", "expense" }, types);
        Assert.All(accounts, a =>
        {
            Assert.Equal("0.00", a!["debitTotal"]!.GetValue<string>());
            Assert.Equal("0.00", a["creditTotal"]!.GetValue<string>());
            Assert.Equal("0.00", a["balance"]!.GetValue<string>());
            Assert.False(a["archived"]!.GetValue<bool>());
        });
        // Codes are unique.
        Assert.Equal(accounts.Count, accounts.Select(a => a!["code"]!.GetValue<string>()).Distinct().Count());
    }

    [Fact]
    public async Task Without_a_chart_a_book_starts_with_no_accounts()
    {
        var book = await App.CreateBookAsync(chart: null);
        Assert.Empty((await Admin.GetJsonAsync($"/v1/books/{book}/accounts")).AsArray());
    }

    [Fact]
    public async Task Books_are_listed_and_an_unknown_book_is_404()
    {
        // The class's other tests have books in this app too: the list gains exactly these two.
        var before = (await Admin.GetJsonAsync("/v1/books")).AsArray().Select(x => x!["id"]!.GetValue<string>()).ToList();
        var a = await App.CreateBookAsync(name: "Alpha");
        var b = await App.CreateBookAsync("JPY", name: "Beta");
        var list = (await Admin.GetJsonAsync("/v1/books")).AsArray();
        Assert.Equal(before.Count + 2, list.Count);
        Assert.Equal(new HashSet<string>(before) { a, b }, list.Select(x => x!["id"]!.GetValue<string>()).ToHashSet());

        await (await Admin.GetAsync("/v1/books/no-such-book")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await Admin.GetAsync("/v1/books/no-such-book/accounts")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await Admin.GetAsync("/v1/books/no-such-book/journal-entries")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await Admin.GetAsync("/v1/books/no-such-book/reports/trial-balance")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await Admin.PostEntryAsync("no-such-book", "2026-01-01", "x", ("1000", "1", null), ("4000", null, "1")))
            .AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Books_are_separate_ledgers()
    {
        var a = await StandardBookAsync();
        var b = await StandardBookAsync();
        await App.PostEntryOkAsync(a, "2026-01-10", "sale in A", ("1010", "100.00", null), ("4000", null, "100.00"));
        Assert.Equal("100.00", (await App.AccountAsync(a, "1010"))["balance"]!.GetValue<string>());
        Assert.Equal("0.00", (await App.AccountAsync(b, "1010"))["balance"]!.GetValue<string>());
        Assert.Empty((await App.TrialBalanceAsync(b, "2026-12-31"))["lines"]!.AsArray());
        Assert.Empty(await App.AllEntriesAsync(b));
    }

    [Fact]
    public async Task Creating_a_book_with_an_Idempotency_Key_creates_it_once()
    {
        var key = $"new-book-{Guid.NewGuid():N}";
        var body = new { name = "Retried book", currency = "EUR", chart = "standard" };
        var booksBefore = (await Admin.GetJsonOkAsync("/v1/books")).AsArray().Count;

        // A script that retries, and one that sends its retries at once: one book.
        var first = await Admin.PostJsonAsync("/v1/books", body, key);
        var created = await first.AssertCreatedAsync();
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Admin.PostJsonAsync("/v1/books", body, key)));
        foreach (var again in concurrent)
        {
            Assert.Equal(HttpStatusCode.Created, again.StatusCode);
            Assert.Contains("true", again.Headers.GetValues("Idempotency-Replayed"));
            Assert.Equal(first.Headers.Location, again.Headers.Location);
            Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(created, await again.ReadJsonAsync()));
        }
        Assert.Equal(booksBefore + 1, (await Admin.GetJsonOkAsync("/v1/books")).AsArray().Count);
        Assert.Equal(StandardChartAccounts, (await Admin.GetJsonOkAsync($"/v1/books/{created["id"]!.GetValue<string>()}/accounts")).AsArray().Count);

        // The same key with another request is refused, and writes nothing.
        var other = await Admin.PostJsonAsync("/v1/books", new { name = "Another name", currency = "EUR" }, key);
        await other.AssertProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal(booksBefore + 1, (await Admin.GetJsonOkAsync("/v1/books")).AsArray().Count);

        // Without a key, each post is a book of its own; another key, another book.
        var plain = await (await Admin.PostJsonAsync("/v1/books", body)).AssertCreatedAsync();
        var otherKey = await (await Admin.PostJsonAsync("/v1/books", body, key + "-2")).AssertCreatedAsync();
        Assert.Equal(3, new[] { created, plain, otherKey }.Select(b => b["id"]!.GetValue<string>()).Distinct().Count());
    }

    private static int StandardChartAccounts => Ledger.Api.Features.Books.StandardChart.Accounts.Count;
}
