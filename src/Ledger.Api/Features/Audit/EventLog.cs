using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Ledger.Api.Infrastructure;
using Ledger.Domain;

namespace Ledger.Api.Features.Audit;

/// <summary>
/// The book's event log. Every change of a book appends one event here, on the write session of the change, so the
/// event commits or rolls back with it. Sequences are gapless per book because a book's writes are serialized (SQLite's
/// single writer; PostgreSQL's lock on the book's row, held by the group that writes it, in whichever process), and each
/// event's hash chains it to the one before. Events are never changed; the audit recomputes the chain.
/// </summary>
public static class EventLog
{
    public const string ConfiguredAdminName = "configured admin key";

    private static readonly string[] Columns =
        ["book_id", "sequence", "type", "occurred_at", "actor_key_id", "actor_name", "subject_type", "subject_id", "data", "hash"];

    // Key names never change (a key is created with its name and only revoked), so a process may remember them.
    private static readonly ConcurrentDictionary<string, string> KeyNames = new(StringComparer.Ordinal);

    /// <summary>
    /// Appends an event about <paramref name="subjectType"/> <paramref name="subjectId"/> and returns its sequence. The
    /// actor is the API key of the request the session is running (none for work the server does on its own).
    /// </summary>
    public static long Append(WriteSession session, string bookId, string type, string subjectType, string subjectId, JsonObject data)
    {
        var canonicalData = CanonicalJson.Text(data);
        var next = Next(session, bookId, type, subjectType, subjectId, canonicalData);
        session.InsertRows("events", Columns,
            [[bookId, next.Sequence, type, next.OccurredAt, next.ActorKeyId, next.ActorName, subjectType, subjectId, canonicalData, next.Hash]]);
        session.GroupState<EventChain>().Advance(bookId, next.Sequence, next.Hash);
        return next.Sequence;
    }

    /// <summary>
    /// Appends the event of journal entry <paramref name="entryId"/>, whose canonical text is <paramref name="canonicalData"/>,
    /// and returns its sequence and hash, which the entry's row keeps (event_sequence; event_hash when
    /// <see cref="EntryEventRun.KeepsHash"/>). The event gets no row of its own: <paramref name="run"/> gathers the entry
    /// events of one posting into one row (see <see cref="EntryEventRun"/>).
    /// </summary>
    public static (long Sequence, string Hash) AppendEntry(WriteSession session, string bookId, string type, long entryId, string canonicalData,
        EntryEventRun run)
    {
        var next = Next(session, bookId, type, EntryEventRun.SubjectType, entryId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            canonicalData);
        run.Add(bookId, next.Sequence, type, next.OccurredAt, next.ActorKeyId, next.ActorName, entryId, next.Hash);
        session.GroupState<EventChain>().Advance(bookId, next.Sequence, next.Hash);
        return (next.Sequence, next.Hash);
    }

    /// <summary>The book's next event: its sequence, when and by whom, and its hash chained to the head. The caller stores it, then advances the chain.</summary>
    private static (long Sequence, string OccurredAt, string? ActorKeyId, string? ActorName, string Hash) Next(WriteSession session, string bookId,
        string type, string subjectType, string subjectId, string canonicalData)
    {
        var chain = session.GroupState<EventChain>();
        var (previousSequence, previousHash) = chain.Head(session, bookId);
        var sequence = checked(previousSequence + 1);
        var occurredAt = chain.OccurredAt(session);
        var actorKeyId = session.Actor;
        var actorName = actorKeyId is null ? null : NameOf(session, actorKeyId);
        return (sequence, occurredAt, actorKeyId, actorName,
            AuditChain.NextEvent(previousHash, sequence, type, occurredAt, actorKeyId, actorName, subjectType, subjectId, canonicalData));
    }

    private static readonly System.Text.Json.JsonSerializerOptions PayloadOptions = new(System.Text.Json.JsonSerializerDefaults.Web);

    /// <summary>Appends an event whose data is <paramref name="payload"/> as the API answers it (a response record).</summary>
    /// <param name="leaveOut">Members of the answer that are no fact of the change (a balance computed for the answer).</param>
    public static long AppendPayload<T>(WriteSession session, string bookId, string type, string subjectType, string subjectId, T payload,
        params string[] leaveOut)
    {
        var data = System.Text.Json.JsonSerializer.SerializeToNode(payload, PayloadOptions) as JsonObject ?? new JsonObject { ["value"] = null };
        foreach (var name in leaveOut) data.Remove(name);
        return Append(session, bookId, type, subjectType, subjectId, data);
    }

    private static string NameOf(WriteSession session, string keyId)
    {
        if (KeyNames.TryGetValue(keyId, out var name)) return name;
        name = keyId == "configured-admin" ? ConfiguredAdminName
            : Dapper.SqlMapper.ExecuteScalar<string?>(session.Connection, "SELECT name FROM api_keys WHERE id = @keyId", new { keyId }) ?? keyId;
        KeyNames[keyId] = name;
        return name;
    }

    /// <summary>
    /// The last sequence and hash of each book the group touched: read once, then carried in memory through the group,
    /// kept for the requests that commit and dropped for those that roll back.
    /// </summary>
    public sealed class EventChain : IGroupState
    {
        private readonly StagedMap<string, (long Sequence, string Hash)> _heads = new(StringComparer.Ordinal);

        public (long Sequence, string Hash) Head(WriteSession session, string bookId)
        {
            if (_heads.TryGetValue(bookId, out var head)) return head;
            using var reader = session.ReadCommand(HeadSql).Bind("@book_id", bookId).ExecuteReader();
            head = reader.Read() ? (reader.GetInt64(0), reader.GetString(1)) : (0, AuditChain.Genesis);
            _heads.SetKnown(bookId, head);
            return head;
        }

        /// <summary>The book's last event as read when the group began (PostgreSQL reads it with the book's lock).</summary>
        public void Known(string bookId, long sequence, string hash) => _heads.SetKnown(bookId, (sequence, hash));

        public void Advance(string bookId, long sequence, string hash) => _heads.Stage(bookId, (sequence, hash));

        /// <summary>The book's last event as the group knows it (its requests' kept events included), if it knows it.</summary>
        public bool TryGetHead(string bookId, out (long Sequence, string Hash) head) => _heads.TryGetValue(bookId, out head);

        // Every event of a group happens at the group's instant: formatted once, not once per entry of a batch.
        private (NodaTime.Instant At, string Text)? _occurredAt;

        public string OccurredAt(WriteSession session)
        {
            if (_occurredAt is { } cached && cached.At == session.Now) return cached.Text;
            var text = Timestamps.Format(session.Now);
            _occurredAt = (session.Now, text);
            return text;
        }

        public void KeepRequest() => _heads.KeepRequest();

        public void DiscardRequest() => _heads.DiscardRequest();

        // The rows are in the transaction already; only the heads live here.
        public void Flush(WriteSession session) { }

        public void Reset() => _heads.Clear();

        // Also read by the round trip that begins a PostgreSQL group (PostgresLedgerDatabase.BeginBookGroup). The last row
        // may be a run of entry events: its hash is its last event's.
        internal const string HeadSql =
            "SELECT COALESCE(through_sequence, sequence), hash FROM events WHERE book_id = @book_id ORDER BY sequence DESC LIMIT 1";
    }
}

/// <summary>
/// The entry events of one posting (a batch, or the entry of a document), stored as one row of <c>events</c>: sequence is
/// the first event's, through_sequence the last's, subject_id the first entry's id and hash the last event's. Each event
/// is the entry posted at that place: the entries of a run are the book's entries from that id on, in id order (ids grow
/// in commit order within a book, so no other entry of the book falls among them), and each keeps its event's sequence
/// on its own row. The data of each event is the entry's canonical text, rebuilt from its rows when the event is read
/// (<see cref="EventReader"/>); the hash covers it as it covers any event's data. One row instead of one per entry:
/// with a row per entry event, holding a copy of the entry, the log cost a batch 14 to 25 % of its throughput (the
/// README's Benchmarks; issue 11's target is 10 %).
/// <para>
/// An event's hash is kept where the chain must be picked up without reading from the run's start: on the run's row
/// (its last event's) and on the row of each entry whose event's sequence is a multiple of <see cref="HashEvery"/>.
/// The reader recomputes the others from the nearest one kept before them (at most <see cref="HashEvery"/> − 1
/// entries back); the audit recomputes every one from the first event. A hash on every entry's row (32 bytes) was
/// most of what the log still cost a batch to store.
/// </para>
/// </summary>
public sealed class EntryEventRun
{
    public const string SubjectType = "journal_entry";

    /// <summary>Every this many events, an entry's row keeps its event's hash (a power of two, so the check is a mask).</summary>
    public const int HashEvery = 64;

    /// <summary>Whether the entry whose event is <paramref name="sequence"/> keeps that event's hash on its row.</summary>
    public static bool KeepsHash(long sequence) => (sequence & (HashEvery - 1)) == 0;

    /// <summary>The last event at or before <paramref name="sequence"/> whose entry keeps its hash (0 when none can).</summary>
    public static long KeptAtOrBefore(long sequence) => sequence & ~(long)(HashEvery - 1);

    public static readonly string[] Columns =
        ["book_id", "sequence", "through_sequence", "type", "occurred_at", "actor_key_id", "actor_name", "subject_type", "subject_id", "data", "hash"];

    // Bounded by the entries of one posting (a batch's limit), and flushed with them.
    private readonly List<object?[]> _rows = [];
    private object?[]? _open;

    public void Add(string bookId, long sequence, string type, string occurredAt, string? actorKeyId, string? actorName, long entryId, string hash)
    {
        // Extends the open run when this event follows it and says the same of who and when; else begins another.
        if (_open is { } open && (long)open[2]! + 1 == sequence && (string)open[3]! == type && (string)open[0]! == bookId)
        {
            open[2] = sequence;
            open[10] = hash;
            return;
        }
        _open = [bookId, sequence, sequence, type, occurredAt, actorKeyId, actorName, SubjectType,
            entryId.ToString(System.Globalization.CultureInfo.InvariantCulture), "", hash];
        _rows.Add(_open);
    }

    /// <summary>Writes the runs gathered so far (after the entries they name, in the same request).</summary>
    public void Write(WriteSession session)
    {
        if (_rows.Count == 0) return;
        session.InsertRows("events", Columns, _rows);
        _rows.Clear();
        _open = null;
    }
}

/// <summary>The JSON an event carries about its subject, built the same way when it is written and when it is audited.</summary>
public static class EventData
{
    public static JsonObject Of(params (string Name, JsonNode? Value)[] members)
    {
        var data = new JsonObject();
        foreach (var (name, value) in members) data[name] = value;
        return data;
    }
}
