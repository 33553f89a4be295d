using System.Globalization;
using Dapper;
using FluentValidation;
using Ledger.Api.Features.Accounts;
using Ledger.Api.Features.Books;
using Ledger.Api.Features.Journal;
using Ledger.Api.Infrastructure;
using Ledger.Domain;
using Microsoft.AspNetCore.Http.HttpResults;
using NodaTime;

namespace Ledger.Api.Features.Reports;

/// <summary>
/// One entry's movement on an account: the entry's debits and credits to it, and the account's running balance
/// after it, on the account's normal side.
/// </summary>
public sealed record LedgerLine(long EntryId, long Number, string Date, string Description, string Debit, string Credit, string Balance);

/// <summary>
/// An account's ledger over [from, to], one page at a time. openingBalance and closingBalance are the period's on
/// every page; the running balance carries across pages, so opening + all movements = closing.
/// </summary>
public sealed record AccountLedgerResponse(
    string Account,
    string Name,
    string Type,
    string Currency,
    string From,
    string To,
    string OpeningBalance,
    string ClosingBalance,
    IReadOnlyList<LedgerLine> Items,
    string? NextCursor);

public sealed record GeneralLedgerAccount(
    string Account,
    string Name,
    string Type,
    string OpeningBalance,
    string Debit,
    string Credit,
    string ClosingBalance,
    IReadOnlyList<LedgerLine> Lines);

/// <summary>Every account that moved in [from, to]: its opening balance, its lines and its closing balance.</summary>
public sealed record GeneralLedgerResponse(string From, string To, string Currency, IReadOnlyList<GeneralLedgerAccount> Accounts);

public static class LedgerEndpoints
{
    public const string NextCursorHeader = "Next-Cursor";
    public const string OpeningBalanceName = "Opening balance";
    public const string ClosingBalanceName = "Closing balance";

    public static async Task<Results<Ok<AccountLedgerResponse>, CsvResult, ValidationProblem, ProblemHttpResult>> GetAccountLedger(
        string bookId, string code, [AsParameters] AccountLedgerQuery query, HttpRequest http,
        BookCatalog books, LedgerDatabase database, IClock clock)
    {
        var csv = ReportFormat.WantsCsv(http, query.Format);

        await using var report = await ReportSnapshot.OpenAsync(bookId, books, database);
        var (book, connection) = (report.Book, report.Connection);
        var account = await connection.QuerySingleOrDefaultAsync<AccountRow>(
            AccountQueries.SelectAccountSql + " WHERE book_id = @bookId AND code = @code", new { bookId, code });
        if (account is null) return Problems.NotFound($"No account '{code}' in this book.");
        var (from, to) = await ReportQueryRules.PeriodAsync(report, query.From, query.To, clock);
        if (from > to) return Problems.Validation("from", "must be on or before to.");
        (string Date, long Id)? after = null;
        long? through = null;
        if (query.Cursor is not null && Cursor.TryDecode(query.Cursor, out var position, out through))
        {
            if (!DateText.TryParseDate(position.Date, out var cursorDate) || cursorDate < from || cursorDate > to)
                return Problems.Validation("cursor", "belongs to another period; start again without a cursor.");
            after = position;
        }
        // Every page counts the entries the first page could see, so entries posted while a client pages (backdated
        // ones included) cannot break the chain from opening balance through the running balances to the closing one.
        through ??= await connection.ExecuteScalarAsync<long>(LastEntrySql, new { bookId });

        var balances = new StatementBalances(database, connection, bookId, through);
        var opening = (await balances.AsOfAsync(from.PlusDays(-1))).GetValueOrDefault(account.Id);
        var closing = (await balances.AsOfAsync(to)).GetValueOrDefault(account.Id);
        // A later page starts from the balance after the cursor's entry: the day before from Balances, that day's
        // entries up to the cursor from the postings index. Nothing is carried in the cursor, so it cannot be forged.
        var start = opening;
        if (after is { } cursor)
        {
            DateText.TryParseDate(cursor.Date, out var cursorDay);
            start = checked((await balances.AsOfAsync(cursorDay.PlusDays(-1))).GetValueOrDefault(account.Id) +
                await connection.ExecuteScalarAsync<long>(SameDayThroughCursorSql, new { bookId, accountId = account.Id, date = cursor.Date, entryId = cursor.Id }));
        }

        // JSON pages by default; CSV is an export and reads the whole period unless a limit is asked for.
        var limit = query.Limit is { } asked ? Math.Min(asked, JournalQueries.MaxPageSize) : csv ? int.MaxValue - 1 : JournalQueries.DefaultPageSize;
        var rows = (await connection.QueryAsync<MovementRow>(AccountPageSql, new
        {
            bookId,
            accountId = account.Id,
            from = DateText.Format(from),
            to = DateText.Format(to),
            afterDate = after?.Date ?? "",
            afterId = after?.Id ?? 0,
            through,
            take = limit + 1,
        })).AsList();
        var hasMore = rows.Count > limit;
        if (hasMore) rows.RemoveAt(rows.Count - 1);
        var items = Run(account.AccountType, start, rows, book.Digits);
        var nextCursor = hasMore ? Cursor.Encode(rows[^1].Date, rows[^1].EntryId, through) : null;

        var response = new AccountLedgerResponse(account.Code, account.Name, account.Type, book.Currency.Code,
            DateText.Format(from), DateText.Format(to), Normal(account.AccountType, opening, book.Digits),
            Normal(account.AccountType, closing, book.Digits), items, nextCursor);
        if (!csv) return TypedResults.Ok(response);

        // The opening row heads the first page and the closing row ends the last, so pages joined read as one ledger.
        var table = new CsvTable(LineColumns);
        if (after is null) table.Row(OpeningRow(response.From, response.OpeningBalance));
        foreach (var item in items) table.Row(item.CsvFields());
        if (nextCursor is null) table.Row(ClosingRow(response.To, response.ClosingBalance));
        return new CsvResult($"ledger-{account.Code}-{response.From}-{response.To}.csv", table,
            nextCursor is null ? null : new Dictionary<string, string> { [NextCursorHeader] = nextCursor });
    }

    public static async Task<Results<Ok<GeneralLedgerResponse>, CsvResult, ValidationProblem>> GetGeneralLedger(
        string bookId, [AsParameters] GeneralLedgerQuery query, HttpRequest http,
        BookCatalog books, LedgerDatabase database, IClock clock, IConfiguration configuration)
    {
        var maxPostings = configuration.GetValue(MaxPostingsSetting, DefaultMaxGeneralLedgerPostings);

        await using var report = await ReportSnapshot.OpenAsync(bookId, books, database);
        var (book, connection) = (report.Book, report.Connection);
        var (from, to) = await ReportQueryRules.PeriodAsync(report, query.From, query.To, clock);
        if (from > to) return Problems.Validation("from", "must be on or before to.");

        // The general ledger is answered whole; a period too large to hold is refused rather than exhausting memory.
        var postings = await connection.ExecuteScalarAsync<long>(CountBookPostingsSql,
            new { bookId, from = DateText.Format(from), to = DateText.Format(to) });
        if (postings > maxPostings)
            return Problems.Validation("to", $"The period holds {postings} postings; the general ledger answers at most " +
                $"{maxPostings}. Choose a shorter period, or page through accounts/{{code}}/ledger.");

        var balances = new StatementBalances(database, connection, bookId);
        var openingNet = await balances.AsOfAsync(from.PlusDays(-1));
        var closingNet = await balances.AsOfAsync(to);
        var movements = (await connection.QueryAsync<MovementRow>(BookMovementsSql,
            new { bookId, from = DateText.Format(from), to = DateText.Format(to) })).ToLookup(m => m.AccountId);

        var accounts = new List<GeneralLedgerAccount>();
        foreach (var account in await report.AccountsAsync())
        {
            if (!movements.Contains(account.Id)) continue;
            var rows = movements[account.Id].ToList();
            var opening = openingNet.GetValueOrDefault(account.Id);
            var lines = Run(account.AccountType, opening, rows, book.Digits);
            accounts.Add(new GeneralLedgerAccount(account.Code, account.Name, account.Type,
                Normal(account.AccountType, opening, book.Digits),
                new Amount(rows.Aggregate(0L, (sum, r) => checked(sum + r.Debit))).Format(book.Digits),
                new Amount(rows.Aggregate(0L, (sum, r) => checked(sum + r.Credit))).Format(book.Digits),
                Normal(account.AccountType, closingNet.GetValueOrDefault(account.Id), book.Digits), lines));
        }
        var response = new GeneralLedgerResponse(DateText.Format(from), DateText.Format(to), book.Currency.Code, accounts);
        if (!ReportFormat.WantsCsv(http, query.Format)) return TypedResults.Ok(response);

        var table = new CsvTable(["account", "name", .. LineColumns]);
        foreach (var account in accounts)
        {
            table.Row([account.Account, account.Name, .. OpeningRow(response.From, account.OpeningBalance)]);
            foreach (var line in account.Lines) table.Row([account.Account, account.Name, .. line.CsvFields()]);
            table.Row([account.Account, account.Name, .. ClosingRow(response.To, account.ClosingBalance)]);
        }
        return new CsvResult($"general-ledger-{response.From}-{response.To}.csv", table);
    }

    /// <summary>Ledger lines with the running balance from <paramref name="startNet"/>.</summary>
    private static List<LedgerLine> Run(AccountType type, long startNet, IReadOnlyList<MovementRow> rows, int digits)
    {
        var lines = new List<LedgerLine>(rows.Count);
        var net = startNet;
        foreach (var row in rows)
        {
            net = checked(net + row.Debit - row.Credit);
            lines.Add(new LedgerLine(row.EntryId, row.Number, row.Date, row.Description,
                new Amount(row.Debit).Format(digits), new Amount(row.Credit).Format(digits), Normal(type, net, digits)));
        }
        return lines;
    }

    private static string Normal(AccountType type, long net, int digits) => new Amount(type.NormalBalance(net)).Format(digits);

    private static readonly string[] LineColumns = ["entryId", "number", "date", "description", "debit", "credit", "balance"];

    private static string?[] CsvFields(this LedgerLine line) =>
    [
        line.EntryId.ToString(CultureInfo.InvariantCulture), line.Number.ToString(CultureInfo.InvariantCulture),
        line.Date, line.Description, line.Debit, line.Credit, line.Balance,
    ];

    private static string?[] OpeningRow(string from, string balance) => [null, null, from, OpeningBalanceName, null, null, balance];

    private static string?[] ClosingRow(string to, string balance) => [null, null, to, ClosingBalanceName, null, null, balance];

    public sealed class MovementRow
    {
        public long AccountId { get; init; }
        public long EntryId { get; init; }
        public long Number { get; init; }
        public string Date { get; init; } = "";
        public string Description { get; init; } = "";
        public long Debit { get; init; }
        public long Credit { get; init; }
    }

    // One row per (account, entry): the entry's debits and credits to the account. Entries are joined only
    // after the postings are cut down to the rows served.
    private const string MovementsSelect = """
        SELECT m.AccountId, m.EntryId, e.number AS Number, m.Date, e.description AS Description, m.Debit, m.Credit
        FROM (
            SELECT p.account_id AS AccountId, p.entry_id AS EntryId, p.entry_date AS Date,
                   CAST(SUM(CASE WHEN p.amount > 0 THEN p.amount ELSE 0 END) AS BIGINT) AS Debit,
                   CAST(SUM(CASE WHEN p.amount < 0 THEN -p.amount ELSE 0 END) AS BIGINT) AS Credit
        """;

    // Walks the postings index (account_id, entry_date, entry_id) in order and stops at the page.
    private const string AccountPageSql = MovementsSelect + """

            FROM postings p
            WHERE p.account_id = @accountId AND p.book_id = @bookId AND p.entry_date >= @from AND p.entry_date <= @to
              AND (p.entry_date > @afterDate OR (p.entry_date = @afterDate AND p.entry_id > @afterId))
              AND p.entry_id <= @through
            GROUP BY p.account_id, p.entry_date, p.entry_id
            ORDER BY p.entry_date, p.entry_id
            LIMIT @take
        ) m CROSS JOIN journal_entries e
        WHERE e.id = m.EntryId AND e.book_id = @bookId
        ORDER BY m.Date, m.EntryId
        """;

    // The book's newest entry by number (the unique index): within a book, ids grow with numbers, and on PostgreSQL an entry
    // still committing in another process has a higher id than every entry this snapshot sees.
    private const string LastEntrySql = "SELECT COALESCE(MAX(id), 0) FROM journal_entries WHERE book_id = @bookId AND number = (SELECT MAX(number) FROM journal_entries WHERE book_id = @bookId)";

    private const string SameDayThroughCursorSql = """
        SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM postings
        WHERE account_id = @accountId AND book_id = @bookId AND entry_date = @date AND entry_id <= @entryId
        """;

    public const string MaxPostingsSetting = "Ledger:GeneralLedgerMaxPostings";
    public const long DefaultMaxGeneralLedgerPostings = 200_000;

    private const string CountBookPostingsSql = """
        SELECT COUNT(*) FROM accounts a JOIN postings p ON p.account_id = a.id
        WHERE a.book_id = @bookId AND p.book_id = @bookId AND p.entry_date >= @from AND p.entry_date <= @to
        """;

    private const string BookMovementsSql = MovementsSelect + """

            FROM accounts a JOIN postings p ON p.account_id = a.id
            WHERE a.book_id = @bookId AND p.book_id = @bookId AND p.entry_date >= @from AND p.entry_date <= @to
            GROUP BY p.account_id, p.entry_date, p.entry_id
        ) m CROSS JOIN journal_entries e
        WHERE e.id = m.EntryId AND e.book_id = @bookId
        ORDER BY m.AccountId, m.Date, m.EntryId
        """;
}
