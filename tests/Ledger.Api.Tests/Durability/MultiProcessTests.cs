#if POSTGRES
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Dapper;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Durability;

/// <summary>
/// Several API processes on one PostgreSQL database, all posting to the same book at once: numbers stay gapless,
/// an Idempotency-Key posts once whichever processes receive it, totals stay exact, and killing one process
/// loses nothing it acknowledged.
/// </summary>
[Trait("Category", "Slow")]
public sealed class MultiProcessTests : IAsyncLifetime
{
    private readonly string _database = TestDatabase.Create();
    private readonly List<ApiProcess> _processes = [];
    private readonly List<HttpClient> _clients = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var client in _clients) client.Dispose();
        foreach (var process in _processes) await process.DisposeAsync();
        TestDatabase.Delete(_database);
    }

    [Fact]
    public async Task Three_processes_with_eight_clients_each_number_gaplessly_post_each_key_once_and_tie_out()
    {
        // Started together: migrations must be safe when several processes apply them at once.
        _processes.AddRange(await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => ApiProcess.StartAsync(_database))));
        var clients = _processes.Select(p => p.Client()).ToArray();
        var book = await CreateBookAsync(clients[0]);

        // A book created with one Idempotency-Key, sent to every process twice at once, is one book.
        var once = await Task.WhenAll(clients.Concat(clients).Select(c =>
            c.PostJsonAsync("/v1/books", new { name = "Created once", currency = "EUR", chart = "standard" }, "create-book-once")));
        var onceIds = new HashSet<string>();
        foreach (var answer in once)
        {
            Assert.Equal(HttpStatusCode.Created, answer.StatusCode);
            onceIds.Add((await answer.ReadJsonAsync())["id"]!.GetValue<string>());
        }
        Assert.Single(onceIds);
        Assert.Single((await clients[1].GetJsonAsync("/v1/books")).AsArray(), b => b!["name"]!.GetValue<string>() == "Created once");

        // 24 clients; every logical post is sent with its key to two different processes at the same moment, and
        // some are retried again later, as a script retrying after a timeout would.
        const int postsPerClient = 40;
        var acknowledged = new ConcurrentDictionary<string, long>(); // key → entry id
        var workers = Enumerable.Range(0, 24).Select(worker => Task.Run(async () =>
        {
            for (var i = 0; i < postsPerClient; i++)
            {
                var key = $"k{worker % 12}-{i}"; // workers w and w+12 share their keys
                var body = Entry(worker % 12, i);
                var first = clients[worker % 3];
                var second = clients[(worker + 1) % 3];
                var answers = await Task.WhenAll(
                    first.PostJsonAsync($"/v1/books/{book}/journal-entries", body, key),
                    second.PostJsonAsync($"/v1/books/{book}/journal-entries", body, key));
                foreach (var answer in answers)
                {
                    Assert.Equal(HttpStatusCode.Created, answer.StatusCode);
                    var id = (await answer.ReadJsonAsync())["id"]!.GetValue<long>();
                    var kept = acknowledged.GetOrAdd(key, id);
                    Assert.Equal(kept, id); // every answer to one key names the one entry
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);

        var entries = await AllEntriesAsync(clients[2], book);
        // One entry per key, and every acknowledged id is the entry of its key.
        Assert.Equal(12 * postsPerClient, entries.Count);
        Assert.Equal(acknowledged.Count, entries.Count);
        var byReference = entries.ToDictionary(e => e["reference"]!.GetValue<string>());
        foreach (var (key, id) in acknowledged) Assert.Equal(id, byReference[key]["id"]!.GetValue<long>());
        // Gapless numbering across the three processes.
        Assert.Equal(Enumerable.Range(1, entries.Count).Select(n => (long)n), entries.Select(e => e["number"]!.GetValue<long>()).Order());
        await AssertTotalsTieOutAsync(clients[1], book, entries);
        await AssertEventLogHoldsAsync(clients[0], book, entries);
        await AssertNoOrphanRowsAsync(entries.Count);
    }

    [Fact]
    public async Task Killing_one_of_two_processes_mid_load_loses_nothing_it_acknowledged()
    {
        _processes.AddRange(await Task.WhenAll(ApiProcess.StartAsync(_database), ApiProcess.StartAsync(_database)));
        var (victim, survivor) = (_processes[0], _processes[1]);
        using var victimClient = victim.Client();
        using var survivorClient = survivor.Client();
        var book = await CreateBookAsync(survivorClient);

        var acknowledged = new ConcurrentDictionary<string, long>();
        using var stop = new CancellationTokenSource();
        var workers = Enumerable.Range(0, 16).Select(worker => Task.Run(async () =>
        {
            var client = worker % 2 == 0 ? victimClient : survivorClient;
            for (var i = 0; !stop.IsCancellationRequested && i < 10_000; i++)
            {
                var key = $"w{worker}-{i}";
                try
                {
                    var response = await client.PostJsonAsync($"/v1/books/{book}/journal-entries", Entry(worker, i, key), key);
                    if (response.StatusCode == HttpStatusCode.Created)
                        acknowledged[key] = (await response.ReadJsonAsync())["id"]!.GetValue<long>();
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
                {
                    if (client == survivorClient) throw; // only the killed process may stop answering
                    return;
                }
            }
        })).ToArray();

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (acknowledged.Count < 600 && DateTime.UtcNow < deadline) await Task.Delay(20);
        victim.Kill();
        await Task.Delay(500); // the survivor goes on posting after the kill
        stop.Cancel();
        await Task.WhenAll(workers);

        var entries = await AllEntriesAsync(survivorClient, book);
        var byReference = entries.ToDictionary(e => e["reference"]!.GetValue<string>());
        foreach (var (key, id) in acknowledged)
        {
            Assert.True(byReference.TryGetValue(key, out var entry), $"acknowledged entry {key} is missing");
            Assert.Equal(id, entry!["id"]!.GetValue<long>());
        }
        Assert.Equal(Enumerable.Range(1, entries.Count).Select(n => (long)n), entries.Select(e => e["number"]!.GetValue<long>()).Order());
        await AssertTotalsTieOutAsync(survivorClient, book, entries);
        await AssertEventLogHoldsAsync(survivorClient, book, entries);
        await AssertNoOrphanRowsAsync(entries.Count);

        // A process started again on the same database carries on the numbering.
        _processes.Add(await ApiProcess.StartAsync(_database));
        using var restarted = _processes[^1].Client();
        var next = await restarted.PostJsonAsync($"/v1/books/{book}/journal-entries", Entry(99, 0, "after-restart"), "after-restart");
        Assert.Equal(entries.Count + 1, (await next.AssertCreatedAsync())["number"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_report_known_at_an_instant_is_the_same_from_every_process_whatever_is_posted_after()
    {
        var (first, second, book) = await TwoProcessesWithBookAsync();

        // Both processes post at once; the report is pulled as known at "now" while they still do.
        using var stop = new CancellationTokenSource();
        var posting = Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
        {
            var client = worker % 2 == 0 ? first : second;
            for (var i = 0; i < 2_000 && !stop.IsCancellationRequested; i++)
                (await client.PostJsonAsync($"/v1/books/{book}/journal-entries", Entry(worker, i, $"p{worker}-{i}"))).EnsureSuccessStatusCode();
        })).ToArray();
        await Task.Delay(500);
        var knownAt = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
        var url = $"/v1/books/{book}/reports/trial-balance?asOf=2026-12-31&knownAt={knownAt}";
        var asAnswered = (await first.GetJsonAsync(url)).ToJsonString();
        await Task.Delay(500);
        stop.Cancel();
        await Task.WhenAll(posting);
        // Backdated entries after the fact, through the other process.
        for (var i = 0; i < 5; i++)
            (await second.PostJsonAsync($"/v1/books/{book}/journal-entries", Entry(9, i, $"late-{i}"))).EnsureSuccessStatusCode();

        Assert.Equal(asAnswered, (await second.GetJsonAsync(url)).ToJsonString());
        Assert.Equal(asAnswered, (await first.GetJsonAsync(url)).ToJsonString());
        var now = await first.GetJsonAsync($"/v1/books/{book}/reports/trial-balance?asOf=2026-12-31");
        Assert.NotEqual(JsonNode.Parse(asAnswered)!["totals"]!.ToJsonString(), now["totals"]!.ToJsonString());
    }

    [Fact]
    public async Task A_chart_change_through_one_process_shows_in_the_next_report_of_the_other()
    {
        // Each process keeps the charts its reports read and reads one again only when the book's chart version, read in
        // the report's snapshot, moved (ReportCharts): a change made through another process must move it.
        var (first, second, book) = await TwoProcessesWithBookAsync();
        (await second.PostJsonAsync($"/v1/books/{book}/journal-entries", Entry(0, 0))).EnsureSuccessStatusCode();
        var url = $"/v1/books/{book}/reports/trial-balance?asOf=2026-12-31";
        var before = await first.GetJsonAsync(url); // both processes now keep the chart
        Assert.Equal(before.ToJsonString(), (await second.GetJsonAsync(url)).ToJsonString());

        Assert.Equal(HttpStatusCode.OK, (await second.PatchJsonAsync($"/v1/books/{book}/accounts/1010", new { name = "Renamed elsewhere" })).StatusCode);
        (await second.PostJsonAsync($"/v1/books/{book}/journal-entries", Entry(1, 1))).EnsureSuccessStatusCode();
        var after = await first.GetJsonAsync(url);
        Assert.Equal("Renamed elsewhere", after["lines"]!.AsArray().Single(l => l!["account"]!.GetValue<string>() == "1010")!["name"]!.GetValue<string>());
        Assert.Equal("3.01", after["totals"]!["debit"]!.GetValue<string>());
        Assert.Equal(after.ToJsonString(), (await second.GetJsonAsync(url)).ToJsonString());
    }

    [Fact]
    public async Task A_key_revoked_through_one_process_is_refused_by_the_others_within_seconds()
    {
        var (first, second, book) = await TwoProcessesWithBookAsync();
        var created = await (await first.PostAsJsonAsync("/v1/api-keys", new { name = "script", bookId = book, scopes = new[] { "read" } })).AssertCreatedAsync();
        using var keyed = new HttpClient { BaseAddress = second.BaseAddress };
        keyed.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", created["key"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await keyed.GetAsync($"/v1/books/{book}/accounts")).StatusCode); // now cached by the second process

        Assert.Equal(HttpStatusCode.NoContent, (await first.DeleteAsync($"/v1/api-keys/{created["id"]}")).StatusCode);
        var refusedAfter = System.Diagnostics.Stopwatch.StartNew();
        while ((await keyed.GetAsync($"/v1/books/{book}/accounts")).StatusCode != HttpStatusCode.Unauthorized)
        {
            Assert.True(refusedAfter.ElapsedMilliseconds < Ledger.Api.Infrastructure.Security.ApiKeyStore.SharedCacheMilliseconds + 2_000,
                "the other process still accepts the revoked key");
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// The book's events, written by several processes, are numbered without gaps, hold exactly one posting event per
    /// entry, and chain: the audit recomputes every hash and finds every entry as its event says.
    /// </summary>
    private static async Task AssertEventLogHoldsAsync(HttpClient client, string book, List<JsonNode> entries)
    {
        var sequences = new List<long>();
        var posted = new List<string>();
        string? cursor = null;
        do
        {
            var page = await client.GetJsonAsync($"/v1/books/{book}/events?limit=1000{(cursor is null ? "" : $"&cursor={cursor}")}");
            foreach (var e in page["items"]!.AsArray())
            {
                sequences.Add(e!["sequence"]!.GetValue<long>());
                if (e["type"]!.GetValue<string>() == "journal_entry.posted") posted.Add(e["subject"]!["id"]!.GetValue<string>());
            }
            cursor = page["nextCursor"]?.GetValue<string>();
        } while (cursor is not null);
        Assert.Equal(Enumerable.Range(1, sequences.Count).Select(n => (long)n), sequences);
        Assert.Equal(entries.Select(e => e["id"]!.GetValue<long>().ToString(CultureInfo.InvariantCulture)).Order(), posted.Order());
        var verified = await client.GetJsonAsync($"/v1/books/{book}/audit/verify");
        Assert.True(verified["valid"]!.GetValue<bool>(), verified.ToJsonString());
        Assert.Equal(entries.Count, verified["entriesChecked"]!.GetValue<long>());
    }

    /// <summary>Account totals and the trial balance equal the sums of the entries' lines, to the cent.</summary>
    /// <summary>
    /// On PostgreSQL no foreign key checks postings against their entry and account, nor entries and events against their
    /// book (migration 0015): the writer makes those references itself. Here, after many processes wrote at once (and one
    /// was killed), every such row still has what it names, in its own book.
    /// </summary>
    private async Task AssertNoOrphanRowsAsync(int entries)
    {
        await using var connection = await TestDatabase.OpenWritableAsync(_database);
        var counts = await connection.QuerySingleAsync<(long Postings, long NoEntry, long NoAccount, long EntriesNoBook, long EventsNoBook)>("""
            SELECT (SELECT COUNT(*) FROM postings),
                   (SELECT COUNT(*) FROM postings p WHERE NOT EXISTS (SELECT 1 FROM journal_entries e WHERE e.id = p.entry_id AND e.book_id = p.book_id)),
                   (SELECT COUNT(*) FROM postings p WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = p.account_id AND a.book_id = p.book_id)),
                   (SELECT COUNT(*) FROM journal_entries e WHERE NOT EXISTS (SELECT 1 FROM books b WHERE b.id = e.book_id)),
                   (SELECT COUNT(*) FROM events v WHERE NOT EXISTS (SELECT 1 FROM books b WHERE b.id = v.book_id))
            """);
        Assert.True(counts.Postings >= 2L * entries, $"{counts.Postings} postings for {entries} entries");
        Assert.Equal((0L, 0L, 0L, 0L), (counts.NoEntry, counts.NoAccount, counts.EntriesNoBook, counts.EventsNoBook));
    }

    private static async Task AssertTotalsTieOutAsync(HttpClient client, string book, List<JsonNode> entries)
    {
        var debits = new Dictionary<string, decimal>();
        var credits = new Dictionary<string, decimal>();
        foreach (var line in entries.SelectMany(e => e["lines"]!.AsArray()))
        {
            var account = line!["account"]!.GetValue<string>();
            if (line["debit"] is { } d) debits[account] = debits.GetValueOrDefault(account) + decimal.Parse(d.GetValue<string>(), CultureInfo.InvariantCulture);
            if (line["credit"] is { } c) credits[account] = credits.GetValueOrDefault(account) + decimal.Parse(c.GetValue<string>(), CultureInfo.InvariantCulture);
        }
        foreach (var account in debits.Keys.Union(credits.Keys))
        {
            var stored = await client.GetJsonAsync($"/v1/books/{book}/accounts/{account}");
            Assert.Equal(debits.GetValueOrDefault(account), decimal.Parse(stored["debitTotal"]!.GetValue<string>(), CultureInfo.InvariantCulture));
            Assert.Equal(credits.GetValueOrDefault(account), decimal.Parse(stored["creditTotal"]!.GetValue<string>(), CultureInfo.InvariantCulture));
        }
        var tb = await client.GetJsonAsync($"/v1/books/{book}/reports/trial-balance?asOf=2026-12-31");
        Assert.Equal(debits.Values.Sum(), decimal.Parse(tb["totals"]!["debit"]!.GetValue<string>(), CultureInfo.InvariantCulture));
        Assert.Equal(tb["totals"]!["debit"]!.GetValue<string>(), tb["totals"]!["credit"]!.GetValue<string>());
    }

    private static JsonObject Entry(int worker, int i, string? reference = null)
    {
        var amount = $"{worker + 1}.{i % 100:D2}";
        var entry = System.Text.Json.JsonSerializer.SerializeToNode(HttpTestExtensions.Entry($"2026-0{1 + i % 9}-1{worker % 10}", $"w{worker} #{i}",
            ("1010", amount, null), ("4000", null, amount)))!.AsObject();
        entry["reference"] = reference ?? $"k{worker}-{i}";
        return entry;
    }

    /// <summary>Two API processes on the test's database, an admin client of each, and a book created through the first.</summary>
    private async Task<(HttpClient First, HttpClient Second, string Book)> TwoProcessesWithBookAsync()
    {
        _processes.AddRange(await Task.WhenAll(ApiProcess.StartAsync(_database), ApiProcess.StartAsync(_database)));
        var (first, second) = (_processes[^2].Client(), _processes[^1].Client());
        _clients.AddRange([first, second]);
        return (first, second, await CreateBookAsync(first));
    }

    private static async Task<string> CreateBookAsync(HttpClient http)
    {
        var response = await http.PostAsJsonAsync("/v1/books", new { name = "Shared", currency = "EUR", chart = "standard" });
        return (await response.AssertCreatedAsync())["id"]!.GetValue<string>();
    }

    private static async Task<List<JsonNode>> AllEntriesAsync(HttpClient http, string book)
    {
        var all = new List<JsonNode>();
        string? cursor = null;
        for (var page = 0; page < 1000; page++)
        {
            var json = await http.GetJsonAsync($"/v1/books/{book}/journal-entries?limit=500" + (cursor is null ? "" : $"&cursor={cursor}"));
            all.AddRange(json["items"]!.AsArray().Select(n => n!.DeepClone()));
            cursor = json["nextCursor"]?.GetValue<string>();
            if (cursor is null) return all;
        }
        throw new InvalidOperationException("The entry list does not end.");
    }
}
#endif
