using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;

// Ledger benchmark: starts the real API as its own process (Kestrel on loopback, a temporary SQLite file,
// synchronous=FULL) and measures posting and reporting over HTTP, plus raw SQLite on the same disk as the baseline.
//   dotnet run -c Release --project tests/Ledger.Benchmarks -- --entries 1000000 --json bench.json

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

Console.WriteLine($"Ledger benchmark: {options.Entries:N0} entries, work dir {workDir}");
await using (var server = await ApiServer.StartAsync(workDir))
{
    using var http = server.CreateClient(options.Connections);
    var bookId = await Setup.CreateBookAsync(http);
    var accounts = await Setup.CreateAccountsAsync(http, bookId, options.Accounts);
    Console.WriteLine($"Book {bookId} with {accounts.Count} accounts.");

    var cpu = server.CpuSeconds();
    var single = await Scenarios.SinglePostsAsync(http, bookId, accounts, options);
    single["serverCpuSeconds"] = Math.Round(server.CpuSeconds() - cpu, 2);
    results["singlePosts"] = single;
    Print("single POSTs", single);

    cpu = server.CpuSeconds();
    var batch = await Scenarios.BatchPostsAsync(http, bookId, accounts, options);
    batch["serverCpuSeconds"] = Math.Round(server.CpuSeconds() - cpu, 2);
    results["batchPosts"] = batch;
    Print("batch POSTs", batch);

    var reports = await Scenarios.ReportsAsync(http, bookId, accounts, options);
    results["reports"] = reports;
    Print("reports", reports);

    results["serverPeakRssMB"] = server.PeakRssMegabytes();
    results["databaseMB"] = Math.Round(DirectorySize(workDir) / (1024.0 * 1024), 1);
}

var baseline = Baseline.RawSqliteInserts(workDir, options);
results["baseline"] = baseline;
Print("baseline (raw SQLite)", baseline);

results["finishedAt"] = DateTimeOffset.UtcNow.ToString("O");
Console.WriteLine();
Console.WriteLine(Table.Render(results));
if (options.JsonPath is not null)
{
    await File.WriteAllTextAsync(options.JsonPath, results.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    Console.WriteLine($"Figures written to {options.JsonPath}");
}
if (options.Keep) Console.WriteLine($"Kept {workDir}");
else try { Directory.Delete(workDir, recursive: true); } catch (IOException) { }
return 0;

static void Print(string name, JsonNode node) => Console.WriteLine($"{name}: {node.ToJsonString()}");

static long DirectorySize(string dir) => new DirectoryInfo(dir).EnumerateFiles().Sum(f => f.Length);

static string CpuModel()
{
    try
    {
        var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
        return line?.Split(':', 2)[1].Trim() ?? "unknown";
    }
    catch (IOException) { return "unknown"; }
}

sealed record BenchmarkOptions(int Entries, string? JsonPath, int Connections, int Accounts, int SinglePosts, int BatchSize, int BatchClients, bool Keep)
{
    public static BenchmarkOptions Parse(string[] args)
    {
        int entries = 1_000_000, connections = 64, accounts = 1000, singles = 50_000, batchSize = 10_000, batchClients = 1;
        string? json = null;
        var keep = false;
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
                default: throw new ArgumentException($"Unknown option {args[i]}. Options: --entries N --json PATH [--connections 64 --single-posts 50000 --batch-size 10000 --batch-clients 1 --keep]");
            }
        }
        return new BenchmarkOptions(entries, json, connections, accounts, Math.Min(singles, entries), batchSize, batchClients, keep);
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

    public static async Task<ApiServer> StartAsync(string workDir)
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
        start.Environment["ConnectionStrings__Ledger"] = $"Data Source={Path.Combine(workDir, "ledger.db")}";
        start.Environment["Ledger__AdminKey"] = AdminKey;
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine($"[api] {e.Data}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ApiServer(process, new Uri($"http://127.0.0.1:{port}"));
        using var probe = new HttpClient { BaseAddress = server.BaseAddress };
        for (var i = 0; i < 200; i++)
        {
            try
            {
                if ((await probe.GetAsync("/health")).IsSuccessStatusCode) return server;
            }
            catch (HttpRequestException) { }
            await Task.Delay(100);
        }
        throw new InvalidOperationException("The API did not start.");
    }

    public HttpClient CreateClient(int connections)
    {
        var handler = new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        var client = new HttpClient(handler) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(10) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        return client;
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
            await _process.WaitForExitAsync();
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

    /// <summary>One entry per request from many concurrent connections, each request with its own Idempotency-Key.</summary>
    public static async Task<JsonObject> SinglePostsAsync(HttpClient http, string bookId, List<string> accounts, BenchmarkOptions options)
    {
        var total = options.SinglePosts;
        // Bodies are made before the clock starts so the client's JSON work is not charged to the server.
        var random = new Random(1);
        var bodies = Enumerable.Range(0, total).Select(i => EntryJson(random, accounts, i).ToJsonString()).ToArray();
        var latencies = new double[total];
        var next = -1;
        var failures = 0;
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, options.Connections).Select(async worker =>
        {
            while (true)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= total) return;
                var body = bodies[i];
                using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/books/{bookId}/journal-entries")
                {
                    Content = new StringContent(body, Encoding.UTF8, "application/json"),
                };
                request.Headers.Add("Idempotency-Key", $"single-{i}");
                var started = Stopwatch.GetTimestamp();
                using var response = await http.SendAsync(request);
                latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (response.StatusCode != HttpStatusCode.Created) Interlocked.Increment(ref failures);
            }
        }).ToArray();
        await Task.WhenAll(workers);
        var seconds = clock.Elapsed.TotalSeconds;
        Array.Sort(latencies);
        return new JsonObject
        {
            ["entries"] = total,
            ["connections"] = options.Connections,
            ["seconds"] = Math.Round(seconds, 2),
            ["entriesPerSecond"] = Math.Round(total / seconds),
            ["p50Ms"] = Math.Round(Percentile(latencies, 0.50), 2),
            ["p99Ms"] = Math.Round(Percentile(latencies, 0.99), 2),
            ["failures"] = failures,
        };
    }

    /// <summary>Batches of two-line entries spread over three years, until the book holds the requested entries.</summary>
    public static async Task<JsonObject> BatchPostsAsync(HttpClient http, string bookId, List<string> accounts, BenchmarkOptions options)
    {
        var remaining = options.Entries - options.SinglePosts;
        var batches = (remaining + options.BatchSize - 1) / options.BatchSize;
        var random = new Random(1000);
        var bodies = new byte[batches][];
        for (var b = 0; b < batches; b++)
        {
            var size = Math.Min(options.BatchSize, remaining - b * options.BatchSize);
            var entries = new JsonArray();
            for (var i = 0; i < size; i++) entries.Add(EntryJson(random, accounts, options.SinglePosts + b * options.BatchSize + i));
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

    private static async Task<double> MedianAsync(HttpClient http, string url)
    {
        (await http.GetAsync(url)).EnsureSuccessStatusCode(); // warm-up
        var times = new double[30];
        for (var i = 0; i < times.Length; i++)
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await http.GetAsync(url);
            await response.Content.ReadAsByteArrayAsync();
            times[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            response.EnsureSuccessStatusCode();
        }
        Array.Sort(times);
        return Math.Round(Percentile(times, 0.5), 2);
    }

    public static JsonObject EntryJson(Random random, List<string> accounts, int i)
    {
        var debit = accounts[random.Next(accounts.Count)];
        var credit = accounts[random.Next(accounts.Count)];
        var cents = random.NextInt64(1, 10_000_000);
        var amount = (cents / 100).ToString(CultureInfo.InvariantCulture) + "." + (cents % 100).ToString("D2", CultureInfo.InvariantCulture);
        var date = HistoryStart.AddDays(random.Next(HistoryDays)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
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
/// The physical limit on this disk: the same rows (one entry row and two posting rows per entry) inserted by raw SQLite
/// through one prepared command per table in one transaction, WAL and synchronous=FULL, with no HTTP, JSON or checks.
/// </summary>
static class Baseline
{
    public static JsonObject RawSqliteInserts(string workDir, BenchmarkOptions options)
    {
        var path = Path.Combine(workDir, "baseline.db");
        using var connection = new SqliteConnection($"Data Source={path}");
        connection.Open();
        Exec(connection, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
        Exec(connection, """
            CREATE TABLE journal_entries (id INTEGER PRIMARY KEY, book_id TEXT NOT NULL, number BIGINT NOT NULL, entry_date TEXT NOT NULL,
                description TEXT NOT NULL, reference TEXT NULL, created_at TEXT NOT NULL, UNIQUE (book_id, number));
            CREATE INDEX ix_e_date ON journal_entries (book_id, entry_date, id);
            CREATE TABLE postings (entry_id INTEGER NOT NULL, line_no INTEGER NOT NULL, account_id INTEGER NOT NULL, amount BIGINT NOT NULL,
                entry_date TEXT NOT NULL, PRIMARY KEY (entry_id, line_no));
            CREATE INDEX ix_p_account ON postings (account_id, entry_date, entry_id);
            """);
        var random = new Random(7);
        var n = options.Entries;
        var clock = Stopwatch.StartNew();
        using (var tx = connection.BeginTransaction())
        {
            using var entry = connection.CreateCommand();
            entry.CommandText = "INSERT INTO journal_entries VALUES (@id, 'book', @id, @d, @desc, @ref, '2026-01-01T00:00:00.0000000Z')";
            var eId = entry.Parameters.Add("@id", SqliteType.Integer);
            var eDate = entry.Parameters.Add("@d", SqliteType.Text);
            var eDesc = entry.Parameters.Add("@desc", SqliteType.Text);
            var eRef = entry.Parameters.Add("@ref", SqliteType.Text);
            using var posting = connection.CreateCommand();
            posting.CommandText = "INSERT INTO postings VALUES (@e, @l, @a, @amt, @d)";
            var pE = posting.Parameters.Add("@e", SqliteType.Integer);
            var pL = posting.Parameters.Add("@l", SqliteType.Integer);
            var pA = posting.Parameters.Add("@a", SqliteType.Integer);
            var pAmt = posting.Parameters.Add("@amt", SqliteType.Integer);
            var pD = posting.Parameters.Add("@d", SqliteType.Text);
            entry.Prepare();
            posting.Prepare();
            for (var i = 1; i <= n; i++)
            {
                var date = new DateOnly(2023, 1, 1).AddDays(random.Next(3 * 365)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                eId.Value = i; eDate.Value = date; eDesc.Value = $"Bank import line {i}"; eRef.Value = $"IMP-{i}";
                entry.ExecuteNonQuery();
                var amount = random.NextInt64(1, 10_000_000);
                for (var line = 0; line < 2; line++)
                {
                    pE.Value = i; pL.Value = line; pA.Value = random.Next(1000); pAmt.Value = line == 0 ? amount : -amount; pD.Value = date;
                    posting.ExecuteNonQuery();
                }
            }
            tx.Commit();
        }
        var seconds = clock.Elapsed.TotalSeconds;
        SqliteConnection.ClearAllPools();
        return new JsonObject
        {
            ["entries"] = n,
            ["rows"] = 3L * n,
            ["seconds"] = Math.Round(seconds, 2),
            ["entriesPerSecond"] = Math.Round(n / seconds),
            ["rowsPerSecond"] = Math.Round(3.0 * n / seconds),
        };
    }

    private static void Exec(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}

static class Table
{
    public static string Render(JsonObject r)
    {
        var s = new StringBuilder();
        var machine = r["machine"]!;
        s.AppendLine($"Machine: {machine["cpuModel"]}, {machine["cpus"]} cores, {machine["memoryGiB"]} GiB, {machine["os"]}, {machine["runtime"]}");
        s.AppendLine("| measure | result | target |");
        s.AppendLine("| --- | --- | --- |");
        var single = r["singlePosts"]!;
        s.AppendLine($"| single POSTs, {single["connections"]} connections, Idempotency-Key each | {single["entriesPerSecond"]} entries/s, p50 {single["p50Ms"]} ms, p99 {single["p99Ms"]} ms ({single["entries"]} entries, {single["failures"]} failed) | ≥ 10,000/s, p99 ≤ 25 ms |");
        var batch = r["batchPosts"]!;
        s.AppendLine($"| batch POSTs of {batch["batchSize"]}, {batch["concurrentBatches"]} concurrent | {batch["entriesPerSecond"]} entries/s ({batch["entries"]} entries, {batch["failures"]} failed) | ≥ 150,000/s |");
        var reports = r["reports"]!;
        s.AppendLine($"| trial balance now (median of 30) | {reports["trialBalanceNowMedianMs"]} ms | ≤ 10 ms |");
        s.AppendLine($"| trial balance as of {reports["asOfDate"]} (median of 30) | {reports["trialBalanceAsOfMiddleMedianMs"]} ms | ≤ 50 ms |");
        s.AppendLine($"| first page (100) of one account's journal entries (median of 30) | {reports["accountFirstPageMedianMs"]} ms | |");
        s.AppendLine($"| first page (100) of one account's ledger with running balance (median of 30) | {reports["accountLedgerFirstPageMedianMs"]} ms | |");
        s.AppendLine($"| balance sheet as of {reports["asOfDate"]} (median of 30) | {reports["balanceSheetAsOfMiddleMedianMs"]} ms | |");
        s.AppendLine($"| server peak RSS | {r["serverPeakRssMB"]} MB | ≤ 300 MB |");
        var baseline = r["baseline"]!;
        s.AppendLine($"| baseline: raw SQLite, prepared inserts, one transaction | {baseline["entriesPerSecond"]} entries/s ({baseline["rowsPerSecond"]} rows/s) | |");
        s.AppendLine($"| database size after run | {r["databaseMB"]} MB | |");
        return s.ToString();
    }
}
