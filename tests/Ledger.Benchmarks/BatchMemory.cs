using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

/// <summary>
/// Memory under concurrent batches (--batch-memory): on a fresh server with the benchmark's book and accounts, N batches
/// (default 20) of --batch-size two-line entries (default 10,000) are all sent at once, each on its own connection with
/// its own Idempotency-Key. The figure is the kernel's high-water mark of the server's resident set (VmHWM) after every
/// batch has been answered; the resident set is also sampled every 20 ms to show when the peak came. Each batch must be
/// answered 201: a batch the server refuses (429) would make the figure meaningless.
/// </summary>
static class BatchMemoryScenario
{
    public static async Task<JsonObject> RunAsync(ApiServer server, HttpClient http, string bookId, List<string> accounts, BenchmarkOptions options)
    {
        var batches = options.BatchMemoryBatches;
        var size = options.BatchSize;
        var random = new Random(2000);
        var bodies = new byte[batches][];
        for (var b = 0; b < batches; b++)
        {
            var entries = new JsonArray();
            for (var i = 0; i < size; i++) entries.Add(Scenarios.EntryJson(random, accounts, b * size + i));
            bodies[b] = Encoding.UTF8.GetBytes(new JsonObject { ["entries"] = entries }.ToJsonString());
        }
        // Let the set-up's garbage settle, so "before" is the server at rest with its book and accounts.
        await Task.Delay(TimeSpan.FromSeconds(2));
        var result = new JsonObject
        {
            ["batches"] = batches,
            ["batchSize"] = size,
            ["bodyMB"] = Math.Round(bodies[0].Length / 1024.0 / 1024.0, 2),
            ["serverRssBeforeMB"] = server.CurrentRssMegabytes(),
            ["serverPeakRssBeforeMB"] = server.PeakRssMegabytes(),
        };

        using var sampling = new CancellationTokenSource();
        var sampledMax = 0.0;
        var sampledAtSeconds = 0.0;
        var clock = Stopwatch.StartNew();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                var rss = server.CurrentRssMegabytes();
                if (rss > sampledMax) (sampledMax, sampledAtSeconds) = (rss, clock.Elapsed.TotalSeconds);
                try { await Task.Delay(20, sampling.Token); } catch (OperationCanceledException) { }
            }
        });

        var statuses = new int[batches];
        var seconds = new double[batches];
        await Task.WhenAll(Enumerable.Range(0, batches).Select(async b =>
        {
            var content = new ByteArrayContent(bodies[b]);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/books/{bookId}/journal-entries/batch") { Content = content };
            request.Headers.Add("Idempotency-Key", $"memory-batch-{b}");
            using var response = await http.SendAsync(request);
            statuses[b] = (int)response.StatusCode;
            seconds[b] = clock.Elapsed.TotalSeconds;
            if (response.StatusCode != HttpStatusCode.Created)
                Console.Error.WriteLine($"batch {b}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }));
        var elapsed = clock.Elapsed.TotalSeconds;
        sampling.Cancel();
        await sampler;

        result["seconds"] = Math.Round(elapsed, 2);
        result["entriesPerSecond"] = Math.Round(statuses.Count(s => s == 201) * (double)size / elapsed);
        result["created"] = statuses.Count(s => s == 201);
        result["refused"] = statuses.Count(s => s != 201);
        result["firstAnsweredSeconds"] = Math.Round(seconds.Min(), 2);
        result["serverPeakRssMB"] = server.PeakRssMegabytes();
        result["sampledMaxRssMB"] = sampledMax;
        result["sampledMaxAtSeconds"] = Math.Round(sampledAtSeconds, 2);
        result["serverRssAfterMB"] = server.CurrentRssMegabytes();
        Console.WriteLine($"batch memory: {result.ToJsonString()}");
        if (statuses.Any(s => s != 201))
            throw new InvalidOperationException($"{statuses.Count(s => s != 201)} of {batches} batches were not created; the peak does not measure what it should.");
        return result;
    }

    public static string Render(JsonObject r)
    {
        var machine = r["machine"]!;
        var m = r["batchMemory"]!;
        var s = new StringBuilder();
        s.AppendLine($"Machine: {machine["cpuModel"]}, {machine["cpus"]} cores, {machine["memoryGiB"]} GiB, {machine["os"]}, {machine["runtime"]}");
        s.AppendLine($"Engine: {r["engine"]}, {r["database"]}; API settings: {r["apiEnvironment"]?.ToJsonString()}");
        s.AppendLine("| measure | result | target |");
        s.AppendLine("| --- | --- | --- |");
        s.AppendLine($"| {m["batches"]} concurrent batches of {m["batchSize"]} two-line entries ({m["bodyMB"]} MB each) | {m["created"]} created in {m["seconds"]} s, {m["entriesPerSecond"]} entries/s | |");
        s.AppendLine($"| server RSS before; peak before | {m["serverRssBeforeMB"]} MB; {m["serverPeakRssBeforeMB"]} MB | |");
        s.AppendLine($"| server peak RSS (VmHWM) after every batch was answered | {m["serverPeakRssMB"]} MB (sampled max {m["sampledMaxRssMB"]} MB at {m["sampledMaxAtSeconds"]} s) | ≤ 300 MB |");
        s.AppendLine($"| server RSS after | {m["serverRssAfterMB"]} MB | |");
        return s.ToString();
    }
}
