using System.Diagnostics;
using Npgsql;

namespace Ledger.Api.Tests.Support;

/// <summary>
/// A throwaway PostgreSQL cluster for the tests, made from the machine's packages (initdb, pg_ctl) in a temporary
/// folder on a free loopback port, and removed when the test process ends. Nothing assumes a server that is already
/// there. PostgreSQL refuses to run as root, so as root every server command runs as the <c>postgres</c> user.
/// Each test app gets a database of its own (<see cref="CreateDatabase"/>).
/// </summary>
public sealed class PostgresCluster
{
    private static readonly Lazy<PostgresCluster> SharedCluster = new(() => Start("primary"), LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly List<PostgresCluster> Started = [];

    private readonly string _binDir;
    private readonly string _directory;

    public int Port { get; }
    public string DataDirectory => Path.Combine(_directory, "data");

    /// <summary>Connection string of the maintenance database <c>postgres</c>.</summary>
    public string AdminConnectionString => ConnectionString("postgres");

    private PostgresCluster(string binDir, string directory, int port)
    {
        _binDir = binDir;
        _directory = directory;
        Port = port;
    }

    /// <summary>The cluster every PostgreSQL test shares (started on first use).</summary>
    public static PostgresCluster Shared => SharedCluster.Value;

    /// <summary>Why PostgreSQL tests cannot run here, or null when they can.</summary>
    public static string? UnavailableReason => FindBinDir() is null
        ? "PostgreSQL is not installed (no initdb/pg_ctl in /usr/lib/postgresql/*/bin or on PATH); install postgresql-15."
        : null;

    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=true;Maximum Pool Size=20;Connection Idle Lifetime=10";

    /// <summary>Creates a fresh, empty database and answers its connection string.</summary>
    public string CreateDatabase()
    {
        var name = $"ledger_test_{Guid.NewGuid():N}";
        using var connection = new NpgsqlConnection(AdminConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        command.ExecuteNonQuery();
        return ConnectionString(name);
    }

    /// <summary>Drops a database made by <see cref="CreateDatabase"/>, closing whatever is still connected to it.</summary>
    public void DropDatabase(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NpgsqlConnection.ClearAllPools();
        using var connection = new NpgsqlConnection(AdminConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// A streaming hot standby of this cluster, started from a base backup (pg_basebackup -R): reads on it see the
    /// primary's commits once replayed. Removed with the test process, or by <see cref="Stop"/>.
    /// </summary>
    public PostgresCluster StartStandby()
    {
        var directory = NewDirectory("standby");
        var port = ApiProcess.FreePort();
        Run(_binDir, "pg_basebackup", ["-h", "127.0.0.1", "-p", Port.ToString(), "-U", "postgres", "-D", Path.Combine(directory, "data"),
            "-R", "-X", "stream", "--checkpoint=fast"]);
        var standby = new PostgresCluster(_binDir, directory, port);
        standby.StartServer();
        lock (Started) Started.Add(standby);
        return standby;
    }

    /// <summary>A cluster of its own, for a test that copies or stops a whole server (a standby, say).</summary>
    public static PostgresCluster StartNew(string name) => Start(name);

    private static PostgresCluster Start(string name)
    {
        var binDir = FindBinDir() ?? throw new InvalidOperationException(UnavailableReason);
        RemoveStaleClusters();
        var directory = NewDirectory(name);
        var port = ApiProcess.FreePort();
        Run(binDir, "initdb", ["-D", Path.Combine(directory, "data"), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]);
        var cluster = new PostgresCluster(binDir, directory, port);
        cluster.StartServer();
        lock (Started)
        {
            if (Started.Count == 0) AppDomain.CurrentDomain.ProcessExit += (_, _) => StopAll();
            Started.Add(cluster);
        }
        return cluster;
    }

    private void StartServer()
    {
        // fsync off: the tests kill API processes, never this server, so its WAL need not reach the disk to prove
        // anything, and the suite stays fast. synchronous_commit stays on, as in production.
        var options = $"-p {Port} -k {_directory} -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off " +
                      "-c full_page_writes=off -c synchronous_commit=on -c hot_standby=on -c wal_level=replica -c max_wal_senders=10";
        Run(_binDir, "pg_ctl", ["-D", DataDirectory, "-o", options, "-l", Path.Combine(_directory, "server.log"), "-w", "-t", "60", "start"]);
    }

    /// <summary>Stops the server at once and removes its folder.</summary>
    public void Stop()
    {
        try { Run(_binDir, "pg_ctl", ["-D", DataDirectory, "-m", "immediate", "-w", "-t", "30", "stop"]); }
        catch (InvalidOperationException) { /* already stopped */ }
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static void StopAll()
    {
        lock (Started)
        {
            // Standbys first: they would otherwise keep asking the stopped primary for WAL.
            for (var i = Started.Count - 1; i >= 0; i--) Started[i].Stop();
            Started.Clear();
        }
    }

    /// <summary>
    /// The test host may be ended before its exit handler has removed its clusters: folders of earlier runs whose
    /// server is not running (no postmaster.pid) and which nothing has touched for ten minutes are removed here.
    /// </summary>
    private static void RemoveStaleClusters()
    {
        foreach (var directory in Directory.GetDirectories("/tmp", "ledger-pg-*"))
        {
            try
            {
                if (File.Exists(Path.Combine(directory, "data", "postmaster.pid"))) continue;
                if (DateTime.UtcNow - Directory.GetLastWriteTimeUtc(directory) < TimeSpan.FromMinutes(10)) continue;
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    private static string NewDirectory(string name)
    {
        // Under /tmp (world-searchable), not under a 0700 folder: the postgres user must reach it.
        var directory = Path.Combine("/tmp", $"ledger-pg-{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        if (IsRoot) Run(null, "chown", ["postgres:postgres", directory]);
        return directory;
    }

    private static bool IsRoot => Environment.UserName == "root";

    private static string? FindBinDir()
    {
        var candidates = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").OrderByDescending(d => d, StringComparer.Ordinal).Select(d => Path.Combine(d, "bin"))
            : [];
        foreach (var dir in candidates.Concat((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')))
            if (dir.Length > 0 && File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl"))) return dir;
        return null;
    }

    private static void Run(string? binDir, string program, string[] arguments)
    {
        var path = binDir is null ? program : Path.Combine(binDir, program);
        var start = IsRoot && binDir is not null
            ? new ProcessStartInfo("runuser", ["-u", "postgres", "--", path, .. arguments])
            : new ProcessStartInfo(path, arguments);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.WorkingDirectory = "/tmp";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{program} did not finish in 2 minutes.");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} failed ({process.ExitCode}): {output.Result} {error.Result}");
    }
}
