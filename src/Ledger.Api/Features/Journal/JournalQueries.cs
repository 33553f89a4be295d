using System.Text;
using Dapper;
using Ledger.Api.Infrastructure;
using Ledger.Domain;
using System.Data.Common;

namespace Ledger.Api.Features.Journal;

/// <summary>Reads of posted journal entries, in the same shape as they were answered when posted.</summary>
public static class JournalQueries
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 500;

    public sealed record EntryFilter(string? From, string? To, long? AccountId, string? Reference);

    public static async Task<JournalEntryResponse?> FindAsync(DbConnection connection, string bookId, long id, int digits)
    {
        var entries = await LoadAsync(connection, bookId, [id], digits);
        return entries.Count == 1 ? entries[0] : null;
    }

    /// <summary>One page ordered by (date, number), resuming after the cursor's (date, id).</summary>
    public static async Task<JournalEntryPage> PageAsync(DbConnection connection, string bookId, EntryFilter filter,
        (string Date, long Id)? after, int limit, int digits)
    {
        var sql = new StringBuilder(filter.AccountId is null ? PageByBookSql : PageByAccountSql);
        var prefix = filter.AccountId is null ? "e" : "p";
        if (filter.From is not null) sql.Append($" AND {prefix}.entry_date >= @from");
        if (filter.To is not null) sql.Append($" AND {prefix}.entry_date <= @to");
        if (filter.Reference is not null) sql.Append(filter.AccountId is null ? " AND e.reference = @reference" : ReferenceViaEntrySql);
        if (after is not null)
            sql.Append(filter.AccountId is null ? AfterCursorByBookSql : AfterCursorByAccountSql);
        sql.Append(filter.AccountId is null ? " ORDER BY e.entry_date, e.id LIMIT @take" : " ORDER BY p.entry_date, p.entry_id LIMIT @take");

        var keys = (await connection.QueryAsync<EntryKey>(sql.ToString(), new
        {
            bookId,
            accountId = filter.AccountId,
            from = filter.From,
            to = filter.To,
            reference = filter.Reference,
            afterDate = after?.Date,
            afterId = after?.Id,
            take = limit + 1,
        })).AsList();

        var hasMore = keys.Count > limit;
        if (hasMore) keys.RemoveAt(keys.Count - 1);
        var entries = await LoadAsync(connection, bookId, keys.Select(k => k.Id).ToArray(), digits);
        var last = keys.Count > 0 ? keys[^1] : null;
        return new JournalEntryPage(entries, hasMore && last is not null ? Cursor.Encode(last.EntryDate, last.Id) : null);
    }

    /// <summary>Entries with their lines, in the order of <paramref name="ids"/>.</summary>
    public static async Task<IReadOnlyList<JournalEntryResponse>> LoadAsync(DbConnection connection, string bookId,
        IReadOnlyCollection<long> ids, int digits)
    {
        if (ids.Count == 0) return [];
        // Looked up by id, each id as a row of a VALUES list joined to the entries: with "id IN (…) AND book_id = @bookId"
        // SQLite would rather walk the book's (book_id, number) index than look up a hundred ids, and the book filter
        // must be there for a sharded PostgreSQL to route the query to the book's node. CROSS JOIN fixes the order in SQLite.
        var (list, rows, parameters) = SqlIdList.Of(ids);
        parameters.Add("bookId", bookId);
        var heads = (await connection.QueryAsync<EntryRow>(SelectEntriesSql.Replace("{rows}", rows, StringComparison.Ordinal), parameters))
            .ToDictionary(r => r.Id);
        var lines = (await connection.QueryAsync<LineRow>(SelectLinesSql.Replace("@ids", list, StringComparison.Ordinal), parameters))
            .ToLookup(l => l.EntryId);
        var result = new List<JournalEntryResponse>(ids.Count);
        foreach (var id in ids)
        {
            if (!heads.TryGetValue(id, out var head)) continue;
            result.Add(new JournalEntryResponse(head.Id, head.Number, head.EntryDate, head.Description, head.Reference,
                lines[id].Select(l => l.ToResponse(digits)).ToArray(), head.CreatedAt, head.ReversalOf, head.ReversedBy,
                head.IsClosing != 0, head.SourceType is { } type ? new EntrySource(type, head.SourceId!.Value, head.SourceNumber) : null));
        }
        return result;
    }

    private sealed record EntryKey(string EntryDate, long Id);

    private sealed record EntryRow(long Id, string BookId, long Number, string EntryDate, string Description, string? Reference,
        string CreatedAt, long? ReversalOf, long? ReversedBy, long IsClosing, string? SourceType, long? SourceId, string? SourceNumber);

    private sealed record LineRow(long EntryId, long LineNo, string Account, long Amount, string? Description, long? PartyId, string? Ledger)
    {
        public JournalLineResponse ToResponse(int digits)
        {
            var amount = new Amount(Math.Abs(Amount)).Format(digits);
            long? customer = Ledger == "receivables" ? PartyId : null, vendor = Ledger == "payables" ? PartyId : null;
            return Amount > 0
                ? new JournalLineResponse(Account, amount, null, Description, customer, vendor)
                : new JournalLineResponse(Account, null, amount, Description, customer, vendor);
        }
    }

    private const string PageByBookSql =
        "SELECT e.entry_date AS EntryDate, e.id AS Id FROM journal_entries e WHERE e.book_id = @bookId";

    // Driven by the account's postings index, so an account's page costs the page, not the book.
    private const string PageByAccountSql =
        "SELECT DISTINCT p.entry_date AS EntryDate, p.entry_id AS Id FROM postings p WHERE p.account_id = @accountId AND p.book_id = @bookId";

    private const string ReferenceViaEntrySql =
        " AND EXISTS (SELECT 1 FROM journal_entries r WHERE r.id = p.entry_id AND r.book_id = @bookId AND r.reference = @reference)";

    // Entry ids grow in posting order, as numbers do within a book, so (date, id) orders like (date, number).
    private const string AfterCursorByBookSql =
        " AND (e.entry_date > @afterDate OR (e.entry_date = @afterDate AND e.id > @afterId))";

    private const string AfterCursorByAccountSql =
        " AND (p.entry_date > @afterDate OR (p.entry_date = @afterDate AND p.entry_id > @afterId))";

    private const string SelectEntriesSql = """
        SELECT e.id AS Id, e.book_id AS BookId, e.number AS Number, e.entry_date AS EntryDate, e.description AS Description,
               e.reference AS Reference, e.created_at AS CreatedAt, e.reversal_of AS ReversalOf, e.reversed_by AS ReversedBy,
               e.is_closing AS IsClosing, e.source_type AS SourceType, e.source_id AS SourceId, d.number AS SourceNumber
        FROM (VALUES {rows}) v CROSS JOIN journal_entries e
        LEFT JOIN documents d ON d.id = e.source_id AND d.book_id = e.book_id
                             AND e.source_type IN ('invoice', 'credit_note', 'bill', 'vendor_credit')
        WHERE e.id = v.column1 AND e.book_id = @bookId
        """;

    // A line on a control account is an open item, which names its customer or vendor.
    private const string SelectLinesSql = """
        SELECT p.entry_id AS EntryId, p.line_no AS LineNo, a.code AS Account, p.amount AS Amount, p.description AS Description,
               o.party_id AS PartyId, o.ledger AS Ledger
        FROM postings p CROSS JOIN accounts a
        LEFT JOIN open_items o ON o.entry_id = p.entry_id AND o.line_no = p.line_no AND o.book_id = p.book_id
        WHERE a.id = p.account_id AND p.entry_id IN @ids AND p.book_id = @bookId AND a.book_id = @bookId
        ORDER BY p.entry_id, p.line_no
        """;

}

/// <summary>An opaque page cursor: the (date, id) of the last row served.</summary>
public static class Cursor
{
    /// <summary>
    /// An opaque position: the last row's date and entry id, and optionally the highest entry id the first page
    /// could see, so later pages leave out what was posted since (a report's pages then add up as one).
    /// </summary>
    public static string Encode(string date, long id, long? throughEntry = null) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(throughEntry is { } through ? $"{date}|{id}|{through}" : $"{date}|{id}"))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static bool TryDecode(string? cursor, out (string Date, long Id) position) => TryDecode(cursor, out position, out _);

    public static bool TryDecode(string? cursor, out (string Date, long Id) position, out long? throughEntry)
    {
        position = default;
        throughEntry = null;
        if (string.IsNullOrEmpty(cursor) || cursor.Length > 100) return false;
        try
        {
            var base64 = cursor.Replace('-', '+').Replace('_', '/');
            base64 = base64.PadRight(base64.Length + (4 - base64.Length % 4) % 4, '=');
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(base64)).Split('|');
            if (parts.Length is < 2 or > 3 || !DateText.TryParseDate(parts[0], out _) || !TryId(parts[1], out var id)) return false;
            if (parts.Length == 3)
            {
                if (!TryId(parts[2], out var through) || through < id) return false;
                throughEntry = through;
            }
            position = (parts[0], id);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static bool TryId(string text, out long id) =>
        long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out id);
}
