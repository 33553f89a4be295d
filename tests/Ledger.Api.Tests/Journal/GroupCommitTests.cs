using System.Net;
using Dapper;
using Ledger.Api.Infrastructure;
using Ledger.Api.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Ledger.Api.Tests.Journal;

/// <summary>Correctness of the single writer under concurrency: outcomes stay separate, numbers stay gapless.</summary>
[Trait("Category", "Slow")]
public sealed class GroupCommitTests(SharedApp shared) : SharedAppTest(shared)
{
    [Fact]
    public async Task A_failing_entry_inside_a_busy_group_fails_alone_and_numbering_stays_gapless()
    {
        var book = await App.CreateBookAsync();
        await App.CreateAccountAsync(book, "OLD", "asset");
        await App.Admin.PatchAsync($"/v1/books/{book}/accounts/OLD", JsonContent("{\"archived\":true}"));
        var writer = App.Services.GetRequiredService<LedgerWriter>();
        var groupsBefore = writer.GroupsCommitted;

        // Every third request names an archived account: it passes shape validation and fails inside the writer,
        // in the same group commit as good requests.
        const int requests = 300;
        var tasks = Enumerable.Range(0, requests).Select(i => App.Admin.PostEntryAsync(book, "2026-02-01", $"entry {i}",
            (i % 3 == 0 ? "OLD" : "1010", "1.00", null), ("4000", null, "1.00"))).ToArray();
        var responses = await Task.WhenAll(tasks);

        for (var i = 0; i < requests; i++)
            Assert.Equal(i % 3 == 0 ? HttpStatusCode.BadRequest : HttpStatusCode.Created, responses[i].StatusCode);
        Assert.True(writer.GroupsCommitted - groupsBefore < requests, "requests were grouped into fewer commits");

        var numbers = new List<long>();
        foreach (var response in responses.Where(r => r.StatusCode == HttpStatusCode.Created))
            numbers.Add((await response.ReadJsonAsync())["number"]!.GetValue<long>());
        numbers.Sort();
        Assert.Equal(Enumerable.Range(1, requests - requests / 3).Select(n => (long)n), numbers);

        var tb = await (await App.Admin.GetAsync($"/v1/books/{book}/reports/trial-balance?asOf=2026-12-31")).ReadJsonAsync();
        Assert.Equal($"{requests - requests / 3}.00", tb["totals"]!["debit"]!.GetValue<string>());
    }

    [Fact]
    public async Task Idempotent_retries_under_concurrency_post_each_key_exactly_once()
    {
        var book = await App.CreateBookAsync();
        const int keys = 40, retriesPerKey = 5;
        var tasks = Enumerable.Range(0, keys * retriesPerKey).Select(i =>
        {
            var key = $"bank-line-{i % keys}";
            return App.Admin.PostJsonAsync($"/v1/books/{book}/journal-entries",
                HttpTestExtensions.Entry("2026-03-03", key, ("1010", $"{i % keys + 1}.00", null), ("4000", null, $"{i % keys + 1}.00")), key);
        }).ToArray();
        var responses = await Task.WhenAll(tasks);
        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict, $"{r.StatusCode}"));

        var idsByKey = new Dictionary<string, HashSet<long>>();
        for (var i = 0; i < responses.Length; i++)
        {
            if (responses[i].StatusCode != HttpStatusCode.Created) continue;
            var key = $"bank-line-{i % keys}";
            (idsByKey.TryGetValue(key, out var ids) ? ids : idsByKey[key] = []).Add((await responses[i].ReadJsonAsync())["id"]!.GetValue<long>());
        }
        Assert.All(idsByKey.Values, ids => Assert.Single(ids));

        var page = await (await App.Admin.GetAsync($"/v1/books/{book}/journal-entries?limit=500")).ReadJsonAsync();
        Assert.Equal(keys, page["items"]!.AsArray().Count);
        var expectedTotal = Enumerable.Range(1, keys).Sum();
        var tb = await (await App.Admin.GetAsync($"/v1/books/{book}/reports/trial-balance?asOf=2026-12-31")).ReadJsonAsync();
        Assert.Equal($"{expectedTotal}.00", tb["totals"]!["debit"]!.GetValue<string>());
    }

    [Fact]
    public async Task Maintained_period_and_account_totals_equal_the_sums_of_the_postings()
    {
        var book = await App.CreateBookAsync();
        string[] accounts = ["1000", "1010", "1400", "2200", "3000", "4000", "5000", "6000", "6100"];
        var random = new Random(20261126);
        var tasks = new List<Task<HttpResponseMessage>>();
        for (var i = 0; i < 400; i++)
        {
            // Dates jump around three years, so many entries are backdated relative to ones already posted.
            var date = new DateOnly(2024, 1, 1).AddDays(random.Next(3 * 365)).ToString("yyyy-MM-dd");
            var cents = random.NextInt64(1, 5_000_000);
            var amount = $"{cents / 100}.{cents % 100:D2}";
            var debit = accounts[random.Next(accounts.Length)];
            var credit = accounts[random.Next(accounts.Length)];
            tasks.Add(App.Admin.PostEntryAsync(book, date, $"e{i}", (debit, amount, null), (credit, null, amount)));
            if (i % 50 == 49)
            {
                foreach (var r in await Task.WhenAll(tasks)) Assert.Equal(HttpStatusCode.Created, r.StatusCode);
                tasks.Clear();
            }
        }

        await using var connection = await TestDatabase.OpenAsync(App.DatabasePath);
        var maintained = (await connection.QueryAsync<(long AccountId, long Period, long Debit, long Credit)>(
            "SELECT t.account_id, t.period, t.debit, t.credit FROM account_period_totals t JOIN accounts a ON a.id = t.account_id WHERE a.book_id = @book ORDER BY 1, 2",
            new { book })).ToList();
        var recomputed = (await connection.QueryAsync<(long AccountId, long Period, long Debit, long Credit)>("""
            SELECT p.account_id, CAST(substr(p.entry_date, 1, 4) || substr(p.entry_date, 6, 2) AS BIGINT),
                   CAST(SUM(CASE WHEN p.amount > 0 THEN p.amount ELSE 0 END) AS BIGINT), CAST(SUM(CASE WHEN p.amount < 0 THEN -p.amount ELSE 0 END) AS BIGINT)
            FROM postings p JOIN accounts a ON a.id = p.account_id WHERE a.book_id = @book GROUP BY 1, 2 ORDER BY 1, 2
            """, new { book })).ToList();
        Assert.Equal(recomputed, maintained);

        var accountTotals = (await connection.QueryAsync<(long, long, long)>(
            "SELECT id, debit_total, credit_total FROM accounts WHERE book_id = @book AND (debit_total <> 0 OR credit_total <> 0) ORDER BY id", new { book })).ToList();
        var fromPostings = (await connection.QueryAsync<(long, long, long)>("""
            SELECT p.account_id, CAST(SUM(CASE WHEN p.amount > 0 THEN p.amount ELSE 0 END) AS BIGINT), CAST(SUM(CASE WHEN p.amount < 0 THEN -p.amount ELSE 0 END) AS BIGINT)
            FROM postings p JOIN accounts a ON a.id = p.account_id WHERE a.book_id = @book GROUP BY 1 ORDER BY 1
            """, new { book })).ToList();
        Assert.Equal(fromPostings, accountTotals);
    }

    [Fact]
    public async Task Archiving_in_the_middle_of_busy_posting_is_seen_at_once_and_totals_stay_exact()
    {
        var book = await App.CreateBookAsync();
        await App.CreateAccountAsync(book, "FLIP", "asset");
        var posts = Enumerable.Range(0, 300).Select(i => App.Admin.PostEntryAsync(book, "2026-04-01", $"p{i}", ("FLIP", "2.00", null), ("4000", null, "2.00"))).ToList();
        var flips = Enumerable.Range(0, 6).Select(async i =>
        {
            await Task.Delay(i * 5);
            return await App.Admin.PatchAsync($"/v1/books/{book}/accounts/FLIP", JsonContent($"{{\"archived\":{(i % 2 == 0 ? "true" : "false")}}}"));
        }).ToList();
        var responses = await Task.WhenAll(posts);
        Assert.All(await Task.WhenAll(flips), r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.Created or HttpStatusCode.BadRequest));
        var posted = responses.Count(r => r.StatusCode == HttpStatusCode.Created);

        await App.Admin.PatchAsync($"/v1/books/{book}/accounts/FLIP", JsonContent("{\"archived\":false}"));
        var account = await (await App.Admin.GetAsync($"/v1/books/{book}/accounts/FLIP")).ReadJsonAsync();
        Assert.Equal($"{2 * posted}.00", account["debitTotal"]!.GetValue<string>());
        var page = await (await App.Admin.GetAsync($"/v1/books/{book}/journal-entries?account=FLIP&limit=500")).ReadJsonAsync();
        Assert.Equal(posted, page["items"]!.AsArray().Count);
        var numbers = page["items"]!.AsArray().Select(e => e!["number"]!.GetValue<long>()).Order();
        Assert.Equal(Enumerable.Range(1, posted).Select(n => (long)n), numbers);
    }

    private static StringContent JsonContent(string json) => new(json, System.Text.Encoding.UTF8, "application/json");
}
