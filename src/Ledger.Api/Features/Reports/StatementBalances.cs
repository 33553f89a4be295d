using Dapper;
using Ledger.Api.Features.Accounts;
using Ledger.Api.Features.Books;
using Ledger.Api.Infrastructure;
using Ledger.Domain;
using System.Data.Common;
using NodaTime;

namespace Ledger.Api.Features.Reports;

/// <summary>
/// What a report reads from: its book and a read connection holding one snapshot of the database for the whole
/// report. A report adds up several queries (balances at two dates, closing entries, lines); read outside a
/// transaction, each query could see a different set of committed entries, and a statement could fail to balance.
/// WAL readers never block the writer.
/// </summary>
public sealed class ReportSnapshot : IAsyncDisposable
{
    private readonly ReportCharts _charts;

    private ReportSnapshot(BookIdentity book, DbConnection connection, Instant? knownAt, long? throughEntry, ReportCharts charts)
    {
        _charts = charts;
        Book = book;
        Connection = connection;
        KnownAt = knownAt;
        ThroughEntry = throughEntry;
    }

    public BookIdentity Book { get; }
    public DbConnection Connection { get; }

    /// <summary>When set, the report shows the books as known at this instant: its entries, chart and fiscal year.</summary>
    public Instant? KnownAt { get; }

    /// <summary>With <see cref="KnownAt"/>: the book's highest entry id recorded by then; entries above it are not counted.</summary>
    public long? ThroughEntry { get; }

    /// <summary>
    /// Opens the snapshot. Reports may read a replica; one as known at an instant (already settled by the caller) reads
    /// one that has replayed everything committed so far, so it counts every commit recorded by then.
    /// </summary>
    public static async Task<ReportSnapshot> OpenAsync(string bookId, BookCatalog books, LedgerDatabase database, Instant? knownAt = null)
    {
        var book = await books.GetAsync(bookId);
        var connection = knownAt is null ? await database.OpenReplicaReadAsync() : await database.OpenCaughtUpReadAsync();
        try
        {
            await connection.ExecuteAsync(database.BeginSnapshotSql);
            var through = knownAt is { } instant ? await database.LastEntryRecordedAsync(connection, bookId, instant) : (long?)null;
            return new ReportSnapshot(book, connection, knownAt, through, books.Charts);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>The book's chart of accounts, by code, as it stood at <see cref="KnownAt"/> if set.</summary>
    public async Task<IReadOnlyList<AccountRow>> AccountsAsync()
    {
        if (KnownAt is { } instant) return await AccountQueries.ListAsKnownAtAsync(Connection, Book.Id, instant);
        var accounts = await _charts.ListAsync(Connection, Book.Id);
        AllTime = accounts.ToDictionary(a => a.Id, a => checked(a.DebitTotal - a.CreditTotal));
        return accounts;
    }

    /// <summary>
    /// Every account's all-time net (debit − credit totals) from the chart <see cref="AccountsAsync"/> read, in this
    /// snapshot, so balances need not read the accounts a second time. Null until it has read it, and for a chart as known
    /// at an instant, which carries no totals.
    /// </summary>
    public IReadOnlyDictionary<long, long>? AllTime { get; private set; }

    /// <summary>The month the book's fiscal years start in, as set at <see cref="KnownAt"/> if set.</summary>
    public async Task<int> FiscalYearStartMonthAsync()
    {
        if (KnownAt is { } instant)
        {
            var args = new { bookId = Book.Id, knownAt = Timestamps.Format(instant) };
            // The month set by the last change at or before the instant; before any change, the month the first later change left.
            if (await Connection.ExecuteScalarAsync<int?>(MonthSetByLastChangeSql, args) is { } set) return set;
            if (await Connection.ExecuteScalarAsync<int?>(MonthBeforeNextChangeSql, args) is { } before) return before;
        }
        return await Connection.ExecuteScalarAsync<int>(CurrentFiscalYearStartSql, new { bookId = Book.Id });
    }

    private const string CurrentFiscalYearStartSql = "SELECT fiscal_year_start_month FROM books WHERE id = @bookId";

    private const string MonthSetByLastChangeSql = """
        SELECT to_month FROM fiscal_year_start_changes
        WHERE book_id = @bookId AND id = (SELECT MAX(id) FROM fiscal_year_start_changes WHERE book_id = @bookId AND recorded_at <= @knownAt)
        """;

    private const string MonthBeforeNextChangeSql = """
        SELECT from_month FROM fiscal_year_start_changes
        WHERE book_id = @bookId AND id = (SELECT MIN(id) FROM fiscal_year_start_changes WHERE book_id = @bookId AND recorded_at > @knownAt)
        """;

    /// <summary>Formats minor units in the book's currency.</summary>
    public string Format(long minorUnits) => new Amount(minorUnits).Format(Book.Digits);

    public async ValueTask DisposeAsync()
    {
        // The connection goes back to the pool: end the read transaction so it does not hold an old snapshot.
        try
        {
            await Connection.ExecuteAsync("ROLLBACK TRANSACTION");
        }
        finally
        {
            await Connection.DisposeAsync();
        }
    }
}

/// <summary>
/// The balances a statement is built from, over one connection and as known at an optional instant:
/// net balances as of any date (each date computed once, via <see cref="Balances"/>) and movements over a period
/// with year-end closing entries taken back out.
/// </summary>
/// <param name="allTime">See <see cref="ReportSnapshot.AllTime"/>.</param>
public sealed class StatementBalances(LedgerDatabase database, DbConnection connection, string bookId, long? throughEntry = null,
    IReadOnlyDictionary<long, long>? allTime = null)
{
    private readonly Dictionary<LocalDate, Dictionary<long, long>> _asOf = [];

    /// <summary>Net (debit − credit) per account id for entries dated on or before <paramref name="date"/>, closing entries included.</summary>
    public async Task<IReadOnlyDictionary<long, long>> AsOfAsync(LocalDate date)
    {
        if (!_asOf.TryGetValue(date, out var net))
        {
            net = await Balances.NetAsOfAsync(database, connection, bookId, date, throughEntry, allTime);
            _asOf[date] = net;
        }
        return net;
    }

    /// <summary>
    /// Net movement per account id over [<paramref name="from"/>, <paramref name="to"/>], without closing entries:
    /// what an income statement shows, so a closed year still shows its result.
    /// </summary>
    public async Task<Dictionary<long, long>> MovementsAsync(LocalDate from, LocalDate to)
    {
        var movements = new Dictionary<long, long>(await AsOfAsync(to));
        Add(movements, await AsOfAsync(from.PlusDays(-1)), -1);
        var closing = await connection.QueryAsync<Balances.AccountAmount>(ClosingPostingsSql,
            new { bookId, from = DateText.Format(from), to = DateText.Format(to), lastKnown = throughEntry ?? long.MaxValue });
        Add(movements, closing.Select(c => KeyValuePair.Create(c.AccountId, c.Amount)), -1);
        return movements;
    }

    /// <summary>
    /// The latest fiscal-year end closed on or before <paramref name="date"/> (as known at the instant), with its closing
    /// entry, if any.
    /// </summary>
    public async Task<(LocalDate End, long EntryId)?> LatestCloseAsync(LocalDate date)
    {
        var close = await connection.QuerySingleOrDefaultAsync<(string End, long EntryId)?>(LatestCloseSql,
            new { bookId, date = DateText.Format(date), lastKnown = throughEntry ?? long.MaxValue });
        return close is { } found && DateText.TryParseDate(found.End, out var closed) ? (closed, found.EntryId) : null;
    }

    /// <summary>
    /// Net per account id of the entries posted after entry <paramref name="afterEntry"/> (and known at the instant) and
    /// dated in [<paramref name="from"/>, <paramref name="to"/>]: what a close at <paramref name="to"/>, posted as that
    /// entry, did not sweep because it came later (a correction posted to a closed year after reopening it).
    /// </summary>
    public async Task<Dictionary<long, long>> PostedAfterAsync(long afterEntry, LocalDate from, LocalDate to)
    {
        var rows = await connection.QueryAsync<Balances.AccountAmount>(PostedAfterSql,
            new { bookId, afterEntry, lastKnown = throughEntry ?? long.MaxValue, from = DateText.Format(from), to = DateText.Format(to) });
        var net = new Dictionary<long, long>();
        Add(net, rows.Select(r => KeyValuePair.Create(r.AccountId, r.Amount)), +1);
        return net;
    }

    private static void Add(Dictionary<long, long> into, IEnumerable<KeyValuePair<long, long>> amounts, int sign)
    {
        foreach (var (accountId, amount) in amounts)
        {
            into.TryGetValue(accountId, out var current);
            into[accountId] = checked(current + sign * amount);
        }
    }

    // Closing entries are found through year_end_closes (one row a year), not by scanning the period's entries.
    private const string ClosingPostingsSql = """
        SELECT p.account_id AS AccountId, CAST(SUM(p.amount) AS BIGINT) AS Amount
        FROM year_end_closes c JOIN postings p ON p.entry_id = c.entry_id
        WHERE c.book_id = @bookId AND p.book_id = @bookId AND c.fiscal_year_end >= @from AND c.fiscal_year_end <= @to AND c.entry_id <= @lastKnown
        GROUP BY p.account_id
        """;

    private const string LatestCloseSql = """
        SELECT fiscal_year_end, entry_id FROM year_end_closes
        WHERE book_id = @bookId AND fiscal_year_end <= @date AND entry_id <= @lastKnown
        ORDER BY fiscal_year_end DESC LIMIT 1
        """;

    // Entry ids grow in posting order, so "posted after the close" is an id range of the postings' primary key.
    private const string PostedAfterSql = """
        SELECT p.account_id AS AccountId, CAST(SUM(p.amount) AS BIGINT) AS Amount FROM postings p
        WHERE p.book_id = @bookId AND p.entry_id > @afterEntry AND p.entry_id <= @lastKnown
          AND p.entry_date >= @from AND p.entry_date <= @to
        GROUP BY p.account_id
        """;
}
