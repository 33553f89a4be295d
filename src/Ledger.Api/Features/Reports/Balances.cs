using Dapper;
using Ledger.Api.Infrastructure;
using Ledger.Domain;
using System.Data.Common;
using NodaTime;

namespace Ledger.Api.Features.Reports;

/// <summary>
/// Account balances at a date without re-summing history: all-time totals kept on each account answer "now";
/// monthly period totals plus the postings of one partial month answer any earlier date; entries recorded
/// after a <c>knownAt</c> instant are taken back out to reproduce what the books said then.
/// </summary>
public static class Balances
{
    /// <summary>
    /// Net balance (debits minus credits, in minor units) per account id, for entries dated on or before
    /// <paramref name="asOf"/>, counting only entries with ids up to <paramref name="throughEntry"/> when it is given
    /// (what was known at an instant; see <see cref="LedgerDatabase.LastEntryRecordedAsync"/>).
    /// </summary>
    /// <param name="allTime">Every account's all-time net (debit minus credit totals) as the caller already read it in the
    /// same snapshot, with the chart: the all-time totals are then not read a second time.</param>
    public static async Task<Dictionary<long, long>> NetAsOfAsync(LedgerDatabase database, DbConnection connection, string bookId, LocalDate asOf, long? throughEntry = null,
        IReadOnlyDictionary<long, long>? allTime = null)
    {
        var args = new DynamicParameters(new { bookId });
        Dictionary<long, long> net;
        // Both ends of the book's history in one round trip (each a lookup at one end of the date index).
        var (earliest, latest) = await connection.QuerySingleAsync<(string? Earliest, string? Latest)>(HistoryEndsSql, args);
        if (latest is null) return [];

        if (string.CompareOrdinal(DateText.Format(asOf), latest) >= 0)
        {
            net = await AllTimeAsync(connection, args, allTime);
        }
        else
        {
            var period = AccountingPeriod.Of(asOf);
            var monthStart = AccountingPeriod.FirstDay(period);
            // Not monthStart.PlusMonths(1): that leaves the calendar in December 9999.
            var monthEnd = new LocalDate(monthStart.Year, monthStart.Month, CalendarSystem.Iso.GetDaysInMonth(monthStart.Year, monthStart.Month));
            args.Add("period", period);
            // Read from the nearer end of history: the months before asOf summed forward, or the all-time totals less
            // the months after it (a book with post-dated entries asks "as of today" near its end, not its start).
            var backward = DateText.TryParseDate(earliest, out var first) && DateText.TryParseDate(latest, out var last)
                && MonthIndex(last) - MonthIndex(asOf) < MonthIndex(asOf) - MonthIndex(first);
            // Within asOf's month, sum whichever part is shorter: the days up to asOf, or the days after it.
            var firstHalf = asOf.Day <= (monthEnd.Day + 1) / 2;
            var (comparison, periodsSign) = (backward, firstHalf) switch
            {
                (false, true) => (PeriodComparison.Before, +1),
                (false, false) => (PeriodComparison.Through, +1),
                (true, true) => (PeriodComparison.From, -1),
                (true, false) => (PeriodComparison.After, -1),
            };
            var periodsSql = (database.MonthlyTotalsIndexedByBook ? PeriodsByBookSql : PeriodsThroughAccountsSql)[(int)comparison];
            net = backward ? await AllTimeAsync(connection, args, allTime) : [];
            Add(net, await connection.QueryAsync<AccountAmount>(periodsSql, args), periodsSign);
            // On the month's last day the days after it are none: nothing to read (the query would still probe every
            // account's postings to find that out).
            if (firstHalf || asOf < monthEnd)
            {
                var from = DateText.Format(firstHalf ? monthStart : asOf.PlusDays(1));
                var to = DateText.Format(firstHalf ? asOf : monthEnd);
                Add(net, await PostingsBetweenAsync(connection, bookId, from, to, allTime?.Count), firstHalf ? +1 : -1);
            }
        }

        if (throughEntry is { } lastKnown)
        {
            var later = await connection.QueryAsync<AccountAmount>(RecordedAfterSql,
                new { bookId, lastKnown, newest = long.MaxValue, asOf = DateText.Format(asOf) });
            Add(net, later, -1);
        }
        return net;
    }

    /// <summary>
    /// The postings dated from <paramref name="from"/> to <paramref name="to"/> (days of one month), summed per account,
    /// found the cheaper of two ways. Through each account's postings (the account index): one probe per account of the
    /// book, whether the days hold any of its postings or not, then its postings in order; the cost hardly depends on how
    /// many days. Or through the entries dated in those days (the entries' date index) and their postings (the postings'
    /// key): about two probes per entry. The second is cheaper while the days hold fewer entries than a quarter of the
    /// chart has accounts (and fewer than 501, the longest id list, in a chart of over 2,004), as when "today" falls in a
    /// month that only post-dated entries reach. Measured on PostgreSQL with 200,000 entries, 1,000 accounts and 1,000
    /// entries post-dated over the next year (benchmark, 2-core host, twelfth session): the trial balance as of today
    /// took 15-17 ms instead of 66-76 ms, and 11-12 ms instead of 16-25 ms once the tables were analyzed; the empty day
    /// alone cost 10.6 ms through the accounts (EXPLAIN ANALYZE). On SQLite, whose probes are cheaper, the two ways
    /// measured the same (12-14 ms). Where the days hold many entries it costs one round trip more than before (a read
    /// of at most that many index entries).
    /// </summary>
    private static async Task<IEnumerable<AccountAmount>> PostingsBetweenAsync(DbConnection connection, string bookId,
        string from, string to, int? accountsRead)
    {
        var accounts = accountsRead ?? await connection.ExecuteScalarAsync<int>(AccountCountSql, new { bookId });
        // Bounded: at most this many entry ids are read, and only a range holding fewer is summed through its entries.
        var cap = Math.Clamp(accounts / 4, 1, SqlIdList.MaxIds);
        var entries = (await connection.QueryAsync<long>(EntriesBetweenSql, new { bookId, from, to, cap })).AsList();
        if (entries.Count >= cap) return await connection.QueryAsync<AccountAmount>(PostingsBetweenSql, new { bookId, from, to });
        if (entries.Count == 0) return [];
        // Padded to one of a few lengths with the last id again (IN ignores repeats): each length is a statement of its
        // own, and a few of them, not one per count, stay prepared on a PostgreSQL connection beside the others.
        var length = IdListLengths.First(l => l >= entries.Count);
        while (entries.Count < length) entries.Add(entries[^1]);
        var (list, _, parameters) = SqlIdList.Of(entries);
        parameters.Add("bookId", bookId);
        return await connection.QueryAsync<AccountAmount>(PostingsOfEntriesSql.Replace("@ids", list, StringComparison.Ordinal), parameters);
    }

    private static readonly int[] IdListLengths = [8, 32, 128, SqlIdList.MaxIds];

    private static async Task<Dictionary<long, long>> AllTimeAsync(DbConnection connection, DynamicParameters args, IReadOnlyDictionary<long, long>? read) =>
        read is not null ? new Dictionary<long, long>(read) : ToDictionary(await connection.QueryAsync<AccountAmount>(AllTimeSql, args));

    private static int MonthIndex(LocalDate date) => date.Year * 12 + date.Month;

    private static Dictionary<long, long> ToDictionary(IEnumerable<AccountAmount> rows) =>
        rows.ToDictionary(r => r.AccountId, r => r.Amount);

    private static void Add(Dictionary<long, long> net, IEnumerable<AccountAmount> rows, int sign)
    {
        foreach (var row in rows)
        {
            // Zero moves nothing (and is what an account without postings in a part month reads as).
            if (row.Amount == 0) continue;
            net.TryGetValue(row.AccountId, out var current);
            net[row.AccountId] = checked(current + sign * row.Amount);
        }
    }

    // A class with setters, not a positional record: SQLite reports no column type for an aggregate over no rows,
    // and Dapper only matches constructors by exact column type.
    public sealed class AccountAmount
    {
        public long AccountId { get; init; }
        public long Amount { get; init; }
    }

    // Two subqueries rather than MIN and MAX in one: SQLite answers a lone MIN or MAX from one end of the index, but
    // both together by scanning the book's whole range of it.
    private const string HistoryEndsSql = """
        SELECT (SELECT MIN(entry_date) FROM journal_entries WHERE book_id = @bookId) AS Earliest,
               (SELECT MAX(entry_date) FROM journal_entries WHERE book_id = @bookId) AS Latest
        """;

    private const string AllTimeSql =
        "SELECT id AS AccountId, debit_total - credit_total AS Amount FROM accounts WHERE book_id = @bookId";

    private enum PeriodComparison { Before, Through, From, After }

    // Indexed by PeriodComparison: the months before, through, from and after @period.
    private static readonly string[] PeriodOperators = ["<", "<=", ">=", ">"];

    // SQLite: each of the book's accounts, then its months in the key's order.
    private static readonly string[] PeriodsThroughAccountsSql = [.. PeriodOperators.Select(op => $"""
        SELECT t.account_id AS AccountId, CAST(SUM(t.debit) - SUM(t.credit) AS BIGINT) AS Amount
        FROM account_period_totals t JOIN accounts a ON a.id = t.account_id
        WHERE a.book_id = @bookId AND t.book_id = @bookId AND t.period {op} @period
        GROUP BY t.account_id
        """)];

    // PostgreSQL: the book's months through the (book_id, period) index. The join to the accounts above would only cost a
    // scan and hash of the chart there: the trial balance as of today with 1,000 post-dated entries read 1,662 monthly rows
    // in 3.3-3.6 ms with it and 1.7 ms without (EXPLAIN ANALYZE, 200,000 entries, thirteenth session).
    private static readonly string[] PeriodsByBookSql = [.. PeriodOperators.Select(op => $"""
        SELECT t.account_id AS AccountId, CAST(SUM(t.debit) - SUM(t.credit) AS BIGINT) AS Amount
        FROM account_period_totals t
        WHERE t.book_id = @bookId AND t.period {op} @period
        GROUP BY t.account_id
        """)];

    // One sum per account, each a range of the account index, rather than a join grouped by account: the join leaves
    // PostgreSQL's planner free to scan every posting of every book, which it chose right after a large batch, before
    // autovacuum had analyzed the table and marked its pages all-visible (auto_explain, 200,000 entries, thirteenth
    // session: a parallel sequential scan of 400,000 postings for 5,000, 67-121 ms; 17-23 ms this way). A subquery in
    // the select list can only be run per account. SQLite ran the join this way already. Accounts without postings in
    // those days come back with a null sum and add nothing.
    private const string PostingsBetweenSql = """
        SELECT a.id AS AccountId,
               (SELECT CAST(SUM(p.amount) AS BIGINT) FROM postings p
                WHERE p.account_id = a.id AND p.entry_date >= @from AND p.entry_date <= @to AND p.book_id = @bookId) AS Amount
        FROM accounts a
        WHERE a.book_id = @bookId
        """;

    private const string AccountCountSql = "SELECT COUNT(*) FROM accounts WHERE book_id = @bookId";

    private const string EntriesBetweenSql = """
        SELECT id FROM journal_entries WHERE book_id = @bookId AND entry_date >= @from AND entry_date <= @to LIMIT @cap
        """;

    private const string PostingsOfEntriesSql = """
        SELECT p.account_id AS AccountId, CAST(SUM(p.amount) AS BIGINT) AS Amount
        FROM postings p
        WHERE p.entry_id IN @ids AND p.book_id = @bookId
        GROUP BY p.account_id
        """;

    // Driven by the entry id range (the postings' primary key starts with entry_id): entries recorded after knownAt
    // are the newest, so the cost is the number of postings recorded since. Postings carry the entry's date and book,
    // so neither the entries nor the accounts are read. The range is bounded above too (by the largest id): with one
    // bound SQLite would rather walk the whole account index, whose order suits the GROUP BY.
    private const string RecordedAfterSql = """
        SELECT p.account_id AS AccountId, CAST(SUM(p.amount) AS BIGINT) AS Amount
        FROM postings p
        WHERE p.entry_id > @lastKnown AND p.entry_id <= @newest AND p.entry_date <= @asOf AND p.book_id = @bookId
        GROUP BY p.account_id
        """;

}
