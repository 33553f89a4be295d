using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using NodaTime;

namespace Ledger.Api.Infrastructure;

/// <summary>
/// The single writer. Every write is queued here; the writer drains whatever is waiting into one
/// BEGIN IMMEDIATE transaction (group commit), runs each request inside its own savepoint so a failing
/// request rolls back alone, commits once with synchronous=FULL, and only then completes the requests.
/// An acknowledged write is therefore on disk.
/// </summary>
public sealed class LedgerWriter : IHostedService, IDisposable
{
    private const int MaxRequestsPerGroup = 1024;

    private readonly Channel<WriteRequest> _queue = Channel.CreateUnbounded<WriteRequest>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });
    private readonly LedgerDatabase _database;
    private readonly RecordingClock _clock;
    private readonly ILogger<LedgerWriter> _logger;
    private readonly Thread _thread;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _started;

    public LedgerWriter(LedgerDatabase database, RecordingClock clock, ILogger<LedgerWriter> logger)
    {
        _database = database;
        _clock = clock;
        _logger = logger;
        _thread = new Thread(Run) { IsBackground = true, Name = "ledger-writer" };
    }

    /// <summary>Groups committed so far; exposed for tests and the benchmark.</summary>
    public long GroupsCommitted => Interlocked.Read(ref _groups);
    private long _groups;

    /// <summary>
    /// Queues <paramref name="work"/>; completes after the transaction holding it has committed.
    /// Work that only posts journal entries passes <paramref name="defersGroupState"/> = true: it may keep running
    /// totals in memory for the rest of the group (<see cref="IGroupState"/>), written once before the commit.
    /// Any other work first sees all such state written out, so its SQL reads current values.
    /// </summary>
    public Task<T> WriteAsync<T>(Func<WriteSession, T> work, bool defersGroupState = false)
    {
        EnsureStarted();
        var request = new WriteRequest<T>(work, defersGroupState);
        if (!_queue.Writer.TryWrite(request))
            throw new InvalidOperationException("The ledger writer is shutting down.");
        return request.Task;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        EnsureStarted();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        if (Volatile.Read(ref _started) == 1) await _stopped.Task.WaitAsync(cancellationToken);
    }

    public void Dispose() => _queue.Writer.TryComplete();

    private void EnsureStarted()
    {
        if (Interlocked.Exchange(ref _started, 1) == 0) _thread.Start();
    }

    private void Run()
    {
        try
        {
            using var connection = _database.OpenWriter();
            using var session = new WriteSession(connection);
            _clock.Resume(session.LastRecorded());
            var group = new List<WriteRequest>(MaxRequestsPerGroup);
            var reader = _queue.Reader;
            while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
            {
                group.Clear();
                while (group.Count < MaxRequestsPerGroup && reader.TryRead(out var request)) group.Add(request);
                if (group.Count == 0) continue;
                var committed = false;
                try
                {
                    committed = CommitGroup(session, group);
                }
                finally
                {
                    _clock.CloseGroup(committed);
                }
            }
        }
        catch (Exception ex)
        {
            _logger.LogCritical(ex, "The ledger writer stopped.");
            _queue.Writer.TryComplete(ex);
            while (_queue.Reader.TryRead(out var pending)) pending.Fail(ex);
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }

    /// <returns>Whether the group committed.</returns>
    private bool CommitGroup(WriteSession session, List<WriteRequest> group)
    {
        session.BeginGroup(_clock.OpenGroup());
        try
        {
            session.Execute("BEGIN IMMEDIATE");
        }
        catch (Exception ex)
        {
            foreach (var request in group) request.Fail(ex);
            return false;
        }

        var outcomes = new bool[group.Count];
        for (var i = 0; i < group.Count; i++)
        {
            try
            {
                if (!group[i].DefersGroupState) session.FlushGroupState();
                session.Execute("SAVEPOINT request");
            }
            catch (Exception ex)
            {
                // Not this request's fault, but the group cannot go on: fail what is left rather than stop the writer.
                group[i].Fail(ex);
                FailRest(group, outcomes, i, ex);
                RollbackGroup(session);
                return false;
            }
            session.BeginRequest(group[i].DefersGroupState);
            try
            {
                group[i].Execute(session);
                session.Execute("RELEASE request");
                session.KeepRequest();
                outcomes[i] = true;
            }
            catch (Exception ex)
            {
                if (!TryRollbackRequest(session))
                {
                    // The transaction itself is gone (SQLite rolled it back on an I/O or full-disk error):
                    // nothing in this group can be acknowledged.
                    group[i].Fail(ex);
                    FailRest(group, outcomes, i, ex);
                    RollbackGroup(session);
                    return false;
                }
                session.DiscardRequest();
                group[i].Fail(ex);
            }
        }

        try
        {
            session.FlushGroupState();
            session.RecordCommit();
            session.Execute("COMMIT");
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Group commit failed; {Count} requests fail with it.", group.Count);
            RollbackGroup(session);
            FailRest(group, outcomes, -1, ex);
            return false;
        }

        Interlocked.Increment(ref _groups);
        session.RunAfterCommit();
        for (var i = 0; i < group.Count; i++)
            if (outcomes[i]) group[i].Complete();
        return true;
    }

    private static void RollbackGroup(WriteSession session)
    {
        session.ResetGroupState();
        try { session.Execute("ROLLBACK"); } catch (SqliteException) { /* already rolled back by SQLite */ }
    }

    private static bool TryRollbackRequest(WriteSession session)
    {
        try
        {
            session.Execute("ROLLBACK TO request");
            session.Execute("RELEASE request");
            return true;
        }
        catch (SqliteException)
        {
            return false;
        }
    }

    private static void FailRest(List<WriteRequest> group, bool[] outcomes, int failedIndex, Exception ex)
    {
        var failure = new WriteNotCommittedException(ex);
        // Requests before failedIndex that did not succeed have already failed on their own.
        for (var i = 0; i < group.Count; i++)
            if (i != failedIndex && (outcomes[i] || i > failedIndex)) group[i].Fail(failure);
    }

    private abstract class WriteRequest(bool defersGroupState)
    {
        public bool DefersGroupState { get; } = defersGroupState;
        public abstract void Execute(WriteSession session);
        public abstract void Complete();
        public abstract void Fail(Exception ex);
    }

    private sealed class WriteRequest<T>(Func<WriteSession, T> work, bool defersGroupState) : WriteRequest(defersGroupState)
    {
        private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _result;

        public Task<T> Task => _completion.Task;
        public override void Execute(WriteSession session) => _result = work(session);
        public override void Complete() => _completion.TrySetResult(_result!);
        public override void Fail(Exception ex) => _completion.TrySetException(ex);
    }
}

/// <summary>A write that was accepted by the writer but whose transaction did not commit.</summary>
public sealed class WriteNotCommittedException(Exception inner)
    : Exception("The transaction holding this write did not commit; nothing of it was written.", inner);

/// <summary>
/// What a write request sees inside the writer: the connection (already in a transaction and a savepoint),
/// prepared commands reused across requests, the group's timestamp and application-generated ids.
/// </summary>
public sealed class WriteSession : IDisposable
{
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _nextIds = new(StringComparer.Ordinal);
    private readonly List<Action> _afterCommit = [];
    private readonly List<Action> _requestAfterCommit = [];
    private readonly Dictionary<Type, IGroupState> _groupStates = [];
    private long _maxEntryIdInGroup;
    private long _requestMaxEntryId;

    internal WriteSession(SqliteConnection connection) => Connection = connection;

    public SqliteConnection Connection { get; }

    /// <summary>The instant at which everything in this group is recorded (see <see cref="RecordingClock"/>).</summary>
    public Instant Now { get; private set; }

    /// <summary>A prepared command for <paramref name="sql"/>, created once and reused for the life of the writer.</summary>
    public SqliteCommand Command(string sql)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = Connection.CreateCommand();
            command.CommandText = sql;
            _commands[sql] = command;
        }
        return command;
    }

    /// <summary>The next id for <paramref name="table"/> (ids are generated here, not by the database).</summary>
    public long NextId(string table)
    {
        if (!_nextIds.TryGetValue(table, out var next))
        {
            using var command = Connection.CreateCommand();
            command.CommandText = $"SELECT COALESCE(MAX(id), 0) FROM {table}";
            next = Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) + 1;
        }
        _nextIds[table] = next + 1;
        return next;
    }

    /// <summary>True while running work that asked to defer group state (see <see cref="LedgerWriter.WriteAsync{T}"/>).</summary>
    public bool DefersGroupState { get; private set; }

    /// <summary>The group-scoped state of type <typeparamref name="TState"/>, created on first use.</summary>
    public TState GroupState<TState>() where TState : IGroupState, new()
    {
        if (!_groupStates.TryGetValue(typeof(TState), out var state)) _groupStates[typeof(TState)] = state = new TState();
        return (TState)state;
    }

    /// <summary>Notes that a journal entry was written, so the commit records which entries it holds.</summary>
    public void EntryWritten(long entryId) => _requestMaxEntryId = Math.Max(_requestMaxEntryId, entryId);

    /// <summary>Runs <paramref name="action"/> after the commit, and only if this request's writes are in it.</summary>
    public void AfterCommit(Action action) => _requestAfterCommit.Add(action);

    internal void Execute(string sql) => Command(sql).ExecuteNonQuery();

    internal Instant LastRecorded()
    {
        using var command = Connection.CreateCommand();
        command.CommandText = "SELECT MAX(recorded_at) FROM commits";
        return command.ExecuteScalar() is string text ? Timestamps.Parse(text) : Instant.MinValue;
    }

    internal void BeginGroup(Instant now)
    {
        Now = now;
        _maxEntryIdInGroup = 0;
        _afterCommit.Clear();
    }

    internal void BeginRequest(bool defersGroupState)
    {
        DefersGroupState = defersGroupState;
        _requestMaxEntryId = 0;
        _requestAfterCommit.Clear();
    }

    internal void DiscardRequest()
    {
        _requestMaxEntryId = 0;
        _requestAfterCommit.Clear();
        foreach (var state in _groupStates.Values) state.DiscardRequest();
    }

    /// <summary>Writes out every deferred group state and forgets what it cached, so plain SQL sees current rows.</summary>
    internal void FlushGroupState()
    {
        foreach (var state in _groupStates.Values) state.Flush(this);
    }

    internal void ResetGroupState()
    {
        foreach (var state in _groupStates.Values) state.Reset();
    }

    /// <summary>
    /// Every group leaves its instant, entries or not: after a restart, even on a clock set back, no group is stamped
    /// before what is already stored (an account version, a lock-date change) or before a settled knownAt.
    /// </summary>
    internal void RecordCommit()
    {
        var command = Command("INSERT INTO commits (id, recorded_at, max_entry_id) VALUES (@id, @recorded_at, @max_entry_id)");
        command.Bind("@id", NextId("commits"))
            .Bind("@recorded_at", Timestamps.Format(Now))
            .Bind("@max_entry_id", _maxEntryIdInGroup)
            .ExecuteNonQuery();
    }

    // A request that released its savepoint keeps its notes; called before the next request starts and at commit.
    internal void KeepRequest()
    {
        foreach (var state in _groupStates.Values) state.KeepRequest();
        _maxEntryIdInGroup = Math.Max(_maxEntryIdInGroup, _requestMaxEntryId);
        _afterCommit.AddRange(_requestAfterCommit);
        _requestMaxEntryId = 0;
        _requestAfterCommit.Clear();
    }

    internal void RunAfterCommit()
    {
        foreach (var action in _afterCommit) action();
        _afterCommit.Clear();
    }

    public void Dispose()
    {
        foreach (var command in _commands.Values) command.Dispose();
    }
}

/// <summary>
/// State a kind of write keeps in memory across the requests of one group commit (running totals, say) and writes
/// out once. A request's changes are staged until its savepoint is released (<see cref="KeepRequest"/>) and dropped
/// if it rolls back (<see cref="DiscardRequest"/>).
/// </summary>
public interface IGroupState
{
    void KeepRequest();
    void DiscardRequest();
    /// <summary>Writes out everything kept so far and forgets every cached row.</summary>
    void Flush(WriteSession session);
    /// <summary>Forgets everything without writing (the transaction is being rolled back).</summary>
    void Reset();
}

public static class SqliteCommandExtensions
{
    /// <summary>Sets a named parameter, adding it the first time the (reused) command sees it.</summary>
    public static SqliteCommand Bind(this SqliteCommand command, string name, object? value)
    {
        var parameters = command.Parameters;
        var index = parameters.IndexOf(name);
        if (index >= 0) parameters[index].Value = value ?? DBNull.Value;
        else parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }
}
