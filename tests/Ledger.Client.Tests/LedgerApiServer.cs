using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Http.HttpClientLibrary;

namespace Ledger.Client.Tests;

/// <summary>
/// The real API as its own process (<c>dotnet Ledger.Api.dll</c>, Kestrel on a free loopback port) on a temporary
/// SQLite file with a known admin key: one per test class (an xunit class fixture). <see cref="Client"/> is the
/// generated <see cref="LedgerClient"/> talking to it.
/// </summary>
public sealed class LedgerApiServer : IAsyncLifetime
{
    public string AdminKey { get; } = "client-test-admin-" + Guid.NewGuid().ToString("N");
    public Uri BaseAddress { get; private set; } = null!;
    public LedgerClient Client { get; private set; } = null!;

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "ledger-client-test-" + Guid.NewGuid().ToString("N"));
    private readonly StringBuilder _log = new();
    private Process? _process;
    private HttpClient? _http;
    private HttpClientRequestAdapter? _adapter;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        var port = FreePort();
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
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => Log(e.Data);
        _process.ErrorDataReceived += (_, e) => Log(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        // Kiota's HttpClient with its default handlers (headers inspection among them), the key as a default header:
        // Kiota's ApiKeyAuthenticationProvider refuses plain http, and the API here is on loopback http.
        _http = KiotaClientFactory.Create();
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        _adapter = new HttpClientRequestAdapter(new AnonymousAuthenticationProvider(), httpClient: _http)
        {
            BaseUrl = BaseAddress.ToString().TrimEnd('/'),
        };
        Client = new LedgerClient(_adapter);

        // Ready once GET /health answers (through the generated client too).
        for (var i = 0; i < 300; i++)
        {
            if (_process.HasExited) throw new InvalidOperationException($"The API exited with code {_process.ExitCode}:\n{ServerLog}");
            try
            {
                if (await Client.Health.GetAsync() is not null) return;
            }
            catch (HttpRequestException) { }
            await Task.Delay(100);
        }
        throw new TimeoutException($"The API did not answer /health at {BaseAddress}:\n{ServerLog}");
    }

    /// <summary>What the server printed (warnings and errors), for failure messages.</summary>
    public string ServerLog
    {
        get { lock (_log) return _log.ToString(); }
    }

    public Task DisposeAsync()
    {
        _adapter?.Dispose();
        _http?.Dispose();
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        _process?.Dispose();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    private void Log(string? line)
    {
        if (line is null) return;
        lock (_log) _log.AppendLine(line);
    }

    // The API is built beside the tests (the project reference), in the same configuration and framework.
    private static string ApiAssemblyPath()
    {
        var testDir = new DirectoryInfo(AppContext.BaseDirectory); // …/tests/Ledger.Client.Tests/bin/<Configuration>/<framework>/
        var framework = testDir.Name;
        var configuration = testDir.Parent!.Name;
        var root = testDir;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Ledger.sln"))) root = root.Parent;
        if (root is null) throw new InvalidOperationException("Cannot find the repository root from " + AppContext.BaseDirectory);
        var path = Path.Combine(root.FullName, "src", "Ledger.Api", "bin", configuration, framework, "Ledger.Api.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException("Build the API first.", path);
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
