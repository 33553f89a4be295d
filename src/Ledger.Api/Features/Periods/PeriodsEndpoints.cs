using Dapper;
using FluentValidation;
using Ledger.Api.Features.Books;
using Ledger.Api.Features.Journal;
using Ledger.Api.Features.Reports;
using Ledger.Api.Infrastructure;
using Ledger.Api.Infrastructure.Security;
using Ledger.Domain;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Ledger.Api.Features.Periods;

/// <summary>Closing periods: the lock date (no entry dated on or before it) and the year-end close.</summary>
public static class PeriodsEndpoints
{
    public static void MapPeriods(this IEndpointRouteBuilder app)
    {
        var periods = app.MapGroup("/v1/books/{bookId}").RequireBookAccess().ValidateRequests().WithTags("Periods");
        periods.MapGet("/lock-date", GetLockDate).WithName("getLockDate").WithSummary("Get the lock date")
            .WithDescription("The date through which the books are closed (no entry may be dated on or before it), with who set it and when.");
        periods.MapPut("/lock-date", SetLockDate).WithName("setLockDate").WithSummary("Move the lock date")
            .WithDescription("Sets the lock date (null clears it). Moving it later needs a write key; moving it earlier or " +
                             "clearing it reopens closed dates and needs an admin key (403). At most tomorrow (UTC).");
        periods.MapGet("/lock-date/history", GetLockDateHistory).WithName("getLockDateHistory").WithSummary("Lock date history")
            .WithDescription("Every change of the lock date, oldest first: from, to, when, by which key, and whether by hand or by a year-end close.");
        periods.MapPost("/year-end-close", CloseYear).WithName("closeYear").WithSummary("Close a fiscal year")
            .WithDescription("Posts the closing entry that moves the year's income and expense into the retained-earnings " +
                             "account, and locks the books through the year's end. Years close in order, each once (409).")
            .ProducesProblem(StatusCodes.Status409Conflict);
        periods.MapGet("/year-end-closes", ListYearEndCloses).WithName("listYearEndCloses").WithSummary("List closed fiscal years")
            .WithDescription("Every closed fiscal year with its closing entry, when and by which key it was closed.");
    }

    public static async Task<Ok<LockDateResponse>> GetLockDate(string bookId, LedgerDatabase database)
    {
        await using var connection = await database.OpenReadAsync();
        return TypedResults.Ok(await connection.QuerySingleAsync<LockDateResponse>(SelectLockDateSql, new { bookId }));
    }

    /// <summary>
    /// Moves the lock date. Moving it later needs a write key; moving it earlier or clearing it reopens closed
    /// dates and needs an admin key (403 otherwise). Setting the date it already has changes and records nothing.
    /// </summary>
    public static async Task<Ok<LockDateResponse>> SetLockDate(
        string bookId, SetLockDateRequest request, HttpContext http, LedgerWriter writer, NodaTime.IClock clock)
    {
        var caller = http.Caller();
        var to = LockDates.Parse(request.Date);
        // A lock date closes past periods. One in the future would stop everyone posting today's entries until an
        // admin reopened it; "tomorrow" in UTC is allowed, as it is already today somewhere.
        var latest = clock.Today().PlusDays(1);
        // Refusals are thrown as problems (rolling the write back) and answered by the exception handler.
        var response = await writer.WriteBookAsync(bookId, session =>
        {
            // Read inside the writer: the admin check must judge the lock date this change replaces, not an older one.
            var from = LockDates.Read(session, bookId);
            if (to > latest && to != from)
                throw new ValidationFailedException("date", $"must not be later than {DateText.Format(latest)}: a lock date closes periods that have passed.");
            if (LockDateChanges.Reopens(from, to) && !caller.IsAdmin)
                throw new ProblemException(StatusCodes.Status403Forbidden, "Forbidden",
                    $"The books are locked through {DateText.Format(from!.Value)}; moving the lock date earlier or clearing it reopens closed dates, and only an admin key may do that.");
            if (from != to) LockDates.Change(session, bookId, from, to, caller.KeyId, LockDates.ByHand);
            return session.Connection.QuerySingle<LockDateResponse>(SelectLockDateSql, new { bookId });
        });
        return TypedResults.Ok(response);
    }

    public static async Task<Ok<LockDateHistoryResponse>> GetLockDateHistory(string bookId, LedgerDatabase database)
    {
        await using var connection = await database.OpenReadAsync();
        var changes = await connection.QueryAsync<LockDateChangeResponse>(SelectHistorySql, new { bookId });
        return TypedResults.Ok(new LockDateHistoryResponse(changes.AsList()));
    }

    /// <summary>Closes the fiscal year ending on <c>fiscalYearEnd</c>: 201 with the closing entry.</summary>
    public static async Task<Created<JournalEntryResponse>> CloseYear(
        string bookId, YearEndCloseRequest request, HttpContext http, BookCatalog books, LedgerWriter writer)
    {
        DateText.TryParseDate(request.FiscalYearEnd, out var fiscalYearEnd);
        var book = await books.GetAsync(bookId);
        var closedBy = http.Caller().KeyId;
        try
        {
            var entry = await writer.WriteBookAsync(bookId, session => YearEndCloser.Close(session, book, fiscalYearEnd, closedBy));
            return TypedResults.Created(JournalEndpoints.EntryLocation(bookId, entry.Id), entry);
        }
        catch (PostingRefusedException refused)
        {
            // Only here is it known what the refused entry was; the exception handler answers the problem.
            throw PostingProblems.ForDerived(refused, bookId, $"The closing entry for the fiscal year ending {DateText.Format(fiscalYearEnd)}");
        }
    }

    public static async Task<Ok<YearEndCloseList>> ListYearEndCloses(string bookId, LedgerDatabase database)
    {
        await using var connection = await database.OpenReadAsync();
        var closes = await connection.QueryAsync<YearEndCloseResponse>(SelectClosesSql, new { bookId });
        return TypedResults.Ok(new YearEndCloseList(closes.AsList()));
    }

    private const string SelectLockDateSql = """
        SELECT b.lock_date AS LockDate, c.changed_at AS ChangedAt, c.changed_by AS ChangedBy
        FROM books b
        LEFT JOIN lock_date_changes c ON c.book_id = b.id AND c.id = (SELECT MAX(id) FROM lock_date_changes WHERE book_id = b.id)
        WHERE b.id = @bookId
        """;

    private const string SelectHistorySql = """
        SELECT from_date AS "From", to_date AS "To", changed_at AS ChangedAt, changed_by AS ChangedBy, source AS Source
        FROM lock_date_changes WHERE book_id = @bookId ORDER BY id
        """;

    private const string SelectClosesSql = """
        SELECT fiscal_year_start AS FiscalYearStart, fiscal_year_end AS FiscalYearEnd, entry_id AS EntryId,
               closed_at AS ClosedAt, closed_by AS ClosedBy
        FROM year_end_closes WHERE book_id = @bookId ORDER BY fiscal_year_end
        """;
}
