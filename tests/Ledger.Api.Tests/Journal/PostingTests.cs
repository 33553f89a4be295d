using System.Net;
using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Journal;

public sealed class PostingTests(SharedApp shared) : SharedAppTest(shared)
{
    [Fact]
    public async Task A_posted_entry_is_answered_in_full_with_a_Location_that_serves_it()
    {
        var book = await StandardBookAsync();
        var response = await Admin.PostRawAsync(EntriesUrl(book), """
            {
              "date": "2026-03-14",
              "description": "Invoice 1001 paid",
              "reference": "INV-1001",
              "lines": [
                { "account": "1010", "debit": "1250.00", "description": "bank" },
                { "account": "4000", "credit": "1000.00" },
                { "account": "2100", "credit": "250" }
              ]
            }
            """);
        var entry = await response.AssertCreatedAsync();
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);

        var id = entry["id"]!.GetValue<long>();
        Assert.Equal(1, entry["number"]!.GetValue<long>());
        Assert.Equal("2026-03-14", entry["date"]!.GetValue<string>());
        Assert.Equal("Invoice 1001 paid", entry["description"]!.GetValue<string>());
        Assert.Equal("INV-1001", entry["reference"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(entry["createdAt"]!.GetValue<string>()));
        Assert.Null(entry["reversalOf"]);
        Assert.Null(entry["reversedBy"]);
        Assert.True(entry.AsObject().ContainsKey("reversalOf"));
        Assert.True(entry.AsObject().ContainsKey("reversedBy"));

        var lines = entry["lines"]!.AsArray();
        Assert.Equal(3, lines.Count);
        Assert.Equal("1010", lines[0]!["account"]!.GetValue<string>());
        Assert.Equal("1250.00", lines[0]!["debit"]!.GetValue<string>());
        Assert.Null(lines[0]!["credit"]);
        Assert.Equal("bank", lines[0]!["description"]!.GetValue<string>());
        Assert.Equal("4000", lines[1]!["account"]!.GetValue<string>());
        Assert.Equal("1000.00", lines[1]!["credit"]!.GetValue<string>());
        Assert.Null(lines[1]!["debit"]);
        Assert.Equal("250.00", lines[2]!["credit"]!.GetValue<string>());

        var location = response.Headers.Location!.ToString();
        Assert.EndsWith($"/v1/books/{book}/journal-entries/{id}", location);
        var fetched = await Admin.GetJsonAsync(location);
        Assert.True(JsonNode.DeepEquals(entry, fetched), $"posted {entry.ToJsonString()}\nfetched {fetched.ToJsonString()}");
    }

    [Theory]
    [InlineData("EUR", "\"1250.5\"", "1250.50")]
    [InlineData("EUR", "1250.5", "1250.50")]
    [InlineData("EUR", "1250", "1250.00")]
    [InlineData("EUR", "\"0.01\"", "0.01")]
    [InlineData("EUR", "0.01", "0.01")]
    [InlineData("EUR", "\"92233720368547758.07\"", "92233720368547758.07")]
    [InlineData("EUR", "92233720368547758.07", "92233720368547758.07")]
    [InlineData("JPY", "\"1500\"", "1500")]
    [InlineData("JPY", "1500", "1500")]
    [InlineData("KWD", "\"1.001\"", "1.001")]
    [InlineData("KWD", "1.001", "1.001")]
    [InlineData("KWD", "\"7\"", "7.000")]
    [InlineData("KWD", "\"0.5\"", "0.500")]
    public async Task Amounts_are_read_from_strings_or_numbers_and_answered_as_strings_with_the_currency_digits(
        string currency, string amountJson, string expected)
    {
        var book = await StandardBookAsync(currency);
        var response = await Admin.PostRawAsync(EntriesUrl(book),
            $$"""{"date":"2026-01-05","description":"amount","lines":[{"account":"1010","debit":{{amountJson}}},{"account":"4000","credit":{{amountJson}}}]}""");
        var entry = await response.AssertCreatedAsync();
        var lines = entry["lines"]!.AsArray();
        Assert.Equal(expected, lines[0]!["debit"]!.GetValue<string>());
        Assert.Equal(expected, lines[1]!["credit"]!.GetValue<string>());

        var bank = await App.AccountAsync(book, "1010");
        Assert.Equal(expected, bank["debitTotal"]!.GetValue<string>());
        Assert.Equal(expected, bank["balance"]!.GetValue<string>());
        var tb = await App.TrialBalanceAsync(book, "2026-01-05");
        Assert.Equal(expected, tb["totals"]!["debit"]!.GetValue<string>());
        Assert.Equal(expected, tb["totals"]!["credit"]!.GetValue<string>());
    }

    [Fact]
    public async Task Reference_and_line_descriptions_are_optional()
    {
        var book = await StandardBookAsync();
        var entry = await App.PostEntryOkAsync(book, "2026-01-05", "no reference", ("1010", "1.00", null), ("4000", null, "1.00"));
        Assert.Null(entry["reference"]);
        Assert.All(entry["lines"]!.AsArray(), l => Assert.Null(l!["description"]));
    }

    [Fact]
    public async Task Lines_keep_their_order_and_an_account_may_appear_on_several_lines()
    {
        var book = await StandardBookAsync();
        var entry = await App.PostEntryOkAsync(book, "2026-01-05", "split",
            ("4000", null, "3.00"), ("1010", "1.00", null), ("1010", "2.00", null), ("1010", null, "0.50"), ("1000", "0.50", null));
        Assert.Equal(["4000", "1010", "1010", "1010", "1000"], entry["lines"]!.AsArray().Select(l => l!["account"]!.GetValue<string>()));
        var bank = await App.AccountAsync(book, "1010");
        Assert.Equal("3.00", bank["debitTotal"]!.GetValue<string>());
        Assert.Equal("0.50", bank["creditTotal"]!.GetValue<string>());
        Assert.Equal("2.50", bank["balance"]!.GetValue<string>());
    }

    [Fact]
    public async Task Unknown_entry_ids_are_404()
    {
        var book = await StandardBookAsync();
        await (await Admin.GetAsync($"{EntriesUrl(book)}/1")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await Admin.GetAsync($"{EntriesUrl(book)}/999999")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await Admin.PostRawAsync($"{EntriesUrl(book)}/42/reverse", "{}")).AssertProblemAsync(HttpStatusCode.NotFound);
    }
}
