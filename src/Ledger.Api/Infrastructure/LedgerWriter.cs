using System.Data.Common;
using System.Threading.Channels;
using Dapper;
using NodaTime;

using Ledger.Api.Infrastructure.Security;

namespace Ledger.Api.Infrastructure;

/// <summary>
/// The writer of one API process. Every write is queued here; the writer drains whatever is waiting into one
/// transaction (group commit), makes a failing request roll back alone (on SQLite each request runs in its own
/// savepoint; on PostgreSQL see <see cref="CommitSharedGroup"/>), commits once durably (SQLite synchronous=FULL, PostgreSQL synchronous_commit=on), and only then completes the
/// requests. An acknowledged write is therefore on disk.
/// <para>
/// On SQLite it is the file's only writer: one group holds every book's requests, stamped by <see cref="RecordingClock"/>.
/// On PostgreSQL several processes write at once, so a group holds the requests of one book only: it first locks the
/// book's row, then stamps itself after that book's last commit (whichever process made it), so that per book, ids,
/// numbers and stamps all grow in commit order. One book per transaction also means two writers never wait on each
/// other's locks in opposite orders.
/// </para>
/// </summary>
public sealed class LedgerWriter : IHostedService, IDisposable
{
    private const int MaxRequestsPerGroup = 1024;

    /// <summary>
    /// How many writes may wait for the writer: four full groups. Beyond it a write waits for room (backpressure on the
    /// request that asked for it, whose connection then waits too); none is ever dropped or refused for it. Requests
    /// reach the queue only after their body is read and checked, so the bound caps the memory those bodies hold.
    /// </summary>
    public const int QueueCapacity = 4 * MaxRequestsPerGroup;

    private readonly Channel<WriteRequest> _queue = Channel.CreateBounded<WriteRequest>(
        new BoundedChannelOptions(QueueCapacity)
        {
            SingleReader = true,
            AllowSynchronousContinuations = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
    private static readonly Duration Tick = Duration.FromTicks(1);

    private readonly LedgerDatabase _database;
    private readonly RecordingClock _clock;
    private readonly IClock _systemClock;
    private readonly ILogger<LedgerWriter> _logger;
    private readonly Thread _thread;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _started;

    public LedgerWriter(LedgerDatabase database, RecordingClock clock, IClock systemClock, ILogger<LedgerWriter> logger,
        IHttpContextAccessor? http = null)
    {
        _database = database;
        _clock = clock;
        _systemClock = systemClock;
        _logger = logger;
        _http = http;
        _thread = new Thread(Run) { IsBackground = true, Name = "ledger-writer" };
    }

    // Who asked for each write: the request's API key, recorded as the actor of the events the write appends.
    private readonly IHttpContextAccessor? _http;

    private string? Actor() => _http?.HttpContext?.User.ToCaller()?.KeyId;

    /// <summary>Groups committed so far; exposed for tests and the benchmark.</summary>
    public long GroupsCommitted => Interlocked.Read(ref _groups);
    private long _groups;

    /// <summary>
    /// Queues <paramref name="work"/>; completes after the transaction holding it has committed.
    /// Work that changes the running totals only by posting through JournalPoster, and reads none of them in SQL (a book's
    /// next number and debit total, accounts' totals, monthly totals), passes
    /// <paramref name="defersGroupState"/> = true: journal entries, documents, payments, allocations. Their totals stay in
    /// memory for the rest of the group (<see cref="IGroupState"/>), written once before the commit. Any other work (it
    /// changes accounts or books, or reads balances) first sees all such state written out, so its SQL reads current values.
    /// </summary>
    public Task<T> WriteAsync<T>(Func<WriteSession, T> work, bool defersGroupState = false) =>
        Enqueue(new WriteRequest<T>(work, defersGroupState, null, null) { Actor = Actor() });

    /// <summary>
    /// As <see cref="WriteAsync{T}"/>, for work that reads or changes one book: on PostgreSQL its transaction holds the
    /// book's row lock, so writers in every process see each other's totals, numbers and idempotency keys.
    /// </summary>
    /// <param name="hints">What the work will read and draw, if it knows before it runs, so that its group reads it for all
    /// its requests at once (see <see cref="WriteHints"/>).</param>
    public Task<T> WriteBookAsync<T>(string bookId, Func<WriteSession, T> work, bool defersGroupState = false, string? idempotencyKey = null,
        WriteHints? hints = null) =>
        Enqueue(new WriteRequest<T>(work, defersGroupState, bookId, null) { IdempotencyKey = idempotencyKey, Actor = Actor(), Hints = hints });

    /// <summary>
    /// Makes a report of <paramref name="bookId"/> as known at <paramref name="knownAt"/> final before its snapshot
    /// opens: afterwards every commit recorded at or before that instant is visible, and none recorded later, in any
    /// process, even after a restart on a clock set back, can be stamped at or before it. False when the instant lies in
    /// the future (what is known then can still change).
    /// </summary>
    public async Task<bool> SettleKnownAtAsync(string bookId, Instant knownAt)
    {
        if (_database.SingleWriterProcess)
        {
            var settlement = await _clock.SettleAsync(knownAt);
            if (settlement == RecordingClock.Settlement.InTheFuture) return false;
            // An empty group stores an instant later than knownAt, so a restart cannot stamp anything at or before it.
            if (settlement == RecordingClock.Settlement.NeedsStoredStamp) await WriteAsync(_ => true);
            return true;
        }

        string? lastText;
        await using (var connection = await _database.OpenReadAsync())
            lastText = await connection.ExecuteScalarAsync<string?>(LastBookStampSql, new { bookId });
        var last = lastText is null ? Instant.MinValue : Timestamps.Parse(lastText);
        if (knownAt > RecordingClock.Max(_systemClock.GetCurrentInstant(), last)) return false;
        // Stamps of a book grow in commit order: one later than knownAt is committed, so all at or before it are too.
        if (last > knownAt) return true;
        // Otherwise commit an empty group stamped after knownAt: it waits for the book's lock (so for any group still
        // committing), and every later group of the book is stamped after it.
        await Enqueue(new WriteRequest<bool>(_ => true, false, bookId, knownAt));
        return true;
    }

    /// <summary>The ledger's present: the clock, or the latest instant stamped if the clock stands behind it.</summary>
    public Instant Now() => _database.SingleWriterProcess ? _clock.GetCurrentInstant() : _systemClock.GetCurrentInstant();

    private Task<T> Enqueue<T>(WriteRequest<T> request)
    {
        EnsureStarted();
        return _queue.Writer.TryWrite(request) ? request.Task : EnqueueWhenRoomAsync(request);
    }

    /// <summary>The queue is full (or closed): waits for room, then for the write, like any other caller.</summary>
    private async Task<T> EnqueueWhenRoomAsync<T>(WriteRequest<T> request)
    {
        try
        {
            await _queue.Writer.WriteAsync(request);
        }
        catch (ChannelClosedException closed)
        {
            throw new InvalidOperationException("The ledger writer is shutting down.", closed);
        }
        return await request.Task;
    }

    /// <summary>Writes waiting for the writer now (at most <see cref="QueueCapacity"/>); exposed for tests.</summary>
    public int QueuedWrites => _queue.Reader.Count;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        EnsureStarted();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        if (Volatile.Read(ref _started) == 1) await _stopped.Task.WaitAsync(cancellationToken);
        _logger.LogInformation("The writer stopped after {Groups} groups; {Known} started from what was known of their book, {Failed} of those ran again.",
            GroupsCommitted, KnownStartsCommitted, KnownStartsFailed);
    }

    public void Dispose() => _queue.Writer.TryComplete();

    private void EnsureStarted()
    {
        if (Interlocked.Exchange(ref _started, 1) == 0) _thread.Start();
    }

    private void Run()
    {
        WriteSession? session = null;
        var group = new List<WriteRequest>(MaxRequestsPerGroup);
        // Book groups taken from the queue and not yet committed (PostgreSQL): at most two drains' worth, since the
        // loop below takes more only when this is empty.
        var waiting = new Queue<(string? BookId, List<WriteRequest> Requests)>();
        List<WriteRequest>? inHand = null; // the book group being committed, taken off `waiting`
        try
        {
            if (_database.SingleWriterProcess)
            {
                // SQLite: the one connection for the life of the writer; the clock resumes from what the file stores.
                session = new WriteSession(_database.OpenWriter(), _database);
                _clock.Resume(session.LastRecorded());
            }
            var reader = _queue.Reader;
            while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
            {
                group.Clear();
                while (group.Count < MaxRequestsPerGroup && reader.TryRead(out var request)) group.Add(request);
                if (group.Count == 0) continue;
                if (_database.SingleWriterProcess)
                {
                    var committed = false;
                    try
                    {
                        committed = CommitGroup(session!, group, _clock.OpenGroup(), bookId: null);
                    }
                    finally
                    {
                        _clock.CloseGroup(committed);
                    }
                    continue;
                }
                foreach (var bookGroup in ByBook(group)) waiting.Enqueue(bookGroup);
                BegunGroup? begun = null;
                while (waiting.TryDequeue(out var current))
                {
                    inHand = current.Requests;
                    // A connection the server dropped while it was idle (a restart, a failover, an idle timeout) is
                    // found out when the group begins, before anything of it was sent: the group tries once more on
                    // a new connection. A connection lost later fails the group, and the next one reconnects.
                    for (var attempt = 0; attempt < 2; attempt++)
                    {
                        session ??= OpenSharedSession(current.Requests);
                        if (session is null) break;
                        // The group after this one begins in this one's commit round trip: the book's next group, or
                        // what has queued meanwhile (taken now, at most one group's worth, as the loop above takes it).
                        if (waiting.Count == 0)
                        {
                            var more = new List<WriteRequest>();
                            while (more.Count < MaxRequestsPerGroup && reader.TryRead(out var request)) more.Add(request);
                            foreach (var bookGroup in ByBook(more)) waiting.Enqueue(bookGroup);
                        }
                        var next = waiting.TryPeek(out var following) ? following : ((string?, List<WriteRequest>)?)null;
                        var outcome = CommitSharedGroup(session, current.Requests, current.BookId, canRetry: attempt == 0, begun, next,
                            out begun);
                        if (outcome != SharedOutcome.Done || !session.IsOpen)
                        {
                            session.DisposeWithConnection();
                            session = null;
                            begun = null; // its transaction went with the connection
                        }
                        if (outcome != SharedOutcome.RetryOnNewConnection) break;
                    }
                }
            }
        }
        catch (Exception ex)
        {
            _logger.LogCritical(ex, "The ledger writer stopped.");
            _queue.Writer.TryComplete(ex);
            // The groups in hand too: a request never answered would wait for ever (answered ones ignore this).
            foreach (var inFlight in group) inFlight.Fail(ex);
            foreach (var inFlight in inHand ?? []) inFlight.Fail(ex);
            while (waiting.TryDequeue(out var taken))
                foreach (var inFlight in taken.Requests) inFlight.Fail(ex);
            while (_queue.Reader.TryRead(out var pending)) pending.Fail(ex);
        }
        finally
        {
            session?.DisposeWithConnection();
            _stopped.TrySetResult();
        }
    }

    /// <summary>Splits a drained group by book, keeping each book's requests in arrival order (bookless ones together).</summary>
    private static IEnumerable<(string? BookId, List<WriteRequest> Requests)> ByBook(List<WriteRequest> group)
    {
        var order = new List<string?>();
        var byBook = new Dictionary<string, List<WriteRequest>>(StringComparer.Ordinal);
        List<WriteRequest>? bookless = null;
        foreach (var request in group)
        {
            if (request.BookId is not { } bookId)
            {
                if (bookless is null) { bookless = []; order.Add(null); }
                bookless.Add(request);
                continue;
            }
            if (!byBook.TryGetValue(bookId, out var list)) { byBook[bookId] = list = []; order.Add(bookId); }
            list.Add(request);
        }
        foreach (var bookId in order) yield return (bookId, bookId is null ? bookless! : byBook[bookId]);
    }

    private WriteSession? OpenSharedSession(List<WriteRequest> requests)
    {
        try
        {
            return new WriteSession(_database.OpenWriter(), _database);
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "The writer cannot reach the database; {Count} requests fail.", requests.Count);
            foreach (var request in requests) request.Fail(new WriteNotCommittedException(ex));
            return null;
        }
    }

    private enum SharedOutcome { Done, RetryOnNewConnection }

    /// <summary>
    /// One group on a database that several processes write (PostgreSQL): lock the book's row, stamp the group after
    /// the book's last commit and after any instant a report asked to settle, run every request, commit once.
    /// <para>
    /// Each statement is a round trip to the server here, so the first run has no savepoints: requests keep their rows
    /// until the commit, which sends them all in one batch. A request refused before it wrote anything (an unknown
    /// account, a reused key) leaves nothing in the transaction; its refusal is held and given once the run commits, so
    /// it was judged on exactly the requests committed before it. Any other failure (a request that wrote, a database
    /// error, a commit the server refuses) rolls the run back, and the whole group runs once more carefully, as on
    /// SQLite: each request in a savepoint, failing alone. So a group runs at most twice, and every answer it gives
    /// agrees with one serial order of what it committed.
    /// </para>
    /// </summary>
    /// <param name="begun">This group, begun in the previous group's commit round trip (null: it begins here).</param>
    /// <param name="next">The group to begin in this one's commit round trip, if any.</param>
    /// <param name="nextBegun">That group, begun (null if it was not: this group did not commit as planned, or the next
    /// group's start failed and was rolled back).</param>
    private SharedOutcome CommitSharedGroup(WriteSession session, List<WriteRequest> group, string? bookId, bool canRetry,
        BegunGroup? begun, (string? BookId, List<WriteRequest> Requests)? next, out BegunGroup? nextBegun, bool mayStartKnown = true)
    {
        nextBegun = null;
        Instant stamp;
        LedgerDatabase.GroupStartReads reads;
        // What this process knew of the book is taken out here and put back only by this group's plain commit: a group
        // that fails, or runs carefully, leaves nothing known.
        LedgerDatabase.KnownBookStart? known = null;
        if (bookId is not null && _knownBooks.Remove(bookId, out var wasKnown) && mayStartKnown && begun is null
            && KnownStartServes(bookId))
            known = wasKnown;
        if (begun is not null)
        {
            // Held to what it was begun for: the same requests, in the same order.
            if (!ReferenceEquals(begun.Requests, group)) throw new InvalidOperationException("A group was begun for other requests.");
            reads = begun.Reads;
            stamp = StampOf(group, begun.Last);
        }
        else if (known is not null)
        {
            reads = KnownReadsOf(group, known);
            // Stamped now, not under the lock: it holds only if nobody commits to the book before this group, which the
            // group proves under the lock before it can commit (so its stamp follows the book's last, ours).
            stamp = StampOf(group, known.Stamp);
        }
        else
        {
            reads = StartReadsOf(group, bookId);
            // Retried only when the connection went before anything was sent and the requests are still waiting: once
            // BeginSharedRun has failed them (a live connection that refused, a lock timeout), running them again could
            // commit writes their callers were told were not written.
            if (!BeginSharedRun(session, group, bookId, reads, out stamp, failOnError: !canRetry))
                return canRetry && !session.IsOpen ? SharedOutcome.RetryOnNewConnection : SharedOutcome.Done;
        }
        session.BeginGroup(stamp, bookId);
        var beginNow = false;
        if (known is not null)
        {
            // Begun by its first statement, if it sends one before its commit, or at once when it lacks accounts its
            // requests hinted or ids they draw: that round trip reads those accounts and draws ids for this group and the
            // book's next (after those it holds, so they are used in the order drawn). Either way the group then holds
            // what was known and what was read, and leaves both to the book's next group: what is known of a book grows
            // from group to group, up to its whole chart, until groups need no round trip to begin.
            var unknownCodes = AccountsHintedBy(group).Where(code => !known.Accounts.ContainsKey(code)).ToList();
            beginNow = unknownCodes.Count > 0 || IdsDrawnBy(group).Any(d => !known.Ids.TryGetValue(d.Table, out var ids) || ids.Count < d.Count)
                // A connection idle for a while may have been dropped by the server (a restart, a failover, an idle
                // timeout) in a way that names no statement: found by a begin of its own, the group is run again on a
                // new connection; found in the round trip with its COMMIT, the group's outcome would be unknown.
                || Environment.TickCount64 - session.LastCommittedAt > KnownStartIdleLimitMs;
            session.BeginWhenUsed(connection =>
            {
                var startReads = new LedgerDatabase.GroupStartReads { Ids = IdsToTopUp(session, group), AccountCodes = unknownCodes };
                _database.BeginKnownGroup(connection, bookId!, known, startReads);
                foreach (var (table, ids) in startReads.DrawnIds) session.AddDrawnIds(table, ids);
                Features.Journal.JournalPoster.Known(session, bookId!, startReads);
            });
        }
        HintParties(session, group);
        foreach (var (table, ids) in reads.DrawnIds) session.AddDrawnIds(table, ids);
        if (reads.Head is { } head) session.GroupState<Features.Audit.EventLog.EventChain>().Known(bookId!, head.Sequence, head.Hash);
        if (bookId is not null) Features.Journal.JournalPoster.Known(session, bookId, reads);
        // The accounts known are not copied into the group (a book's whole chart, every group): the group reads through
        // to them, and writes what it read or changed back into them at its end (KnownAfterGroup).
        if (known is not null) Features.Journal.JournalPoster.StartFrom(session, bookId!, known);
        Idempotency.Known(session, reads.Keys, reads.StoredKeys);
        var held = new List<(WriteRequest Request, Exception Refusal)>();
        var kept = new List<WriteRequest>(group.Count);
        var rerun = false;
        KnownStartFailedException? knownFailed = null;
        if (beginNow)
        {
            try { session.BeginNow(); }
            catch (KnownStartFailedException ex) { knownFailed = ex; }
        }
        for (var i = 0; i < group.Count && !rerun && knownFailed is null; i++)
        {
            session.BeginRequest(group[i].DefersGroupState, i);
            session.RequestsLeftInGroup = group.Count - i;
            try
            {
                if (!group[i].DefersGroupState) session.FlushGroupState();
                group[i].Execute(session);
                // A copy that fails is this request's failure. The last request's copies are waited for below instead, once
                // the group's totals are gathered: that is CPU work the server would otherwise sit idle through (a 10,000-entry
                // batch: its 15,000 monthly totals sorted and packed, 20-50 ms a batch on the 2-core host).
                if (i < group.Count - 1) session.WaitForCopies();
                session.KeepRequest();
                kept.Add(group[i]);
            }
            catch (KnownStartFailedException ex)
            {
                // The group's deferred begin failed as this request first used the connection: not the request's fault.
                session.DiscardRequest();
                knownFailed = ex;
            }
            catch (Exception ex) when (ex is not DbException && !session.RequestWrote)
            {
                session.DiscardRequest();
                held.Add((group[i], ex));
            }
            catch (Exception)
            {
                session.DiscardRequest();
                rerun = true;
            }
        }

        // A request refused before it wrote stored no key row: had its key been stored, the INSERT that proves a known
        // start's keys new never ran, and the refusal would be given where the stored answer is due (a retried issue of
        // an invoice refused as "already issued", say). Such a group runs again as a plain group, which reads its keys.
        if (!rerun && knownFailed is null && known is not null && held.Any(h => h.Request.IdempotencyKey is not null))
            knownFailed = new KnownStartFailedException(
                new InvalidOperationException("A request with an Idempotency-Key was refused in a group that took its key for new."), bookChanged: false);

        LedgerDatabase.KnownBookStart? knownAfter = null;
        if (!rerun && knownFailed is null)
        {
            try
            {
                // What the next group of the book may start from, taken before the totals are written out (and forgotten).
                if (bookId is not null) knownAfter = Features.Journal.JournalPoster.KnownAfterGroup(session, bookId);
                // From here nothing reads: the group's rows, totals, commit record and COMMIT go together.
                session.Finishing = true;
                session.FlushGroupState();
                session.RecordCommit();
                // The last request's copies. One that failed, or a connection lost under it, is met here, before COMMIT is
                // sent: the group runs again carefully, which tells whose rows were refused (or, the connection gone, its
                // requests are told nothing was committed), as when any request fails.
                session.WaitForCopies();
            }
            catch (KnownStartFailedException ex)
            {
                // Its deferred begin, sent by writing out group state (nothing does so while finishing today).
                knownFailed = ex;
            }
            catch (Exception ex)
            {
                _logger.LogWarning(ex, "A group's writes failed before its commit; its {Count} requests run again carefully, or fail if the connection is gone.", group.Count);
                rerun = true;
            }
        }

        if (!rerun && knownFailed is null)
        {
            Exception? nextFailure = null;
            LedgerDatabase.GroupStartReads? nextReads = null;
            string? nextLast = null;
            var committed = false;
            Dictionary<string, List<long>>? drawnForNext = null;
            // Committed: nothing after this may send the group round again.
            void Answer()
            {
                committed = true;
                Interlocked.Increment(ref _groups);
                // Counted before any caller is answered, as the groups are: a caller (a test) reads it once answered.
                if (known is not null) Interlocked.Increment(ref _knownStartsCommitted);
                try { session.RunAfterCommit(); }
                catch (Exception ex) { _logger.LogError(ex, "An action after a group's commit failed; the group stands."); }
                foreach (var request in kept) request.Complete();
                foreach (var (request, refusal) in held) request.Fail(refusal);
            }
            try
            {
                if (session.BeginsWhenUsed)
                {
                    // Started from what was known and sent nothing yet: the whole group in one round trip. The next group
                    // is not begun with it; if it is this book's, it starts from what this one leaves known.
                    drawnForNext = session.CommitKnown(bookId!, known!, IdsToTopUp(session, group));
                    Answer();
                }
                else if (next is { } following && (following.BookId != bookId || knownAfter is null || KnownStartsPaused(bookId!)))
                {
                    // The next group of another book begins in this commit's round trip; the book's own next group
                    // starts from what this one leaves known instead, and needs no round trip to begin.
                    nextReads = StartReadsOf(following.Requests, following.BookId);
                    nextLast = session.CommitAndBegin(following.BookId, nextReads, Answer, out nextFailure);
                }
                else session.Commit();
            }
            catch (Exception ex) when (committed)
            {
                // After this group's COMMIT (reading the next group's start): this group stands; the next begins on its own.
                nextFailure = ex;
            }
            catch (KnownStartFailedException ex)
            {
                // Nothing of it committed (the statement that failed came before the COMMIT or was the COMMIT), even if
                // the connection is gone now.
                knownFailed = ex;
            }
            catch (Exception ex) when (ex is CommitOutcomeUnknownException || !session.IsOpen)
            {
                // The connection went while COMMIT was on its way, or the batch's error names no statement (a timeout):
                // the server may or may not have committed. Never run the group again for it.
                _logger.LogError(ex, "A group commit's outcome is unknown (connection lost or no statement named); {Count} requests are told so.", group.Count);
                RollbackGroup(session);
                foreach (var request in group) request.Fail(new WriteOutcomeUnknownException(ex));
                return SharedOutcome.Done;
            }
            catch (Exception ex)
            {
                // A request's rows, sent only now, were refused; find whose below.
                _logger.LogWarning(ex, "A group's writes were refused at commit; running its {Count} requests carefully.", group.Count);
                rerun = true;
            }
            if (!rerun && knownFailed is null)
            {
                if (!committed) Answer();
                session.LastCommittedAt = Environment.TickCount64;
                if (knownAfter is not null) RememberBook(session, bookId!, knownAfter, drawnForNext, startedKnown: known is not null);
                if (next is { } begunNext && nextReads is not null)
                {
                    if (nextFailure is null) nextBegun = new BegunGroup(begunNext.Requests, nextReads, nextLast);
                    else
                    {
                        // Nothing of the next group ran; it begins again on its own, and answers for itself if that fails too.
                        _logger.LogWarning(nextFailure, "The next group could not begin with this one's commit; it begins on its own.");
                        RollbackGroup(session);
                    }
                }
                return SharedOutcome.Done;
            }
        }

        if (knownFailed is not null)
        {
            // Nothing of it committed. The book changed elsewhere, a lock wait timed out, a key was already stored, a
            // row was refused: run it again from what is stored, as if nothing had been known (that run reads the keys,
            // so a stored one is answered from its row, and fails or runs carefully as any group does).
            RollbackGroup(session);
            Interlocked.Increment(ref _knownStartsFailed);
            if (knownFailed.Final)
            {
                var failure = new WriteNotCommittedException(knownFailed.InnerException ?? knownFailed);
                foreach (var request in group) request.Fail(failure);
                return SharedOutcome.Done;
            }
            PauseKnownStarts(bookId!, knownFailed.BookChanged);
            if (knownFailed.BookChanged) _logger.LogDebug("Book {Book} changed since this process last wrote it; its group runs again.", bookId);
            else _logger.LogInformation(knownFailed, "A group started from what was known of book {Book} did not commit; it runs again.", bookId);
            return CommitSharedGroup(session, group, bookId, canRetry, begun: null, next, out nextBegun, mayStartKnown: false);
        }

        RollbackGroup(session);
        if (!session.IsOpen)
        {
            var lost = new WriteNotCommittedException(new InvalidOperationException("The connection to the database was lost."));
            foreach (var request in group) request.Fail(lost);
            return SharedOutcome.Done;
        }
        // The careful run: every request again, in order, each in its own savepoint (held refusals are judged again too).
        if (BeginSharedRun(session, group, bookId, new LedgerDatabase.GroupStartReads(), out stamp, failOnError: true))
        {
            session.RequestsLeftInGroup = 1;
            CommitGroup(session, group, stamp, bookId, begun: true);
        }
        return SharedOutcome.Done;
    }

    /// <summary>
    /// Begins a run of a group: its transaction, its book's row lock, and its stamp. False if that fails: with
    /// <paramref name="failOnError"/> its requests have failed; without, nothing was sent and they wait for a retry.
    /// </summary>
    private bool BeginSharedRun(WriteSession session, List<WriteRequest> group, string? bookId, LedgerDatabase.GroupStartReads reads,
        out Instant stamp, bool failOnError)
    {
        stamp = default;
        try
        {
            // Waits for any other process's group on this book to commit: from here on this transaction sees its
            // totals, its number and its idempotency keys, and stamps after it.
            stamp = StampOf(group, _database.BeginBookGroup(session, bookId, reads));
            return true;
        }
        catch (Exception ex)
        {
            RollbackGroup(session);
            // Retried only when the connection itself is gone: a live one that refused (a lock timeout) is an answer.
            if (failOnError || session.IsOpen)
                foreach (var request in group) request.Fail(new WriteNotCommittedException(ex));
            else
                _logger.LogWarning(ex, "The writer's connection was lost between groups; reconnecting.");
            return false;
        }
    }

    /// <summary>
    /// A group's stamp, taken once it holds its book's lock: now, never before the book's last stamp (equal is fine: a
    /// report settles an instant by committing after it), and after any instant its requests asked to settle.
    /// </summary>
    private Instant StampOf(List<WriteRequest> group, string? bookLastStamp)
    {
        var stamp = RecordingClock.WholeTicks(_systemClock.GetCurrentInstant());
        if (bookLastStamp is not null) stamp = RecordingClock.Max(stamp, Timestamps.Parse(bookLastStamp));
        foreach (var request in group)
            if (request.StampAfter is { } settled) stamp = RecordingClock.Max(stamp, RecordingClock.WholeTicks(settled) + Tick);
        return stamp;
    }

    /// <summary>
    /// What a group reads as it begins, in the same round trip: its keys, the commit record's id and a journal-entry id
    /// per request (ids left over are never used; numbers, not ids, are gapless), its book's last event, the accounts
    /// its requests hinted.
    /// </summary>
    private static LedgerDatabase.GroupStartReads StartReadsOf(List<WriteRequest> group, string? bookId) => new()
    {
        Keys = bookId is null ? [] : KeysOf(group),
        // Twice what the group draws: what it leaves is what the book's next group starts from (see KnownBookStart).
        Ids = bookId is null ? [] : IdsDrawnBy(group).Select(d => (d.Table, 2 * d.Count)).ToList(),
        EventHead = bookId is not null,
        AccountCodes = bookId is null ? [] : AccountsHintedBy(group),
    };

    // What this process knows of each book it wrote last among every process (PostgreSQL; see KnownBookStart), and, per
    // book, how many of its next groups still read as they begin after a known start found the book changed elsewhere.
    // Touched by the writer's thread only. Bounded: at most MaxKnownBooks books, MaxKnownAccounts accounts a book.
    private readonly Dictionary<string, LedgerDatabase.KnownBookStart> _knownBooks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (int Left, int Length)> _knownStartPauses = new(StringComparer.Ordinal);

    private const int MaxKnownBooks = 64;

    // How long the writer's connection may have been idle for a group to begin in its commit's round trip.
    private const long KnownStartIdleLimitMs = 1_000;
    private const int MaxKnownAccounts = 4096;

    // After a book is found changed elsewhere (another process writes it too), its next groups read as they begin, for
    // twice as many groups each time it happens again, up to this many: a known start that fails costs a round trip and
    // the group's work twice, so a book that processes take turns at is soon left to the plain begin.
    private const int MaxKnownStartPause = 256;

    /// <summary>Groups that started from what was known of their book and committed so; exposed for tests and the benchmark.</summary>
    public long KnownStartsCommitted => Interlocked.Read(ref _knownStartsCommitted);
    private long _knownStartsCommitted;

    /// <summary>Groups that started from what was known of their book and ran again from what is stored; exposed for tests.</summary>
    public long KnownStartsFailed => Interlocked.Read(ref _knownStartsFailed);
    private long _knownStartsFailed;

    /// <summary>Whether a group of <paramref name="bookId"/> may start from what is known of it: no pause after a change elsewhere.</summary>
    private bool KnownStartServes(string bookId)
    {
        if (!_knownStartPauses.TryGetValue(bookId, out var pause) || pause.Left == 0) return true;
        _knownStartPauses[bookId] = pause with { Left = pause.Left - 1 };
        return false;
    }

    private bool KnownStartsPaused(string bookId) => _knownStartPauses.TryGetValue(bookId, out var pause) && pause.Left > 0;

    private void PauseKnownStarts(string bookId, bool bookChanged)
    {
        // A failure for another reason (a key already stored, a lock wait) says nothing of other processes: no pause.
        if (!bookChanged) return;
        var length = _knownStartPauses.TryGetValue(bookId, out var pause) ? Math.Min(MaxKnownStartPause, pause.Length * 2) : 1;
        if (_knownStartPauses.Count >= MaxKnownBooks && !_knownStartPauses.ContainsKey(bookId)) _knownStartPauses.Clear();
        _knownStartPauses[bookId] = (length, length);
    }

    /// <summary>The idempotency keys of a book group's requests, each once.</summary>
    private static List<string> KeysOf(List<WriteRequest> group) =>
        group.Select(r => r.IdempotencyKey).OfType<string>().Distinct(StringComparer.Ordinal).ToList();

    /// <summary>The reads of a group that starts from <paramref name="known"/>: its keys taken as not stored (see <see cref="LedgerDatabase.CommitKnownGroup"/>).</summary>
    private static LedgerDatabase.GroupStartReads KnownReadsOf(List<WriteRequest> group, LedgerDatabase.KnownBookStart known)
    {
        var reads = new LedgerDatabase.GroupStartReads
        {
            Keys = KeysOf(group),
            Book = known.Book,
            Head = known.Head,
        };
        foreach (var (table, ids) in known.Ids) reads.DrawnIds[table] = ids;
        return reads;
    }

    /// <summary>
    /// The ids a group that started from what was known draws as it begins or commits: enough that, with those it holds
    /// unused, it and a group like it after it find what they draw.
    /// </summary>
    private static List<(string Table, int Count)> IdsToTopUp(WriteSession session, List<WriteRequest> group) =>
        IdsDrawnBy(group).Select(d => (d.Table, Math.Max(0, 2 * d.Count - session.IdsLeft(d.Table)))).ToList();

    /// <summary>Keeps what <paramref name="bookId"/>'s next group may start from, once this group has committed.</summary>
    private void RememberBook(WriteSession session, string bookId, LedgerDatabase.KnownBookStart after,
        Dictionary<string, List<long>>? drawnForNext, bool startedKnown)
    {
        if (startedKnown) _knownStartPauses.Remove(bookId);
        if (after.Accounts.Count > MaxKnownAccounts) return;
        if (_knownBooks.Count >= MaxKnownBooks) _knownBooks.Clear();
        // Left over first, then drawn: ids are used in the order drawn, so they still grow in the book's commit order.
        var ids = session.TakeIdsLeft();
        foreach (var (table, drawn) in drawnForNext ?? [])
        {
            if (!ids.TryGetValue(table, out var list)) ids[table] = list = [];
            list.AddRange(drawn);
        }
        foreach (var list in ids.Values)
            if (list.Count > 2 * MaxRequestsPerGroup) list.RemoveRange(2 * MaxRequestsPerGroup, list.Count - 2 * MaxRequestsPerGroup);
        _knownBooks[bookId] = after with { Stamp = Timestamps.Format(session.Now), CommitId = session.CommitId, Ids = ids };
    }

    /// <summary>A group begun in the previous group's commit round trip: what it read as it began, its book's last stamp.</summary>
    private sealed record BegunGroup(List<WriteRequest> Requests, LedgerDatabase.GroupStartReads Reads, string? Last);

    private const string LastBookStampSql = "SELECT MAX(recorded_at) FROM commits WHERE book_id = @bookId";

    /// <returns>Whether the group committed.</returns>
    private bool CommitGroup(WriteSession session, List<WriteRequest> group, Instant stamp, string? bookId, bool begun = false)
    {
        session.BeginGroup(stamp, bookId);
        HintParties(session, group);
        if (!begun)
        {
            try
            {
                session.Execute(_database.BeginWriteSql);
            }
            catch (Exception ex)
            {
                foreach (var request in group) request.Fail(ex);
                return false;
            }
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
            session.BeginRequest(group[i].DefersGroupState, i);
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
                    // The transaction itself is gone (SQLite rolled it back on an I/O or full-disk error, or the
                    // connection to PostgreSQL broke):
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

    /// <summary>
    /// The account codes the group's requests hinted, each once, up to <see cref="MaxHintedAccountCodes"/>: a request whose
    /// codes would pass that is left out, and its accounts are read as it runs (JournalPoster reads the whole chart once
    /// for a request naming many).
    /// </summary>
    private static HashSet<string> AccountsHintedBy(List<WriteRequest> group)
    {
        var codes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var request in group)
        {
            if (request.Hints?.AccountCodes is not { } hinted) continue;
            if (codes.Count + hinted.Count > MaxHintedAccountCodes) continue;
            codes.UnionWith(hinted);
        }
        return codes;
    }

    /// <summary>
    /// Beyond this many codes a group's start reads no accounts by code: JournalPoster's chart read serves such a group
    /// in one statement too, and an array of thousands of codes probes the index thousands of times.
    /// </summary>
    private const int MaxHintedAccountCodes = 1024;

    /// <summary>
    /// The ids a book group draws as it begins: its commit record's, a journal entry's per request, and one from each table
    /// its requests' hints name (a document's or payment's id, its open item's). Ids left over are never used.
    /// </summary>
    private static List<(string Table, int Count)> IdsDrawnBy(List<WriteRequest> group)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal) { ["commits"] = 1, ["journal_entries"] = group.Count };
        foreach (var request in group)
            foreach (var table in request.Hints?.DrawsIdsFrom ?? [])
                counts[table] = counts.GetValueOrDefault(table) + 1;
        return counts.Select(c => (c.Key, c.Value)).ToList();
    }

    /// <summary>
    /// Tells the session the parties the group's requests said they name, and each request's run: requests up to the next
    /// one that does not defer group state share what the group has read, since that one makes the group forget it.
    /// </summary>
    private static void HintParties(WriteSession session, List<WriteRequest> group)
    {
        var parties = new List<(int, string, long)>();
        var runs = new int[group.Count];
        var run = 0;
        for (var i = 0; i < group.Count; i++)
        {
            if (!group[i].DefersGroupState) run++;
            runs[i] = run;
            if (group[i] is { BookId: { } bookId, Hints.PartyId: { } partyId }) parties.Add((i, bookId, partyId));
        }
        session.PartiesOfGroup = parties;
        session.RequestRuns = runs;
    }

    private static void RollbackGroup(WriteSession session)
    {
        session.WaitForCopiesQuietly(); // a failed copy was reported where it happened; the transaction still goes
        session.ResetGroupState();
        if (!session.IsOpen) return; // the connection is gone, and its transaction with it
        try { session.Execute("ROLLBACK"); }
        catch (DbException) { /* already rolled back by the database */ }
        catch (InvalidOperationException) { /* the connection broke just now */ }
    }

    private static bool TryRollbackRequest(WriteSession session)
    {
        session.WaitForCopiesQuietly();
        // Rows the request deferred are not sent first (every command sends them): into a transaction a failed copy
        // aborted, they would fail the rollback too, and with it the group.
        session.DropRequestWrites();
        try
        {
            session.Execute("ROLLBACK TO request");
            session.Execute("RELEASE request");
            return true;
        }
        catch (DbException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            // The connection broke just now (as RollbackGroup allows for): the transaction is gone, not the writer.
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

    private abstract class WriteRequest(bool defersGroupState, string? bookId, Instant? stampAfter)
    {
        public bool DefersGroupState { get; } = defersGroupState;

        /// <summary>The book this work writes, if any (PostgreSQL locks its row and groups by it).</summary>
        public string? BookId { get; } = bookId;

        /// <summary>An instant a report settles on: the group holding this request is stamped after it.</summary>
        public Instant? StampAfter { get; } = stampAfter;

        /// <summary>The Idempotency-Key the work checks first, if any (PostgreSQL looks a group's keys up together).</summary>
        public string? IdempotencyKey { get; init; }

        /// <summary>The API key the work runs for (null: the server's own work).</summary>
        public string? Actor { get; init; }

        /// <summary>What the work will read and draw, if known before it runs (see <see cref="WriteHints"/>).</summary>
        public WriteHints? Hints { get; init; }

        public abstract void Execute(WriteSession session);
        public abstract void Complete();
        public abstract void Fail(Exception ex);
    }

    private sealed class WriteRequest<T>(Func<WriteSession, T> work, bool defersGroupState, string? bookId, Instant? stampAfter)
        : WriteRequest(defersGroupState, bookId, stampAfter)
    {
        private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _result;

        public Task<T> Task => _completion.Task;
        public override void Execute(WriteSession session)
        {
            session.Actor = Actor;
            _result = work(session);
        }
        public override void Complete() => _completion.TrySetResult(_result!);
        public override void Fail(Exception ex) => _completion.TrySetException(ex);
    }
}

/// <summary>
/// What a write says about itself before it runs, so that its group reads for all its requests at once rather than each
/// in a round trip of its own (they matter on PostgreSQL): the customer or vendor it names (read with the first party its
/// run reads, see <see cref="WriteSession.PartiesHintedLaterInRun"/>), the tables it draws one id from each (drawn for
/// the group as it begins) and the account codes it posts to (read as the group begins, with its book's row). A hint that
/// turns out wrong costs a read or an id, never a wrong answer.
/// </summary>
public sealed record WriteHints(long? PartyId = null, IReadOnlyList<string>? DrawsIdsFrom = null,
    IReadOnlyCollection<string>? AccountCodes = null);

/// <summary>A write that was accepted by the writer but whose transaction did not commit.</summary>
public sealed class WriteNotCommittedException(Exception inner)
    : Exception("The transaction holding this write did not commit; nothing of it was written.", inner);

/// <summary>
/// The connection to the database was lost while the transaction holding this write was committing: it may or may not
/// have been recorded. A retry with the same Idempotency-Key finds out safely.
/// </summary>
public sealed class WriteOutcomeUnknownException(Exception inner)
    : Exception("The connection to the database was lost while this write was committing; it may or may not have been recorded.", inner);

/// <summary>
/// A commit whose outcome the writer cannot tell (the connection failed, or a command timeout landed, while COMMIT was
/// on its way): the group must be neither run again nor reported as written.
/// </summary>
public sealed class CommitOutcomeUnknownException(Exception inner)
    : Exception("Whether the group's COMMIT succeeded is not known.", inner);

/// <summary>
/// A group that started from what its process knew of its book did not begin, or did not commit, and nothing of it was
/// committed: the book changed since (<see cref="BookChanged"/>), a lock wait timed out, a row was refused. The writer
/// runs the group again from what is stored, as it runs any group.
/// </summary>
public sealed class KnownStartFailedException(Exception inner, bool bookChanged, bool final = false)
    : Exception(bookChanged ? "The book changed since this process last wrote it." : "A group started from what was known of its book did not commit.", inner)
{
    public bool BookChanged { get; } = bookChanged;

    /// <summary>
    /// The group fails with it instead of running again: its book's lock could not be had in time, which a second run
    /// would wait for as long again (the plain begin fails its group for it too).
    /// </summary>
    public bool Final { get; } = final;
}

/// <summary>
/// What a write request sees inside the writer: the connection (already in a transaction and a savepoint),
/// prepared commands reused across requests, the group's timestamp and application-generated ids.
/// </summary>
public sealed class WriteSession : IDisposable
{
    private readonly LedgerDatabase _database;
    private readonly DbConnection _connection;
    private readonly Dictionary<string, DbCommand> _commands = new(StringComparer.Ordinal);
    // PostgreSQL: rows of this request not yet sent, and ids drawn from sequences under this group's book lock.
    private readonly List<Deferred> _pendingWrites = [];
    private readonly Dictionary<string, Queue<long>> _idBlocks = new(StringComparer.Ordinal);

    /// <summary>A write waiting to be sent with the request's other writes (PostgreSQL).</summary>
    internal abstract record Deferred;

    /// <summary>Rows of one table waiting to be sent with the request's other writes.</summary>
    internal sealed record PendingRows(string Table, string[] Columns, IReadOnlyList<object?[]> Rows) : Deferred;

    /// <summary>
    /// A statement run once per row of values (see <see cref="LedgerDatabase.ExecuteMany"/>), deferred only while the
    /// group finishes (<see cref="Finishing"/>), when nothing reads after it.
    /// </summary>
    internal sealed record PendingStatement(string Sql, string[] Names, IReadOnlyList<object?[]> Rows, string? RowsSql) : Deferred;
    private readonly Dictionary<string, long> _nextIds = new(StringComparer.Ordinal);
    private readonly List<Action> _afterCommit = [];
    private readonly List<Action> _requestAfterCommit = [];
    private readonly Dictionary<Type, IGroupState> _groupStates = [];
    private long _maxEntryIdInGroup;
    private long _requestMaxEntryId;

    internal WriteSession(DbConnection connection, LedgerDatabase database)
    {
        _connection = connection;
        _database = database;
    }

    /// <summary>The storage port the transaction belongs to.</summary>
    internal LedgerDatabase Database => _database;

    /// <summary>The transaction's connection; whatever rows the request has written so far are sent first.</summary>
    public DbConnection Connection
    {
        get
        {
            WaitForCopies();
            BeginNow();
            FlushWrites();
            RequestWrote = true; // what runs on it is not known here: count it as a write
            return _connection;
        }
    }

    internal bool IsOpen => _connection.State == System.Data.ConnectionState.Open;

    // Where the running request's deferred rows begin in the pending list (rows before are kept requests').
    private int _requestPendingStart;

    /// <summary>Rows to send with the request's other writes (PostgreSQL; see <see cref="FlushWrites"/>).</summary>
    internal void DeferRows(string table, string[] columns, IReadOnlyList<object?[]> rows) =>
        _pendingWrites.Add(new PendingRows(table, columns, rows.ToArray()));

    /// <summary>A statement to send with the group's last writes and its commit (see <see cref="Finishing"/>).</summary>
    internal void DeferStatement(string sql, string[] names, IReadOnlyList<object?[]> rows, string? rowsSql)
    {
        if (!Finishing) throw new InvalidOperationException("Statements are deferred only while a group finishes: a read could miss them otherwise.");
        _pendingWrites.Add(new PendingStatement(sql, names, rows.ToArray(), rowsSql));
    }

    /// <summary>
    /// True from when the group starts writing out its state until it commits: nothing reads in between, so the engine
    /// may hold every statement back and send them with the COMMIT (PostgreSQL: one round trip for the group's rows, its
    /// running totals, its commit record and the commit, each of which was one before).
    /// </summary>
    internal bool Finishing { get; set; }

    /// <summary>Sends what is still deferred and commits, in one round trip where the engine allows it.</summary>
    internal void Commit()
    {
        WaitForCopies();
        Finishing = false;
        BeginNow();
        _database.CommitWith(this, _connection, TakePending());
    }

    /// <summary>
    /// A group that started from what was known of its book (<see cref="BeginWhenUsed"/>) and has sent nothing: begins,
    /// proves the book unchanged, sends its rows, draws <paramref name="draw"/> for the book's next group and commits, in
    /// one round trip (see <see cref="LedgerDatabase.CommitKnownGroup"/>).
    /// </summary>
    internal Dictionary<string, List<long>> CommitKnown(string bookId, LedgerDatabase.KnownBookStart known, IReadOnlyList<(string Table, int Count)> draw)
    {
        WaitForCopies();
        Finishing = false;
        if (_beginWhenUsed is null) throw new InvalidOperationException("The group has begun: it commits as any other.");
        _beginWhenUsed = null;
        return _database.CommitKnownGroup(_connection, TakePending(), bookId, known, draw);
    }

    // The begin of a group that started from what was known of its book, until its first statement (PostgreSQL).
    private Action<DbConnection>? _beginWhenUsed;

    /// <summary>
    /// Defers the group's begin to its first statement (a read, a row sent, a copy); a group that sends nothing before its
    /// commit begins in its commit's round trip (<see cref="CommitKnown"/>). Set after <see cref="BeginGroup"/>.
    /// </summary>
    internal void BeginWhenUsed(Action<DbConnection> begin) => _beginWhenUsed = begin;

    /// <summary>Whether the group's begin still waits for its first statement.</summary>
    internal bool BeginsWhenUsed => _beginWhenUsed is not null;

    /// <summary>When (Environment.TickCount64) a group last committed on this session's connection; 0 for none yet.</summary>
    internal long LastCommittedAt { get; set; }

    /// <summary>Begins the group now if its begin was deferred (<see cref="BeginWhenUsed"/>); every path to the connection calls it.</summary>
    internal void BeginNow()
    {
        if (_beginWhenUsed is not { } begin) return;
        _beginWhenUsed = null; // once: a failed begin fails the group, which runs again from what is stored
        begin(_connection);
    }

    /// <summary>As <see cref="Commit"/>, beginning the next group in the same round trip (see <see cref="LedgerDatabase.CommitAndBegin"/>).</summary>
    internal string? CommitAndBegin(string? nextBookId, LedgerDatabase.GroupStartReads nextReads, Action committed,
        out Exception? nextFailure)
    {
        WaitForCopies();
        Finishing = false;
        BeginNow();
        return _database.CommitAndBegin(this, _connection, TakePending(), nextBookId, nextReads, committed, out nextFailure);
    }

    private Deferred[] TakePending()
    {
        var pending = _pendingWrites.ToArray();
        _pendingWrites.Clear();
        _requestPendingStart = 0;
        return pending;
    }

    /// <summary>Sends every deferred row in one round trip. Any command the request runs next sees them.</summary>
    internal void FlushWrites()
    {
        if (_pendingWrites.Count == 0) return;
        WaitForCopies(); // rows deferred after a copy began go after it
        BeginNow();
        RequestWrote = true;
        _database.WriteDeferred(_connection, TakePending());
    }

    /// <summary>The book this group writes (PostgreSQL groups hold one book); null on SQLite, whose groups hold any.</summary>
    private string? _groupBookId;

    /// <summary>The API key of the request running now, the actor of the events it appends (null: the server's own work).</summary>
    public string? Actor { get; internal set; }

    /// <summary>The instant at which everything in this group is recorded (see <see cref="RecordingClock"/>).</summary>
    public Instant Now { get; private set; }

    /// <summary>A prepared command for <paramref name="sql"/>, created once and reused for the life of the writer.</summary>
    public DbCommand Command(string sql)
    {
        FlushWrites(); // the command may read or reference what the request has written
        if (!sql.StartsWith("SELECT ", StringComparison.Ordinal)) RequestWrote = true;
        return CommandKeepingWrites(sql);
    }

    /// <summary>
    /// A prepared command for a read of rows that requests never defer (books, accounts): unlike <see cref="Command"/>
    /// it does not first send the rows still waiting (PostgreSQL), so it costs one round trip, not two.
    /// </summary>
    public DbCommand ReadCommand(string sql) => CommandKeepingWrites(sql);

    private DbCommand CommandKeepingWrites(string sql)
    {
        WaitForCopies(); // one statement at a time on a connection: the caller runs this one next
        BeginNow();
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = _connection.CreateCommand();
            command.CommandText = sql;
            _commands[sql] = command;
        }
        return command;
    }

    /// <summary>
    /// The next id for <paramref name="table"/>. SQLite's only writer counts on from the highest id stored; on
    /// PostgreSQL, where several processes write, the table's sequence hands it out.
    /// </summary>
    public long NextId(string table)
    {
        if (!_database.SingleWriterProcess) return NextIds(table, 1)[0];
        if (!_nextIds.TryGetValue(table, out var next))
        {
            using var command = _connection.CreateCommand();
            command.CommandText = $"SELECT COALESCE(MAX(id), 0) FROM {table}";
            next = Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) + 1;
        }
        _nextIds[table] = next + 1;
        return next;
    }

    /// <summary>
    /// <paramref name="count"/> new ids for <paramref name="table"/>, ascending: on SQLite the next ones in a row, on
    /// PostgreSQL from the table's sequence in one round trip (taken under the book's lock, so they grow in commit order).
    /// </summary>
    public long[] NextIds(string table, int count)
    {
        var ids = new long[count];
        if (count == 0) return ids;
        if (_database.SingleWriterProcess)
        {
            for (var i = 0; i < count; i++) ids[i] = NextId(table);
            return ids;
        }
        // Drawn in blocks under the group's book lock: later groups of the book, in any process, draw higher ids, so ids
        // still grow in commit order within the book. Ids left in a block at the end of a group are never used.
        if (!_idBlocks.TryGetValue(table, out var block)) _idBlocks[table] = block = new Queue<long>();
        if (block.Count < count)
        {
            // Enough for this request and, at one id each, the requests after it in the group: one round trip serves a
            // group of single posts, and few ids are left unused.
            using var reader = CommandKeepingWrites($"SELECT nextval('{table}_id_seq') FROM generate_series(1, @count)")
                .Bind("@count", Math.Max(count - block.Count, RequestsLeftInGroup)).ExecuteReader();
            while (reader.Read()) block.Enqueue(reader.GetInt64(0));
        }
        for (var i = 0; i < count; i++) ids[i] = block.Count > 0 ? block.Dequeue() : throw new InvalidOperationException("The sequence gave too few ids.");
        return ids;
    }

    /// <summary>Ids drawn for <paramref name="table"/> as the group began (PostgreSQL), used before any drawn later.</summary>
    internal void AddDrawnIds(string table, IReadOnlyList<long> ids)
    {
        if (!_idBlocks.TryGetValue(table, out var block)) _idBlocks[table] = block = new Queue<long>();
        foreach (var id in ids) block.Enqueue(id);
    }

    /// <summary>
    /// The customers and vendors the group's requests said they name, by request (its place in the group) and book, at
    /// most one per request (see <see cref="PartiesHintedLaterInRun"/>).
    /// </summary>
    internal IReadOnlyList<(int Request, string BookId, long PartyId)> PartiesOfGroup { private get; set; } = [];

    /// <summary>
    /// Each request's run: requests up to the next one that does not defer group state share what the group has read
    /// (that one makes the group forget it). Numbered from the group's first request.
    /// </summary>
    internal int[] RequestRuns { private get; set; } = [];

    /// <summary>The running request's place in its group (0 for the first).</summary>
    private int _requestIndex;

    /// <summary>
    /// The parties of <paramref name="bookId"/> that the requests after the running one, in its run, said they name: read
    /// with the first party a run reads, so that one query serves the run and each hinted party is read at most once.
    /// </summary>
    public IEnumerable<long> PartiesHintedLaterInRun(string bookId)
    {
        if (_requestIndex >= RequestRuns.Length) yield break;
        var run = RequestRuns[_requestIndex];
        foreach (var (request, book, party) in PartiesOfGroup)
            if (request > _requestIndex && RequestRuns[request] == run && book == bookId) yield return party;
    }

    /// <summary>
    /// Has the rest of the group's transaction plan every statement for its values (PostgreSQL; once per group). For work
    /// whose reads look up rows by columns that a fresh, fast-growing table has no statistics for yet (open items,
    /// allocations, payments): Npgsql prepares a statement after a few runs, and PostgreSQL then keeps a generic plan
    /// made while the table was nearly empty, a scan, until the table is next analyzed. Measured with 4,000 payments on
    /// a fresh database, each allocating one invoice: 110-125/s and falling to 61-91/s by the end with the kept plans,
    /// 199-295/s and not falling with this. Groups of single posts, which read no such rows, keep their plans and skip
    /// the planning (planning every writer statement cost them a few per cent).
    /// </summary>
    public void PlanReadsForValues()
    {
        if (_plansForValues || _database.PlanForValuesSql is not { } sql) return;
        // Not a write: a request refused after it is still held without rolling the group back, and nothing waiting need
        // be sent before it.
        ReadCommand(sql).ExecuteNonQuery();
        _plansForValues = true;
    }

    private bool _plansForValues;

    /// <summary>How many requests of the group, this one included, are still to run (PostgreSQL sizes id blocks by it).</summary>
    internal int RequestsLeftInGroup { get; set; } = 1;

    /// <summary>Runs one statement per row of values through the storage port (see <see cref="LedgerDatabase.ExecuteMany"/>).</summary>
    public void ExecuteMany(string sql, string[] names, IReadOnlyList<object?[]> rows, string? rowsSql = null) =>
        _database.ExecuteMany(this, sql, names, rows, rowsSql);

    /// <summary>Inserts rows through the storage port (see <see cref="LedgerDatabase.InsertRows"/>).</summary>
    public void InsertRows(string table, string[] columns, IReadOnlyList<object?[]> rows) => _database.InsertRows(this, table, columns, rows);

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

    // PostgreSQL's COPYs of large row sets run on the connection in the background, in the order started, while the
    // writer builds the rows that follow (a 10,000-entry batch is copied in chunks): the server stores one chunk while
    // the API checks, numbers and hashes the next, where before each waited for the other. Anything else that uses the
    // connection waits for them first (every path to it above does), so statements still run one at a time, in order.
    private readonly Queue<Task> _copies = new();

    // The copy started last: each waits for the one before, so once it is done, all are.
    private Task LastCopy => _copies.Count == 0 ? Task.CompletedTask : _copies.Last();

    // Bounded: the writer runs at most this many copies ahead of the server (about two chunks of a batch: events, entries,
    // postings and open items each), so a slow server holds at most that many chunks' rows in memory.
    private const int MaxCopiesInFlight = 6;

    /// <summary>
    /// Runs <paramref name="copy"/> on the connection after every copy started before it, without waiting for it (see
    /// <see cref="WaitForCopies"/>). Rows the request deferred are sent first. <paramref name="copy"/> must own its rows.
    /// </summary>
    internal void StartCopy(Action<DbConnection> copy)
    {
        BeginNow();
        FlushWrites();
        RequestWrote = true;
        try
        {
            while (_copies.Count >= MaxCopiesInFlight) _copies.Dequeue().GetAwaiter().GetResult();
        }
        catch
        {
            // Every later copy failed with it, without touching the connection (each awaits the one before).
            ForgetCopies();
            throw;
        }
        var previous = LastCopy;
        var connection = _connection;
        // A thread of its own (LongRunning), not one of the pool's: the copy blocks for as long as the server takes, and
        // under load it must not wait behind the requests the pool is running while the writer waits for it.
        _copies.Enqueue(previous.ContinueWith(done =>
        {
            done.GetAwaiter().GetResult(); // a failed copy stops every one after it
            copy(connection);
        }, CancellationToken.None, TaskContinuationOptions.DenyChildAttach | TaskContinuationOptions.LongRunning, TaskScheduler.Default));
    }

    // Drops the copies still queued, their failures observed: the one that failed is thrown by the caller, and the others
    // failed with it.
    private void ForgetCopies()
    {
        foreach (var copy in _copies)
            copy.ContinueWith(static done => _ = done.Exception, CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        _copies.Clear();
    }

    /// <summary>
    /// Waits until no copy is running on the connection. The first copy that failed is thrown, once: whatever runs next
    /// (a rollback) finds the connection free.
    /// </summary>
    internal void WaitForCopies()
    {
        if (_copies.Count == 0) return;
        var last = LastCopy;
        ForgetCopies();
        last.GetAwaiter().GetResult();
    }

    internal void WaitForCopiesQuietly()
    {
        try { WaitForCopies(); }
        catch (Exception) { /* the group's failure is reported where it happened; this only frees the connection */ }
    }

    internal Instant LastRecorded()
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT MAX(recorded_at) FROM commits";
        return command.ExecuteScalar() is string text ? Timestamps.Parse(text) : Instant.MinValue;
    }

    internal void BeginGroup(Instant now, string? bookId)
    {
        Now = now;
        _groupBookId = bookId;
        Finishing = false;
        RequestsLeftInGroup = 1;
        _plansForValues = false;
        // Nothing cached here outlives a group (what the writer knows of a book across groups it hands in itself).
        ResetGroupState();
        CommitId = 0;
        _maxEntryIdInGroup = 0;
        _afterCommit.Clear();
    }

    /// <summary>
    /// Whether the running request has sent anything but a SELECT (rows, updates, or SQL through <see cref="Connection"/>):
    /// only such a request, when it fails, leaves something in the transaction that must be rolled back.
    /// </summary>
    internal bool RequestWrote { get; private set; }

    internal void BeginRequest(bool defersGroupState, int index)
    {
        _requestIndex = index;
        RequestWrote = false;
        _requestPendingStart = _pendingWrites.Count;
        DefersGroupState = defersGroupState;
        _requestMaxEntryId = 0;
        _requestAfterCommit.Clear();
    }

    internal void DiscardRequest()
    {
        // Set in a savepoint the rollback undid, perhaps: set it again if asked (it only ever costs a round trip).
        _plansForValues = false;
        DropRequestWrites();
        _requestMaxEntryId = 0;
        _requestAfterCommit.Clear();
        foreach (var state in _groupStates.Values) state.DiscardRequest();
    }

    /// <summary>Forgets the rows the running request deferred and has not sent; those before it belong to requests already kept.</summary>
    internal void DropRequestWrites()
    {
        if (_requestPendingStart < _pendingWrites.Count) _pendingWrites.RemoveRange(_requestPendingStart, _pendingWrites.Count - _requestPendingStart);
    }

    /// <summary>Writes out every deferred group state and forgets what it cached, so plain SQL sees current rows.</summary>
    internal void FlushGroupState()
    {
        foreach (var state in _groupStates.Values) state.Flush(this);
    }

    internal void ResetGroupState()
    {
        _beginWhenUsed = null; // a group rolled back before it began has no transaction to end
        _pendingWrites.Clear();
        _requestPendingStart = 0;
        _idBlocks.Clear();
        foreach (var state in _groupStates.Values) state.Reset();
    }

    /// <summary>
    /// Every group leaves its instant, entries or not: after a restart, even on a clock set back, no group is stamped
    /// before what is already stored (an account version, a lock-date change) or before a settled knownAt.
    /// </summary>
    internal void RecordCommit()
    {
        if (_database.SingleWriterProcess)
        {
            Command("INSERT INTO commits (id, recorded_at, max_entry_id) VALUES (@id, @recorded_at, @max_entry_id)")
                .Bind("@id", NextId("commits"))
                .Bind("@recorded_at", Timestamps.Format(Now))
                .Bind("@max_entry_id", _maxEntryIdInGroup)
                .ExecuteNonQuery();
            return;
        }
        // PostgreSQL: per book, for the book this group locked; a bookless group (keys, purges) touches no report. Written
        // as rows, which the engine sends with the group's other writes.
        if (_groupBookId is null) return;
        CommitId = NextId("commits");
        InsertRows("commits", CommitColumns, [[CommitId, _groupBookId, Timestamps.Format(Now), _maxEntryIdInGroup]]);
    }

    /// <summary>The id of the commit record this group wrote (PostgreSQL book groups; 0 before it is written).</summary>
    internal long CommitId { get; private set; }

    /// <summary>How many ids drawn for <paramref name="table"/> this group has not used.</summary>
    internal int IdsLeft(string table) => _idBlocks.TryGetValue(table, out var block) ? block.Count : 0;

    /// <summary>The ids drawn and not used, by table, in the order drawn; the session forgets them.</summary>
    internal Dictionary<string, List<long>> TakeIdsLeft()
    {
        var left = new Dictionary<string, List<long>>(StringComparer.Ordinal);
        foreach (var (table, block) in _idBlocks)
            if (block.Count > 0) left[table] = [.. block];
        _idBlocks.Clear();
        return left;
    }

    private static readonly string[] CommitColumns = ["id", "book_id", "recorded_at", "max_entry_id"];

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
        WaitForCopiesQuietly();
        foreach (var statement in _engineStatements.Values) statement.Dispose();
        _engineStatements.Clear();
        foreach (var command in _commands.Values) command.Dispose();
        _commands.Clear();
    }

    private readonly Dictionary<string, IDisposable> _engineStatements = new(StringComparer.Ordinal);

    /// <summary>
    /// A statement the storage engine prepared its own way for <paramref name="sql"/> on the writer's connection (SQLite:
    /// through its native API), created once and reused for the life of the writer, as <see cref="Command"/> is. What
    /// runs through it counts as a write of the request.
    /// </summary>
    internal T EngineStatement<T>(string sql, Func<DbConnection, T> prepare) where T : class, IDisposable
    {
        var connection = Connection; // sends deferred rows first and counts the request as a write
        if (!_engineStatements.TryGetValue(sql, out var statement))
        {
            statement = prepare(connection);
            _engineStatements[sql] = statement;
        }
        return (T)statement;
    }

    internal void DisposeWithConnection()
    {
        Dispose();
        _connection.Dispose();
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
