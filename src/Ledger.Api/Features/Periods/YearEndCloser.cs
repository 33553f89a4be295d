using Ledger.Api.Features.Audit;
using Dapper;
using Ledger.Api.Features.Books;
using Ledger.Api.Features.Journal;
using Ledger.Api.Features.Reports;
using Ledger.Api.Infrastructure;
using Ledger.Domain;
using NodaTime;

namespace Ledger.Api.Features.Periods;

/// <summary>
/// Closes a fiscal year inside the writer, so the balances it moves are exactly those at the moment of posting:
/// posts one closing entry that moves every income and expense balance as of the year end (earlier years not yet
/// closed included) into retained earnings, records the close, and locks the books through the year end.
/// </summary>
public static class YearEndCloser
{
    public static JournalEntryResponse Close(WriteSession session, BookIdentity book, LocalDate fiscalYearEnd, string closedBy)
    {
        var settings = session.Connection.QuerySingle<BookSettings>(SelectSettingsSql, new { bookId = book.Id });
        var year = FiscalYear.EndingOn(fiscalYearEnd, (int)settings.FiscalYearStartMonth)
            ?? throw new ValidationFailedException("fiscalYearEnd",
                $"must be the last day of a fiscal year; this book's fiscal years end on " +
                $"{DateText.Format(FiscalYear.Containing(fiscalYearEnd, (int)settings.FiscalYearStartMonth).End)} " +
                $"(fiscalYearStartMonth {settings.FiscalYearStartMonth}).");
        if (fiscalYearEnd > session.Now.InUtc().Date)
            throw new ValidationFailedException("fiscalYearEnd",
                $"The fiscal year ending {DateText.Format(fiscalYearEnd)} has not ended yet; close it on or after that day.");
        var closedByEntry = session.Connection.ExecuteScalar<long?>(SelectCloseSql,
            new { bookId = book.Id, end = DateText.Format(fiscalYearEnd) });
        if (closedByEntry is not null)
            throw new ConflictException($"The fiscal year ending {DateText.Format(fiscalYearEnd)} is already closed by entry {closedByEntry}.");
        // A later close already swept this year's result (it moves everything unclosed): closing this one now would move
        // it a second time. Corrections to this year, after reopening it, are swept by the next close instead.
        if (session.Connection.ExecuteScalar<string?>(SelectLatestCloseSql, new { bookId = book.Id }) is { } latest
            && string.CompareOrdinal(latest, DateText.Format(fiscalYearEnd)) > 0)
            throw new ConflictException(
                $"The later fiscal year ending {latest} is already closed, and its closing entry moved the result of every " +
                $"earlier year; the fiscal year ending {DateText.Format(fiscalYearEnd)} cannot be closed after it. " +
                "Corrections posted to it after reopening are moved by the next close.");
        // The closing entry is dated on the year end, which a lock date on or after it covers. The poster would refuse it
        // too, but with an entry's advice (date it later) that a close cannot follow: say what can be done instead.
        if (LockDates.Parse(settings.LockDate) is { } lockDate && new LockDate(lockDate).Locks(fiscalYearEnd))
            throw new ConflictException(
                $"The books are locked through {DateText.Format(lockDate)}, which includes the end of the fiscal year ending " +
                $"{DateText.Format(fiscalYearEnd)}, where its closing entry is dated. To close it, an admin key first moves the lock " +
                $"date before {DateText.Format(fiscalYearEnd)} (PUT /v1/books/{{bookId}}/lock-date); the close then locks the books " +
                $"through {DateText.Format(fiscalYearEnd)} again.");
        if (settings.RetainedEarningsAccount is not { } retainedEarnings)
            throw new ConflictException(
                "The book has no retained-earnings account to close the year into. Set retainedEarningsAccount with PATCH /v1/books/{bookId} first.");

        // The writer's thread has no synchronization context, so waiting here cannot deadlock (Microsoft.Data.Sqlite
        // even completes its async calls synchronously); it reuses the one balance computation.
        var net = Balances.NetAsOfAsync(session.Database, session.Connection, book.Id, fiscalYearEnd).GetAwaiter().GetResult();
        var accounts = session.Connection.Query<ClosingAccount>(SelectTemporaryAccountsSql, new { bookId = book.Id }).AsList();
        // Archived income and expense accounts are closed like the others (the poster lets closing entries empty them);
        // retained earnings, though, must be an account that takes postings.
        if (session.Connection.ExecuteScalar<long>(ArchivedSql, new { bookId = book.Id, code = retainedEarnings }) != 0)
            throw new ConflictException($"The retained-earnings account '{retainedEarnings}' is archived; unarchive it or choose another.");

        var lines = YearEndClose.ClosingLines(
            accounts.Select(a => new TemporaryBalance(a.Code, net.GetValueOrDefault(a.Id))), retainedEarnings);
        // With nothing to move the close is still recorded through an entry without lines: every closed year has
        // its closing entry (number, date, who and when) and the lock date moves the same way.
        var closing = BalancedEntry.Closing(fiscalYearEnd,
            $"Year-end close of fiscal year {DateText.Format(year.Start)} to {DateText.Format(year.End)}",
            $"year-end-close/{DateText.Format(fiscalYearEnd)}", lines);
        // Checked above against the lock date; the poster checks it again, as for every entry.
        var entry = JournalPoster.Post(session, book, [closing])[0];

        EventLog.Append(session, book.Id, "year.closed", "fiscal_year", DateText.Format(year.End), EventData.Of(
            ("start", DateText.Format(year.Start)), ("end", DateText.Format(year.End)), ("closingEntry", entry.Id)));
        session.Connection.Execute(InsertCloseSql, new
        {
            bookId = book.Id,
            end = DateText.Format(year.End),
            start = DateText.Format(year.Start),
            entryId = entry.Id,
            closedAt = Timestamps.Format(session.Now),
            closedBy,
        });
        LockDates.Change(session, book.Id, LockDates.Parse(settings.LockDate), fiscalYearEnd, closedBy, LockDates.ByYearEndClose);
        return entry;
    }

    private sealed record BookSettings(long FiscalYearStartMonth, string? RetainedEarningsAccount, string? LockDate);

    private sealed record ClosingAccount(long Id, string Code);

    private const string SelectSettingsSql = """
        SELECT fiscal_year_start_month AS FiscalYearStartMonth, retained_earnings_account AS RetainedEarningsAccount, lock_date AS LockDate
        FROM books WHERE id = @bookId
        """;

    private const string SelectCloseSql = "SELECT entry_id FROM year_end_closes WHERE book_id = @bookId AND fiscal_year_end = @end";

    private const string SelectLatestCloseSql = "SELECT MAX(fiscal_year_end) FROM year_end_closes WHERE book_id = @bookId";

    private const string SelectTemporaryAccountsSql = """
        SELECT id AS Id, code AS Code FROM accounts
        WHERE book_id = @bookId AND type IN ('income', 'expense') ORDER BY code
        """;

    private const string ArchivedSql = "SELECT COALESCE(MAX(archived), 0) FROM accounts WHERE book_id = @bookId AND code = @code";

    private const string InsertCloseSql = """
        INSERT INTO year_end_closes (book_id, fiscal_year_end, fiscal_year_start, entry_id, closed_at, closed_by)
        VALUES (@bookId, @end, @start, @entryId, @closedAt, @closedBy)
        """;
}
