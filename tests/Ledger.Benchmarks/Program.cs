using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;

// Ledger benchmark: starts the real API as its own process (Kestrel on loopback) and measures posting and reporting
// over HTTP, plus the same rows written by raw database code as the baseline.
//   SQLite (a temporary file, synchronous=FULL; raw SQLite on the same disk as the baseline):
//     dotnet run -c Release --project tests/Ledger.Benchmarks -- --entries 1000000 --json bench.json
//   PostgreSQL (a fresh database created on that server and dropped afterwards; raw binary COPY as the baseline;
//   single posts also through two API processes on the one database):
//     dotnet run -c Release --project tests/Ledger.Benchmarks -- --entries 1000000 --json bench.json \
//       --database "Host=127.0.0.1;Port=5432;Username=postgres;Database=postgres"
//   Receivables as well (after the scenarios above, in a book of its own; see Receivables.cs):
//     dotnet run -c Release --project tests/Ledger.Benchmarks -- --receivables --customers 10000 --invoices 200000

var options = BenchmarkOptions.Parse(args);
var workDir = Path.Combine(Path.GetTempPath(), $"ledger-bench-{Guid.NewGuid():N}");
Directory.CreateDirectory(workDir);
var results = new JsonObject
{
    ["machine"] = new JsonObject
    {
        ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
        ["cpus"] = Environment.ProcessorCount,
        ["memoryGiB"] = Math.Round(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024), 1),
        ["cpuModel"] = CpuModel(),
        ["runtime"] = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
    },
    ["entriesRequested"] = options.Entries,
    ["startedAt"] = DateTimeOffset.UtcNow.ToString("O"),
};

BenchmarkDatabase database;
try { database = await BenchmarkDatabase.CreateAsync(options.Database, workDir); }
catch
{
    Directory.Delete(workDir, recursive: true);
    throw;
}
results["engine"] = database.Engine;
results["database"] = database.Description;
Console.WriteLine($"Ledger benchmark: {options.Entries:N0} entries on {database.Description}, work dir {workDir}");
try
{
    if (options.BatchMemory)
    {
        // Only the memory scenario, on a fresh server: the figure is the peak of taking in concurrent batches, not of
        // anything the other scenarios left behind.
        await using var server = await ApiServer.StartAsync(workDir, database.ApiConnectionString, "api", options.ApiEnvironment);
        using var http = server.CreateClient(options.Connections);
        var bookId = await Setup.CreateBookAsync(http);
        var accounts = await Setup.CreateAccountsAsync(http, bookId, options.Accounts);
        results["batchMemory"] = await BatchMemoryScenario.RunAsync(server, http, bookId, accounts, options);
        results["apiEnvironment"] = new JsonArray([.. options.ApiEnvironment.Select(e => (JsonNode)$"{e.Key}={e.Value}")]);
        results["finishedAt"] = DateTimeOffset.UtcNow.ToString("O");
        Console.WriteLine();
        Console.WriteLine(BatchMemoryScenario.Render(results));
        if (options.JsonPath is not null)
            await File.WriteAllTextAsync(options.JsonPath, results.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }

    await using (var server = await ApiServer.StartAsync(workDir, database.ApiConnectionString, "api", options.ApiEnvironment))
    {
        using var http = server.CreateClient(options.Connections);
        var bookId = await Setup.CreateBookAsync(http);
        var accounts = await Setup.CreateAccountsAsync(http, bookId, options.Accounts);
        Console.WriteLine($"Book {bookId} with {accounts.Count} accounts.");

        var cpu = server.CpuSeconds();
        var single = await Scenarios.SinglePostsAsync([http], bookId, accounts, options.SinglePosts, options.Connections, seed: 1, firstIndex: 0, keyPrefix: "single-");
        single["serverCpuSeconds"] = Math.Round(server.CpuSeconds() - cpu, 2);
        results["singlePosts"] = single;
        Print("single POSTs", single);

        // The book holds --entries entries on both engines, so report timings compare: on PostgreSQL the two-process
        // posts come out of the batch scenario's share.
        var batchFirst = options.SinglePosts;
        if (database.IsPostgres)
        {
            // A second process on the same database and book, started only now (so the two never migrate the schema at
            // once) and stopped right after, so every later figure is again one process's.
            await using var second = await ApiServer.StartAsync(workDir, database.ApiConnectionString, "api-2", options.ApiEnvironment);
            using var http2 = second.CreateClient(options.Connections);
            var count = Math.Min(options.SinglePosts, options.Entries - options.SinglePosts);
            cpu = server.CpuSeconds() + second.CpuSeconds();
            var two = await Scenarios.SinglePostsAsync([http, http2], bookId, accounts, count, options.Connections, seed: 2, firstIndex: batchFirst, keyPrefix: "single2-");
            two["serverCpuSeconds"] = Math.Round(server.CpuSeconds() + second.CpuSeconds() - cpu, 2);
            two["secondServerPeakRssMB"] = second.PeakRssMegabytes();
            results["singlePostsTwoProcesses"] = two;
            Print("single POSTs, two API processes", two);
            batchFirst += count;
        }

        cpu = server.CpuSeconds();
        var batch = await Scenarios.BatchPostsAsync(http, bookId, accounts, options, batchFirst, options.Entries - batchFirst);
        batch["serverCpuSeconds"] = Math.Round(server.CpuSeconds() - cpu, 2);
        results["batchPosts"] = batch;
        Print("batch POSTs", batch);

        var reports = await Scenarios.ReportsAsync(http, bookId, accounts, options);
        results["reports"] = reports;
        Print("reports", reports);

        // Taken before the post-dated entries, where earlier versions of this benchmark took them.
        results["serverPeakRssMB"] = server.PeakRssMegabytes();
        results["databaseMB"] = await database.SizeMegabytesAsync();

        // Last, so that no figure above sees these entries: with an entry dated after today "now" is no longer the
        // all-time totals but a date inside history, and the trial balance without asOf would change its path.
        var postDated = await Scenarios.PostDatedReportAsync(http, bookId, accounts, options.Entries);
        results["postDated"] = postDated;
        Console.WriteLine($"Posted {postDated["entries"]} post-dated entries (dated {postDated["datedFrom"]} to {postDated["datedTo"]}) "
            + "after every other scenario, as a separate batch, to time the trial balance as of today.");
        Print("post-dated entries and trial balance as of today", postDated);

        if (database.IsPostgres)
        {
            // The same reports again once the tables are vacuumed, as autovacuum leaves them soon after a bulk load: the
            // figures above come while the server still sets hint bits and has not marked the new pages all-visible, so
            // index-only scans still visit the table. Both are reported; neither replaces the other. Taken after every
            // figure above, so those keep the conditions they always had; the book now has the post-dated entries, so
            // its trial balance without asOf is the one as of today, and the mid-history date takes the same path.
            var vacuum = Stopwatch.StartNew();
            await database.VacuumAsync();
            var vacuumSeconds = Math.Round(vacuum.Elapsed.TotalSeconds, 1);
            var settled = await Scenarios.ReportsAsync(http, bookId, accounts, options);
            settled["vacuumSeconds"] = vacuumSeconds;
            results["reportsAfterVacuum"] = settled;
            Print("reports after VACUUM (ANALYZE)", settled);
        }

        // Only when asked, and after every figure above, so those are the same with or without it.
        if (options.Receivables) results["receivables"] = await ReceivablesScenario.RunAsync(server, http, options);
        if (options.StatementLines > 0) results["statements"] = await StatementsScenario.RunAsync(server, http, options.StatementLines);
    }

    var baseline = database.IsPostgres
        ? await Baseline.RawPostgresCopyAsync(database.Server!, options)
        : Baseline.RawSqliteInserts(database.BaselineSqlitePath!, options);
    results["baseline"] = baseline;
    Print($"baseline ({baseline["method"]})", baseline);

    results["finishedAt"] = DateTimeOffset.UtcNow.ToString("O");
    Console.WriteLine();
    Console.WriteLine(Table.Render(results));
    if (options.JsonPath is not null)
    {
        await File.WriteAllTextAsync(options.JsonPath, results.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"Figures written to {options.JsonPath}");
    }
}
finally
{
    // Also after a failure: a benchmark database left behind on a shared server would only be found by its owner.
    await database.CleanUpAsync(options.Keep);
    if (options.Keep) Console.WriteLine($"Kept {workDir}");
    else try { Directory.Delete(workDir, recursive: true); } catch (IOException) { }
}
return 0;

static void Print(string name, JsonNode node) => Console.WriteLine($"{name}: {node.ToJsonString()}");

static string CpuModel()
{
    try
    {
        var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
        return line?.Split(':', 2)[1].Trim() ?? "unknown";
    }
    catch (IOException) { return "unknown"; }
}

sealed record BenchmarkOptions(int Entries, string? JsonPath, int Connections, int Accounts, int SinglePosts, int BatchSize, int BatchClients, bool Keep, string? Database,
    bool Receivables = false, int Customers = 10_000, int Invoices = 200_000, int ReceivablesBaselinePosts = 20_000, int StatementLines = 0,
    bool BatchMemory = false, int BatchMemoryBatches = 20, IReadOnlyDictionary<string, string>? ApiEnvironmentOrNull = null, int Payments = 0)
{
    public IReadOnlyDictionary<string, string> ApiEnvironment => ApiEnvironmentOrNull ?? new Dictionary<string, string>();

    public static BenchmarkOptions Parse(string[] args)
    {
        int entries = 1_000_000, connections = 64, accounts = 1000, singles = 50_000, batchSize = 10_000, batchClients = 1;
        string? json = null, database = null;
        var keep = false;
        var receivables = false;
        int customers = 10_000, invoices = 200_000, receivablesBaseline = 20_000, statementLines = 0, payments = 0;
        var batchMemory = false;
        var batchMemoryBatches = 20;
        var apiEnvironment = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--entries": entries = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--json": json = Next(); break;
                case "--connections": connections = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--single-posts": singles = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--batch-size": batchSize = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--batch-clients": batchClients = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--keep": keep = true; break;
                case "--database": database = Next(); break;
                case "--receivables": receivables = true; break;
                case "--customers": customers = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--invoices": invoices = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--receivables-baseline-posts": receivablesBaseline = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--payments": payments = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--statements": statementLines = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--batch-memory": batchMemory = true; break;
                case "--batch-memory-batches": batchMemoryBatches = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--api-env":
                    var setting = Next().Split('=', 2);
                    if (setting.Length != 2 || setting[0].Length == 0) throw new ArgumentException("--api-env needs NAME=VALUE");
                    apiEnvironment[setting[0]] = setting[1];
                    break;
                default: throw new ArgumentException($"Unknown option {args[i]}. Options: --entries N --json PATH [--database CONNECTION-STRING --connections 64 --single-posts 50000 --batch-size 10000 --batch-clients 1 --keep] [--receivables --customers 10000 --invoices 200000 --receivables-baseline-posts 20000 --payments 0] [--statements 50000] [--batch-memory --batch-memory-batches 20] [--api-env NAME=VALUE ...]");
            }
        }
        if (receivables && (customers < 1 || invoices < 1)) throw new ArgumentException("--receivables needs at least one customer and one invoice.");
        return new BenchmarkOptions(entries, json, connections, accounts, Math.Min(singles, entries), batchSize, batchClients, keep, database,
            receivables, customers, invoices, receivablesBaseline, statementLines, batchMemory, Math.Max(1, batchMemoryBatches), apiEnvironment,
            Math.Clamp(payments, 0, invoices));
    }
}

/// <summary>The API as a separate process, so its memory is measured alone.</summary>
sealed class ApiServer : IAsyncDisposable
{
    public const string AdminKey = "benchmark-admin-key-0123456789";
    private readonly Process _process;
    public Uri BaseAddress { get; }

    private ApiServer(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    /// <param name="name">Prefixes the server's error output, to tell two servers apart.</param>
    /// <param name="environment">Extra settings for the API (--api-env), applied last.</param>
    public static async Task<ApiServer> StartAsync(string workDir, string connectionString, string name,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var root = RepositoryRoot();
        var dll = Path.Combine(root, "src", "Ledger.Api", "bin", "Release", "net10.0", "Ledger.Api.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException("Build the API in Release first (dotnet run -c Release builds it).", dll);
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet", [dll, "--urls", $"http://127.0.0.1:{port}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workDir,
        };
        start.Environment["ConnectionStrings__Ledger"] = connectionString;
        start.Environment["Ledger__AdminKey"] = AdminKey;
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        // Warnings and errors to stderr, which is shown (stdout is not): a failing request then says why.
        start.Environment["Logging__Console__LogToStandardErrorThreshold"] = "Warning";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine($"[{name}] {e.Data}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ApiServer(process, new Uri($"http://127.0.0.1:{port}"));
        // Start-up migrates the schema, which on a remote PostgreSQL takes longer than on a local file; a server that
        // exits (a connection string it cannot use) is reported at once rather than after the whole wait.
        using var probe = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (process.HasExited)
            {
                var code = process.ExitCode;
                await server.DisposeAsync();
                throw new InvalidOperationException($"The API ({name}) exited during start-up with code {code}; its errors are above.");
            }
            try
            {
                using var response = await probe.GetAsync("/health");
                if (response.IsSuccessStatusCode) return server;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(100);
        }
        await server.DisposeAsync();
        throw new InvalidOperationException($"The API ({name}) did not answer /health within 60 s.");
    }

    public HttpClient CreateClient(int connections)
    {
        var handler = new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        var client = new HttpClient(handler) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(10) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        return client;
    }

    /// <summary>The server's resident set now (VmRSS).</summary>
    public double CurrentRssMegabytes()
    {
        var line = File.ReadLines($"/proc/{_process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        var kb = long.Parse(line.Split(':', 2)[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        return Math.Round(kb / 1024.0, 1);
    }

    /// <summary>The kernel's high-water mark of the server's resident set (VmHWM).</summary>
    public double PeakRssMegabytes()
    {
        var line = File.ReadLines($"/proc/{_process.Id}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        var kb = long.Parse(line.Split(':', 2)[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        return Math.Round(kb / 1024.0, 1);
    }

    /// <summary>User plus system CPU time the server has used so far (/proc/PID/stat, in clock ticks of 1/100 s).</summary>
    public double CpuSeconds()
    {
        var stat = File.ReadAllText($"/proc/{_process.Id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _process.WaitForExitAsync(timeout.Token);
        }
        _process.Dispose();
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Ledger.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Run the benchmark from inside the repository.");
    }
}

static class Setup
{
    public static async Task<string> CreateBookAsync(HttpClient http)
    {
        var response = await http.PostAsync("/v1/books", Json(new JsonObject { ["name"] = "Benchmark", ["currency"] = "EUR" }));
        response.EnsureSuccessStatusCode();
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
    }

    public static async Task<List<string>> CreateAccountsAsync(HttpClient http, string bookId, int count)
    {
        string[] types = ["asset", "liability", "equity", "income", "expense"];
        var codes = Enumerable.Range(0, count).Select(i => $"A{i:D4}").ToList();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
        {
            var body = new JsonObject { ["code"] = codes[i], ["name"] = $"Account {i}", ["type"] = types[i % types.Length] };
            var response = await http.PostAsync($"/v1/books/{bookId}/accounts", Json(body), ct);
            response.EnsureSuccessStatusCode();
        });
        return codes;
    }

    public static StringContent Json(JsonNode node) => new(node.ToJsonString(), Encoding.UTF8, "application/json");
}

static class Scenarios
{
    private static readonly DateOnly HistoryStart = new(2023, 1, 1);
    private const int HistoryDays = 3 * 365;

    /// <summary>Entries posted after the others, dated from tomorrow to a year ahead.</summary>
    public const int PostDatedEntries = 1000;

    /// <summary>
    /// One entry per request from many concurrent connections, each request with its own Idempotency-Key. With several
    /// clients (one per API process) the connections are dealt out among them in turn.
    /// </summary>
    public static async Task<JsonObject> SinglePostsAsync(HttpClient[] clients, string bookId, List<string> accounts,
        int total, int connections, int seed, int firstIndex, string keyPrefix)
    {
        // Bodies are made before the clock starts so the client's JSON work is not charged to the server.
        var random = new Random(seed);
        var bodies = Enumerable.Range(0, total).Select(i => EntryJson(random, accounts, firstIndex + i).ToJsonString()).ToArray();
        var latencies = new double[total];
        var next = -1;
        var failures = 0;
        // A fresh API process spends its first tens of thousands of posts compiling its code again at higher tiers (the
        // tiered JIT with dynamic PGO used a third of the machine for the first 15 s; perf, thirteenth and sixteenth
        // sessions). The rate over the whole run keeps that warm-up in; the rate of the second half of the posts (from
        // the moment half were answered to the last) is what a process already running sustains.
        var completed = 0;
        var half = total / 2;
        var halfTicks = 0L;
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, connections).Select(async worker =>
        {
            var http = clients[worker % clients.Length];
            while (true)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= total) return;
                var body = bodies[i];
                using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/books/{bookId}/journal-entries")
                {
                    Content = new StringContent(body, Encoding.UTF8, "application/json"),
                };
                request.Headers.Add("Idempotency-Key", $"{keyPrefix}{i}");
                var started = Stopwatch.GetTimestamp();
                using var response = await http.SendAsync(request);
                latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (response.StatusCode != HttpStatusCode.Created) Interlocked.Increment(ref failures);
                if (Interlocked.Increment(ref completed) == half) Interlocked.Exchange(ref halfTicks, clock.ElapsedTicks);
            }
        }).ToArray();
        await Task.WhenAll(workers);
        var seconds = clock.Elapsed.TotalSeconds;
        var secondHalfSeconds = seconds - (double)Interlocked.Read(ref halfTicks) / Stopwatch.Frequency;
        // The posts handed out in the second half, by index: their latencies, without the warm-up's.
        var secondHalfLatencies = latencies[half..];
        Array.Sort(secondHalfLatencies);
        Array.Sort(latencies);
        return new JsonObject
        {
            ["entries"] = total,
            ["connections"] = connections,
            ["apiProcesses"] = clients.Length,
            ["seconds"] = Math.Round(seconds, 2),
            ["entriesPerSecond"] = Math.Round(total / seconds),
            ["p50Ms"] = Math.Round(Percentile(latencies, 0.50), 2),
            ["p99Ms"] = Math.Round(Percentile(latencies, 0.99), 2),
            ["secondHalfEntriesPerSecond"] = half == 0 || secondHalfSeconds <= 0 ? null : Math.Round((total - half) / secondHalfSeconds),
            ["secondHalfP99Ms"] = half == 0 ? null : Math.Round(Percentile(secondHalfLatencies, 0.99), 2),
            ["failures"] = failures,
        };
    }

    /// <summary>
    /// Batches of two-line entries spread over three years, <paramref name="count"/> entries numbered from
    /// <paramref name="firstIndex"/> (the entries posted before), so that the book holds the requested entries.
    /// </summary>
    public static async Task<JsonObject> BatchPostsAsync(HttpClient http, string bookId, List<string> accounts, BenchmarkOptions options,
        int firstIndex, int count)
    {
        var remaining = Math.Max(0, count);
        var batches = (remaining + options.BatchSize - 1) / options.BatchSize;
        var random = new Random(1000);
        var bodies = new byte[batches][];
        for (var b = 0; b < batches; b++)
        {
            var size = Math.Min(options.BatchSize, remaining - b * options.BatchSize);
            var entries = new JsonArray();
            for (var i = 0; i < size; i++) entries.Add(EntryJson(random, accounts, firstIndex + b * options.BatchSize + i));
            bodies[b] = Encoding.UTF8.GetBytes(new JsonObject { ["entries"] = entries }.ToJsonString());
        }
        var next = -1;
        var posted = 0L;
        var failures = 0;
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, options.BatchClients).Select(async worker =>
        {
            while (true)
            {
                var b = Interlocked.Increment(ref next);
                if (b >= batches) return;
                var size = Math.Min(options.BatchSize, remaining - b * options.BatchSize);
                var content = new ByteArrayContent(bodies[b]);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/books/{bookId}/journal-entries/batch") { Content = content };
                request.Headers.Add("Idempotency-Key", $"batch-{b}");
                using var response = await http.SendAsync(request);
                bodies[b] = [];
                if (response.StatusCode == HttpStatusCode.Created) Interlocked.Add(ref posted, size);
                else
                {
                    Interlocked.Increment(ref failures);
                    Console.Error.WriteLine($"batch {b}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
            }
        }).ToArray();
        await Task.WhenAll(workers);
        var seconds = clock.Elapsed.TotalSeconds;
        return new JsonObject
        {
            ["entries"] = posted,
            ["batchSize"] = options.BatchSize,
            ["concurrentBatches"] = options.BatchClients,
            ["seconds"] = Math.Round(seconds, 2),
            ["entriesPerSecond"] = Math.Round(posted / seconds),
            ["failures"] = failures,
        };
    }

    public static async Task<JsonObject> ReportsAsync(HttpClient http, string bookId, List<string> accounts, BenchmarkOptions options)
    {
        var middle = HistoryStart.AddDays(HistoryDays / 2 + 13).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var account = accounts[7];
        return new JsonObject
        {
            ["trialBalanceNowMedianMs"] = await MedianAsync(http, $"/v1/books/{bookId}/reports/trial-balance"),
            ["trialBalanceAsOfMiddleMedianMs"] = await MedianAsync(http, $"/v1/books/{bookId}/reports/trial-balance?asOf={middle}"),
            ["asOfDate"] = middle,
            ["accountFirstPageMedianMs"] = await MedianAsync(http, $"/v1/books/{bookId}/journal-entries?account={account}&limit=100"),
            ["accountLedgerFirstPageMedianMs"] = await MedianAsync(http, $"/v1/books/{bookId}/accounts/{account}/ledger?from=2023-01-01&to=2025-12-31&limit=100"),
            ["balanceSheetAsOfMiddleMedianMs"] = await MedianAsync(http, $"/v1/books/{bookId}/reports/balance-sheet?asOf={middle}"),
            ["calls"] = 30,
        };
    }

    /// <summary>
    /// A book whose latest entry is dated after today, as when invoices are booked ahead: the trial balance as of today
    /// can no longer take the all-time totals and must sum months plus the partial month. The entries are a separate
    /// small set posted in one batch after every other scenario, so those keep their figures.
    /// </summary>
    public static async Task<JsonObject> PostDatedReportAsync(HttpClient http, string bookId, List<string> accounts, int firstIndex)
    {
        // The API's "today" is the UTC date.
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var random = new Random(3000);
        var entries = new JsonArray();
        for (var i = 0; i < PostDatedEntries; i++) entries.Add(EntryJson(random, accounts, firstIndex + i, today.AddDays(1), 365));
        var content = new StringContent(new JsonObject { ["entries"] = entries }.ToJsonString(), Encoding.UTF8, "application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/books/{bookId}/journal-entries/batch") { Content = content };
        request.Headers.Add("Idempotency-Key", "post-dated");
        var started = Stopwatch.GetTimestamp();
        using var response = await http.SendAsync(request);
        var postSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        if (response.StatusCode != HttpStatusCode.Created)
            throw new InvalidOperationException($"Posting the post-dated entries: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var asOf = Date(today);
        return new JsonObject
        {
            ["entries"] = PostDatedEntries,
            ["datedFrom"] = Date(today.AddDays(1)),
            ["datedTo"] = Date(today.AddDays(365)),
            ["postSeconds"] = Math.Round(postSeconds, 2),
            ["asOfDate"] = asOf,
            ["trialBalanceAsOfTodayMedianMs"] = await MedianAsync(http, $"/v1/books/{bookId}/reports/trial-balance?asOf={asOf}"),
            ["calls"] = 30,
        };
    }

    /// <summary>Fails naming the request and the API's answer, not just the status code.</summary>
    private static async Task EnsureOkAsync(HttpResponseMessage response, string url)
    {
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"GET {url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private static string Date(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static async Task<double> MedianAsync(HttpClient http, string url)
    {
        using (var warmUp = await http.GetAsync(url)) await EnsureOkAsync(warmUp, url);
        var times = new double[30];
        for (var i = 0; i < times.Length; i++)
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await http.GetAsync(url);
            await response.Content.ReadAsByteArrayAsync();
            times[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            await EnsureOkAsync(response, url);
        }
        Array.Sort(times);
        return Math.Round(Percentile(times, 0.5), 2);
    }

    public static JsonObject EntryJson(Random random, List<string> accounts, int i) => EntryJson(random, accounts, i, HistoryStart, HistoryDays);

    /// <summary>A two-line entry dated at random in the <paramref name="days"/> days from <paramref name="firstDate"/>.</summary>
    public static JsonObject EntryJson(Random random, List<string> accounts, int i, DateOnly firstDate, int days)
    {
        var debit = accounts[random.Next(accounts.Count)];
        var credit = accounts[random.Next(accounts.Count)];
        var cents = random.NextInt64(1, 10_000_000);
        var amount = (cents / 100).ToString(CultureInfo.InvariantCulture) + "." + (cents % 100).ToString("D2", CultureInfo.InvariantCulture);
        var date = Date(firstDate.AddDays(random.Next(days)));
        return new JsonObject
        {
            ["date"] = date,
            ["description"] = $"Bank import line {i}",
            ["reference"] = $"IMP-{i}",
            ["lines"] = new JsonArray(
                new JsonObject { ["account"] = debit, ["debit"] = amount },
                new JsonObject { ["account"] = credit, ["credit"] = amount }),
        };
    }

    public static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}

/// <summary>
/// The physical limit of the storage: the same rows (one entry row and two posting rows per entry, with the columns and
/// indexes the migrations give them and a book id as long as the API's) written by raw database code in one transaction,
/// with no HTTP, JSON or checks. SQLite: one prepared command per table, WAL and
/// synchronous=FULL, on the same disk. PostgreSQL: binary COPY into a fresh database on the same server.
/// </summary>
static class Baseline
{
    public static JsonObject RawSqliteInserts(string path, BenchmarkOptions options)
    {
        using var connection = new SqliteConnection($"Data Source={path}");
        connection.Open();
        Exec(connection, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
        Exec(connection, """
            CREATE TABLE journal_entries (id INTEGER PRIMARY KEY, book_id TEXT NOT NULL, number BIGINT NOT NULL, entry_date TEXT NOT NULL,
                description TEXT NOT NULL, reference TEXT NULL, created_at TEXT NOT NULL, reversal_of INTEGER NULL, reversed_by INTEGER NULL,
                is_closing INTEGER NOT NULL DEFAULT 0, source_type TEXT NULL, source_id INTEGER NULL, event_sequence INTEGER NULL,
                event_hash BLOB NULL, fingerprint BIGINT NULL, UNIQUE (book_id, number));
            CREATE INDEX ix_journal_entries_book_date ON journal_entries (book_id, entry_date, id);
            CREATE INDEX ix_journal_entries_book_reference ON journal_entries (book_id, reference);
            CREATE TABLE postings (entry_id INTEGER NOT NULL, line_no INTEGER NOT NULL, account_id INTEGER NOT NULL, amount BIGINT NOT NULL,
                entry_date TEXT NOT NULL, description TEXT NULL, book_id TEXT NOT NULL, fingerprint BIGINT NULL, PRIMARY KEY (entry_id, line_no));
            CREATE INDEX ix_postings_account_date_amount ON postings (account_id, entry_date, entry_id, amount, book_id);
            """);
        var random = new Random(7);
        var n = options.Entries;
        var (fingerprints, hashes) = AuditColumns(n);
        var clock = Stopwatch.StartNew();
        using (var tx = connection.BeginTransaction())
        {
            using var entry = connection.CreateCommand();
            entry.CommandText = $"INSERT INTO journal_entries VALUES (@id, '{BookId}', @id, @d, @desc, @ref, '2026-01-01T00:00:00.0000000Z', NULL, NULL, 0, NULL, NULL, @id, @hash, @fp)";
            var eId = entry.Parameters.Add("@id", SqliteType.Integer);
            var eDate = entry.Parameters.Add("@d", SqliteType.Text);
            var eDesc = entry.Parameters.Add("@desc", SqliteType.Text);
            var eRef = entry.Parameters.Add("@ref", SqliteType.Text);
            var eHash = entry.Parameters.Add("@hash", SqliteType.Blob);
            var eFp = entry.Parameters.Add("@fp", SqliteType.Integer);
            using var posting = connection.CreateCommand();
            posting.CommandText = $"INSERT INTO postings VALUES (@e, @l, @a, @amt, @d, NULL, '{BookId}', @fp)";
            var pE = posting.Parameters.Add("@e", SqliteType.Integer);
            var pL = posting.Parameters.Add("@l", SqliteType.Integer);
            var pA = posting.Parameters.Add("@a", SqliteType.Integer);
            var pAmt = posting.Parameters.Add("@amt", SqliteType.Integer);
            var pD = posting.Parameters.Add("@d", SqliteType.Text);
            var pFp = posting.Parameters.Add("@fp", SqliteType.Integer);
            entry.Prepare();
            posting.Prepare();
            for (var i = 1; i <= n; i++)
            {
                var date = new DateOnly(2023, 1, 1).AddDays(random.Next(3 * 365)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                eId.Value = i; eDate.Value = date; eDesc.Value = $"Bank import line {i}"; eRef.Value = $"IMP-{i}";
                eHash.Value = (object?)hashes[i - 1] ?? DBNull.Value; eFp.Value = fingerprints[3 * (i - 1)];
                entry.ExecuteNonQuery();
                var amount = random.NextInt64(1, 10_000_000);
                for (var line = 0; line < 2; line++)
                {
                    pE.Value = i; pL.Value = line; pA.Value = random.Next(1000); pAmt.Value = line == 0 ? amount : -amount; pD.Value = date;
                    pFp.Value = fingerprints[3 * (i - 1) + 1 + line];
                    posting.ExecuteNonQuery();
                }
            }
            tx.Commit();
        }
        var seconds = clock.Elapsed.TotalSeconds;
        SqliteConnection.ClearAllPools();
        return new JsonObject
        {
            ["method"] = "raw SQLite, prepared inserts, one transaction",
            ["entries"] = n,
            ["rows"] = 3L * n,
            ["seconds"] = Math.Round(seconds, 2),
            ["entriesPerSecond"] = Math.Round(n / seconds),
            ["rowsPerSecond"] = Math.Round(3.0 * n / seconds),
        };
    }

    /// <summary>
    /// The audit's columns of the same rows, drawn apart from the rest (so the other values stay as before) and before the
    /// clock: a fingerprint per entry and per line (8 bytes each), and the event's hash (32 bytes) on every 64th entry,
    /// as the API keeps them (EntryEventRun.HashEvery).
    /// </summary>
    private static (long[] Fingerprints, byte[]?[] Hashes) AuditColumns(int n)
    {
        var random = new Random(11);
        var fingerprints = new long[3 * n];
        for (var i = 0; i < fingerprints.Length; i++) fingerprints[i] = random.NextInt64(long.MinValue, long.MaxValue);
        var hashes = new byte[]?[n];
        for (var i = 1; i <= n; i++)
            if (i % 64 == 0) random.NextBytes(hashes[i - 1] = new byte[32]);
        return (fingerprints, hashes);
    }

    private static void Exec(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// The API schema's journal_entries and postings as the migrations leave them (every column, key and index) in
    /// PostgreSQL types. Foreign keys are left out: the baseline prices storing rows and maintaining indexes, and the
    /// tables they point at are not there (on PostgreSQL the API has no per-row keys on these tables either; migration 0015).
    /// </summary>
    private const string PostgresSchema = """
        CREATE TABLE journal_entries (
            id BIGINT PRIMARY KEY,
            book_id TEXT COLLATE "C" NOT NULL,
            number BIGINT NOT NULL,
            entry_date TEXT COLLATE "C" NOT NULL,
            description TEXT COLLATE "C" NOT NULL,
            reference TEXT COLLATE "C" NULL,
            created_at TEXT COLLATE "C" NOT NULL,
            reversal_of BIGINT NULL,
            reversed_by BIGINT NULL,
            is_closing BIGINT NOT NULL DEFAULT 0,
            source_type TEXT COLLATE "C" NULL,
            source_id BIGINT NULL,
            event_sequence BIGINT NULL,
            event_hash BYTEA NULL,
            fingerprint BIGINT NULL,
            UNIQUE (book_id, number)
        );
        CREATE INDEX ix_journal_entries_book_date ON journal_entries (book_id, entry_date, id);
        CREATE INDEX ix_journal_entries_book_reference ON journal_entries (book_id, reference);
        CREATE TABLE postings (
            entry_id BIGINT NOT NULL,
            line_no BIGINT NOT NULL,
            account_id BIGINT NOT NULL,
            amount BIGINT NOT NULL,
            entry_date TEXT COLLATE "C" NOT NULL,
            description TEXT COLLATE "C" NULL,
            book_id TEXT COLLATE "C" NOT NULL,
            fingerprint BIGINT NULL,
            PRIMARY KEY (entry_id, line_no)
        );
        CREATE INDEX ix_postings_account_date_amount ON postings (account_id, entry_date, entry_id, amount, book_id);
        """;

    /// <summary>A book id as the API makes them (a UUID's 36 characters), which every row and several indexes carry.</summary>
    private const string BookId = "0193a0c4-5b6e-7f80-9a1b-2c3d4e5f6a7b";

    /// <summary>
    /// The rows of the SQLite baseline (same seed, same values) written with binary COPY, entries then postings, in one
    /// transaction into a database of its own on the benchmark's server, dropped afterwards.
    /// </summary>
    public static async Task<JsonObject> RawPostgresCopyAsync(NpgsqlConnectionStringBuilder server, BenchmarkOptions options)
    {
        var name = await Postgres.CreateDatabaseAsync(server, "ledger_bench_raw_");
        try
        {
            // Unpooled: no idle connection is left to hold the database when it is dropped.
            var builder = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = name, Pooling = false };
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync();
            await using (var create = new NpgsqlCommand(PostgresSchema, connection)) await create.ExecuteNonQueryAsync();

            // Drawn before the clock, in the SQLite baseline's order, because the postings are a second pass over the
            // same entries (one COPY at a time per connection); formatting the text stays inside the clock, as there.
            var n = options.Entries;
            var random = new Random(7);
            var days = new int[n];
            var amounts = new long[n];
            var accountIds = new int[2 * n];
            for (var i = 0; i < n; i++)
            {
                days[i] = random.Next(3 * 365);
                amounts[i] = random.NextInt64(1, 10_000_000);
                accountIds[2 * i] = random.Next(1000);
                accountIds[2 * i + 1] = random.Next(1000);
            }
            static string DateText(int day) => new DateOnly(2023, 1, 1).AddDays(day).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            var (fingerprints, hashes) = AuditColumns(n);

            // Synchronous writes: the importer buffers rows, and an await per value would cost more than the value.
            var copyTimeout = TimeSpan.FromMinutes(30);
            var clock = Stopwatch.StartNew();
            await using (var tx = await connection.BeginTransactionAsync())
            {
                using (var entries = connection.BeginBinaryImport(
                    "COPY journal_entries (id, book_id, number, entry_date, description, reference, created_at, reversal_of, reversed_by, is_closing, source_type, source_id, event_sequence, event_hash, fingerprint) FROM STDIN (FORMAT BINARY)"))
                {
                    entries.Timeout = copyTimeout;
                    for (var i = 1; i <= n; i++)
                    {
                        entries.StartRow();
                        entries.Write((long)i, NpgsqlDbType.Bigint);
                        entries.Write(BookId, NpgsqlDbType.Text);
                        entries.Write((long)i, NpgsqlDbType.Bigint);
                        entries.Write(DateText(days[i - 1]), NpgsqlDbType.Text);
                        entries.Write($"Bank import line {i}", NpgsqlDbType.Text);
                        entries.Write($"IMP-{i}", NpgsqlDbType.Text);
                        entries.Write("2026-01-01T00:00:00.0000000Z", NpgsqlDbType.Text);
                        entries.WriteNull();
                        entries.WriteNull();
                        entries.Write(0L, NpgsqlDbType.Bigint);
                        entries.WriteNull();
                        entries.WriteNull();
                        entries.Write((long)i, NpgsqlDbType.Bigint);
                        if (hashes[i - 1] is { } hash) entries.Write(hash, NpgsqlDbType.Bytea); else entries.WriteNull();
                        entries.Write(fingerprints[3 * (i - 1)], NpgsqlDbType.Bigint);
                    }
                    entries.Complete();
                }
                using (var postings = connection.BeginBinaryImport(
                    "COPY postings (entry_id, line_no, account_id, amount, entry_date, description, book_id, fingerprint) FROM STDIN (FORMAT BINARY)"))
                {
                    postings.Timeout = copyTimeout;
                    for (var i = 1; i <= n; i++)
                    {
                        var date = DateText(days[i - 1]);
                        for (var line = 0; line < 2; line++)
                        {
                            postings.StartRow();
                            postings.Write((long)i, NpgsqlDbType.Bigint);
                            postings.Write((long)line, NpgsqlDbType.Bigint);
                            postings.Write((long)accountIds[2 * (i - 1) + line], NpgsqlDbType.Bigint);
                            postings.Write(line == 0 ? amounts[i - 1] : -amounts[i - 1], NpgsqlDbType.Bigint);
                            postings.Write(date, NpgsqlDbType.Text);
                            postings.WriteNull();
                            postings.Write(BookId, NpgsqlDbType.Text);
                            postings.Write(fingerprints[3 * (i - 1) + 1 + line], NpgsqlDbType.Bigint);
                        }
                    }
                    postings.Complete();
                }
                await tx.CommitAsync();
            }
            var seconds = clock.Elapsed.TotalSeconds;
            return new JsonObject
            {
                ["method"] = "raw Npgsql binary COPY, one transaction",
                ["entries"] = n,
                ["rows"] = 3L * n,
                ["seconds"] = Math.Round(seconds, 2),
                ["entriesPerSecond"] = Math.Round(n / seconds),
                ["rowsPerSecond"] = Math.Round(3.0 * n / seconds),
            };
        }
        finally
        {
            // Always: the raw tables are of no use after the run, --keep or not.
            await Postgres.DropDatabaseAsync(server, name);
        }
    }
}

/// <summary>
/// The database the API runs on. Without --database: a SQLite file in the work directory, as ever. With a SQLite
/// connection string: that file, which must not exist yet. With a PostgreSQL one: a fresh database created on that
/// server for the run (the database the string names is left alone), dropped at the end unless --keep.
/// </summary>
sealed class BenchmarkDatabase
{
    /// <summary>"sqlite" or "postgresql".</summary>
    public string Engine { get; }
    public string ApiConnectionString { get; }
    /// <summary>Where the data is, without credentials, for the console and the figures.</summary>
    public string Description { get; }
    /// <summary>The PostgreSQL server (its own connection string, naming its own database), for the raw baseline.</summary>
    public NpgsqlConnectionStringBuilder? Server { get; }
    /// <summary>Where raw SQLite writes its baseline: beside the API's file, so on the same disk.</summary>
    public string? BaselineSqlitePath { get; }
    public bool IsPostgres => Server is not null;

    private readonly string? _sqliteFile;
    private readonly bool _ownsWorkDirFile;
    private readonly string? _postgresDatabase;

    private BenchmarkDatabase(string engine, string apiConnectionString, string description, NpgsqlConnectionStringBuilder? server,
        string? baselineSqlitePath, string? sqliteFile, bool ownsWorkDirFile, string? postgresDatabase)
    {
        Engine = engine;
        ApiConnectionString = apiConnectionString;
        Description = description;
        Server = server;
        BaselineSqlitePath = baselineSqlitePath;
        _sqliteFile = sqliteFile;
        _ownsWorkDirFile = ownsWorkDirFile;
        _postgresDatabase = postgresDatabase;
    }

    public static async Task<BenchmarkDatabase> CreateAsync(string? connectionString, string workDir)
    {
        if (connectionString is null)
        {
            var file = Path.Combine(workDir, "ledger.db");
            return new BenchmarkDatabase("sqlite", $"Data Source={file}", "SQLite (temporary file)", null,
                Path.Combine(workDir, "baseline.db"), file, ownsWorkDirFile: true, null);
        }
        if (NamesPostgres(connectionString))
        {
            var given = new NpgsqlConnectionStringBuilder(connectionString);
            var (version, settings) = await Postgres.ServerVersionAndSettingsAsync(given);
            var name = await Postgres.CreateDatabaseAsync(given, "ledger_bench_");
            var api = new NpgsqlConnectionStringBuilder(connectionString) { Database = name };
            return new BenchmarkDatabase("postgresql", api.ConnectionString, $"PostgreSQL {version} at {given.Host}:{given.Port} ({settings}), database {name}",
                api, null, null, ownsWorkDirFile: false, name);
        }
        var sqlite = new SqliteConnectionStringBuilder(connectionString);
        if (string.IsNullOrEmpty(sqlite.DataSource) || sqlite.DataSource == ":memory:" || sqlite.Mode == SqliteOpenMode.Memory)
            throw new ArgumentException("--database needs Host=... (PostgreSQL) or Data Source=FILE (SQLite); without it the benchmark uses a temporary SQLite file.");
        // Made absolute here: the API runs in the work directory, where a relative path would point elsewhere.
        var path = Path.GetFullPath(sqlite.DataSource);
        if (File.Exists(path)) throw new ArgumentException($"{path} exists; the benchmark needs an empty database, so name a file that does not exist yet.");
        sqlite.DataSource = path;
        return new BenchmarkDatabase("sqlite", sqlite.ToString(), $"SQLite ({path})", null,
            Path.Combine(Path.GetDirectoryName(path)!, $"ledger-bench-baseline-{Guid.NewGuid():N}.db"), path, ownsWorkDirFile: false, null);
    }

    /// <summary>The API's own rule: Host=... (or Server=... without Data Source=...) is PostgreSQL, anything else SQLite.</summary>
    private static bool NamesPostgres(string connectionString)
    {
        var builder = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        return builder.ContainsKey("Host") || builder.ContainsKey("Server") && !builder.ContainsKey("Data Source");
    }

    /// <summary>
    /// PostgreSQL: VACUUM (ANALYZE) of the tables the scenarios above loaded and the reports read, what autovacuum does to
    /// freshly loaded tables. Only those: the receivables scenario, which may follow, starts on tables as it always has.
    /// </summary>
    public async Task VacuumAsync()
    {
        await using var connection = new NpgsqlConnection(Server!.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "VACUUM (ANALYZE) journal_entries, postings, account_period_totals, accounts, events, commits", connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync();
    }

    public async Task<double> SizeMegabytesAsync()
    {
        long bytes;
        if (_postgresDatabase is not null)
        {
            await using var connection = new NpgsqlConnection(Server!.ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT pg_database_size(current_database())", connection);
            bytes = (long)(await command.ExecuteScalarAsync())!;
        }
        else if (_ownsWorkDirFile) bytes = new DirectoryInfo(Path.GetDirectoryName(_sqliteFile)!).EnumerateFiles().Sum(f => f.Length);
        else bytes = SqliteFiles(_sqliteFile!).Where(File.Exists).Sum(f => new FileInfo(f).Length);
        return Math.Round(bytes / (1024.0 * 1024), 1);
    }

    /// <summary>Drops the PostgreSQL database or deletes the named SQLite file (the work directory is the caller's).</summary>
    public async Task CleanUpAsync(bool keep)
    {
        if (_postgresDatabase is not null)
        {
            if (keep) Console.WriteLine($"Kept PostgreSQL database {_postgresDatabase}");
            else await Postgres.DropDatabaseAsync(Server!, _postgresDatabase);
        }
        else if (!_ownsWorkDirFile)
        {
            SqliteConnection.ClearAllPools();
            foreach (var file in SqliteFiles(BaselineSqlitePath!)) File.Delete(file);
            if (keep) Console.WriteLine($"Kept {_sqliteFile}");
            else foreach (var file in SqliteFiles(_sqliteFile!)) File.Delete(file);
        }
    }

    private static string[] SqliteFiles(string path) => [path, path + "-wal", path + "-shm"];
}

/// <summary>Creating and dropping the benchmark's databases, from the server's maintenance database.</summary>
static class Postgres
{
    public static async Task<string> CreateDatabaseAsync(NpgsqlConnectionStringBuilder server, string prefix)
    {
        // A name of our own making (letters, digits, underscores), so quoting it is enough.
        var name = $"{prefix}{Guid.NewGuid():N}";
        await using var connection = await OpenMaintenanceAsync(server);
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
        return name;
    }

    public static async Task DropDatabaseAsync(NpgsqlConnectionStringBuilder server, string name)
    {
        // The pools of this process still hold connections to it; WITH (FORCE) (PostgreSQL 13+) ends any other.
        NpgsqlConnection.ClearAllPools();
        await using var connection = await OpenMaintenanceAsync(server);
        try
        {
            await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection) { CommandTimeout = 120 };
            await command.ExecuteNonQueryAsync();
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.SyntaxError)
        {
            await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\"", connection) { CommandTimeout = 120 };
            await command.ExecuteNonQueryAsync();
        }
    }

    /// <summary>
    /// The server's version and the settings the figures depend on most, for the report, read on one connection: the
    /// buffer cache, and how often autovacuum visits a database (reports right after a bulk load read the newest rows
    /// through their heap pages until a vacuum has marked them all-visible; the README's PostgreSQL section recommends
    /// 10 s for a ledger).
    /// </summary>
    public static async Task<(string Version, string Settings)> ServerVersionAndSettingsAsync(NpgsqlConnectionStringBuilder server)
    {
        await using var connection = await OpenMaintenanceAsync(server);
        var settings = new List<string>();
        foreach (var name in (string[])["shared_buffers", "synchronous_commit", "autovacuum_naptime"])
        {
            await using var show = new NpgsqlCommand($"SHOW {name}", connection);
            settings.Add($"{name}={await show.ExecuteScalarAsync()}");
        }
        return (connection.PostgreSqlVersion.ToString(), string.Join(", ", settings));
    }

    private static async Task<NpgsqlConnection> OpenMaintenanceAsync(NpgsqlConnectionStringBuilder server)
    {
        var builder = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = "postgres", Pooling = false };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }
}

static class Table
{
    public static string Render(JsonObject r)
    {
        var s = new StringBuilder();
        var machine = r["machine"]!;
        s.AppendLine($"Machine: {machine["cpuModel"]}, {machine["cpus"]} cores, {machine["memoryGiB"]} GiB, {machine["os"]}, {machine["runtime"]}");
        s.AppendLine($"Engine: {r["engine"]}, {r["database"]}");
        s.AppendLine("| measure | result | target |");
        s.AppendLine("| --- | --- | --- |");
        var single = r["singlePosts"]!;
        var two = r["singlePostsTwoProcesses"];
        var oneProcess = two is null ? "" : ", one API process";
        s.AppendLine($"| single POSTs, {single["connections"]} connections, Idempotency-Key each{oneProcess} | {single["entriesPerSecond"]} entries/s, p50 {single["p50Ms"]} ms, p99 {single["p99Ms"]} ms ({single["entries"]} entries, {single["failures"]} failed; the second half of them: {single["secondHalfEntriesPerSecond"]} entries/s, p99 {single["secondHalfP99Ms"]} ms) | ≥ 10,000/s, p99 ≤ 25 ms |");
        if (two is not null)
            s.AppendLine($"| single POSTs, {two["connections"]} connections split over two API processes, one database, same book | {two["entriesPerSecond"]} entries/s, p50 {two["p50Ms"]} ms, p99 {two["p99Ms"]} ms ({two["entries"]} entries, {two["failures"]} failed; the second half of them: {two["secondHalfEntriesPerSecond"]} entries/s, p99 {two["secondHalfP99Ms"]} ms) | ≥ 10,000/s, p99 ≤ 25 ms |");
        var batch = r["batchPosts"]!;
        s.AppendLine($"| batch POSTs of {batch["batchSize"]}, {batch["concurrentBatches"]} concurrent | {batch["entriesPerSecond"]} entries/s ({batch["entries"]} entries, {batch["failures"]} failed) | ≥ 150,000/s |");
        var reports = r["reports"]!;
        s.AppendLine($"| trial balance now (median of 30) | {reports["trialBalanceNowMedianMs"]} ms | ≤ 10 ms |");
        s.AppendLine($"| trial balance as of {reports["asOfDate"]} (median of 30) | {reports["trialBalanceAsOfMiddleMedianMs"]} ms | ≤ 50 ms |");
        s.AppendLine($"| first page (100) of one account's journal entries (median of 30) | {reports["accountFirstPageMedianMs"]} ms | |");
        s.AppendLine($"| first page (100) of one account's ledger with running balance (median of 30) | {reports["accountLedgerFirstPageMedianMs"]} ms | |");
        s.AppendLine($"| balance sheet as of {reports["asOfDate"]} (median of 30) | {reports["balanceSheetAsOfMiddleMedianMs"]} ms | |");
        var postDated = r["postDated"]!;
        s.AppendLine($"| trial balance as of today, {postDated["asOfDate"]}, after {postDated["entries"]} more entries dated {postDated["datedFrom"]} to {postDated["datedTo"]} (median of 30) | {postDated["trialBalanceAsOfTodayMedianMs"]} ms | ≤ 50 ms (as of any date) |");
        if (r["reportsAfterVacuum"] is JsonObject settled)
            s.AppendLine($"| after VACUUM (ANALYZE) ({settled["vacuumSeconds"]} s): trial balance as of {settled["asOfDate"]} / as of today with the post-dated entries / balance sheet as of {settled["asOfDate"]} (medians of 30) | {settled["trialBalanceAsOfMiddleMedianMs"]} / {settled["trialBalanceNowMedianMs"]} / {settled["balanceSheetAsOfMiddleMedianMs"]} ms | ≤ 50 / ≤ 10 ms / |");
        s.AppendLine($"| server peak RSS | {r["serverPeakRssMB"]} MB | ≤ 300 MB |");
        var baseline = r["baseline"]!;
        s.AppendLine($"| baseline: {baseline["method"]} | {baseline["entriesPerSecond"]} entries/s ({baseline["rowsPerSecond"]} rows/s) | |");
        s.AppendLine($"| database size after run | {r["databaseMB"]} MB | |");
        if (r["receivables"] is JsonObject receivables) s.AppendLine().Append(Receivables(receivables));
        if (r["statements"] is JsonObject statements) s.AppendLine().Append(Statements(statements));
        return s.ToString();
    }

    /// <summary>The statement import in a table of its own, beside parsing the same file in-process.</summary>
    private static string Statements(JsonObject r)
    {
        var s = new StringBuilder();
        s.AppendLine("| statement import measure | result |");
        s.AppendLine("| --- | --- |");
        s.AppendLine($"| CAMT.053 file of {r["lines"]} entries ({r["fileMB"]} MB) imported, rules and auto-match off | {r["importMs"]} ms, {r["importLinesPerSecond"]} lines/s (server CPU {r["importServerCpuSeconds"]} s, answer {r["responseMB"]} MB) |");
        s.AppendLine($"| the same file again (200, imported 0) | {r["reimportMs"]} ms |");
        s.AppendLine($"| baseline: parsing the same bytes in-process (best of 3) | {r["parseOnlyMs"]} ms, {r["parseOnlyLinesPerSecond"]} lines/s |");
        s.AppendLine($"| server RSS before the import; peak before, after, after the re-import | {r["serverRssBeforeMB"]} MB; {r["serverPeakRssBeforeMB"]} → {r["serverPeakRssAfterMB"]} → {r["serverPeakRssAfterReimportMB"]} MB |");
        return s.ToString();
    }

    /// <summary>Receivables in a table of their own, each figure with the load averages (1, 5, 15 min) around it.</summary>
    private static string Receivables(JsonObject r)
    {
        var s = new StringBuilder();
        s.AppendLine("| receivables measure | result | load (1, 5, 15 min) | target |");
        s.AppendLine("| --- | --- | --- | --- |");
        string Posts(JsonNode p, string unit) =>
            $"{p["perSecond"]} {unit}/s, p50 {p["p50Ms"]} ms, p99 {p["p99Ms"]} ms ({p["requests"]} in {p["seconds"]} s, {p["failures"]} failed, server CPU {p["serverCpuSeconds"]} s)";
        string Load(JsonNode p) => $"{p["loadBefore"]} → {p["loadAfter"]}";
        var customers = r["customers"]!;
        s.AppendLine($"| customers created, {customers["connections"]} connections | {Posts(customers, "customers")} | {Load(customers)} | |");
        var entries = r["journalEntries"]!;
        s.AppendLine($"| baseline: single two-line journal entries, same book and connections | {Posts(entries, "entries")} | {Load(entries)} | |");
        var invoices = r["invoices"]!;
        s.AppendLine($"| invoices created and issued, {invoices["connections"]} connections, Idempotency-Key each, {invoices["lines"]} lines, dated {invoices["datedFrom"]} to {invoices["datedTo"]} | {Posts(invoices, "invoices")} | {Load(invoices)} | ≥ 2,000/s |");
        var aged = r["agedReceivables"]!;
        s.AppendLine($"| aged receivables as of {aged["asOf"]}, {aged["customersWithOpenItems"]} customers, {aged["openInvoices"]} open invoices (median of {aged["calls"]}) | {aged["medianMs"]} ms (first call {aged["firstCallMs"]} ms, {aged["responseKB"]} KB; total {aged["total"]} = control account, difference {aged["difference"]}) | {aged["load"]} | ≤ 200 ms |");
        s.AppendLine($"| the same with detail=true (median of {aged["detailCalls"]}) | {aged["detailMedianMs"]} ms ({aged["detailResponseMB"]} MB) | | |");
        s.AppendLine($"| baseline: trial balance of the same book as of {aged["asOf"]} (median of {aged["calls"]}) | {aged["trialBalanceSameDateMedianMs"]} ms | | |");
        if (r["lists"] is { } lists)
        {
            s.AppendLine($"| first page of 500 invoices (median of {lists["calls"]}) | {lists["invoicesFirstPage500MedianMs"]} ms | {lists["load"]} | |");
            s.AppendLine($"| one customer's {lists["oneCustomerInvoices"]} invoices (median of {lists["calls"]}) | {lists["oneCustomerInvoicesMedianMs"]} ms | | |");
        }
        if (r["payments"] is { } paid)
            s.AppendLine($"| payments received, each allocated in full to one invoice, {paid["connections"]} connections, Idempotency-Key each (then aging ties out) | {Posts(paid, "payments")} | {Load(paid)} | |");
        s.AppendLine($"| server peak RSS after receivables | {r["serverPeakRssMB"]} MB | | |");
        return s.ToString();
    }
}
