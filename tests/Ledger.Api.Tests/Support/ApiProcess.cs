using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;

namespace Ledger.Api.Tests.Support;

/// <summary>
/// The API as a real operating-system process (Kestrel on loopback), so a test can SIGKILL it mid-write
/// and start it again on the same SQLite file.
/// </summary>
public sealed class ApiProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _output = [];
    public Uri BaseAddress { get; }

    /// <summary>What the process has written to stdout and stderr so far, line by line.</summary>
    public IReadOnlyList<string> Output()
    {
        lock (_output) return [.. _output];
    }

    private ApiProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    /// <param name="databasePath">A SQLite file path or a PostgreSQL connection string (<see cref="TestDatabase"/>).</param>
    /// <param name="workingDirectory">Where the process starts; by default the database's folder (or the temp folder).</param>
    /// <param name="quietLogging">Logs only warnings and errors; false leaves the levels to the API's appsettings.json.</param>
    public static async Task<ApiProcess> StartAsync(string databasePath, IReadOnlyDictionary<string, string>? environment = null,
        string? workingDirectory = null, bool quietLogging = true)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet", [ApiAssemblyPath(), "--urls", $"http://127.0.0.1:{port}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory
                ?? (databasePath.StartsWith("Host=", StringComparison.Ordinal) ? Path.GetTempPath() : Path.GetDirectoryName(databasePath)!),
        };
        start.Environment["ConnectionStrings__Ledger"] = TestDatabase.ConnectionString(databasePath);
        start.Environment["Ledger__AdminKey"] = LedgerApp.AdminKey;
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        if (quietLogging) start.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        var process = Process.Start(start)!;
        var api = new ApiProcess(process, new Uri($"http://127.0.0.1:{port}"));
        process.OutputDataReceived += (_, e) => api.Record(e.Data);
        process.ErrorDataReceived += (_, e) => api.Record(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var probe = new HttpClient { BaseAddress = api.BaseAddress };
        for (var i = 0; i < 300; i++)
        {
            if (process.HasExited) throw new InvalidOperationException($"The API exited with code {process.ExitCode}.");
            try
            {
                if ((await probe.GetAsync("/health")).IsSuccessStatusCode) return api;
            }
            catch (HttpRequestException) { }
            await Task.Delay(100);
        }
        throw new TimeoutException("The API did not answer /health.");
    }

    private void Record(string? line)
    {
        if (line is null) return;
        lock (_output) _output.Add(line);
    }

    public HttpClient Client()
    {
        var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", LedgerApp.AdminKey);
        return client;
    }

    /// <summary>SIGKILL: no shutdown code runs, exactly like a power cut as far as the process is concerned.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) Kill();
        await Task.CompletedTask;
        _process.Dispose();
    }

    // The API is built beside the tests (project reference), in the same configuration.
    private static string ApiAssemblyPath()
    {
        var testDir = new DirectoryInfo(AppContext.BaseDirectory); // …/tests/Ledger.Api.Tests/bin/<Configuration>/net10.0/
        var framework = testDir.Name;
        var configuration = testDir.Parent!.Name;
        var path = Path.Combine(RepositoryFiles.Root, "src", "Ledger.Api", "bin", configuration, framework, "Ledger.Api.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException("Build the API first.", path);
    }

    internal static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
