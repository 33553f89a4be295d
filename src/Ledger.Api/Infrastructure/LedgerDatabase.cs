using System.Reflection;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Ledger.Api.Infrastructure;

/// <summary>
/// The SQLite file behind a Ledger. Reads open pooled connections; every write goes through
/// <see cref="LedgerWriter"/>, which owns the one writing connection.
/// </summary>
public sealed class LedgerDatabase
{
    public string ConnectionString { get; }
    public string? FilePath { get; }

    /// <summary>The writer's SQLite page cache. Index pages touched by posting stay hot; larger books want more.</summary>
    public int WriterCacheMiB { get; }

    public LedgerDatabase(string connectionString, int writerCacheMiB = 32)
    {
        WriterCacheMiB = writerCacheMiB is > 0 and <= 4096 ? writerCacheMiB
            : throw new ArgumentOutOfRangeException(nameof(writerCacheMiB), "Ledger:WriterCacheMiB must be between 1 and 4096.");
        var builder = new SqliteConnectionStringBuilder(connectionString)
        {
            Pooling = true,
            ForeignKeys = true,
            DefaultTimeout = 30,
        };
        ConnectionString = builder.ToString();
        FilePath = builder.DataSource is { Length: > 0 } ds && ds != ":memory:" && builder.Mode != SqliteOpenMode.Memory
            ? Path.GetFullPath(ds)
            : null;
    }

    public SqliteConnection OpenRead()
    {
        var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        return connection;
    }

    public async Task<SqliteConnection> OpenReadAsync(CancellationToken ct = default)
    {
        var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync(ct);
        return connection;
    }

    /// <summary>
    /// Opens the writing connection: WAL, synchronous=FULL so an acknowledged commit survives power loss, and a page
    /// cache large enough for the hot index pages. The writer still checkpoints every 4,000 WAL pages — only a
    /// checkpoint with no writer running beside it completes and lets the WAL restart, so under constant load the
    /// log would otherwise grow without end — but <see cref="WalCheckpointer"/> copies most pages beforehand.
    /// </summary>
    internal SqliteConnection OpenWriter()
    {
        var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        connection.Execute($"PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=30000; PRAGMA cache_size=-{WriterCacheMiB * 1024}; PRAGMA wal_autocheckpoint=4000;");
        return connection;
    }

    /// <summary>Applies every embedded migration not yet recorded in schema_migrations, each in its own transaction.</summary>
    public void Migrate()
    {
        if (FilePath is not null) Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
        using var connection = OpenWriter();
        connection.Execute("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at TEXT NOT NULL
            )
            """);
        var applied = connection.Query<long>("SELECT version FROM schema_migrations").ToHashSet();
        foreach (var (version, name, sql) in EmbeddedMigrations())
        {
            if (applied.Contains(version)) continue;
            using var tx = connection.BeginTransaction();
            connection.Execute(sql, transaction: tx);
            connection.Execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@version, @name, @at)",
                new { version, name, at = DateTimeOffset.UtcNow.ToString("O") }, tx);
            tx.Commit();
        }
    }

    private static IEnumerable<(long Version, string Name, string Sql)> EmbeddedMigrations()
    {
        var assembly = typeof(LedgerDatabase).Assembly;
        foreach (var resource in assembly.GetManifestResourceNames()
                     .Where(n => n.StartsWith("migrations/", StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
                     .Order(StringComparer.Ordinal))
        {
            var name = resource["migrations/".Length..^".sql".Length];
            var version = long.Parse(name[..name.IndexOf('_')], System.Globalization.CultureInfo.InvariantCulture);
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            yield return (version, name, reader.ReadToEnd());
        }
    }
}
