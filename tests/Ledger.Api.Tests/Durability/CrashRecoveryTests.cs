using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Durability;

/// <summary>
/// Kills the server with SIGKILL while single posts and batches are in flight, restarts it on the same file,
/// and checks that nothing acknowledged was lost and nothing unacknowledged was half-written.
/// </summary>
[Trait("Category", "Slow")]
public sealed class CrashRecoveryTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"ledger-crash-{Guid.NewGuid():N}");
    private string DatabasePath { get; set; } = "";

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        DatabasePath = TestDatabase.CreateIn(_directory);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        TestDatabase.Delete(DatabasePath);
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Every_acknowledged_entry_survives_a_kill_and_no_entry_is_partial()
    {
        string book;
        var acknowledged = new ConcurrentDictionary<string, long>(); // reference → entry id
        var acknowledgedBatches = new ConcurrentDictionary<int, int>(); // batch → size
        var sentBatches = new ConcurrentDictionary<int, int>();
        var singleKeys = new ConcurrentDictionary<string, long>(); // idempotency key → id acknowledged

        await using (var api = await ApiProcess.StartAsync(DatabasePath))
        {
            using var http = api.Client();
            book = await CreateBookAsync(http);
            using var stop = new CancellationTokenSource();
            var singles = Enumerable.Range(0, 16).Select(worker => Task.Run(async () =>
            {
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    var reference = $"S{worker}-{i}";
                    try
                    {
                        var response = await http.PostJsonAsync($"/v1/books/{book}/journal-entries", SingleEntry(worker, i, reference), reference);
                        if (response.StatusCode == HttpStatusCode.Created)
                        {
                            var id = (await response.ReadJsonAsync())["id"]!.GetValue<long>();
                            acknowledged[reference] = id;
                            singleKeys[reference] = id;
                        }
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException) { return; }
                }
            })).ToArray();
            var batches = Enumerable.Range(0, 2).Select(worker => Task.Run(async () =>
            {
                for (var b = worker; !stop.IsCancellationRequested; b += 2)
                {
                    var size = 50 + b % 150;
                    var entries = Enumerable.Range(0, size).Select(i => WithReference(
                        HttpTestExtensions.Entry($"2025-{1 + i % 12:D2}-0{1 + i % 9}", $"batch {b}", ("1400", "3.10", null), ("2200", null, "1.10"), ("3000", null, "2.00")),
                        $"B{b}-{i}")).ToArray();
                    sentBatches[b] = size;
                    try
                    {
                        var response = await http.PostJsonAsync($"/v1/books/{book}/journal-entries/batch", new { entries }, $"batch-{b}");
                        if (response.StatusCode == HttpStatusCode.Created)
                        {
                            var ids = (await response.ReadJsonAsync())["entries"]!.AsArray();
                            for (var i = 0; i < ids.Count; i++) acknowledged[$"B{b}-{i}"] = ids[i]!["id"]!.GetValue<long>();
                            acknowledgedBatches[b] = size;
                        }
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException) { return; }
                }
            })).ToArray();

            // Let writes pile up, then pull the plug while requests are certainly in flight.
            while (acknowledged.Count < 1500) await Task.Delay(20);
            api.Kill();
            stop.Cancel();
            await Task.WhenAll(singles.Concat(batches));
        }

        Assert.NotEmpty(acknowledgedBatches);

        await using (var api = await ApiProcess.StartAsync(DatabasePath))
        {
            using var http = api.Client();
            var entries = await AllEntriesAsync(http, book);

            // 1. Every acknowledged entry is there, under the id it was acknowledged with.
            var byReference = entries.ToDictionary(e => e["reference"]!.GetValue<string>(), e => e);
            foreach (var (reference, id) in acknowledged)
            {
                Assert.True(byReference.TryGetValue(reference, out var entry), $"acknowledged entry {reference} is missing");
                Assert.Equal(id, entry!["id"]!.GetValue<long>());
            }

            // 2. No entry is partial: every entry has all its lines and balances.
            foreach (var entry in entries)
            {
                var lines = entry["lines"]!.AsArray();
                var isBatch = entry["reference"]!.GetValue<string>().StartsWith('B');
                Assert.Equal(isBatch ? 3 : 2, lines.Count);
                var debits = lines.Sum(l => decimal.Parse(l!["debit"]?.GetValue<string>() ?? "0", System.Globalization.CultureInfo.InvariantCulture));
                var credits = lines.Sum(l => decimal.Parse(l!["credit"]?.GetValue<string>() ?? "0", System.Globalization.CultureInfo.InvariantCulture));
                Assert.Equal(debits, credits);
            }

            // 3. Batches are all or nothing.
            foreach (var (b, size) in sentBatches)
            {
                var present = Enumerable.Range(0, size).Count(i => byReference.ContainsKey($"B{b}-{i}"));
                Assert.True(present == 0 || present == size, $"batch {b} is partly present ({present} of {size})");
            }

            // 4. Numbering is gapless.
            var numbers = entries.Select(e => e["number"]!.GetValue<long>()).Order().ToList();
            Assert.Equal(Enumerable.Range(1, numbers.Count).Select(n => (long)n), numbers);

            // 4a. The event log committed with the entries: one event per surviving entry, and the chain still holds.
            var verified = await (await http.GetAsync($"/v1/books/{book}/audit/verify")).ReadJsonAsync();
            Assert.True(verified["valid"]!.GetValue<bool>(), verified.ToJsonString());
            Assert.Equal(entries.Count, verified["entriesChecked"]!.GetValue<long>());

            // 5. The trial balance balances and agrees with the entries that survived.
            var tb = await (await http.GetAsync($"/v1/books/{book}/reports/trial-balance?asOf=2026-12-31")).ReadJsonAsync();
            Assert.Equal(tb["totals"]!["debit"]!.GetValue<string>(), tb["totals"]!["credit"]!.GetValue<string>());
            var expectedDebits = entries.SelectMany(e => e["lines"]!.AsArray())
                .Where(l => l!["account"]!.GetValue<string>() == "1010")
                .Sum(l => decimal.Parse(l!["debit"]?.GetValue<string>() ?? "0", System.Globalization.CultureInfo.InvariantCulture));
            var bank = tb["lines"]!.AsArray().SingleOrDefault(l => l!["account"]!.GetValue<string>() == "1010");
            Assert.Equal(expectedDebits, bank is null ? 0m : decimal.Parse(bank["debit"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture));

            // 6. A retry of an acknowledged post after the restart is a replay, not a second entry.
            var (retryReference, retryId) = singleKeys.First();
            var parts = retryReference[1..].Split('-');
            int worker = int.Parse(parts[0]), i = int.Parse(parts[1]);
            var retry = await http.PostJsonAsync($"/v1/books/{book}/journal-entries", SingleEntry(worker, i, retryReference), retryReference);
            Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
            Assert.Equal("true", retry.Headers.GetValues("Idempotency-Replayed").Single());
            Assert.Equal(retryId, (await retry.ReadJsonAsync())["id"]!.GetValue<long>());
        }
    }

    private static object SingleEntry(int worker, int i, string reference) => WithReference(
        HttpTestExtensions.Entry($"2026-0{1 + i % 9}-1{worker % 10}", reference, ("1010", $"{i + 1}.25", null), ("4000", null, $"{i + 1}.25")),
        reference);

    private static object WithReference(object entry, string reference)
    {
        var node = System.Text.Json.JsonSerializer.SerializeToNode(entry)!.AsObject();
        node["reference"] = reference;
        return node;
    }

    private static async Task<string> CreateBookAsync(HttpClient http)
    {
        var response = await http.PostAsJsonAsync("/v1/books", new { name = "Crash", currency = "EUR", chart = "standard" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.ReadJsonAsync())["id"]!.GetValue<string>();
    }

    private static async Task<List<JsonNode>> AllEntriesAsync(HttpClient http, string book)
    {
        var all = new List<JsonNode>();
        string? cursor = null;
        do
        {
            var page = await (await http.GetAsync($"/v1/books/{book}/journal-entries?limit=500" + (cursor is null ? "" : $"&cursor={cursor}"))).ReadJsonAsync();
            all.AddRange(page["items"]!.AsArray().Select(n => n!));
            cursor = page["nextCursor"]?.GetValue<string>();
        } while (cursor is not null);
        return all;
    }
}
