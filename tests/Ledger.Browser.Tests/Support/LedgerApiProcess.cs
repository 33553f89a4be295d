using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;

namespace Ledger.Browser.Tests.Support;

/// <summary>
/// The built Ledger API as a real operating-system process: Kestrel on a free loopback port, a temporary SQLite file
/// and a known admin key. A browser needs a real socket to talk to, which an in-memory test server does not give.
/// One per test class (<c>IClassFixture&lt;LedgerApiProcess&gt;</c>); disposing it kills the process and removes the
/// database folder.
/// </summary>
public sealed class LedgerApiProcess : IAsyncLifetime
{
    /// <summary>A test key, configured as <c>Ledger__AdminKey</c>; the browser types it into Swagger UI.</summary>
    public const string AdminKey = "browser-test-admin-key-0123456789";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"ledger-browser-{Guid.NewGuid():N}");
    // The process's last lines of output, to explain a failure to start or a 500 seen in the browser.
    private readonly ConcurrentQueue<string> _output = new();
    private Process? _process;

    public Uri BaseAddress { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        var port = FreeLoopbackPort();
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
        var start = new ProcessStartInfo("dotnet", [ApiAssemblyPath(), "--urls", BaseAddress.ToString()])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _directory,
        };
        start.Environment["ConnectionStrings__Ledger"] = $"Data Source={Path.Combine(_directory, "ledger.db")}";
        start.Environment["Ledger__AdminKey"] = AdminKey;
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        _process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        _process.OutputDataReceived += (_, line) => Remember(line.Data);
        _process.ErrorDataReceived += (_, line) => Remember(line.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        using var probe = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < StartTimeout)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"The API exited with code {_process.ExitCode}:\n{RecentOutput}");
            try
            {
                if ((await probe.GetAsync("/health")).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(100); // polling /health while the process starts; bounded by StartTimeout
        }
        throw new TimeoutException($"The API did not answer /health within {StartTimeout.TotalSeconds} s:\n{RecentOutput}");
    }

    /// <summary>A plain HTTP client with the admin key, to check what the browser did against the API itself.</summary>
    public HttpClient AdminClient()
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        return client;
    }

    public string RecentOutput => string.Join('\n', _output);

    public Task DisposeAsync()
    {
        if (_process is not null)
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit();
            }
            _process.Dispose();
        }
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException) { } // a leftover temporary folder is harmless; the test result matters more
        return Task.CompletedTask;
    }

    private void Remember(string? line)
    {
        if (line is null) return;
        _output.Enqueue(line);
        while (_output.Count > 200) _output.TryDequeue(out _);
    }

    // The API is built beside the tests (ProjectReference without the assembly), in the same configuration and framework.
    private static string ApiAssemblyPath()
    {
        var testDirectory = new DirectoryInfo(AppContext.BaseDirectory); // …/tests/Ledger.Browser.Tests/bin/<Configuration>/<framework>/
        var framework = testDirectory.Name;
        var configuration = testDirectory.Parent!.Name;
        var root = testDirectory;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Ledger.sln"))) root = root.Parent;
        if (root is null) throw new InvalidOperationException("Cannot find the repository root from " + AppContext.BaseDirectory);
        var path = Path.Combine(root.FullName, "src", "Ledger.Api", "bin", configuration, framework, "Ledger.Api.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException("Build the API first (dotnet build).", path);
    }

    private static int FreeLoopbackPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
