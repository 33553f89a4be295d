using System.Net;
using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Journal;

public sealed class ReversalTests(SharedApp shared) : SharedAppTest(shared)
{
    private async Task<(string Book, JsonNode Entry)> BookWithEntryAsync()
    {
        var book = await StandardBookAsync();
        var vendor = await App.CreateVendorAsync(book, "Chairs Ltd");
        var entry = await App.PostEntryOkAsync(book, "2026-04-10", "Office chairs", ("6300", "300.00", null), ("2100", "57.00", null), ($"2000/vendor:{vendor}", null, "357.00"));
        return (book, entry);
    }

    [Fact]
    public async Task Reversing_posts_a_new_entry_with_every_line_swapped_and_links_both_ways()
    {
        var (book, original) = await BookWithEntryAsync();
        var id = original["id"]!.GetValue<long>();

        var response = await Admin.PostRawAsync($"{EntriesUrl(book)}/{id}/reverse", """{"date":"2026-04-30","description":"Chairs returned"}""");
        var reversal = await response.AssertCreatedAsync();
        var reversalId = reversal["id"]!.GetValue<long>();
        Assert.NotEqual(id, reversalId);
        Assert.Equal(2, reversal["number"]!.GetValue<long>());
        Assert.Equal("2026-04-30", reversal["date"]!.GetValue<string>());
        Assert.Equal("Chairs returned", reversal["description"]!.GetValue<string>());
        Assert.Equal(id, reversal["reversalOf"]!.GetValue<long>());
        Assert.Null(reversal["reversedBy"]);
        Assert.EndsWith($"/v1/books/{book}/journal-entries/{reversalId}", response.Headers.Location!.ToString());

        var lines = reversal["lines"]!.AsArray();
        Assert.Equal(3, lines.Count);
        Assert.Equal(("6300", null, "300.00"), Line(lines[0]!));
        Assert.Equal(("2100", null, "57.00"), Line(lines[1]!));
        Assert.Equal(("2000", "357.00", null), Line(lines[2]!));

        var originalNow = await Admin.GetJsonAsync($"{EntriesUrl(book)}/{id}");
        Assert.Equal(reversalId, originalNow["reversedBy"]!.GetValue<long>());
        Assert.Null(originalNow["reversalOf"]);
        // Nothing else about the original changed.
        originalNow["reversedBy"] = null;
        Assert.True(JsonNode.DeepEquals(original, originalNow), $"{original.ToJsonString()} vs {originalNow.ToJsonString()}");

        // The pair nets every account to zero from the reversal date on; before it the original stands.
        foreach (var code in new[] { "6300", "2100", "2000" })
            Assert.Equal("0.00", (await App.AccountAsync(book, code))["balance"]!.GetValue<string>());
        Assert.Empty((await App.TrialBalanceAsync(book, "2026-04-30"))["lines"]!.AsArray());
        Assert.Equal("357.00", (await App.TrialBalanceAsync(book, "2026-04-29"))["totals"]!["debit"]!.GetValue<string>());
    }

    private static (string Account, string? Debit, string? Credit) Line(JsonNode line) =>
        (line["account"]!.GetValue<string>(), line["debit"]?.GetValue<string>(), line["credit"]?.GetValue<string>());

    [Fact]
    public async Task Without_a_body_the_reversal_takes_the_original_date_and_a_describing_text()
    {
        var (book, original) = await BookWithEntryAsync();
        var id = original["id"]!.GetValue<long>();
        var response = await Admin.SendRawAsync(HttpMethod.Post, $"{EntriesUrl(book)}/{id}/reverse");
        var reversal = await response.AssertCreatedAsync();
        Assert.Equal("2026-04-10", reversal["date"]!.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(reversal["description"]!.GetValue<string>()));
        Assert.Equal(id, reversal["reversalOf"]!.GetValue<long>());
    }

    [Fact]
    public async Task An_empty_JSON_body_works_like_no_body()
    {
        var (book, original) = await BookWithEntryAsync();
        var reversal = await (await Admin.PostRawAsync($"{EntriesUrl(book)}/{original["id"]}/reverse", "{}")).AssertCreatedAsync();
        Assert.Equal("2026-04-10", reversal["date"]!.GetValue<string>());
    }

    [Fact]
    public async Task Reversing_twice_is_409_and_writes_nothing()
    {
        var (book, original) = await BookWithEntryAsync();
        var url = $"{EntriesUrl(book)}/{original["id"]}/reverse";
        await (await Admin.PostRawAsync(url, "{}")).AssertCreatedAsync();
        var before = await App.SnapshotAsync(book);
        await (await Admin.PostRawAsync(url, "{}")).AssertProblemAsync(HttpStatusCode.Conflict);
        await (await Admin.PostRawAsync(url, """{"date":"2026-05-01"}""")).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal(before, await App.SnapshotAsync(book));
    }

    [Fact]
    public async Task Concurrent_reversals_of_one_entry_make_exactly_one_reversal()
    {
        var (book, original) = await BookWithEntryAsync();
        var url = $"{EntriesUrl(book)}/{original["id"]}/reverse";
        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => Admin.PostRawAsync(url, $$"""{"description":"attempt {{i}}"}""")));
        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        foreach (var response in responses.Where(r => r.StatusCode != HttpStatusCode.Created))
            await response.AssertProblemAsync(HttpStatusCode.Conflict);

        var entries = await App.AllEntriesAsync(book);
        Assert.Equal(2, entries.Count);
        Assert.Equal([1, 2], entries.Select(e => e["number"]!.GetValue<long>()).Order());
        Assert.Equal("0.00", (await App.AccountAsync(book, "2000"))["balance"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_reversal_can_itself_be_reversed_once()
    {
        var (book, original) = await BookWithEntryAsync();
        var reversal = await (await Admin.PostRawAsync($"{EntriesUrl(book)}/{original["id"]}/reverse", "{}")).AssertCreatedAsync();
        var again = await (await Admin.PostRawAsync($"{EntriesUrl(book)}/{reversal["id"]}/reverse", "{}")).AssertCreatedAsync();
        Assert.Equal(reversal["id"]!.GetValue<long>(), again["reversalOf"]!.GetValue<long>());
        Assert.Equal("357.00", (await App.AccountAsync(book, "2000"))["balance"]!.GetValue<string>());
        await (await Admin.PostRawAsync($"{EntriesUrl(book)}/{reversal["id"]}/reverse", "{}")).AssertProblemAsync(HttpStatusCode.Conflict);
    }

    [Theory]
    [InlineData("""{"date":"2026-04-09"}""", "date")]
    [InlineData("""{"date":"2026-02-30"}""", "date")]
    [InlineData("""{"date":"soon"}""", "date")]
    public async Task A_reversal_dated_before_the_original_or_badly_dated_is_400_on_date(string body, string field)
    {
        var (book, original) = await BookWithEntryAsync();
        var before = await App.SnapshotAsync(book);
        await (await Admin.PostRawAsync($"{EntriesUrl(book)}/{original["id"]}/reverse", body)).AssertValidationErrorAsync(field);
        Assert.Equal(before, await App.SnapshotAsync(book));
    }

    [Fact]
    public async Task A_reversal_body_with_unknown_fields_is_400()
    {
        var (book, original) = await BookWithEntryAsync();
        var before = await App.SnapshotAsync(book);
        await (await Admin.PostRawAsync($"{EntriesUrl(book)}/{original["id"]}/reverse", """{"lines":[]}"""))
            .AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(before, await App.SnapshotAsync(book));
    }

    [Fact]
    public async Task Posted_entries_cannot_be_replaced_edited_or_deleted()
    {
        var (book, original) = await BookWithEntryAsync();
        var url = $"{EntriesUrl(book)}/{original["id"]}";
        var before = await App.SnapshotAsync(book);
        foreach (var method in new[] { HttpMethod.Put, HttpMethod.Patch, HttpMethod.Delete })
        {
            var response = await Admin.SendRawAsync(method, url, method == HttpMethod.Delete ? null : """{"description":"edited"}""");
            await response.AssertProblemAsync(HttpStatusCode.MethodNotAllowed);
        }
        // Even for an entry that does not exist, the answer is that entries are immutable.
        await (await Admin.SendRawAsync(HttpMethod.Delete, $"{EntriesUrl(book)}/999")).AssertProblemAsync(HttpStatusCode.MethodNotAllowed);
        Assert.Equal(before, await App.SnapshotAsync(book));
    }
}
