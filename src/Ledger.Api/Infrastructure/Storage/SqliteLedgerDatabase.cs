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

    /// <summary>
    /// One prepared INSERT per row, run through SQLite's native API (<see cref="NativeStatement"/>): a batch of
    /// 10,000 entries writes about 40,000 rows, and binding their values by name through Microsoft.Data.Sqlite, which
    /// looks every parameter up by its name again on each run, took a sixth of the writer's time.
    /// </summary>
    internal override void InsertRows(WriteSession session, string table, string[] columns, IReadOnlyList<object?[]> rows)
    {
        if (rows.Count == 0) return;
        var sql = InsertSql(table, columns);
        var statement = session.EngineStatement(sql, connection => new NativeStatement((SqliteConnection)connection, sql, columns.Select(c => "@" + c).ToArray()));
        foreach (var row in rows) statement.Run(row);
    }

    /// <summary>As <see cref="InsertRows"/>, for any statement run once per row of values (running totals, say).</summary>
    internal override void ExecuteMany(WriteSession session, string sql, string[] names, IReadOnlyList<object?[]> rows, string? rowsSql = null)
    {
        if (rows.Count == 0) return;
        var statement = session.EngineStatement(sql, connection => new NativeStatement((SqliteConnection)connection, sql, names));
        foreach (var row in rows) statement.Run(row);
    }

    /// <summary>
    /// Through SQLite's native API: Microsoft.Data.Sqlite's reader checks and converts each value on the way, which took
    /// 80 of 117 ms to read the 200,000 items of an aged-receivables report, the query itself 36.
    /// </summary>
    public override Task ReadIntegerRowsAsync(DbConnection connection, string sql, IReadOnlyDictionary<string, object?> parameters, int columns,
        Action<long[]> onRow, CancellationToken ct = default)
    {
        var db = ((SqliteConnection)connection).Handle ?? throw new InvalidOperationException("The connection is not open.");
        using (var statement = NativeStatement.Prepare(db, sql))
        {
            if (SQLitePCL.raw.sqlite3_column_count(statement) != columns)
                throw new InvalidOperationException($"The read gives {SQLitePCL.raw.sqlite3_column_count(statement)} columns, not {columns}.");
            var utf8 = new byte[256];
            foreach (var (name, value) in parameters)
            {
                var position = SQLitePCL.raw.sqlite3_bind_parameter_index(statement, name);
                if (position <= 0) continue; // a parameter this statement does not use, as a command would ignore it
                NativeStatement.Bind(db, statement, position, value, ref utf8);
            }
            var row = new long[columns];
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                var rc = SQLitePCL.raw.sqlite3_step(statement);
                if (rc == SQLitePCL.raw.SQLITE_DONE) break;
                if (rc != SQLitePCL.raw.SQLITE_ROW) SqliteException.ThrowExceptionForRC(rc, db);
                for (var i = 0; i < columns; i++) row[i] = SQLitePCL.raw.sqlite3_column_int64(statement, i);
                onRow(row);
            }
        }
        return Task.CompletedTask;
    }

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

/// <summary>
/// A statement prepared once on the writer's connection and run through SQLite's native API, with its parameters bound
/// by the positions looked up when it was prepared. It runs inside whatever transaction the connection is in, as the
/// connection's commands do; failures are the same <see cref="SqliteException"/> (code and extended code) a command throws.
/// </summary>
internal sealed class NativeStatement : IDisposable
{
    private readonly SQLitePCL.sqlite3 _db;
    private readonly SQLitePCL.sqlite3_stmt _statement;
    private readonly int[] _positions;

    public NativeStatement(SqliteConnection connection, string sql, string[] names)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("The writer's connection is not open.");
        _statement = Prepare(_db, sql);
        _positions = new int[names.Length];
        for (var i = 0; i < names.Length; i++)
        {
            _positions[i] = SQLitePCL.raw.sqlite3_bind_parameter_index(_statement, names[i]);
            // A name the SQL does not hold would silently leave its value unbound (NULL): refuse it here instead.
            if (_positions[i] <= 0) throw new ArgumentException($"The statement has no parameter {names[i]}: {sql}");
        }
        if (SQLitePCL.raw.sqlite3_bind_parameter_count(_statement) != names.Length)
            throw new ArgumentException($"The statement has other parameters than {string.Join(", ", names)}: {sql}");
    }

    /// <summary>Binds one row of values (long, int, string or null, in the order of the names) and runs the statement.</summary>
    public void Run(object?[] values)
    {
        if (values.Length != _positions.Length)
            throw new ArgumentException($"{values.Length} values for {_positions.Length} parameters.", nameof(values));
        for (var i = 0; i < values.Length; i++) Bind(_db, _statement, _positions[i], values[i], ref _utf8);
        var step = SQLitePCL.raw.sqlite3_step(_statement);
        if (step is SQLitePCL.raw.SQLITE_DONE or SQLitePCL.raw.SQLITE_ROW)
        {
            SQLitePCL.raw.sqlite3_reset(_statement);
            return;
        }
        try
        {
            SqliteException.ThrowExceptionForRC(step, _db); // the message is read before the reset below
        }
        finally
        {
            SQLitePCL.raw.sqlite3_reset(_statement);
        }
    }

    private byte[] _utf8 = new byte[1024];

    /// <summary>Prepares <paramref name="sql"/> on <paramref name="db"/>; a failure is the <see cref="SqliteException"/> a command would throw.</summary>
    public static SQLitePCL.sqlite3_stmt Prepare(SQLitePCL.sqlite3 db, string sql)
    {
        var rc = SQLitePCL.raw.sqlite3_prepare_v2(db, sql, out var statement);
        if (rc != SQLitePCL.raw.SQLITE_OK)
        {
            statement.Dispose();
            SqliteException.ThrowExceptionForRC(rc, db);
        }
        return statement;
    }

    /// <summary>
    /// Binds one value (long, int, bool, string or null) at <paramref name="position"/>: the one place the writer's
    /// statements and the integer reads bind. <paramref name="utf8"/> is the caller's reusable buffer for text.
    /// </summary>
    public static void Bind(SQLitePCL.sqlite3 db, SQLitePCL.sqlite3_stmt statement, int position, object? value, ref byte[] utf8)
    {
        var rc = value switch
        {
            null => SQLitePCL.raw.sqlite3_bind_null(statement, position),
            long l => SQLitePCL.raw.sqlite3_bind_int64(statement, position, l),
            int n => SQLitePCL.raw.sqlite3_bind_int64(statement, position, n),
            bool b => SQLitePCL.raw.sqlite3_bind_int64(statement, position, b ? 1 : 0),
            string text => SQLitePCL.raw.sqlite3_bind_text(statement, position, Utf8(text, ref utf8)),
            byte[] bytes => SQLitePCL.raw.sqlite3_bind_blob(statement, position, bytes),
            var other => throw new ArgumentException($"Cannot bind a {other.GetType().Name}."),
        };
        if (rc != SQLitePCL.raw.SQLITE_OK) SqliteException.ThrowExceptionForRC(rc, db);
    }

    private const int MaxKeptBuffer = 64 * 1024;

    // .NET's encoder, as Microsoft.Data.Sqlite uses: the stored bytes are the bytes the event hashes were taken over,
    // even for text SQLite would convert otherwise (a lone surrogate becomes U+FFFD). SQLite copies the bytes it binds.
    private static ReadOnlySpan<byte> Utf8(string text, ref byte[] buffer)
    {
        var most = System.Text.Encoding.UTF8.GetMaxByteCount(text.Length);
        // Bounded: a rare long text (an imported statement's event) gets bytes of its own rather than growing the buffer for good.
        if (most > MaxKeptBuffer) return System.Text.Encoding.UTF8.GetBytes(text);
        if (buffer.Length < most) buffer = new byte[Math.Max(most, buffer.Length * 2)];
        return buffer.AsSpan(0, System.Text.Encoding.UTF8.GetBytes(text, buffer));
    }

    public void Dispose() => _statement.Dispose();
}
