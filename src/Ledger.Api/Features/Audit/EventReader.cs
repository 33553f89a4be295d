using System.Data.Common;
using System.Globalization;
using Dapper;

namespace Ledger.Api.Features.Audit;

/// <summary>
/// Reads a book's events in sequence order, each as the feed, the export, webhooks and the audit see it: a row of
/// <c>events</c> as stored, or an event of a run (<see cref="EntryEventRun"/>) made whole from its entry's rows, with the
/// entry's canonical text as its data and the hash the entry's row keeps.
/// </summary>
public static class EventReader
{
    /// <summary>One event, and for an entry event of a run the rows it was made from (null when its entry is gone).</summary>
    public sealed record Read(AuditEndpoints.StoredEvent Event, Run? InRun, EntryRow? Entry, IReadOnlyList<PostingRow>? Lines);

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
        foreach (var row in rows)
        {
            if (read.Count >= take) break;
            if (row.ThroughSequence is not { } last)
            {
                read.Add(new Read(row.Stored(row.Data, row.Hash, row.SubjectId), null, null, null));
                continue;
            }
            var run = new Run(row.Sequence, last, row.SubjectId, row.Hash, row.Data);
            var from = Math.Max(row.Sequence, after + 1);
            var to = Math.Min(last, from + (take - read.Count) - 1);
            digits ??= await DigitsAsync(connection, bookId);
            await ReadRunAsync(connection, bookId, row, run, from, to, digits.Value, read);
        }
        return read;
    }

    private static async Task ReadRunAsync(DbConnection connection, string bookId, EventRow row, Run run, long from, long to, int digits, List<Read> read)
    {
        var bySequence = new Dictionary<long, EntryRow>();
        IReadOnlyDictionary<long, List<PostingRow>> lines = new Dictionary<long, List<PostingRow>>();
        if (long.TryParse(row.SubjectId, NumberStyles.None, CultureInfo.InvariantCulture, out var firstId))
        {
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
        }
        for (var sequence = from; sequence <= to; sequence++)
        {
            if (!bySequence.TryGetValue(sequence, out var entry))
            {
                // Its entry is gone (or no longer names it): the event shows no data, and the audit names it.
                read.Add(new Read(row.Stored(sequence, "", "", ""), run, null, null));
                continue;
            }
            var entryLines = lines.TryGetValue(entry.Id, out var found) ? found : [];
            var text = Text(entry, EntryLines(entryLines), digits);
            var hash = entry.EventHash is { } bytes ? Convert.ToHexStringLower(bytes) : "";
            read.Add(new Read(row.Stored(sequence, text, hash, entry.Id.ToString(CultureInfo.InvariantCulture)), run, entry, entryLines));
        }
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
