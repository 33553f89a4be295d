using System.Data.Common;
using System.Globalization;
using Dapper;
using Ledger.Domain;

namespace Ledger.Api.Features.Audit;

/// <summary>
/// Reads a book's events in sequence order, each as the feed, the export, webhooks and the audit see it: a row of
/// <c>events</c> as stored, or an event of a run (<see cref="EntryEventRun"/>) made whole from its entry's rows, with the
/// entry's canonical text as its data and its hash as kept, or recomputed from the nearest one kept before it.
/// </summary>
public static class EventReader
{
    /// <summary>
    /// One event, and for an entry event of a run the rows it was made from (null when its entry is gone) with the
    /// fingerprints those rows give now, computed with the event's text (the audit compares them with the stored ones).
    /// </summary>
    public sealed record Read(AuditEndpoints.StoredEvent Event, Run? InRun, EntryRow? Entry, IReadOnlyList<PostingRow>? Lines,
        RowFingerprints? Fingerprints);

    /// <summary>The fingerprints of an entry's own members and of each of its lines (see <see cref="AuditSnapshots.EntryText(long, long, string, string, string?, long?, bool, string?, long?, IReadOnlyList{AuditSnapshots.EntryLine}, int, Span{long}, out long)"/>).</summary>
    public sealed record RowFingerprints(long Entry, long[] Lines);

    /// <summary>
    /// The run an event was read from: its first and last sequence, its first entry, the hash its row keeps (its last
    /// event's), and the data its row stores (always empty, unless the row was changed).
    /// </summary>
    public sealed record Run(long Sequence, long ThroughSequence, string FirstEntry, string Hash, string StoredData);

    /// <summary>
    /// The events after <paramref name="after"/>, at most <paramref name="take"/> (from 1 to <see cref="AuditEndpoints.ChunkSize"/>).
    /// Several statements: the caller reads on one snapshot where it needs one (entries commit with their events, so
    /// a run's entries are there whenever its row is).
    /// </summary>
    public static async Task<List<Read>> ReadAsync(DbConnection connection, string bookId, long after, int take)
    {
        if (take is < 1 or > AuditEndpoints.ChunkSize) throw new ArgumentOutOfRangeException(nameof(take));
        var rows = new List<EventRow>();
        // A run that began at or before `after` may hold the events just after it.
        if (after > 0 && await connection.QueryFirstOrDefaultAsync<EventRow>(SelectRowsSql + " AND sequence <= @after ORDER BY sequence DESC LIMIT 1",
                new { bookId, after }) is { ThroughSequence: { } through } holding && through > after)
            rows.Add(holding);
        rows.AddRange(await connection.QueryAsync<EventRow>(SelectRowsSql + " AND sequence > @after ORDER BY sequence LIMIT @take", new { bookId, after, take }));

        var read = new List<Read>(Math.Min(take, 64));
        int? digits = null;
        // The row before the one being read, when this page read it: a run's first event chains to its hash.
        (long Through, string Hash)? before = null;
        foreach (var row in rows)
        {
            if (read.Count >= take) break;
            if (row.ThroughSequence is not { } last)
            {
                read.Add(new Read(row.Stored(row.Data, row.Hash, row.SubjectId), null, null, null, null));
                before = (row.Sequence, row.Hash);
                continue;
            }
            var run = new Run(row.Sequence, last, row.SubjectId, row.Hash, row.Data);
            var from = Math.Max(row.Sequence, after + 1);
            var to = Math.Min(last, from + (take - read.Count) - 1);
            digits ??= await DigitsAsync(connection, bookId);
            var hashBefore = before is { } b && b.Through == row.Sequence - 1 ? b.Hash : null;
            await ReadRunAsync(connection, bookId, row, run, from, to, digits.Value, hashBefore, read);
            before = (last, row.Hash);
        }
        return read;
    }

    /// <summary>
    /// Events <paramref name="from"/> to <paramref name="to"/> of a run. Each one's hash is the one kept on its entry's
    /// row, or the run's row's for its last event, or else recomputed from the event before it, picking the chain up at
    /// the nearest event before <paramref name="from"/> whose hash is kept (<see cref="EntryEventRun.KeepsHash"/>), or
    /// at the row before the run (<paramref name="hashBefore"/>, read here when not given).
    /// </summary>
    private static async Task ReadRunAsync(DbConnection connection, string bookId, EventRow row, Run run, long from, long to, int digits,
        string? hashBefore, List<Read> read)
    {
        var kept = EntryEventRun.KeptAtOrBefore(from);
        var start = kept > row.Sequence ? kept : row.Sequence;
        // Two passes at most: the second starts from the run's first event, when the entry meant to keep a hash does not.
        for (var pass = 0; pass < 2; pass++)
        {
            var (bySequence, lines) = await EntriesAsync(connection, bookId, row, start, to);
            var events = new List<Read>((int)(to - from + 1));
            string? previous = null; // the hash of the event before `sequence`, when known
            var resume = false;
            for (var sequence = start; sequence <= to; sequence++)
            {
                var last = sequence == run.ThroughSequence;
                if (!bySequence.TryGetValue(sequence, out var entry))
                {
                    // Its entry is gone (or no longer names it): the event shows no data, and the audit names it. The chain
                    // cannot be followed across it; the hashes after it are only those kept.
                    if (sequence >= from) events.Add(new Read(row.Stored(sequence, "", last ? run.Hash : "", ""), run, null, null, null));
                    previous = last ? run.Hash : null;
                    continue;
                }
                var id = entry.Id.ToString(CultureInfo.InvariantCulture);
                var entryLines = lines.TryGetValue(entry.Id, out var found) ? found : [];
                var fingerprints = new long[entryLines.Count];
                var entryFingerprint = 0L;
                var text = sequence >= from || entry.EventHash is null
                    ? AuditSnapshots.EntryText(entry.Id, entry.Number, entry.EntryDate, entry.Description, entry.Reference, entry.ReversalOf,
                        entry.IsClosing != 0, entry.SourceType, entry.SourceId, EntryLines(entryLines), digits, fingerprints, out entryFingerprint)
                    : "";
                var hash = entry.EventHash is { } bytes ? Convert.ToHexStringLower(bytes) : last ? run.Hash : null;
                if (hash is null)
                {
                    if (previous is null && sequence == row.Sequence)
                        previous = hashBefore ??= await HashBeforeAsync(connection, bookId, row.Sequence);
                    // The entry meant to keep the hash where this page picks the chain up does not: start again from the
                    // run's first event. (Past an entry that is gone, the chain cannot be followed from anywhere.)
                    if (previous is null && pass == 0 && start != row.Sequence && sequence == start)
                    {
                        resume = true;
                        break;
                    }
                    hash = previous is null ? "" : AuditChain.NextEvent(previous, sequence, row.Type, row.OccurredAt, row.ActorKeyId, row.ActorName,
                        row.SubjectType, id, text);
                }
                previous = hash.Length == 0 ? null : hash;
                if (sequence >= from)
                    events.Add(new Read(row.Stored(sequence, text, hash, id), run, entry, entryLines, new RowFingerprints(entryFingerprint, fingerprints)));
            }
            if (!resume)
            {
                read.AddRange(events);
                return;
            }
            start = row.Sequence;
        }
    }

    /// <summary>The entries holding events <paramref name="from"/> to <paramref name="to"/> of a run, by sequence, and their lines.</summary>
    private static async Task<(Dictionary<long, EntryRow>, IReadOnlyDictionary<long, List<PostingRow>>)> EntriesAsync(DbConnection connection,
        string bookId, EventRow row, long from, long to)
    {
        var bySequence = new Dictionary<long, EntryRow>();
        IReadOnlyDictionary<long, List<PostingRow>> lines = new Dictionary<long, List<PostingRow>>();
        if (!long.TryParse(row.SubjectId, NumberStyles.None, CultureInfo.InvariantCulture, out var firstId)) return (bySequence, lines);
        // The run's entries are the book's entries from its first id on, in id order; those holding the wanted events.
        // Ids grow by at least one from entry to entry, so the entry of the event `from` is at least that many ids on:
        // a page inside a 10,000-entry run starts there instead of stepping over the run's earlier entries.
        var count = to - from + 1;
        var lowest = firstId > long.MaxValue - (from - row.Sequence) ? firstId : firstId + (from - row.Sequence);
        foreach (var entry in await connection.QueryAsync<EntryRow>(
                     SelectEntriesSql + " AND id >= @lowest AND event_sequence >= @from AND event_sequence <= @to ORDER BY id LIMIT @count",
                     new { bookId, lowest, from, to, count }))
            bySequence.TryAdd(entry.EventSequence!.Value, entry);
        if (bySequence.Count > 0)
        {
            var first = bySequence.Values.Min(e => e.Id);
            var lastId = bySequence.Values.Max(e => e.Id);
            lines = (await connection.QueryAsync<PostingRow>(SelectPostingsSql + " AND p.entry_id >= @first AND p.entry_id <= @lastId ORDER BY p.entry_id, p.line_no",
                    new { bookId, first, lastId }))
                .GroupBy(p => p.EntryId).ToDictionary(g => g.Key, g => g.ToList());
        }
        return (bySequence, lines);
    }

    /// <summary>The hash of event <paramref name="sequence"/> − 1 as its row keeps it (a run's row, its last event's); null when no row ends there.</summary>
    private static async Task<string?> HashBeforeAsync(DbConnection connection, string bookId, long sequence)
    {
        if (sequence == 1) return AuditChain.Genesis;
        var row = await connection.QueryFirstOrDefaultAsync<(long Through, string Hash)?>(
            "SELECT COALESCE(through_sequence, sequence), hash FROM events WHERE book_id = @bookId AND sequence < @sequence ORDER BY sequence DESC LIMIT 1",
            new { bookId, sequence });
        return row is { } r && r.Through == sequence - 1 ? r.Hash : null;
    }

    private static async Task<int> DigitsAsync(DbConnection connection, string bookId) =>
        await connection.ExecuteScalarAsync<string?>("SELECT currency FROM books WHERE id = @bookId", new { bookId }) is { } code
            ? Domain.Currency.FromCode(code).MinorDigits
            : throw new InvalidOperationException($"Book {bookId} has events but no row.");

    /// <summary>The canonical text of a stored entry with its lines: what its event hashed, unless a row was changed.</summary>
    public static string Text(EntryRow entry, IReadOnlyList<AuditSnapshots.EntryLine> lines, int digits) =>
        AuditSnapshots.EntryText(entry.Id, entry.Number, entry.EntryDate, entry.Description, entry.Reference, entry.ReversalOf,
            entry.IsClosing != 0, entry.SourceType, entry.SourceId, lines, digits);

    /// <summary>The lines as the entry's event names them (a line whose account is gone names none).</summary>
    public static List<AuditSnapshots.EntryLine> EntryLines(IEnumerable<PostingRow> postings) =>
        postings.Select(p => new AuditSnapshots.EntryLine(p.Account ?? "", p.Amount, p.Description,
            p.Ledger is null ? null : p.Ledger == "receivables" ? "customer" : "vendor", p.PartyId)).ToList();

    public sealed record EntryRow(long Id, long Number, string EntryDate, string Description, string? Reference, long? ReversalOf, long IsClosing,
        string? SourceType, long? SourceId, long? EventSequence, byte[]? EventHash, long? Fingerprint);

    public sealed record PostingRow(long EntryId, long LineNo, string? Account, long Amount, string? Description, string? Ledger, long? PartyId,
        string EntryDate, long? Fingerprint);

    public const string SelectEntriesSql = """
        SELECT id AS Id, number AS Number, entry_date AS EntryDate, description AS Description, reference AS Reference,
               reversal_of AS ReversalOf, is_closing AS IsClosing, source_type AS SourceType, source_id AS SourceId,
               event_sequence AS EventSequence, event_hash AS EventHash, fingerprint AS Fingerprint
        FROM journal_entries WHERE book_id = @bookId
        """;

    /// <summary>An entry's lines as its event names them: the account by code, the party from the line's open item.</summary>
    public const string SelectPostingsSql = """
        SELECT p.entry_id AS EntryId, p.line_no AS LineNo, a.code AS Account, p.amount AS Amount, p.description AS Description,
               o.ledger AS Ledger, o.party_id AS PartyId, p.entry_date AS EntryDate, p.fingerprint AS Fingerprint
        FROM postings p
        LEFT JOIN accounts a ON a.id = p.account_id AND a.book_id = p.book_id
        LEFT JOIN open_items o ON o.book_id = p.book_id AND o.entry_id = p.entry_id AND o.line_no = p.line_no
        WHERE p.book_id = @bookId
        """;

    private const string SelectRowsSql = """
        SELECT sequence AS Sequence, through_sequence AS ThroughSequence, type AS Type, occurred_at AS OccurredAt, actor_key_id AS ActorKeyId,
               actor_name AS ActorName, subject_type AS SubjectType, subject_id AS SubjectId, data AS Data, hash AS Hash
        FROM events WHERE book_id = @bookId
        """;

    private sealed record EventRow(long Sequence, long? ThroughSequence, string Type, string OccurredAt, string? ActorKeyId, string? ActorName,
        string SubjectType, string SubjectId, string Data, string Hash)
    {
        public AuditEndpoints.StoredEvent Stored(string data, string hash, string subjectId) => Stored(Sequence, data, hash, subjectId);

        public AuditEndpoints.StoredEvent Stored(long sequence, string data, string hash, string subjectId) =>
            new(sequence, Type, OccurredAt, ActorKeyId, ActorName, SubjectType, subjectId, data, hash);
    }
}
