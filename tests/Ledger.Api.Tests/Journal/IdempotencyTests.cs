using System.Net;
using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Journal;

public sealed class IdempotencyTests(SharedApp shared) : SharedAppTest(shared)
{
    private const string Body = """
        {"date":"2026-06-15","description":"Rent June","reference":"R-6","lines":[{"account":"6000","debit":"1200.00"},{"account":"1010","credit":"1200.00"}]}
        """;

    private static bool Replayed(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Idempotency-Replayed", out var values) && values.Contains("true");

    [Fact]
    public async Task The_same_key_and_body_replays_the_original_answer_and_writes_nothing()
    {
        var book = await StandardBookAsync();
        var first = await Admin.PostRawAsync(EntriesUrl(book), Body, "rent-2026-06");
        var original = await first.AssertCreatedAsync();
        Assert.False(Replayed(first));
        var after = await App.SnapshotAsync(book);

        for (var i = 0; i < 3; i++)
        {
            var again = await Admin.PostRawAsync(EntriesUrl(book), Body, "rent-2026-06");
            var replay = await again.AssertCreatedAsync();
            Assert.True(Replayed(again), "missing Idempotency-Replayed: true");
            Assert.True(JsonNode.DeepEquals(original, replay), $"{original.ToJsonString()} vs {replay.ToJsonString()}");
            Assert.Equal(first.Headers.Location, again.Headers.Location);
            Assert.Equal("application/json", again.Content.Headers.ContentType?.MediaType);
        }

        Assert.Equal(after, await App.SnapshotAsync(book));
        Assert.Single(await App.AllEntriesAsync(book));
        Assert.Equal("1200.00", (await App.TrialBalanceAsync(book, "2026-06-30"))["totals"]!["debit"]!.GetValue<string>());
    }

    [Fact]
    public async Task Whitespace_and_property_order_do_not_make_a_different_request()
    {
        var book = await StandardBookAsync();
        await (await Admin.PostRawAsync(EntriesUrl(book), Body, "k1")).AssertCreatedAsync();
        var reformatted = """
            {
              "lines": [ { "debit": "1200.00", "account": "6000" }, { "credit": "1200.00", "account": "1010" } ],
              "reference": "R-6", "description": "Rent June", "date": "2026-06-15"
            }
            """;
        var again = await Admin.PostRawAsync(EntriesUrl(book), reformatted, "k1");
        await again.AssertCreatedAsync();
        Assert.True(Replayed(again));
        Assert.Single(await App.AllEntriesAsync(book));
    }

    [Theory]
    [InlineData("""{"date":"2026-06-15","description":"Rent June","reference":"R-6","lines":[{"account":"6000","debit":"1300.00"},{"account":"1010","credit":"1300.00"}]}""")]
    [InlineData("""{"date":"2026-06-16","description":"Rent June","reference":"R-6","lines":[{"account":"6000","debit":"1200.00"},{"account":"1010","credit":"1200.00"}]}""")]
    [InlineData("""{"date":"2026-06-15","description":"Rent July","reference":"R-6","lines":[{"account":"6000","debit":"1200.00"},{"account":"1010","credit":"1200.00"}]}""")]
    [InlineData("""{"date":"2026-06-15","description":"Rent June","lines":[{"account":"6000","debit":"1200.00"},{"account":"1010","credit":"1200.00"}]}""")]
    public async Task The_same_key_with_a_different_body_is_422_and_writes_nothing(string different)
    {
        var book = await StandardBookAsync();
        await (await Admin.PostRawAsync(EntriesUrl(book), Body, "rent")).AssertCreatedAsync();
        var before = await App.SnapshotAsync(book);
        await (await Admin.PostRawAsync(EntriesUrl(book), different, "rent")).AssertProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal(before, await App.SnapshotAsync(book));
        // The original request still replays.
        var replay = await Admin.PostRawAsync(EntriesUrl(book), Body, "rent");
        await replay.AssertCreatedAsync();
        Assert.True(Replayed(replay));
    }

    [Fact]
    public async Task The_same_new_key_sent_concurrently_writes_exactly_one_entry()
    {
        var book = await StandardBookAsync();
        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Admin.PostRawAsync(EntriesUrl(book), Body, "burst-1")));

        var created = responses.Where(r => r.StatusCode == HttpStatusCode.Created).ToList();
        Assert.NotEmpty(created);
        foreach (var conflict in responses.Where(r => r.StatusCode != HttpStatusCode.Created))
            await conflict.AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Single(created, r => !Replayed(r));

        var ids = new HashSet<long>();
        foreach (var response in created) ids.Add((await response.AssertCreatedAsync())["id"]!.GetValue<long>());
        Assert.Single(ids);

        var entries = await App.AllEntriesAsync(book);
        Assert.Equal(ids.Single(), Assert.Single(entries)["id"]!.GetValue<long>());
        Assert.Equal("1200.00", (await App.AccountAsync(book, "6000"))["debitTotal"]!.GetValue<string>());
        Assert.Equal("1200.00", (await App.TrialBalanceAsync(book, "2026-12-31"))["totals"]!["credit"]!.GetValue<string>());
    }

    [Fact]
    public async Task Keys_are_per_book()
    {
        var a = await StandardBookAsync();
        var b = await StandardBookAsync();
        var inA = await Admin.PostRawAsync(EntriesUrl(a), Body, "shared-key");
        var inB = await Admin.PostRawAsync(EntriesUrl(b), Body, "shared-key");
        await inA.AssertCreatedAsync();
        await inB.AssertCreatedAsync();
        Assert.False(Replayed(inB));
        Assert.Single(await App.AllEntriesAsync(a));
        Assert.Single(await App.AllEntriesAsync(b));
    }

    [Fact]
    public async Task Different_keys_make_different_entries()
    {
        var book = await StandardBookAsync();
        var one = await (await Admin.PostRawAsync(EntriesUrl(book), Body, "one")).AssertCreatedAsync();
        var two = await (await Admin.PostRawAsync(EntriesUrl(book), Body, "two")).AssertCreatedAsync();
        var none = await (await Admin.PostRawAsync(EntriesUrl(book), Body)).AssertCreatedAsync();
        Assert.Equal([1, 2, 3], new[] { one, two, none }.Select(e => e["number"]!.GetValue<long>()));
    }

    [Fact]
    public async Task Keys_of_up_to_255_characters_are_accepted_and_256_is_400()
    {
        var book = await StandardBookAsync();
        var longest = new string('k', 255);
        await (await Admin.PostRawAsync(EntriesUrl(book), Body, longest)).AssertCreatedAsync();
        var replay = await Admin.PostRawAsync(EntriesUrl(book), Body, longest);
        await replay.AssertCreatedAsync();
        Assert.True(Replayed(replay));

        var before = await App.SnapshotAsync(book);
        var tooLong = await Admin.PostRawAsync(EntriesUrl(book), Body, new string('k', 256));
        await tooLong.AssertValidationErrorAsync("Idempotency-Key");
        Assert.Equal(before, await App.SnapshotAsync(book));
    }

    [Fact]
    public async Task An_empty_or_repeated_key_is_400_on_every_posting_route_rather_than_a_post_without_a_key()
    {
        var book = await StandardBookAsync();
        var entry = await (await Admin.PostRawAsync(EntriesUrl(book), Body)).AssertCreatedAsync();
        var before = await App.SnapshotAsync(book);
        var routes = new[]
        {
            (EntriesUrl(book), Body),
            ($"{EntriesUrl(book)}/batch", $"{{\"entries\":[{Body}]}}"),
            ($"{EntriesUrl(book)}/{entry["id"]}/reverse", "{}"),
        };
        foreach (var (url, body) in routes)
        {
            foreach (var values in new[] { new[] { "" }, new[] { "  " }, new[] { "a", "b" } })
            {
                var (status, problem) = await App.PostWithRawHeadersAsync(url, body, "Idempotency-Key", values);
                Assert.True(status == 400, $"{url} with Idempotency-Key [{string.Join("|", values)}]: {status} {problem}");
                Assert.True(problem?["errors"]?["Idempotency-Key"] is not null, $"{url} [{string.Join("|", values)}]: {problem}");
            }
        }
        Assert.Equal(before, await App.SnapshotAsync(book));
    }

    [Fact]
    public async Task A_refused_request_does_not_use_up_its_key()
    {
        var book = await StandardBookAsync();
        var unknownAccount = Body.Replace("\"1010\"", "\"1099\"", StringComparison.Ordinal);
        await (await Admin.PostRawAsync(EntriesUrl(book), unknownAccount, "retry-me")).AssertValidationErrorAsync("lines[1].account");
        await App.CreateAccountAsync(book, "1099", "asset");
        var retried = await Admin.PostRawAsync(EntriesUrl(book), unknownAccount, "retry-me");
        await retried.AssertCreatedAsync();
        Assert.False(Replayed(retried));
    }

    [Fact]
    public async Task A_replay_still_answers_after_the_account_was_archived()
    {
        var book = await StandardBookAsync();
        var original = await (await Admin.PostRawAsync(EntriesUrl(book), Body, "before-archive")).AssertCreatedAsync();
        Assert.Equal(HttpStatusCode.OK, (await Admin.PatchJsonAsync($"{AccountsUrl(book)}/6000", new { archived = true })).StatusCode);
        var replay = await Admin.PostRawAsync(EntriesUrl(book), Body, "before-archive");
        Assert.True(JsonNode.DeepEquals(original, await replay.AssertCreatedAsync()));
        Assert.True(Replayed(replay));
    }

    [Fact]
    public async Task A_retried_reversal_with_the_same_key_replays_the_reversal()
    {
        var book = await StandardBookAsync();
        var entry = await App.PostEntryOkAsync(book, "2026-06-15", "to reverse", ("6000", "10.00", null), ("1010", null, "10.00"));
        var url = $"{EntriesUrl(book)}/{entry["id"]}/reverse";

        var first = await Admin.PostRawAsync(url, """{"description":"undo"}""", "undo-1");
        var reversal = await first.AssertCreatedAsync();
        var before = await App.SnapshotAsync(book);

        var retry = await Admin.PostRawAsync(url, """{"description":"undo"}""", "undo-1");
        var replay = await retry.AssertCreatedAsync();
        Assert.True(Replayed(retry));
        Assert.True(JsonNode.DeepEquals(reversal, replay), $"{reversal.ToJsonString()} vs {replay.ToJsonString()}");
        Assert.Equal(before, await App.SnapshotAsync(book));
    }
}
