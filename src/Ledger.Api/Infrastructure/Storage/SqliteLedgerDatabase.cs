using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;
using NodaTime;

namespace Ledger.Api.Infrastructure;

/// <summary>
/// The SQLite file behind a Ledger. Reads open pooled connections; every write goes through
/// <see cref="LedgerWriter"/>, which owns the one writing connection. One API process per file: the writer caches
/// ids and running totals, which only holds while it is the file's only writer.
/// </summary>
public sealed class SqliteLedgerDatabase : LedgerDatabase
{
    public string ConnectionString { get; }
    private readonly string? _filePath;

    /// <summary>The writer's SQLite page cache. Index pages touched by posting stay hot; larger books want more.</summary>
    public int WriterCacheMiB { get; }

    public SqliteLedgerDatabase(string connectionString, int writerCacheMiB = 32)
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
        _filePath = builder.DataSource is { Length: > 0 } ds && ds != ":memory:" && builder.Mode != SqliteOpenMode.Memory
            ? Path.GetFullPath(ds)
            : null;
    }

    public override DatabaseEngine Engine => DatabaseEngine.Sqlite;

    public override string? FilePath => _filePath;

    public override DbConnection OpenRead()
    {
        var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        return connection;
    }

    public override async Task<DbConnection> OpenReadAsync(CancellationToken ct = default)
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
    internal override DbConnection OpenWriter()
    {
        var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        connection.Execute($"PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=30000; PRAGMA cache_size=-{WriterCacheMiB * 1024}; PRAGMA wal_autocheckpoint=4000;");
        return connection;
    }

    // IMMEDIATE takes the write lock at once: a group never fails half-way for want of it.
    internal override string BeginWriteSql => "BEGIN IMMEDIATE";

    // Deferred: it takes no lock and pins the snapshot at the first read. WAL readers never block the writer.
    internal override string BeginSnapshotSql => "BEGIN DEFERRED TRANSACTION";

    /// <summary>Applies every embedded migration not yet recorded in schema_migrations, each in its own transaction.</summary>
    public override void Migrate()
    {
        if (FilePath is not null) Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
        using var connection = OpenWriter();
        ApplyMigrations(connection, "sqlite", "INTEGER");
    }

    // One writer commits every book in one group, so commits are global: ids grow in commit order across the file.
    public override Task<long> LastEntryRecordedAsync(DbConnection connection, string bookId, Instant knownAt) =>
        connection.ExecuteScalarAsync<long>(LastRecordedSql, new { knownAt = Timestamps.Format(knownAt) });

    private const string LastRecordedSql = "SELECT COALESCE(MAX(max_entry_id), 0) FROM commits WHERE recorded_at <= @knownAt";

    /// <summary>Clears every pooled connection (tests delete database files afterwards).</summary>
    public static void ClearAllPools() => SqliteConnection.ClearAllPools();
}
