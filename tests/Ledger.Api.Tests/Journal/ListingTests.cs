using System.Net;
using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Journal;

public sealed class ListingTests(SharedApp shared) : SharedAppTest(shared)
{
    private sealed record Posted(long Id, long Number, string Date, string? Reference, string[] Accounts);

    private static Posted ToPosted(JsonNode e) => new(
        e["id"]!.GetValue<long>(), e["number"]!.GetValue<long>(), e["date"]!.GetValue<string>(), e["reference"]?.GetValue<string>(),
        e["lines"]!.AsArray().Select(l => l!["account"]!.GetValue<string>()).ToArray());

    private static IEnumerable<Posted> InListOrder(IEnumerable<Posted> entries) =>
        entries.OrderBy(e => e.Date, StringComparer.Ordinal).ThenBy(e => e.Number);

    /// <summary>Posts <paramref name="count"/> entries with scattered dates, some in parallel, and returns them as answered.</summary>
    private async Task<List<Posted>> PostScatteredAsync(string book, int count, int parallelism = 10)
    {
        var random = new Random(1234);
        var posted = new List<Posted>();
        var start = new DateOnly(2025, 1, 1);
        for (var batch = 0; batch < count; batch += parallelism)
        {
            var tasks = new List<Task<HttpResponseMessage>>();
            for (var i = batch; i < Math.Min(count, batch + parallelism); i++)
            {
                // Few distinct dates, so many entries share a date and the number decides their order.
                var date = start.AddDays(random.Next(0, 40) * 9).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
                var (debit, credit) = (i % 3) switch { 0 => ("1010", "4000"), 1 => ("6000", "1010"), _ => ("1000", "3000") };
                var body = new JsonObject
                {
                    ["date"] = date,
                    ["description"] = $"entry {i}",
                    ["reference"] = i % 5 == 0 ? $"REF-{i % 4}" : null,
                    ["lines"] = new JsonArray(
                        new JsonObject { ["account"] = debit, ["debit"] = $"{i + 1}.00" },
                        new JsonObject { ["account"] = credit, ["credit"] = $"{i + 1}.00" }),
                };
                tasks.Add(Admin.PostRawAsync(EntriesUrl(book), body.ToJsonString()));
            }
            foreach (var response in await Task.WhenAll(tasks)) posted.Add(ToPosted(await response.AssertCreatedAsync()));
        }
        return posted;
    }

    [Fact]
    public async Task Entries_are_listed_by_date_then_number_and_every_page_walk_serves_each_once()
    {
        var book = await StandardBookAsync();
        var posted = await PostScatteredAsync(book, 60);
        var expected = InListOrder(posted).Select(e => e.Id).ToList();

        foreach (var limit in new int?[] { 1, 7, 25, 59, 60, 61, null })
        {
            var listed = await App.AllEntriesAsync(book, limit: limit);
            Assert.Equal(expected, listed.Select(e => e["id"]!.GetValue<long>()));
        }
    }

    [Fact]
    public async Task Listed_entries_are_whole_and_equal_to_what_GET_by_id_serves()
    {
        var book = await StandardBookAsync();
        await App.PostEntryOkAsync(book, "2026-02-01", "later", ("1010", "2.50", null), ("4000", null, "2.50"));
        await App.PostEntryOkAsync(book, "2026-01-01", "earlier", ("6000", "1.25", null), ("1010", null, "1.25"));
        var listed = await App.AllEntriesAsync(book);
        Assert.Equal(["earlier", "later"], listed.Select(e => e["description"]!.GetValue<string>()));
        foreach (var entry in listed)
        {
            var fetched = await Admin.GetJsonAsync($"{EntriesUrl(book)}/{entry["id"]}");
            Assert.True(JsonNode.DeepEquals(entry, fetched), $"{entry.ToJsonString()} vs {fetched.ToJsonString()}");
        }
    }

    [Fact]
    public async Task The_last_page_has_a_null_cursor_and_an_empty_book_lists_nothing()
    {
        var book = await StandardBookAsync();
        var empty = await Admin.GetJsonAsync(EntriesUrl(book));
        Assert.Empty(empty["items"]!.AsArray());
        Assert.True(empty.AsObject().ContainsKey("nextCursor"));
        Assert.Null(empty["nextCursor"]);

        for (var i = 0; i < 3; i++) await App.PostEntryOkAsync(book, "2026-01-01", $"e{i}", ("1010", "1", null), ("4000", null, "1"));
        var first = await Admin.GetJsonAsync($"{EntriesUrl(book)}?limit=2");
        Assert.Equal(2, first["items"]!.AsArray().Count);
        var cursor = first["nextCursor"]!.GetValue<string>();
        var last = await Admin.GetJsonAsync($"{EntriesUrl(book)}?limit=2&cursor={Uri.EscapeDataString(cursor)}");
        Assert.Single(last["items"]!.AsArray());
        Assert.Null(last["nextCursor"]);

        // Exactly a full page at the end: no cursor to an empty page.
        var exact = await Admin.GetJsonAsync($"{EntriesUrl(book)}?limit=3");
        Assert.Equal(3, exact["items"]!.AsArray().Count);
        Assert.Null(exact["nextCursor"]);
    }

    [Fact]
    public async Task The_limit_defaults_to_50_and_is_clamped_to_500()
    {
        var book = await StandardBookAsync();
        var posted = await PostScatteredAsync(book, 505, parallelism: 25);

        var defaultPage = await Admin.GetJsonAsync(EntriesUrl(book));
        Assert.Equal(50, defaultPage["items"]!.AsArray().Count);
        Assert.NotNull(defaultPage["nextCursor"]);

        foreach (var limit in new[] { 501, 100_000 })
        {
            var page = await Admin.GetJsonAsync($"{EntriesUrl(book)}?limit={limit}");
            Assert.Equal(500, page["items"]!.AsArray().Count);
            var cursor = page["nextCursor"]!.GetValue<string>();
            var rest = await Admin.GetJsonAsync($"{EntriesUrl(book)}?limit={limit}&cursor={Uri.EscapeDataString(cursor)}");
            Assert.Equal(5, rest["items"]!.AsArray().Count);
            Assert.Null(rest["nextCursor"]);
        }

        var walked = await App.AllEntriesAsync(book, limit: 500);
        Assert.Equal(InListOrder(posted).Select(e => e.Id), walked.Select(e => e["id"]!.GetValue<long>()));
    }

    [Fact]
    public async Task Filters_by_date_range_account_and_reference_page_like_the_whole_list()
    {
        var book = await StandardBookAsync();
        var posted = await PostScatteredAsync(book, 90);
        var from = "2025-03-01";
        var to = "2025-07-31";

        async Task CheckAsync(string query, Func<Posted, bool> predicate)
        {
            var expected = InListOrder(posted.Where(predicate)).Select(e => e.Id).ToList();
            Assert.NotEmpty(expected);
            Assert.NotEqual(posted.Count, expected.Count);
            foreach (var limit in new int?[] { 4, null })
                Assert.Equal(expected, (await App.AllEntriesAsync(book, query, limit)).Select(e => e["id"]!.GetValue<long>()));
        }

        await CheckAsync($"from={from}", e => string.CompareOrdinal(e.Date, from) >= 0);
        await CheckAsync($"to={to}", e => string.CompareOrdinal(e.Date, to) <= 0);
        await CheckAsync($"from={from}&to={to}", e => string.CompareOrdinal(e.Date, from) >= 0 && string.CompareOrdinal(e.Date, to) <= 0);
        await CheckAsync("account=1010", e => e.Accounts.Contains("1010"));
        await CheckAsync("account=3000", e => e.Accounts.Contains("3000"));
        await CheckAsync($"account=1010&from={from}&to={to}",
            e => e.Accounts.Contains("1010") && string.CompareOrdinal(e.Date, from) >= 0 && string.CompareOrdinal(e.Date, to) <= 0);
        await CheckAsync("reference=REF-2", e => e.Reference == "REF-2");
        await CheckAsync("reference=REF-0&account=1010", e => e.Reference == "REF-0" && e.Accounts.Contains("1010"));

        // Range bounds are inclusive.
        var someDate = posted[0].Date;
        await CheckAsync($"from={someDate}&to={someDate}", e => e.Date == someDate);
    }

    [Fact]
    public async Task An_entry_with_several_lines_on_the_filtered_account_is_listed_once()
    {
        var book = await StandardBookAsync();
        var entry = await App.PostEntryOkAsync(book, "2026-01-05", "split", ("1010", "1.00", null), ("1010", "2.00", null), ("4000", null, "3.00"));
        var listed = await App.AllEntriesAsync(book, "account=1010", limit: 1);
        Assert.Equal([entry["id"]!.GetValue<long>()], listed.Select(e => e["id"]!.GetValue<long>()));
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=-1", "limit")]
    [InlineData("cursor=not-a-cursor", "cursor")]
    [InlineData("cursor=", "cursor")]
    [InlineData("from=2026-13-01", "from")]
    [InlineData("to=yesterday", "to")]
    public async Task Bad_list_parameters_are_400_naming_the_parameter(string query, string field)
    {
        var book = await StandardBookAsync();
        await App.PostEntryOkAsync(book, "2026-01-05", "e", ("1010", "1", null), ("4000", null, "1"));
        await (await Admin.GetAsync($"{EntriesUrl(book)}?{query}")).AssertValidationErrorAsync(field);
    }

    [Fact]
    public async Task A_non_numeric_limit_is_a_400_problem()
    {
        var book = await StandardBookAsync();
        await (await Admin.GetAsync($"{EntriesUrl(book)}?limit=ten")).AssertProblemAsync(HttpStatusCode.BadRequest);
    }
}
