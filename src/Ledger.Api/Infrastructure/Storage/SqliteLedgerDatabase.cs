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

    private readonly Lock _fileLock = new();
    private IReadOnlyList<string>? _fileModeChanges;

    /// <summary>
    /// What making the files owner-only changed or could not change (see <see cref="PrepareFile"/>): one sentence each,
    /// for the log at start-up. Empty for a new file, a file that was already owner-only, or an in-memory database.
    /// </summary>
    public IReadOnlyList<string> FileModeChanges
    {
        get
        {
            PrepareFile();
            return _fileModeChanges ?? [];
        }
    }

    /// <summary>
    /// Before anything opens the database: on Unix, a new database file is created empty with mode 0600 (owner read and
    /// write), from which SQLite gives its -wal, -shm and -journal files the same mode; existing files that group or
    /// others may read or write are made owner-only, as the admin key file beside them is. Once per process.
    /// </summary>
    private void PrepareFile()
    {
        if (_filePath is null || Volatile.Read(ref _fileModeChanges) is not null) return;
        lock (_fileLock)
        {
            if (_fileModeChanges is not null) return;
            Volatile.Write(ref _fileModeChanges, OwnerOnlyFiles.Prepare(_filePath));
        }
    }

    public override DbConnection OpenRead()
    {
        PrepareFile();
        var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        return connection;
    }

    public override async Task<DbConnection> OpenReadAsync(CancellationToken ct = default)
    {
        PrepareFile();
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
        PrepareFile();
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

/// <summary>The SQLite files of a database, readable and writable by their owner only (Unix).</summary>
internal static class OwnerOnlyFiles
{
    private const UnixFileMode GroupOrOthers = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>The database file and the files SQLite keeps beside it.</summary>
    public static string[] Of(string databasePath) =>
        [databasePath, databasePath + "-wal", databasePath + "-shm", databasePath + "-journal"];

    /// <summary>
    /// Creates the folder and, if missing, the database file (empty, mode 0600, so there is no moment at which it is
    /// readable by others); then takes group and other permissions off any of its files that has them. Answers what it
    /// changed, or could not, one sentence each.
    /// </summary>
    public static IReadOnlyList<string> Prepare(string databasePath)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(databasePath)!);
        if (OperatingSystem.IsWindows()) return [];
        try
        {
            // SQLite takes an empty file for an empty database and gives the files it creates beside it this file's mode.
            using var created = new FileStream(databasePath, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
        }
        catch (IOException) when (File.Exists(databasePath))
        {
            // An existing database: checked below with the rest.
        }

        var changes = new List<string>();
        foreach (var file in Of(databasePath))
        {
            if (!File.Exists(file)) continue;
            var mode = File.GetUnixFileMode(file);
            if ((mode & GroupOrOthers) == 0) continue;
            var owner = mode & ~GroupOrOthers;
            try
            {
                File.SetUnixFileMode(file, owner);
                changes.Add($"{file} was mode {Octal(mode)}, readable or writable beyond its owner; it is now {Octal(owner)}.");
            }
            catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
            {
                changes.Add($"{file} is mode {Octal(mode)}, readable or writable beyond its owner, and could not be made {Octal(owner)}: {ex.Message}");
            }
        }
        return changes;
    }

    public static string Octal(UnixFileMode mode) => Convert.ToString((int)mode & 0x1FF, 8).PadLeft(4, '0');
}
