using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Journal;

/// <summary>Every test restarts its app, so each has an app of its own (<see cref="AppTest"/>).</summary>
public sealed class PersistenceTests : AppTest
{
    private const string IdempotentBody = """
        {"date":"2026-02-10","description":"Idempotent rent","lines":[{"account":"6000","debit":"800.00"},{"account":"1010","credit":"800.00"}]}
        """;

    [Fact]
    public async Task Entries_balances_keys_and_numbering_survive_a_restart()
    {
        var book = await StandardBookAsync();
        var other = await StandardBookAsync("KWD");
        await App.PostEntryOkAsync(book, "2026-01-05", "capital", ("1010", "10000.00", null), ("3000", null, "10000.00"));
        var backdated = await App.PostEntryOkAsync(book, "2025-12-31", "backdated", ("1000", "50.00", null), ("3000", null, "50.00"));
        var idempotent = await (await Admin.PostRawAsync(EntriesUrl(book), IdempotentBody, "rent-feb")).AssertCreatedAsync();
        await (await Admin.PostRawAsync($"{EntriesUrl(book)}/{backdated["id"]}/reverse", """{"date":"2026-01-31"}""")).AssertCreatedAsync();
        await App.PostEntryOkAsync(other, "2026-01-05", "kwd", ("1010", "1.234", null), ("4000", null, "1.234"));
        Assert.Equal(HttpStatusCode.OK, (await Admin.PatchJsonAsync($"{AccountsUrl(book)}/1400", new { archived = true, name = "Old prepaid" })).StatusCode);
        var readKey = await App.CreateKeyAsync(book, "read");
        var revoked = await (await Admin.PostAsJsonAsync("/v1/api-keys", new { name = "gone", bookId = book, scopes = new[] { "read", "write" } }))
            .AssertCreatedAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"/v1/api-keys/{revoked["id"]}")).StatusCode);

        var snapshot = await App.SnapshotAsync(book);
        var otherSnapshot = await App.SnapshotAsync(other);
        var trialBalances = new[] { "2025-12-31", "2026-01-05", "2026-01-31", "2026-02-28" }
            .Select(asOf => App.TrialBalanceAsync(book, asOf)).ToArray();
        var before = (await Task.WhenAll(trialBalances)).Select(tb => tb.ToJsonString()).ToArray();

        App = await App.RestartAsync();

        Assert.Equal(snapshot, await App.SnapshotAsync(book));
        Assert.Equal(otherSnapshot, await App.SnapshotAsync(other));
        var after = await Task.WhenAll(new[] { "2025-12-31", "2026-01-05", "2026-01-31", "2026-02-28" }.Select(asOf => App.TrialBalanceAsync(book, asOf)));
        Assert.Equal(before, after.Select(tb => tb.ToJsonString()));

        // Numbering continues without a gap, per book.
        var next = await App.PostEntryOkAsync(book, "2026-03-01", "after restart", ("1010", "1.00", null), ("4000", null, "1.00"));
        Assert.Equal(5, next["number"]!.GetValue<long>());
        var nextOther = await App.PostEntryOkAsync(other, "2026-03-01", "after restart", ("1010", "0.001", null), ("4000", null, "0.001"));
        Assert.Equal(2, nextOther["number"]!.GetValue<long>());

        // Keys, revocations, archived accounts, reversal links and idempotency keys were kept.
        Assert.Equal(HttpStatusCode.OK, (await App.Client(readKey).GetAsync(EntriesUrl(book))).StatusCode);
        await (await App.Client(revoked["key"]!.GetValue<string>()).GetAsync(EntriesUrl(book))).AssertProblemAsync(HttpStatusCode.Unauthorized);
        await (await Admin.PostEntryAsync(book, "2026-03-01", "archived", ("1400", "1.00", null), ("1010", null, "1.00")))
            .AssertValidationErrorAsync("lines[0].account");
        await (await Admin.PostRawAsync($"{EntriesUrl(book)}/{backdated["id"]}/reverse", "{}")).AssertProblemAsync(HttpStatusCode.Conflict);
        var replay = await Admin.PostRawAsync(EntriesUrl(book), IdempotentBody, "rent-feb");
        Assert.True(JsonNode.DeepEquals(idempotent, await replay.AssertCreatedAsync()));
        Assert.True(replay.Headers.Contains("Idempotency-Replayed"));
        Assert.Equal(5, (await App.AllEntriesAsync(book)).Count);
    }

    [Fact]
    public async Task Numbering_continues_across_several_restarts()
    {
        var book = await StandardBookAsync();
        var numbers = new List<long>();
        for (var run = 0; run < 3; run++)
        {
            for (var i = 0; i < 3; i++)
                numbers.Add((await App.PostEntryOkAsync(book, $"2026-0{run + 1}-1{i}", $"run {run}", ("1010", "1", null), ("4000", null, "1")))["number"]!.GetValue<long>());
            App = await App.RestartAsync();
        }
        Assert.Equal(Enumerable.Range(1, 9).Select(n => (long)n), numbers);
        Assert.Equal("9.00", (await App.AccountAsync(book, "1010"))["balance"]!.GetValue<string>());
        Assert.Equal(numbers, (await App.AllEntriesAsync(book)).Select(e => e["number"]!.GetValue<long>()));
    }

    [Fact]
    public async Task A_second_app_on_an_existing_file_sees_what_the_first_wrote()
    {
        var book = await StandardBookAsync();
        await App.PostEntryOkAsync(book, "2026-01-05", "first app", ("1010", "12.34", null), ("4000", null, "12.34"));
        var snapshot = await App.SnapshotAsync(book);
        var path = App.DatabasePath;
        App = await App.RestartAsync();

        // OnExistingFile never deletes the file it was given.
        await using (var again = LedgerApp.OnExistingFile(path))
        {
            Assert.Equal(snapshot, await again.SnapshotAsync(book));
        }
        Assert.True(await TestDatabase.ExistsAsync(path));
        Assert.Equal(snapshot, await App.SnapshotAsync(book));
    }
}
