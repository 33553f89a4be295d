using System.Data.Common;
using Dapper;
using NodaTime;

namespace Ledger.Api.Infrastructure;

/// <summary>The database engines a Ledger runs on; chosen by the connection string.</summary>
public enum DatabaseEngine
{
    /// <summary>An embedded file (<c>Data Source=…</c>): one API process, a single writer with group commit.</summary>
    Sqlite,

    /// <summary>A PostgreSQL server (<c>Host=…</c>): several API processes, optional hot-standby replica for reads.</summary>
    Postgres,
}

/// <summary>
/// The storage port: everything that differs between the engines lives behind it (how connections are opened, how
/// a write transaction starts and how its rows are locked, where ids come from, how a read snapshot is pinned, how
/// "as known at" is bounded, how the schema is migrated). Feature code writes SQL in the subset both engines accept
/// against <see cref="DbConnection"/> and names no engine type. Writes go through <see cref="LedgerWriter"/>, which
/// owns transactions and concurrency on top of this.
/// </summary>
public abstract class LedgerDatabase
{
    public abstract DatabaseEngine Engine { get; }

    /// <summary>The file behind an embedded database, if any (the generated admin key is written beside it).</summary>
    public virtual string? FilePath => null;

    /// <summary>Chooses the engine by the connection string: <c>Host=…</c> is PostgreSQL, anything else SQLite.</summary>
    public static LedgerDatabase Create(string connectionString, string? replicaConnectionString, int writerCacheMiB)
    {
        if (IsPostgres(connectionString))
            return new PostgresLedgerDatabase(connectionString, replicaConnectionString);
        if (!string.IsNullOrWhiteSpace(replicaConnectionString))
            throw new InvalidOperationException("ConnectionStrings:LedgerReplica needs a PostgreSQL primary (Host=…); SQLite has no replicas.");
        return new SqliteLedgerDatabase(connectionString, writerCacheMiB);
    }

    public static bool IsPostgres(string connectionString)
    {
        var builder = new DbConnectionStringBuilder { ConnectionString = connectionString };
        return builder.ContainsKey("Host") || builder.ContainsKey("Server") && !builder.ContainsKey("Data Source");
    }

    /// <summary>A pooled connection to the primary, for reads that must see every acknowledged write.</summary>
    public abstract DbConnection OpenRead();

    public abstract Task<DbConnection> OpenReadAsync(CancellationToken ct = default);

    /// <summary>
    /// A pooled connection for reads that may come from a replica (lists, reports); the primary when there is none.
    /// A replica lags: reads that must see a write just acknowledged use <see cref="OpenReadAsync"/>.
    /// </summary>
    public virtual Task<DbConnection> OpenReplicaReadAsync(CancellationToken ct = default) => OpenReadAsync(ct);

    /// <summary>
    /// A connection for a read that must count everything committed to the primary so far (a report as known at an
    /// instant the caller just settled): the replica once it has replayed that far, else the primary.
    /// </summary>
    public virtual Task<DbConnection> OpenCaughtUpReadAsync(CancellationToken ct = default) => OpenReadAsync(ct);

    /// <summary>Opens the writer's connection (see <see cref="LedgerWriter"/>).</summary>
    internal abstract DbConnection OpenWriter();

    /// <summary>Starts a write transaction.</summary>
    internal abstract string BeginWriteSql { get; }

    /// <summary>
    /// Starts a read-only transaction whose reads all see one snapshot, so a report that adds several queries balances.
    /// </summary>
    internal abstract string BeginSnapshotSql { get; }

    /// <summary>
    /// Makes the rest of the write transaction plan each statement for its values (see
    /// <see cref="WriteSession.PlanReadsForValues"/>); null where the engine keeps no plans across statements (SQLite).
    /// </summary>
    internal virtual string? PlanForValuesSql => null;

    /// <summary>
    /// Whether a book's monthly account totals can be read by book and month directly: PostgreSQL has an index on
    /// (book_id, period) (its migration 0011). SQLite stores them in (account, month) order without an index by book (its
    /// migration 0011), so it reaches them through the book's accounts.
    /// </summary>
    internal virtual bool MonthlyTotalsIndexedByBook => false;

    /// <summary>Whether the engine lets one process write at a time (SQLite: ids and totals may be cached in memory).</summary>
    public bool SingleWriterProcess => Engine == DatabaseEngine.Sqlite;

    /// <summary>
    /// Inserts <paramref name="rows"/> into <paramref name="table"/> inside the session's transaction: one prepared
    /// INSERT per row here; PostgreSQL copies larger sets in binary (one round trip instead of one per row).
    /// Values are long, int, string or null.
    /// </summary>
    internal virtual void InsertRows(WriteSession session, string table, string[] columns, IReadOnlyList<object?[]> rows)
    {
        if (rows.Count == 0) return;
        var command = session.Command(InsertSql(table, columns));
        foreach (var row in rows)
        {
            for (var c = 0; c < columns.Length; c++) command.Bind("@" + columns[c], row[c]);
            command.ExecuteNonQuery();
        }
    }

    /// <summary>
    /// Starts the write transaction of a group that writes <paramref name="bookId"/> (if any) on a database several
    /// processes share: locks the book's row, so the group waits for any other process's group on the book, and answers
    /// the book's last commit stamp. Only engines with several writing processes have it.
    /// </summary>
    /// <param name="reads">What the group reads as it begins, under the book's lock, in the same round trip: its
    /// requests' idempotency keys (a book group only) and blocks of ids.</param>
    internal virtual string? BeginBookGroup(WriteSession session, string? bookId, GroupStartReads reads) =>
        throw new InvalidOperationException($"{Engine} has a single writer; it locks no book rows.");

    /// <summary>
    /// Commits a group's transaction and begins the next group's in the same round trip (engines with several writing
    /// processes; see <see cref="PostgresLedgerDatabase"/>). Throws when this group did not commit; answers the next
    /// group's book's last stamp, or sets <paramref name="nextFailure"/> when this group committed and the next did not begin.
    /// </summary>
    internal virtual string? CommitAndBegin(WriteSession session, DbConnection connection, IReadOnlyList<WriteSession.Deferred> pending,
        string? nextBookId, GroupStartReads nextReads, Action committed, out Exception? nextFailure) =>
        throw new InvalidOperationException($"{Engine} has a single writer; its groups begin on their own.");

    /// <summary>
    /// Begins a group that started from what this process knew of its book (<see cref="KnownBookStart"/>), when its first
    /// statement is about to be sent or at once: the transaction, the book's row lock, the proof that nobody committed to
    /// the book since, and in the same round trip the ids of <see cref="GroupStartReads.Ids"/> and the accounts of
    /// <see cref="GroupStartReads.AccountCodes"/> (what was not known), answered in <paramref name="reads"/> (engines with
    /// several writing processes).
    /// </summary>
    /// <exception cref="KnownStartFailedException">The group did not begin, or the book changed: it runs again from what is stored.</exception>
    internal virtual void BeginKnownGroup(DbConnection connection, string bookId, KnownBookStart known, GroupStartReads reads) =>
        throw new InvalidOperationException($"{Engine} has a single writer; its groups read what they need as they go.");

    /// <summary>
    /// A group that started from what this process knew of its book and sent nothing yet, in one round trip: its
    /// transaction, the book's lock and the proof that nobody committed to the book since, its rows, ids drawn for the
    /// book's next group (<paramref name="draw"/>) and COMMIT.
    /// </summary>
    /// <returns>The ids drawn, by table.</returns>
    /// <exception cref="KnownStartFailedException">Nothing of the group was committed: it runs again from what is stored.</exception>
    /// <exception cref="CommitOutcomeUnknownException">Whether the COMMIT got through is not known.</exception>
    internal virtual Dictionary<string, List<long>> CommitKnownGroup(DbConnection connection, IReadOnlyList<WriteSession.Deferred> pending,
        string bookId, KnownBookStart known, IReadOnlyList<(string Table, int Count)> draw) =>
        throw new InvalidOperationException($"{Engine} has a single writer; its groups read what they need as they go.");

    /// <summary>
    /// Runs <paramref name="sql"/> once per row of parameter values (named <paramref name="names"/>): a prepared
    /// command per row here; PostgreSQL sends them all in one round trip.
    /// </summary>
    /// <param name="rowsSql">
    /// The same work for many rows in one statement, with <c>{rows}</c> where the rows go as <c>(v1, v2, …), (…)</c>:
    /// engines that pay per statement (PostgreSQL) use it, a chunk of rows at a time; SQLite runs <paramref name="sql"/>.
    /// </param>
    internal virtual void ExecuteMany(WriteSession session, string sql, string[] names, IReadOnlyList<object?[]> rows, string? rowsSql = null)
    {
        if (rows.Count == 0) return;
        var command = session.Command(sql);
        foreach (var row in rows)
        {
            for (var c = 0; c < names.Length; c++) command.Bind(names[c], row[c]);
            command.ExecuteNonQuery();
        }
    }

    /// <summary>
    /// Streams the rows of a read whose <paramref name="columns"/> columns are all integers (ids, amounts, buckets) to
    /// <paramref name="onRow"/>, on <paramref name="connection"/> and in whatever transaction it is in: for reports that
    /// sum a few hundred thousand rows in the API rather than have the database sort them. The array passed is reused
    /// for every row. Parameters are named as in the SQL (<c>@name</c>); values are long, int, string or null.
    /// </summary>
    public virtual async Task ReadIntegerRowsAsync(DbConnection connection, string sql, IReadOnlyDictionary<string, object?> parameters, int columns,
        Action<long[]> onRow, CancellationToken ct = default)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Bind(name, value);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (reader.FieldCount != columns) throw new InvalidOperationException($"The read gives {reader.FieldCount} columns, not {columns}.");
        var row = new long[columns];
        while (await reader.ReadAsync(ct))
        {
            for (var i = 0; i < columns; i++) row[i] = reader.GetInt64(i);
            onRow(row);
        }
    }

    /// <summary>
    /// What a group on an engine with several writing processes reads as it begins (see <see cref="BeginBookGroup"/>):
    /// asked for in <see cref="Keys"/> and <see cref="Ids"/>, answered in <see cref="StoredKeys"/> and <see cref="DrawnIds"/>.
    /// </summary>
    internal sealed class GroupStartReads
    {
        public IReadOnlyList<string> Keys { get; init; } = [];

        public IReadOnlyList<(string Table, int Count)> Ids { get; init; } = [];

        /// <summary>Whether to read the book's last event (its sequence and hash), which the group's first event chains from.</summary>
        public bool EventHead { get; init; }

        /// <summary>The book's last event, when <see cref="EventHead"/> asked for it: (0, genesis) for a book without events.</summary>
        public (long Sequence, string Hash)? Head { get; set; }

        /// <summary>The keys of <see cref="Keys"/> already stored for the book.</summary>
        public List<StoredKey> StoredKeys { get; } = [];

        public Dictionary<string, List<long>> DrawnIds { get; } = new(StringComparer.Ordinal);

        /// <summary>
        /// Account codes the group's requests said they will post to (<see cref="WriteHints.AccountCodes"/>): read with
        /// the book's posting state, so that the requests find them read rather than each reading its own (or the
        /// group reading the whole chart).
        /// </summary>
        public IReadOnlyCollection<string> AccountCodes { get; init; } = [];

        /// <summary>The book's row as the lock read it (null: no book, or no book asked for).</summary>
        public BookPostingRow? Book { get; set; }

        /// <summary>The accounts of <see cref="AccountCodes"/> the book has; a code not here is not in the book.</summary>
        public List<AccountPostingRow> Accounts { get; } = [];
    }

    /// <summary>What posting needs of a book's row: its next number, debit total, lock date and control accounts.</summary>
    internal readonly record struct BookPostingRow(long NextNumber, long TotalDebit, string? LockDate, string? ReceivablesAccount,
        string? PayablesAccount);

    /// <summary>What posting needs of an account's row: its id, whether it is archived, its all-time totals.</summary>
    internal readonly record struct AccountPostingRow(string Code, long Id, bool Archived, long Debit, long Credit);

    /// <summary>
    /// What this process knows of a book as its own last group there committed it (engines with several writing
    /// processes): the book's posting row, the accounts that group held, the book's last event, that group's stamp and
    /// commit record, and ids drawn under the book's lock and not yet used. The book's next group in this process may
    /// start from it instead of reading (see <see cref="LedgerWriter"/>); it holds only while no other group has committed
    /// to the book, which the group proves under the lock before anything of it can commit.
    /// </summary>
    /// <remarks>
    /// <see cref="Accounts"/> is handed from group to group, not copied: the group that starts from it reads through to it
    /// and, at its end, writes into it what it read or changed (a group that fails leaves nothing known, so a dictionary
    /// it changed is never used again).
    /// </remarks>
    internal sealed record KnownBookStart(BookPostingRow Book, Dictionary<string, AccountPostingRow> Accounts,
        (long Sequence, string Hash) Head)
    {
        /// <summary>The stamp of the group that left the book so (its commit record's recorded_at).</summary>
        public string Stamp { get; init; } = "";

        /// <summary>That group's commit record: every later group of the book records another, stamped at or after <see cref="Stamp"/>.</summary>
        public long CommitId { get; init; }

        /// <summary>Ids drawn under the book's lock by this process and not used, by table, in the order drawn.</summary>
        public Dictionary<string, List<long>> Ids { get; init; } = new(StringComparer.Ordinal);
    }

    internal sealed record StoredKey(string Key, string RequestHash, int StatusCode, string? Location, string ResponseBody);

    /// <summary>Sends rows that a session deferred (only engines whose <see cref="InsertRows"/> defers need this).</summary>
    internal virtual void WriteDeferred(DbConnection connection, IReadOnlyList<WriteSession.Deferred> pending) =>
        throw new InvalidOperationException($"{Engine} does not defer writes.");

    /// <summary>Sends what a session still defers, then commits its transaction.</summary>
    internal virtual void CommitWith(WriteSession session, DbConnection connection, IReadOnlyList<WriteSession.Deferred> pending)
    {
        if (pending.Count > 0) WriteDeferred(connection, pending);
        using var commit = connection.CreateCommand();
        commit.CommandText = "COMMIT";
        commit.ExecuteNonQuery();
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _insertSql = new(StringComparer.Ordinal);

    protected string InsertSql(string table, string[] columns) =>
        _insertSql.GetOrAdd(table + "(" + string.Join(',', columns) + ")",
            _ => $"INSERT INTO {table} ({string.Join(", ", columns)}) VALUES ({string.Join(", ", columns.Select(c => "@" + c))})");

    /// <summary>Brings the schema up to date; safe when several processes start at once.</summary>
    public abstract void Migrate();

    /// <summary>
    /// The highest entry id of <paramref name="bookId"/> whose commit was recorded at or before <paramref name="knownAt"/>:
    /// entries with higher ids were not yet known then.
    /// </summary>
    public abstract Task<long> LastEntryRecordedAsync(DbConnection connection, string bookId, Instant knownAt);

    /// <summary>
    /// Applies every embedded migration of <paramref name="engineFolder"/> not yet recorded in schema_migrations, each in
    /// its own transaction with its record.
    /// </summary>
    protected static void ApplyMigrations(DbConnection connection, string engineFolder, string versionType)
    {
        connection.Execute($"""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version {versionType} PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at TEXT NOT NULL
            )
            """);
        var applied = connection.Query<long>("SELECT version FROM schema_migrations").ToHashSet();
        foreach (var (version, name, sql) in EmbeddedMigrations(engineFolder))
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

    /// <summary>The embedded migrations of one engine, in version order.</summary>
    protected static IEnumerable<(long Version, string Name, string Sql)> EmbeddedMigrations(string engineFolder)
    {
        var assembly = typeof(LedgerDatabase).Assembly;
        var prefix = $"migrations/{engineFolder}/";
        foreach (var resource in assembly.GetManifestResourceNames()
                     .Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
                     .Order(StringComparer.Ordinal))
        {
            var name = resource[prefix.Length..^".sql".Length];
            var version = long.Parse(name[..name.IndexOf('_')], System.Globalization.CultureInfo.InvariantCulture);
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            yield return (version, name, reader.ReadToEnd());
        }
    }
}

public static class DbCommandExtensions
{
    /// <summary>Sets a named parameter, adding it the first time the (reused) command sees it.</summary>
    public static DbCommand Bind(this DbCommand command, string name, object? value)
    {
        var parameters = command.Parameters;
        var index = parameters.IndexOf(name);
        if (index >= 0)
        {
            parameters[index].Value = value ?? DBNull.Value;
            return command;
        }
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        parameters.Add(parameter);
        return command;
    }
}
