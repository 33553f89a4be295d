using System.Data.Common;
using Dapper;
using Npgsql;
using NodaTime;

namespace Ledger.Api.Infrastructure;

/// <summary>
/// A PostgreSQL database behind one or several API processes. Every process runs its own <see cref="LedgerWriter"/>;
/// they agree through the database: a write group locks its book's row (FOR UPDATE) before it reads or numbers
/// anything, ids come from sequences taken under that lock, and each group stamps its commit after the book's last.
/// Reads that may lag (lists, reports) can go to a hot standby (<c>ConnectionStrings:LedgerReplica</c>).
/// </summary>
public sealed class PostgresLedgerDatabase : LedgerDatabase, IDisposable
{
    // An arbitrary constant: the advisory lock that serialises migrations when several processes start at once.
    private const long MigrationLockKey = 0x4C65646765720001; // "Ledger" + 1

    // How long a read that must count the primary's latest commits waits for the replica before reading the primary.
    private static readonly TimeSpan ReplicaCatchUpLimit = TimeSpan.FromSeconds(2);

    private readonly NpgsqlDataSource _primary;
    private readonly NpgsqlDataSource? _replica;

    public PostgresLedgerDatabase(string connectionString, string? replicaConnectionString = null)
    {
        _primary = DataSource(connectionString);
        _replica = string.IsNullOrWhiteSpace(replicaConnectionString) ? null : DataSource(replicaConnectionString);
    }

    private static NpgsqlDataSource DataSource(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        // Statements are reused on every post; preparing them once per connection saves parsing and planning.
        if (builder.MaxAutoPrepare == 0) builder.MaxAutoPrepare = 100;
        // No JIT compilation: Ledger's statements are index lookups that finish in milliseconds, and the server compiles
        // only when the planner's cost estimate passes jit_above_cost, which happens when its statistics are stale (a
        // large import that autovacuum has not yet analyzed), i.e. exactly when the estimate is wrong. Then compiling
        // costs more than running: the trial balance as of mid-history (1,000 per-account sums) took 170-240 ms with
        // JIT (inlining and optimization of 12 functions) and 17 ms once analyzed (auto_explain, 1,000,000 entries,
        // fifteenth session). A deployment that wants it can still say jit=on in Options.
        if (builder.Options?.Contains("jit", StringComparison.OrdinalIgnoreCase) != true)
            builder.Options = string.IsNullOrWhiteSpace(builder.Options) ? "-c jit=off" : $"{builder.Options} -c jit=off";
        // Errors name the batch command that failed: a group committed with the next one's start (CommitAndBegin) tells
        // by it whether a failure came before its COMMIT or after.
        builder.IncludeFailedBatchedCommand = true;
        return new NpgsqlDataSourceBuilder(builder.ConnectionString).Build();
    }

    public override DatabaseEngine Engine => DatabaseEngine.Postgres;

    public bool HasReplica => _replica is not null;

    public override DbConnection OpenRead() => _primary.OpenConnection();

    public override async Task<DbConnection> OpenReadAsync(CancellationToken ct = default) => await _primary.OpenConnectionAsync(ct);

    public override async Task<DbConnection> OpenReplicaReadAsync(CancellationToken ct = default) =>
        await TryOpenReplicaAsync(ct, ping: true) ?? await _primary.OpenConnectionAsync(ct);

    // Until when (Environment.TickCount64) reads skip a replica that could not be reached; 0 while it answers.
    private long _replicaDownUntil;

    // How long reads go to the primary after the replica could not be reached, before it is tried again: a replica that
    // is down (or a host that drops packets) would otherwise cost every read a failed connect, up to its timeout.
    private const long ReplicaRetryAfterMs = 5_000;

    // The round trip that proves a pooled replica connection: short, as the primary can answer instead.
    private const int ReplicaPingSeconds = 2;

    /// <summary>
    /// A connection to the replica, or null when there is none or it cannot be reached (the primary answers then). With
    /// <paramref name="ping"/>, a round trip proves the connection first: a pooled connection to a replica that has
    /// since gone down opens without complaint and fails only at its first query, in the middle of the caller's read.
    /// </summary>
    private async Task<NpgsqlConnection?> TryOpenReplicaAsync(CancellationToken ct, bool ping = false)
    {
        if (_replica is null) return null;
        var downUntil = Volatile.Read(ref _replicaDownUntil);
        if (downUntil != 0)
        {
            // Down: until its pause is over the primary answers, and then one read (the one that moves the pause on)
            // tries the replica while the others still go to the primary, so a replica that times out stalls one read.
            var now = Environment.TickCount64;
            if (now < downUntil || Interlocked.CompareExchange(ref _replicaDownUntil, now + ReplicaRetryAfterMs, downUntil) != downUntil)
                return null;
        }
        NpgsqlConnection? connection = null;
        try
        {
            connection = await _replica.OpenConnectionAsync(ct);
            if (ping)
            {
                await using var command = new NpgsqlCommand("SELECT 1", connection) { CommandTimeout = ReplicaPingSeconds };
                await command.ExecuteScalarAsync(ct);
            }
            if (downUntil != 0) Volatile.Write(ref _replicaDownUntil, 0);
            return connection;
        }
        catch (Exception ex) when (ex is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException && !ct.IsCancellationRequested)
        {
            // A replica that cannot answer is no reason to fail the read: the primary can. Its idle connections are
            // dropped, as they are likely broken too.
            if (connection is not null) await connection.DisposeAsync();
            MarkReplicaDown();
            return null;
        }
        catch
        {
            if (connection is not null) await connection.DisposeAsync();
            throw;
        }
    }

    private void MarkReplicaDown()
    {
        Volatile.Write(ref _replicaDownUntil, Environment.TickCount64 + ReplicaRetryAfterMs);
        _replica?.Clear();
    }

    public override async Task<DbConnection> OpenCaughtUpReadAsync(CancellationToken ct = default)
    {
        if (_replica is null) return await _primary.OpenConnectionAsync(ct);
        string primaryLsn;
        await using (var primary = await _primary.OpenConnectionAsync(ct))
            primaryLsn = await primary.ExecuteScalarAsync<string>("SELECT pg_current_wal_lsn()::text") ?? "0/0";
        if (await TryOpenReplicaAsync(ct) is not { } replica) return await _primary.OpenConnectionAsync(ct);
        try
        {
            var deadline = DateTime.UtcNow + ReplicaCatchUpLimit;
            while (true)
            {
                var caughtUp = await replica.ExecuteScalarAsync<bool?>(
                    "SELECT pg_last_wal_replay_lsn() >= CAST(@lsn AS pg_lsn)", new { lsn = primaryLsn });
                if (caughtUp == true) return replica;
                if (DateTime.UtcNow >= deadline) break;
                await Task.Delay(5, ct);
            }
        }
        catch (NpgsqlException)
        {
            // A replica that cannot answer is no reason to fail the read: the primary can.
            MarkReplicaDown();
        }
        await replica.DisposeAsync();
        return await _primary.OpenConnectionAsync(ct);
    }

    /// <summary>
    /// The writer's connection: commits wait for the WAL to reach the disk (<c>synchronous_commit=on</c>, whatever the
    /// server's default), and a group waiting for a book another process holds, or left open by a stalled process, gives
    /// up after a bound instead of stopping this process's writer for every book.
    /// </summary>
    internal override DbConnection OpenWriter()
    {
        var connection = _primary.OpenConnection();
        // Named, so operators (and tests) can tell the writers apart in pg_stat_activity.
        connection.Execute("SET synchronous_commit = on; SET lock_timeout = '30s'; SET idle_in_transaction_session_timeout = '60s'; SET application_name = 'ledger-writer'");
        return connection;
    }

    // READ COMMITTED: the book's row lock orders writers; after taking it, every statement sees what they committed.
    internal override string BeginWriteSql => "BEGIN";

    internal override string BeginSnapshotSql => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

    internal override bool MonthlyTotalsIndexedByBook => true;

    // For the transaction only: the next group plans as usual again.
    internal override string? PlanForValuesSql => ForceCustomPlansSql;

    private const string ForceCustomPlansSql = "SET LOCAL plan_cache_mode = force_custom_plan";

    // Below this many rows, prepared INSERTs (one round trip each) beat a COPY (two round trips and its setup).
    private const int CopyThreshold = 16;

    internal override void InsertRows(WriteSession session, string table, string[] columns, IReadOnlyList<object?[]> rows)
    {
        if (rows.Count == 0) return;
        if (rows.Count < CopyThreshold)
        {
            // Sent with the request's other writes, in one round trip (WriteDeferred).
            session.DeferRows(table, columns, rows);
            return;
        }
        // Copied in the background while the writer goes on (see WriteSession.StartCopy); the caller may reuse its list.
        var owned = rows.ToArray();
        session.StartCopy(connection => Copy((NpgsqlConnection)connection, table, columns, owned));
    }

    private static void Copy(NpgsqlConnection connection, string table, string[] columns, object?[][] rows)
    {
        using var import = connection.BeginBinaryImport($"COPY {table} ({string.Join(", ", columns)}) FROM STDIN (FORMAT BINARY)");
        foreach (var row in rows)
        {
            import.StartRow();
            foreach (var value in row)
            {
                switch (value)
                {
                    case null: import.WriteNull(); break;
                    case long l: import.Write(l, NpgsqlTypes.NpgsqlDbType.Bigint); break;
                    case int i: import.Write((long)i, NpgsqlTypes.NpgsqlDbType.Bigint); break;
                    case string s: import.Write(s, NpgsqlTypes.NpgsqlDbType.Text); break;
                    case byte[] b: import.Write(b, NpgsqlTypes.NpgsqlDbType.Bytea); break;
                    default: throw new ArgumentException($"Cannot copy a {value.GetType().Name} into {table}.");
                }
            }
        }
        import.Complete();
    }

    // One round trip: begin, take the book's row lock, read its last stamp, its requests' idempotency keys and the ids
    // the group will draw (each read was a round trip of its own, which on this two-core machine cost 1-2.5 ms apiece).
    internal override string? BeginBookGroup(WriteSession session, string? bookId, GroupStartReads reads)
    {
        using var batch = new NpgsqlBatch((NpgsqlConnection)session.Connection);
        AddBeginCommands(batch, bookId, reads);
        if (batch.BatchCommands.Count == 1)
        {
            batch.ExecuteNonQuery();
            return null;
        }
        using var reader = batch.ExecuteReader();
        return ReadBeginResults(reader, bookId, reads, onEarlierResult: false);
    }

    /// <summary>
    /// Commits like <see cref="CommitWith"/> and, in the same round trip, begins the next group as
    /// <see cref="BeginBookGroup"/> would. Measured over 60,000 single posts (64 clients, 32 posts a group, 2-core host,
    /// seventeenth session): a group took about 12 ms, of which the round trip that began it 3-4 ms while the server
    /// worked on it for under 1 ms; sampling the writer's backend found it idle between a COMMIT and the next BEGIN in
    /// 27 % of samples. The rest of the wait is the writer's thread being woken and scheduled on cores that the
    /// requests, the load and the server share.
    /// </summary>
    /// <returns>The next group's book's last stamp, as <see cref="BeginBookGroup"/> answers it.</returns>
    /// <param name="committed">Called as soon as this group's COMMIT has succeeded, before the next group's start is read.</param>
    /// <param name="nextFailure">Set when this group committed but the next did not begin (a lock timeout, say): its
    /// transaction is then aborted, for the caller to roll back, and the next group begins on its own.</param>
    /// <exception cref="Exception">This group did not commit (as from <see cref="CommitWith"/>); the next did not begin.</exception>
    internal override string? CommitAndBegin(WriteSession session, DbConnection connection, IReadOnlyList<WriteSession.Deferred> pending,
        string? nextBookId, GroupStartReads nextReads, Action committed, out Exception? nextFailure)
    {
        nextFailure = null;
        using var batch = Deferred((NpgsqlConnection)connection, pending);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
        var commitIndex = batch.BatchCommands.Count - 1;
        // The first result with rows, so the reader stops here once the COMMIT has succeeded: an error from the batch
        // before the reader is open is this group's, an error after it the next group's. The error barrier after it (a
        // Sync) makes the server send what it has so far: without it the COMMIT's answer waited in the server's buffer
        // while the next BEGIN waited for its book's lock, and this group's callers with it. Past the barrier, an error
        // before it still stops the next group beginning: a failed statement leaves the transaction aborted, so the
        // BEGIN is refused; a COMMIT the server refused (it ends the transaction) lets the next group begin, and the
        // ROLLBACK that precedes the careful run ends that too.
        batch.BatchCommands.Add(new NpgsqlBatchCommand(CommittedMarkerSql) { AppendErrorBarrier = true });
        AddBeginCommands(batch, nextBookId, nextReads);
        NpgsqlDataReader reader;
        try
        {
            reader = batch.ExecuteReader();
        }
        catch (Exception ex)
        {
            var failedAt = FirstFailedCommand(ex, batch);
            // Not a statement's error (the connection, a timeout with no answer): whether the COMMIT got through is not
            // known. Never run the group again for it.
            if (failedAt < 0) throw new CommitOutcomeUnknownException(ex);
            // A row or the COMMIT refused: nothing of the group was committed (and the next did not begin).
            if (failedAt <= commitIndex) throw;
            // The COMMIT succeeded and a later statement failed before the marker's row came back: a cancel (a command
            // timeout) that the server could act on only after committing lands on the marker, say.
            committed();
            nextFailure = ex;
            return null;
        }
        try
        {
            // Asserted, since everything above rests on it: no statement before the COMMIT gives rows.
            if (reader.FieldCount != 1 || reader.GetName(0) != CommittedMarkerColumn)
                throw new CommitOutcomeUnknownException(new InvalidOperationException(
                    $"A statement before the COMMIT gave rows ({reader.GetName(0)}): the group's outcome cannot be told from the batch."));
            committed();
            var last = ReadBeginResults(reader, nextBookId, nextReads, onEarlierResult: true);
            reader.Dispose(); // reads what is left, so that an error in a later statement is met here
            return last;
        }
        catch (Exception ex)
        {
            try { reader.Dispose(); } catch (Exception) { /* the error above is the one to report */ }
            if (ex is CommitOutcomeUnknownException) throw;
            // After the COMMIT: the next group did not begin (its transaction aborted, or the connection gone).
            nextFailure = ex;
            return null;
        }
    }

    internal override void BeginKnownGroup(DbConnection connection, string bookId, KnownBookStart known, GroupStartReads reads)
    {
        using var batch = new NpgsqlBatch((NpgsqlConnection)connection) { Timeout = KnownBatchTimeoutSeconds };
        var check = AddKnownBeginCommands(batch, bookId, known);
        var draws = AddDraws(batch, reads.Ids);
        if (reads.AccountCodes.Count > 0) batch.BatchCommands.Add(AccountsByCode(bookId, reads.AccountCodes));
        try
        {
            using var reader = batch.ExecuteReader();
            foreach (var (table, ids) in ReadKnownStart(reader, draws)) reads.DrawnIds[table] = ids;
            if (reads.AccountCodes.Count > 0)
            {
                if (!reader.NextResult()) throw new InvalidOperationException("The group's start gave fewer results than it asked for.");
                ReadAccounts(reader, reads.Accounts);
            }
        }
        catch (Exception ex)
        {
            // Nothing was written yet, whatever failed: the group runs again from what is stored (and fails there if the
            // connection is gone or the lock cannot be had).
            throw new KnownStartFailedException(ex, bookChanged: FirstFailedCommand(ex, batch) == check, final: LockTimedOut(ex));
        }
    }

    // Drawn inside the transaction, under the lock: the book's next group in any process draws after them, and this
    // process's next group of the book uses them only if nobody committed to the book in between.
    private static List<string> AddDraws(NpgsqlBatch batch, IReadOnlyList<(string Table, int Count)> draw)
    {
        var draws = new List<string>(draw.Count);
        foreach (var (table, count) in draw)
        {
            if (count <= 0) continue;
            batch.BatchCommands.Add(Draw(table, count));
            draws.Add(table);
        }
        return draws;
    }

    /// <summary>The results of <see cref="AddKnownBeginCommands"/> and <see cref="AddDraws"/>: the ids drawn, by table.</summary>
    private static Dictionary<string, List<long>> ReadKnownStart(NpgsqlDataReader reader, List<string> draws)
    {
        // The statements with rows, in order: the lock's (the reader stands on it), the check's, each draw's.
        if (!reader.NextResult()) throw new InvalidOperationException("The group's start gave fewer results than it asked for.");
        var drawn = new Dictionary<string, List<long>>(StringComparer.Ordinal);
        foreach (var table in draws)
        {
            if (!reader.NextResult()) throw new InvalidOperationException("The group's draws gave fewer results than they asked for.");
            drawn[table] = ReadIds(reader);
        }
        return drawn;
    }

    /// <summary>Whether <paramref name="exception"/>, or one it carries, is the server giving up a lock wait (lock_timeout).</summary>
    private static bool LockTimedOut(Exception exception) =>
        ErrorsIn(exception).Any(e => e is PostgresException { SqlState: PostgresErrorCodes.LockNotAvailable });

    /// <summary>
    /// Measured over 60,000 single posts (64 clients, about 32 posts a group, 2-core host, seventeenth session): of the
    /// 12 ms a group took, the round trip that began it (lock, book, accounts, keys, ids) was 3-4 ms, though the server
    /// spent under 1 ms on it. A group of a book whose last group this process committed knows all of that already,
    /// except the keys, and those it inserts expecting them new: a key already stored fails the INSERT and, with it,
    /// the round trip.
    /// </summary>
    internal override Dictionary<string, List<long>> CommitKnownGroup(DbConnection connection, IReadOnlyList<WriteSession.Deferred> pending,
        string bookId, KnownBookStart known, IReadOnlyList<(string Table, int Count)> draw)
    {
        var npgsql = (NpgsqlConnection)connection;
        using var batch = new NpgsqlBatch(npgsql);
        var check = AddKnownBeginCommands(batch, bookId, known);
        AddDeferred(batch, npgsql, pending);
        var draws = AddDraws(batch, draw);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
        var commitIndex = batch.BatchCommands.Count - 1;
        // After the COMMIT, as in CommitAndBegin: an error the server reports once the COMMIT has answered (the session
        // ended by an administrator, say) falls on the marker, not on the COMMIT, and is known to have come after it.
        batch.BatchCommands.Add(new NpgsqlBatchCommand(CommittedMarkerSql));
        batch.Timeout = KnownBatchTimeoutSeconds;
        Dictionary<string, List<long>>? drawn = null;
        var committed = false;
        try
        {
            using var reader = batch.ExecuteReader();
            drawn = ReadKnownStart(reader, draws);
            if (!reader.NextResult() || reader.FieldCount != 1 || reader.GetName(0) != CommittedMarkerColumn)
                throw new CommitOutcomeUnknownException(new InvalidOperationException("The group's commit gave other results than it asked for."));
            committed = true; // the marker answered: what fails from here (finishing the reader) comes after the COMMIT
        }
        catch (CommitOutcomeUnknownException)
        {
            throw;
        }
        catch (Exception) when (committed)
        {
            return drawn!;
        }
        catch (Exception ex)
        {
            var failedAt = FirstFailedCommand(ex, batch);
            // Not a statement's error (the connection, a timeout with no answer): whether the COMMIT got through is not
            // known. Never run the group again for it.
            if (failedAt < 0) throw new CommitOutcomeUnknownException(ex);
            // A statement before the COMMIT, or the COMMIT itself, refused: the transaction is aborted, nothing committed.
            if (failedAt <= commitIndex) throw new KnownStartFailedException(ex, bookChanged: failedAt == check, final: LockTimedOut(ex));
            // The marker: the COMMIT had answered. The ids drawn stand, but the group's results were not all read: none
            // are handed on.
            return new Dictionary<string, List<long>>(StringComparer.Ordinal);
        }
        return drawn;
    }

    // Longer than the writer's lock_timeout (30 s, OpenWriter): a lock wait ends in the server's error, which names the
    // lock's statement (so nothing was committed), and not in the client giving up, which names none (outcome unknown).
    private const int KnownBatchTimeoutSeconds = 45;

    /// <summary>
    /// BEGIN, the book's row lock, and the check that the book is as <paramref name="known"/> says; answers the check's
    /// place in the batch.
    /// </summary>
    private static int AddKnownBeginCommands(NpgsqlBatch batch, string bookId, KnownBookStart known)
    {
        batch.BatchCommands.Add(new NpgsqlBatchCommand("BEGIN"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand(LockBookSql) { Parameters = { Parameter(null, bookId) } });
        batch.BatchCommands.Add(new NpgsqlBatchCommand(KnownBookCheckSql)
        {
            Parameters =
            {
                Parameter(null, bookId), Parameter(null, known.Book.NextNumber), Parameter(null, known.Book.TotalDebit),
                Parameter(null, known.Stamp), Parameter(null, known.CommitId), Parameter(null, known.Head.Sequence),
            },
        });
        return batch.BatchCommands.Count - 1;
    }

    // Run under the book's lock, so nothing can commit to the book after it and before this group. Every group of a book,
    // in every process, records a commit row stamped at or after the book's last (LedgerWriter.StampOf), so a last stamp
    // other than the known group's, or a later row with its stamp (commit ids are drawn under the lock, so a later group's
    // is higher; an earlier group of this process may share the stamp when another process's clock runs ahead), is a
    // group this process has not seen; the book's
    // numbers and last event are checked too, as what the group builds on. Each part is one index probe whatever the
    // plan: as "NOT EXISTS (… recorded_at >= $4 …)" and "sequence > $6", the generic plan Npgsql's prepared statement
    // settles on scanned both tables (one book holds every row of a benchmark's database), 2.8 ms a group on average
    // over 50,000 single posts and growing with the book; as MAX (read from the end of the index) and an equality probe,
    // 0.35 ms at 21,000 events.
    private const string KnownBookCheckSql = """
        SELECT ledger_expect(
            EXISTS (SELECT 1 FROM books WHERE id = $1 AND next_entry_number = $2 AND total_debit = $3)
            AND (SELECT MAX(recorded_at) FROM commits WHERE book_id = $1) = $4
            AND NOT EXISTS (SELECT 1 FROM commits WHERE book_id = $1 AND recorded_at = $4 AND id > $5)
            AND COALESCE((SELECT MAX(sequence) FROM events WHERE book_id = $1), 0) <= $6,
            'the book changed since this process last wrote it; its group runs again from what is stored')
        """;

    private const string CommittedMarkerColumn = "ledger_committed";

    /// <summary>
    /// The position in <paramref name="batch"/> of the first statement the server refused, from the exception and those
    /// it carries (Npgsql gathers the errors of a batch with error barriers into one); -1 if no statement was refused.
    /// </summary>
    private static int FirstFailedCommand(Exception exception, NpgsqlBatch batch)
    {
        var first = -1;
        foreach (var error in ErrorsIn(exception))
            if (error is NpgsqlException { BatchCommand: NpgsqlBatchCommand failed } && batch.BatchCommands.IndexOf(failed) is var at and >= 0)
                first = first < 0 ? at : Math.Min(first, at);
        return first;
    }

    /// <summary><paramref name="exception"/> and those it carries: inner exceptions, and each of an aggregate's.</summary>
    private static IEnumerable<Exception> ErrorsIn(Exception exception)
    {
        var pending = new Stack<Exception>();
        pending.Push(exception);
        // Bounded: an exception's inner exceptions form a finite tree; the count guard stops a malformed cycle.
        for (var visited = 0; pending.Count > 0 && visited < 64; visited++)
        {
            var current = pending.Pop();
            yield return current;
            if (current is AggregateException aggregate)
                foreach (var inner in aggregate.InnerExceptions) pending.Push(inner);
            else if (current.InnerException is { } inner) pending.Push(inner);
        }
    }

    private const string CommittedMarkerSql = "SELECT 1 AS " + CommittedMarkerColumn;

    private void AddBeginCommands(NpgsqlBatch batch, string? bookId, GroupStartReads reads)
    {
        batch.BatchCommands.Add(new NpgsqlBatchCommand(BeginWriteSql));
        if (bookId is not null)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand(LockBookSql) { Parameters = { Parameter(null, bookId) } });
            batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT MAX(recorded_at) FROM commits WHERE book_id = $1") { Parameters = { Parameter(null, bookId) } });
            if (reads.Keys.Count > 0)
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand(ForceCustomPlansSql));
                batch.BatchCommands.Add(KeyLookup(bookId, reads.Keys));
                batch.BatchCommands.Add(new NpgsqlBatchCommand("SET LOCAL plan_cache_mode TO DEFAULT"));
            }
            if (reads.AccountCodes.Count > 0) batch.BatchCommands.Add(AccountsByCode(bookId, reads.AccountCodes));
            if (reads.EventHead)
                // The book's last event, which the group's first event chains from: EventChain's own read of it.
                batch.BatchCommands.Add(new NpgsqlBatchCommand(Features.Audit.EventLog.EventChain.HeadSql)
                {
                    Parameters = { Parameter("@book_id", bookId) },
                });
        }
        // Drawn after the lock: later groups of the book, in any process, draw higher ids.
        foreach (var (table, count) in reads.Ids) batch.BatchCommands.Add(Draw(table, count));
    }

    /// <summary>
    /// The results of <see cref="AddBeginCommands"/>, in the order asked. Npgsql's reader starts on the first statement
    /// with rows and passes over those without (BEGIN, SET), so each result is reached by one more step, the first one
    /// too when the reader stands on an earlier result (<paramref name="onEarlierResult"/>).
    /// </summary>
    private static string? ReadBeginResults(NpgsqlDataReader reader, string? bookId, GroupStartReads reads, bool onEarlierResult)
    {
        var started = onEarlierResult;
        void NextResult()
        {
            if (started && !reader.NextResult()) throw new InvalidOperationException("The group's start gave fewer results than it asked for.");
            started = true;
        }
        string? last = null;
        if (bookId is not null)
        {
            NextResult(); // the lock's row, if the book exists: what posting needs of it, current once the lock is held
            if (reader.Read())
                reads.Book = new BookPostingRow(reader.GetInt64(1), reader.GetInt64(2), reader.IsDBNull(3) ? null : reader.GetString(3),
                    reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5));
            NextResult();
            last = reader.Read() && !reader.IsDBNull(0) ? reader.GetString(0) : null;
            if (reads.Keys.Count > 0)
            {
                NextResult();
                while (reader.Read())
                    reads.StoredKeys.Add(new StoredKey(reader.GetString(4), reader.GetString(0), (int)reader.GetInt64(1),
                        reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetString(3)));
            }
            if (reads.AccountCodes.Count > 0)
            {
                NextResult();
                ReadAccounts(reader, reads.Accounts);
            }
            if (reads.EventHead)
            {
                NextResult();
                reads.Head = reader.Read() ? (reader.GetInt64(0), reader.GetString(1)) : (0, Ledger.Domain.AuditChain.Genesis);
            }
        }
        foreach (var (table, _) in reads.Ids)
        {
            NextResult();
            reads.DrawnIds[table] = ReadIds(reader);
        }
        return last;
    }

    /// <summary><paramref name="count"/> ids from <paramref name="table"/>'s sequence (drawn under the book's lock).</summary>
    private static NpgsqlBatchCommand Draw(string table, int count) =>
        new($"SELECT nextval('{table}_id_seq') FROM generate_series(1, $1)") { Parameters = { Parameter(null, (long)count) } };

    private static List<long> ReadIds(NpgsqlDataReader reader)
    {
        var ids = new List<long>();
        while (reader.Read()) ids.Add(reader.GetInt64(0));
        return ids;
    }

    /// <summary>The accounts of <paramref name="bookId"/> among <paramref name="codes"/> (<see cref="SelectAccountsByCodeSql"/>).</summary>
    private static NpgsqlBatchCommand AccountsByCode(string bookId, IReadOnlyCollection<string> codes) =>
        new(SelectAccountsByCodeSql) { Parameters = { Parameter(null, bookId), new NpgsqlParameter<string[]> { TypedValue = [.. codes] } } };

    private static void ReadAccounts(NpgsqlDataReader reader, List<AccountPostingRow> into)
    {
        while (reader.Read())
            into.Add(new AccountPostingRow(reader.GetString(4), reader.GetInt64(0), reader.GetInt64(1) != 0, reader.GetInt64(2), reader.GetInt64(3)));
    }

    // The lock also reads what posting needs of the book (JournalPoster would otherwise read it in a round trip of its own).
    private const string LockBookSql =
        "SELECT id, next_entry_number, total_debit, lock_date, receivables_account, payables_account FROM books WHERE id = $1 FOR UPDATE";

    // The accounts a group's requests said they will post to, as JournalPoster reads them (same columns, same order). One
    // array parameter: one statement shape whatever the number of codes (at most 1,024, LedgerWriter.MaxHintedAccountCodes),
    // each code one probe of the (book_id, code) index. Without it a group of 8 or more requests read the whole chart (1,000
    // rows, 0.76 ms of the server's time a group of about 32 single posts, and growing with the chart), a smaller group an
    // IN list per request. Joined to unnest rather than "code = ANY($2)": planned for its 62 codes, ANY scanned all 1,000
    // accounts comparing each with every code (1.4 ms; 0.95 ms a group in the benchmark); the join probes the index per
    // code (0.16-0.2 ms) or hashes the codes (0.35 ms).
    private const string SelectAccountsByCodeSql =
        "SELECT a.id, a.archived, a.debit_total, a.credit_total, a.code FROM unnest($2) AS c(code) JOIN accounts a ON a.code = c.code " +
        "WHERE a.book_id = $1";

    /// <summary>
    /// One probe of the key index per key. As "idempotency_key IN (…)", auto_explain showed the lookup in a fresh database
    /// (no statistics yet) reading the book's whole key index and filtering it: 1,443 rows for none found, 2-5 ms per
    /// group and growing with the book, since the planner guessed a book holds about 20 keys. A lateral probe per key is a
    /// lookup by the whole primary key, which any estimate plans as one index scan; and it is planned for its values each
    /// time (the SETs around it), so a generic plan made while the table was small (a scan) is never reused once it is not.
    /// </summary>
    private static NpgsqlBatchCommand KeyLookup(string bookId, IReadOnlyList<string> keys)
    {
        var values = new System.Text.StringBuilder();
        var select = new NpgsqlBatchCommand();
        select.Parameters.Add(Parameter(null, bookId));
        for (var i = 0; i < keys.Count; i++)
        {
            values.Append(i == 0 ? "($" : ", ($").Append(i + 2).Append(')');
            select.Parameters.Add(Parameter(null, keys[i]));
        }
        select.CommandText = $"""
            SELECT x.request_hash, x.status_code, x.location, x.response_body, x.idempotency_key
            FROM (VALUES {values}) k (idempotency_key)
            CROSS JOIN LATERAL (SELECT i.request_hash, i.status_code, i.location, i.response_body, i.idempotency_key FROM idempotency_keys i
                                WHERE i.book_id = $1 AND i.idempotency_key = k.idempotency_key) x
            """;
        return select;
    }

    // Rows per multi-row statement: well inside PostgreSQL's 65,535 parameters, and a plan small enough to build fast.
    private const int RowsPerStatement = 1000;

    internal override void ExecuteMany(WriteSession session, string sql, string[] names, IReadOnlyList<object?[]> rows, string? rowsSql = null)
    {
        if (rows.Count == 0) return;
        if (session.Finishing)
        {
            // Sent with the group's commit (WriteSession.Commit): nothing reads before it.
            session.DeferStatement(sql, names, rows, rowsSql);
            return;
        }
        var connection = (NpgsqlConnection)session.Connection; // sends what was deferred before, in order
        using var batch = new NpgsqlBatch(connection);
        AddStatementCommands(batch, sql, names, rows, rowsSql);
        batch.ExecuteNonQuery();
    }

    private static void AddStatementCommands(NpgsqlBatch batch, string sql, string[] names, IReadOnlyList<object?[]> rows, string? rowsSql)
    {
        if (rowsSql is not null)
        {
            AddRowsCommands(batch, rowsSql, names.Length, rows);
            return;
        }
        foreach (var row in rows)
        {
            var command = new NpgsqlBatchCommand(sql);
            for (var c = 0; c < names.Length; c++) command.Parameters.Add(Parameter(names[c], row[c]));
            batch.BatchCommands.Add(command);
        }
    }

    /// <summary>
    /// Adds <paramref name="rowsSql"/> with <c>{rows}</c> spelled out as <c>($1, $2, …), (…)</c>, one statement per
    /// <see cref="RowsPerStatement"/> rows, each value a positional parameter.
    /// </summary>
    private static void AddRowsCommands(NpgsqlBatch batch, string rowsSql, int columns, IReadOnlyList<object?[]> rows)
    {
        if (rows.Count >= UnnestThreshold && UnnestCommand(rowsSql, columns, rows) is { } unnest)
        {
            batch.BatchCommands.Add(unnest);
            return;
        }
        for (var start = 0; start < rows.Count; start += RowsPerStatement)
        {
            var command = new NpgsqlBatchCommand();
            var values = new System.Text.StringBuilder();
            var n = 0;
            for (var r = start; r < Math.Min(rows.Count, start + RowsPerStatement); r++)
            {
                values.Append(r == start ? "(" : ", (");
                for (var c = 0; c < columns; c++)
                {
                    values.Append(c == 0 ? "$" : ", $").Append(++n);
                    command.Parameters.Add(Parameter(null, rows[r][c]));
                }
                values.Append(')');
            }
            command.CommandText = rowsSql.Replace("{rows}", values.ToString(), StringComparison.Ordinal);
            batch.BatchCommands.Add(command);
        }
    }

    // From this many rows, one array per column beats a VALUES list with a parameter per value.
    private const int UnnestThreshold = 64;

    /// <summary>
    /// <paramref name="rowsSql"/> reading its rows from one array per column (<c>unnest($1::bigint[], $2::text[], …)</c>,
    /// named column1, column2, … as a VALUES list's are), or null when a column is not all integers, all text or all bytes. A batch's
    /// monthly totals are about 15,000 rows: as VALUES lists that is 15 statements of 5,000 parameters each to parse and
    /// plan, as arrays one statement of five. A text column with one value in every row (the book's id: a group writes one
    /// book) is sent once, as a scalar, instead of as an array repeating it: 15,000 copies of a 36-character id were more
    /// than half of that statement's bytes, which the writer sends and the server unpacks while the commit waits.
    /// </summary>
    private static NpgsqlBatchCommand? UnnestCommand(string rowsSql, int columns, IReadOnlyList<object?[]> rows)
    {
        const string Placeholder = "VALUES {rows}";
        if (!rowsSql.Contains(Placeholder, StringComparison.Ordinal)) return null;
        var command = new NpgsqlBatchCommand();
        var arrays = new System.Text.StringBuilder();
        var selected = new System.Text.StringBuilder();
        var arrayNames = new List<string>(columns);
        for (var c = 0; c < columns; c++)
        {
            if (selected.Length > 0) selected.Append(", ");
            if (SameTextInEveryRow(rows, c) is { } constant)
            {
                command.Parameters.Add(new NpgsqlParameter { Value = constant, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
                selected.Append('$').Append(c + 1).Append("::text AS column").Append(c + 1);
                continue;
            }
            // The column's one element type: none when it mixes types, holds only nulls, or holds a type not sent this way.
            NpgsqlTypes.NpgsqlDbType? type = null;
            foreach (var row in rows)
            {
                if (row[c] is null) continue;
                var here = row[c] switch
                {
                    long or int => NpgsqlTypes.NpgsqlDbType.Bigint,
                    string => NpgsqlTypes.NpgsqlDbType.Text,
                    byte[] => NpgsqlTypes.NpgsqlDbType.Bytea,
                    _ => NpgsqlTypes.NpgsqlDbType.Unknown,
                };
                if (here == NpgsqlTypes.NpgsqlDbType.Unknown || (type is { } seen && seen != here)) return null;
                type = here;
            }
            if (type is not { } elementType) return null;
            object values = elementType switch
            {
                NpgsqlTypes.NpgsqlDbType.Bigint => Column(rows, c, v => v switch { long l => l, int i => (long?)i, _ => null }),
                NpgsqlTypes.NpgsqlDbType.Bytea => Column(rows, c, v => (byte[]?)v),
                _ => Column(rows, c, v => (string?)v),
            };
            command.Parameters.Add(new NpgsqlParameter { Value = values, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | elementType });
            arrays.Append(arrayNames.Count == 0 ? "$" : ", $").Append(c + 1).Append(elementType switch
            {
                NpgsqlTypes.NpgsqlDbType.Bigint => "::bigint[]",
                NpgsqlTypes.NpgsqlDbType.Bytea => "::bytea[]",
                _ => "::text[]",
            });
            arrayNames.Add($"column{c + 1}");
            selected.Append("u.column").Append(c + 1);
        }
        if (arrayNames.Count == 0) return null; // every row the same: not a case worth a form of its own
        command.CommandText = rowsSql.Replace(Placeholder,
            $"SELECT {selected} FROM unnest({arrays}) AS u({string.Join(", ", arrayNames)})", StringComparison.Ordinal);
        return command;
    }

    /// <summary>The one text <paramref name="column"/> holds in every row, or null when it holds anything else.</summary>
    private static string? SameTextInEveryRow(IReadOnlyList<object?[]> rows, int column)
    {
        if (rows[0][column] is not string first) return null;
        for (var r = 1; r < rows.Count; r++)
            if (rows[r][column] is not string text || !string.Equals(text, first, StringComparison.Ordinal)) return null;
        return first;
    }

    private static T[] Column<T>(IReadOnlyList<object?[]> rows, int column, Func<object?, T> value)
    {
        var values = new T[rows.Count];
        for (var r = 0; r < rows.Count; r++) values[r] = value(rows[r][column]);
        return values;
    }

    // A null name makes a positional parameter ($1, $2, …).
    private static NpgsqlParameter Parameter(string? name, object? value)
    {
        var parameter = value switch
        {
            null => new NpgsqlParameter { Value = DBNull.Value },
            long l => new NpgsqlParameter { Value = l, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint },
            int i => new NpgsqlParameter { Value = (long)i, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint },
            string s => new NpgsqlParameter { Value = s, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text },
            byte[] b => new NpgsqlParameter { Value = b, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bytea },
            var other => throw new ArgumentException($"Cannot send a {other.GetType().Name} as {name ?? "a value"}."),
        };
        if (name is not null) parameter.ParameterName = name;
        return parameter;
    }

    internal override void WriteDeferred(DbConnection connection, IReadOnlyList<WriteSession.Deferred> pending)
    {
        using var batch = Deferred((NpgsqlConnection)connection, pending);
        batch.ExecuteNonQuery();
    }

    // One round trip for the group's last writes and its COMMIT: a failure of any of them aborts the transaction and
    // surfaces here, as a refused COMMIT did, and the writer runs the group again carefully.
    internal override void CommitWith(WriteSession session, DbConnection connection, IReadOnlyList<WriteSession.Deferred> pending)
    {
        using var batch = Deferred((NpgsqlConnection)connection, pending);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
        batch.ExecuteNonQuery();
    }

    private NpgsqlBatch Deferred(NpgsqlConnection connection, IReadOnlyList<WriteSession.Deferred> pending)
    {
        var batch = new NpgsqlBatch(connection);
        AddDeferred(batch, connection, pending);
        return batch;
    }

    private void AddDeferred(NpgsqlBatch batch, NpgsqlConnection connection, IReadOnlyList<WriteSession.Deferred> pending)
    {
        foreach (var write in MergeInserts(pending, ReferencesOf(connection)))
        {
            switch (write)
            {
                case WriteSession.PendingRows (var table, var columns, var rows):
                    AddRowsCommands(batch, $"INSERT INTO {table} ({string.Join(", ", columns)}) VALUES {{rows}}", columns.Length, rows);
                    break;
                case WriteSession.PendingStatement statement:
                    AddStatementCommands(batch, statement.Sql, statement.Names, statement.Rows, statement.RowsSql);
                    break;
            }
        }
    }

    /// <summary>
    /// The deferred inserts as fewer statements: each one's rows join an earlier insert into the same table (same columns)
    /// when no insert between them is into a table the rows reference, so every row still follows what it references.
    /// A group's single posts, each deferring its entry, postings, event and idempotency row, so send four statements
    /// instead of four per request: measured in pg_stat_statements, the server ran one INSERT per table per request.
    /// </summary>
    internal static List<WriteSession.Deferred> MergeInserts(IReadOnlyList<WriteSession.Deferred> pending,
        IReadOnlyDictionary<string, HashSet<string>> references)
    {
        var merged = new List<WriteSession.Deferred>(pending.Count);
        var rowsOf = new Dictionary<int, List<object?[]>>();
        foreach (var write in pending)
        {
            // Other statements (the group's totals, sent with its commit) stay where they are, and nothing moves past them.
            if (write is not WriteSession.PendingRows insert)
            {
                merged.Add(write);
                continue;
            }
            var target = -1;
            references.TryGetValue(insert.Table, out var referenced);
            // Bounded by the statements so far, themselves at most the writes deferred.
            for (var i = merged.Count - 1; i >= 0; i--)
            {
                if (merged[i] is not WriteSession.PendingRows earlier) break;
                if (earlier.Table == insert.Table)
                {
                    if (earlier.Columns.AsSpan().SequenceEqual(insert.Columns)) target = i;
                    break;
                }
                if (referenced is not null && referenced.Contains(earlier.Table)) break;
            }
            if (target >= 0)
            {
                rowsOf[target].AddRange(insert.Rows);
                continue;
            }
            var rows = new List<object?[]>(insert.Rows);
            rowsOf[merged.Count] = rows;
            merged.Add(insert with { Rows = rows });
        }
        return merged;
    }

    private IReadOnlyDictionary<string, HashSet<string>>? _references;

    /// <summary>
    /// Which tables each table references through a foreign key, from the catalog (read once: migrations only ever run
    /// before the writer starts). A table that references itself is left out of its own set: rows of one statement may
    /// reference each other, the check running at the statement's end.
    /// </summary>
    private IReadOnlyDictionary<string, HashSet<string>> ReferencesOf(NpgsqlConnection connection)
    {
        if (_references is { } known) return known;
        var references = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        using (var command = new NpgsqlCommand("""
            SELECT c.relname, f.relname FROM pg_constraint k
            JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class f ON f.oid = k.confrelid
            WHERE k.contype = 'f' AND c.relnamespace = to_regnamespace(current_schema())::oid
            """, connection))
        using (var reader = command.ExecuteReader())
            while (reader.Read())
            {
                var (table, target) = (reader.GetString(0), reader.GetString(1));
                if (table == target) continue;
                if (!references.TryGetValue(table, out var set)) references[table] = set = new HashSet<string>(StringComparer.Ordinal);
                set.Add(target);
            }
        return _references = references;
    }

    public override void Migrate()
    {
        using var connection = _primary.OpenConnection();
        // Session-level advisory lock: the second process to start waits here, then finds everything applied.
        connection.Execute("SELECT pg_advisory_lock(@key)", new { key = MigrationLockKey });
        try
        {
            ApplyMigrations(connection, "postgresql", "BIGINT");
        }
        finally
        {
            connection.Execute("SELECT pg_advisory_unlock(@key)", new { key = MigrationLockKey });
        }
    }

    // Per book: each group writes one book, stamped after that book's previous group while holding its row lock.
    public override Task<long> LastEntryRecordedAsync(DbConnection connection, string bookId, Instant knownAt) =>
        connection.ExecuteScalarAsync<long>(LastRecordedSql, new { bookId, knownAt = Timestamps.Format(knownAt) });

    private const string LastRecordedSql =
        "SELECT COALESCE(MAX(max_entry_id), 0) FROM commits WHERE book_id = @bookId AND recorded_at <= @knownAt";

    public void Dispose()
    {
        _primary.Dispose();
        _replica?.Dispose();
    }
}
