using Ledger.Api.Features.Audit;
using System.Globalization;
using System.ComponentModel;
using System.Data.Common;
using System.Text.Json;
using Dapper;
using FluentValidation;
using Ledger.Api.Features.Books;
using Ledger.Api.Features.Reports;
using Ledger.Api.Infrastructure;
using Ledger.Api.Infrastructure.Security;
using Ledger.Domain;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Ledger.Api.Features.Banking;

public sealed record ReconciliationQuery(
    [property: FromQuery(Name = "asOf"), Description("The date to reconcile at (YYYY-MM-DD); today when left out.")] string? AsOf);

public sealed record UnmatchedStatementLine(long Id, string BookingDate, string Amount, string Description, string Status);

public sealed record UnreconciledPosting(long EntryId, int Line, string Date, string Description, string Amount);

/// <summary>
/// statementBalance = bookBalance − unreconciledPostings + unmatchedStatementLines + difference. statementBalance and
/// difference are null when no imported statement states a balance to start from (a CSV without a balance column).
/// </summary>
public sealed record ReconciliationResponse(long BankAccount, string AsOf, string? StatementBalance, string BookBalance,
    string UnreconciledPostings, string UnmatchedStatementLines, string? Difference,
    int UnreconciledPostingCount, int UnmatchedStatementLineCount,
    IReadOnlyList<UnreconciledPosting> UnreconciledPostingItems, IReadOnlyList<UnmatchedStatementLine> UnmatchedStatementLineItems,
    bool Truncated, string? LastClosed);

public sealed record CloseReconciliationRequest(string? AsOf, AmountInput? StatementBalance);

public sealed record ClosedReconciliation(long Id, long BankAccount, string AsOf, string StatementBalance, string BookBalance,
    string UnreconciledPostings, string UnmatchedStatementLines, int MatchesClosed, string ClosedAt, string ClosedBy);

public sealed class ReconciliationQueryValidator : AbstractValidator<ReconciliationQuery>
{
    public ReconciliationQueryValidator() =>
        RuleFor(x => x.AsOf).Must(d => DateText.TryParseDate(d, out _)).When(x => x.AsOf is not null).WithMessage("must be a date written YYYY-MM-DD.");
}

public sealed class CloseReconciliationRequestValidator : AbstractValidator<CloseReconciliationRequest>
{
    public CloseReconciliationRequestValidator()
    {
        RuleFor(x => x.AsOf).NotEmpty().Must(d => DateText.TryParseDate(d, out _)).WithMessage("must be a date written YYYY-MM-DD.");
        RuleFor(x => x.StatementBalance).NotNull();
    }
}

/// <summary>
/// Bank reconciliation: the bank's balance explained by the books. As of a date, a match counts when both its statement
/// line and its posting are dated on or before it; a posting without one is unreconciled, a line without one unmatched,
/// so an item from an earlier period stays open in every later reconciliation until it is matched, and never twice.
/// Postings dated before the first statement line are the balance brought forward, which the first statement's opening
/// balance explains, unless a line is matched to them (money in transit when the feed began). Ignored lines are not the bank's (duplicates the bank reported) and count nowhere.
/// </summary>
public static class ReconciliationEndpoints
{
    public const int MaxItems = 1000;

    public static void MapReconciliation(this IEndpointRouteBuilder app)
    {
        var accounts = app.MapGroup("/v1/books/{bookId}/bank-accounts").RequireBookAccess().ValidateRequests().WithTags("Reconciliation");
        accounts.MapGet("/{id:long}/reconciliation", GetAsync).WithName("getReconciliation").WithSummary("Reconcile a bank account")
            .WithDescription("As of a date: the statement balance (the first statement's opening balance plus the lines not ignored), the " +
                             "book balance (the GL account's), the statement lines not yet in the books and the postings not yet on the " +
                             "statement, and the difference nothing explains: statementBalance = bookBalance − unreconciledPostings.total + " +
                             "unmatchedStatementLines.total + difference. Lists hold at most 1,000 items (truncated says so); counts and totals are whole.");
        accounts.MapPost("/{id:long}/reconciliations", CloseAsync).WithName("closeReconciliation").WithSummary("Close a reconciliation")
            .WithDescription("Closes the period up to asOf with the statement balance the bank states: when the books explain it exactly " +
                             "(else 409 with the difference). The matches it counted can then no longer be undone. asOf must be after the " +
                             "last closed reconciliation's.")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        accounts.MapGet("/{id:long}/reconciliations", ListAsync).WithName("listReconciliations").WithSummary("List closed reconciliations")
            .WithDescription("The bank account's closed reconciliations, newest first.");
        accounts.MapGet("/{id:long}/reconciliations/{reconciliationId:long}", GetClosedAsync).WithName("getClosedReconciliation")
            .WithSummary("Get a closed reconciliation")
            .WithDescription("One closed reconciliation of the bank account, as the list gives it.")
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<Ok<ReconciliationResponse>> GetAsync(string bookId, long id, [AsParameters] ReconciliationQuery query, BookCatalog books,
        LedgerDatabase database, IClock clock)
    {
        var book = await books.GetAsync(bookId);
        var asOf = ReportQueryRules.DateOr(query.AsOf, clock.Today());
        await using var connection = await database.OpenReplicaReadAsync();
        var account = BankAccountsEndpoints.Find(connection, bookId, id);
        var figures = Figures.Compute(connection, book, account, asOf);
        return TypedResults.Ok(figures.ToResponse(book, account, asOf, LastClosed(connection, bookId, id)));
    }

    private static async Task<Results<Created<ClosedReconciliation>, StoredResponse>> CloseAsync(string bookId, long id, CloseReconciliationRequest request,
        [FromHeader(Name = Idempotency.HeaderName)] string? idempotencyKey, HttpContext http, BookCatalog books, LedgerWriter writer,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
    {
        var book = await books.GetAsync(bookId);
        var parsed = request.StatementBalance!.Value.Parse(book.Digits);
        if (!parsed.Success) throw new ValidationFailedException("statementBalance", parsed.Error!);
        var keyId = http.Caller().KeyId;
        return await writer.CreateIdempotentAsync(bookId, idempotencyKey, $"close-reconciliation/{id}", request, json.Value.SerializerOptions,
            session =>
            {
                var connection = session.Connection;
                var account = BankAccountsEndpoints.Find(connection, bookId, id);
                var asOf = DateText.ParseStoredDate(request.AsOf!);
                // Lines the bank has not booked yet could still arrive dated within it.
                if (asOf > session.Now.InUtc().Date)
                    throw new ValidationFailedException("asOf", "must not be after today: the bank may still book lines up to it.");
                if (LastClosed(connection, bookId, id) is { } last && string.CompareOrdinal(request.AsOf, last) <= 0)
                    throw new ConflictException($"Bank account {id} is reconciled through {last}; a new reconciliation is dated after it.");
                var figures = Figures.Compute(connection, book, account, asOf);
                var explained = checked(figures.BookBalance - figures.UnreconciledTotal + figures.UnmatchedTotal);
                var difference = checked(parsed.Value.MinorUnits - explained);
                if (difference != 0)
                    throw new ConflictException($"The books explain a statement balance of {new Amount(explained).Format(book.Digits)} as of {request.AsOf}; " +
                                                $"the statement says {parsed.Value.Format(book.Digits)} (difference {new Amount(difference).Format(book.Digits)}). " +
                                                "Match or post what is missing, then close.")
                        .With("difference", new Amount(difference).Format(book.Digits));
                var reconciliationId = session.NextId("bank_reconciliations");
                connection.Execute("""
                    INSERT INTO bank_reconciliations (id, book_id, bank_account_id, as_of, statement_balance, book_balance, unreconciled_postings,
                                                      unmatched_lines, closed_at, closed_by)
                    VALUES (@reconciliationId, @bookId, @id, @asOf, @statement, @bookBalance, @unreconciled, @unmatched, @at, @by)
                    """, new
                {
                    reconciliationId, bookId, id, asOf = request.AsOf, statement = parsed.Value.MinorUnits, bookBalance = figures.BookBalance,
                    unreconciled = figures.UnreconciledTotal, unmatched = figures.UnmatchedTotal, at = Timestamps.Format(session.Now), by = keyId,
                });
                // Every match this reconciliation counted is now part of it, and stays.
                var closed = connection.Execute("""
                    UPDATE bank_matches SET reconciliation_id = @reconciliationId
                    WHERE book_id = @bookId AND undone_at IS NULL AND reconciliation_id IS NULL AND entry_date <= @asOf
                      AND statement_line_id IN (SELECT l.id FROM statement_lines l
                                                WHERE l.book_id = @bookId AND l.bank_account_id = @id AND l.booking_date <= @asOf)
                    """, new { reconciliationId, bookId, asOf = request.AsOf, id });
                var result = Read(connection, book, reconciliationId, closed)!;
                EventLog.AppendPayload(session, bookId, "reconciliation.closed", "reconciliation", reconciliationId.ToString(CultureInfo.InvariantCulture), result);
                return result;
            },
            created => $"/v1/books/{bookId}/bank-accounts/{id}/reconciliations/{created.Id}");
    }

    private static async Task<Ok<ClosedReconciliation[]>> ListAsync(string bookId, long id, BookCatalog books, LedgerDatabase database)
    {
        var book = await books.GetAsync(bookId);
        await using var connection = await database.OpenReadAsync();
        _ = BankAccountsEndpoints.Find(connection, bookId, id);
        var ids = await connection.QueryAsync<long>(
            "SELECT id FROM bank_reconciliations WHERE book_id = @bookId AND bank_account_id = @id ORDER BY as_of DESC LIMIT 1000", new { bookId, id });
        return TypedResults.Ok(ids.Select(r => Read(connection, book, r, null)!).ToArray());
    }

    // The Location of a closed reconciliation: read from the primary, so one just closed is found.
    private static async Task<Results<Ok<ClosedReconciliation>, ProblemHttpResult>> GetClosedAsync(string bookId, long id, long reconciliationId,
        BookCatalog books, LedgerDatabase database)
    {
        var book = await books.GetAsync(bookId);
        await using var connection = await database.OpenReadAsync();
        _ = BankAccountsEndpoints.Find(connection, bookId, id);
        return Read(connection, book, reconciliationId, null) is { BankAccount: var owner } closed && owner == id
            ? TypedResults.Ok(closed)
            : Problems.NotFound($"No closed reconciliation {reconciliationId} of bank account {id}.");
    }

    private static ClosedReconciliation? Read(DbConnection connection, BookIdentity book, long id, int? matchesClosed)
    {
        var row = connection.QuerySingleOrDefault<(long Id, long BankAccount, string AsOf, long Statement, long BookBalance, long Unreconciled, long Unmatched,
            string ClosedAt, string ClosedBy)?>("""
            SELECT id, bank_account_id, as_of, statement_balance, book_balance, unreconciled_postings, unmatched_lines, closed_at, closed_by
            FROM bank_reconciliations WHERE book_id = @bookId AND id = @id
            """, new { bookId = book.Id, id });
        if (row is not { } r) return null;
        var count = matchesClosed ?? connection.ExecuteScalar<int>("SELECT COUNT(*) FROM bank_matches WHERE book_id = @bookId AND reconciliation_id = @id",
            new { bookId = book.Id, id });
        string F(long v) => new Amount(v).Format(book.Digits);
        return new ClosedReconciliation(r.Id, r.BankAccount, r.AsOf, F(r.Statement), F(r.BookBalance), F(r.Unreconciled), F(r.Unmatched), count,
            r.ClosedAt, r.ClosedBy);
    }

    /// <summary>The date the bank account is reconciled through, or null.</summary>
    public static string? LastClosed(DbConnection connection, string bookId, long bankAccountId) =>
        connection.ExecuteScalar<string?>("SELECT MAX(as_of) FROM bank_reconciliations WHERE book_id = @bookId AND bank_account_id = @bankAccountId",
            new { bookId, bankAccountId });

    /// <summary>The figures of a reconciliation as of a date, each computed from stored lines, postings and matches.</summary>
    public sealed record Figures(long? StatementBalance, long BookBalance, int UnmatchedCount, long UnmatchedTotal, List<UnmatchedStatementLine> Unmatched,
        int UnreconciledCount, long UnreconciledTotal, List<UnreconciledPosting> Unreconciled, string? LastLineDate)
    {
        public static Figures Compute(DbConnection connection, BookIdentity book, StoredBankAccount account, LocalDate asOf)
        {
            var date = DateText.Format(asOf);
            var args = new { bookId = book.Id, id = account.Id, asOf = date, code = account.Account };
            var bookBalance = BankAccountsEndpoints.BookBalance(connection, book.Id, account.Account, asOf);
            var feed = connection.QuerySingle<(string? Start, string? Last)>("""
                SELECT MIN(booking_date), MAX(CASE WHEN booking_date <= @asOf THEN booking_date END) FROM statement_lines
                WHERE book_id = @bookId AND bank_account_id = @id
                """, args);
            var baseline = Baseline(connection, book.Id, account.Id);
            var lineSum = connection.ExecuteScalar<long>("""
                SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM statement_lines
                WHERE book_id = @bookId AND bank_account_id = @id AND booking_date <= @asOf AND status <> 'ignored'
                """, args);

            var unmatched = new List<UnmatchedStatementLine>();
            int unmatchedCount = 0;
            long unmatchedTotal = 0;
            foreach (var l in connection.Query<(long Id, string BookingDate, long Amount, string Description, string Status)>("""
                         SELECT l.id, l.booking_date, l.amount, l.description, l.status FROM statement_lines l
                         WHERE l.book_id = @bookId AND l.bank_account_id = @id AND l.booking_date <= @asOf AND l.status <> 'ignored'
                           AND NOT EXISTS (SELECT 1 FROM bank_matches m WHERE m.book_id = l.book_id AND m.statement_line_id = l.id
                                           AND m.undone_at IS NULL AND m.entry_date <= @asOf)
                         ORDER BY l.booking_date, l.id
                         """, args))
            {
                unmatchedCount++;
                unmatchedTotal = checked(unmatchedTotal + l.Amount);
                if (unmatched.Count < MaxItems)
                    unmatched.Add(new UnmatchedStatementLine(l.Id, l.BookingDate, new Amount(l.Amount).Format(book.Digits), l.Description, l.Status));
            }

            var unreconciled = new List<UnreconciledPosting>();
            int unreconciledCount = 0;
            long unreconciledTotal = 0;
            // A posting and its reversal both dated on or before asOf (and both after the feed began) cancel out: neither
            // waits for the bank. One of a pair dated before the feed began is brought forward; the other then waits alone.
            foreach (var p in connection.Query<(long EntryId, long LineNo, string EntryDate, string Description, long Amount)>("""
                         SELECT p.entry_id, p.line_no, p.entry_date, e.description, p.amount FROM postings p
                         JOIN journal_entries e ON e.id = p.entry_id AND e.book_id = p.book_id
                         LEFT JOIN journal_entries rb ON rb.id = e.reversed_by AND rb.book_id = e.book_id
                         LEFT JOIN journal_entries ro ON ro.id = e.reversal_of AND ro.book_id = e.book_id
                         WHERE p.book_id = @bookId AND p.account_id = (SELECT id FROM accounts WHERE book_id = @bookId AND code = @code)
                           AND p.entry_date <= @asOf
                           AND (@start IS NULL OR p.entry_date >= @start
                                OR EXISTS (SELECT 1 FROM bank_matches m2 WHERE m2.book_id = p.book_id AND m2.entry_id = p.entry_id
                                           AND m2.line_no = p.line_no AND m2.undone_at IS NULL))
                           AND NOT (rb.id IS NOT NULL AND rb.entry_date <= @asOf AND (@start IS NULL OR (p.entry_date >= @start AND rb.entry_date >= @start)))
                           AND NOT (ro.id IS NOT NULL AND ro.entry_date <= @asOf AND (@start IS NULL OR (p.entry_date >= @start AND ro.entry_date >= @start)))
                           AND NOT EXISTS (SELECT 1 FROM bank_matches m JOIN statement_lines l ON l.id = m.statement_line_id AND l.book_id = m.book_id
                                           WHERE m.book_id = p.book_id AND m.entry_id = p.entry_id AND m.line_no = p.line_no
                                             AND m.undone_at IS NULL AND l.booking_date <= @asOf)
                         ORDER BY p.entry_date, p.entry_id, p.line_no
                         """, new { bookId = book.Id, asOf = date, code = account.Account, start = feed.Start }))
            {
                unreconciledCount++;
                unreconciledTotal = checked(unreconciledTotal + p.Amount);
                if (unreconciled.Count < MaxItems)
                    unreconciled.Add(new UnreconciledPosting(p.EntryId, (int)p.LineNo, p.EntryDate, p.Description, new Amount(p.Amount).Format(book.Digits)));
            }
            return new Figures(baseline is { } b ? checked(b + lineSum) : null, bookBalance, unmatchedCount, unmatchedTotal, unmatched, unreconciledCount, unreconciledTotal,
                unreconciled, feed.Last);
        }

        /// <summary>The bank's balance at the end of <paramref name="through"/> as the stored lines give it (ignored ones
        /// included, as the bank's balances include them), or null when no statement states a balance to start from.</summary>
        public static long? StatementBalanceThrough(DbConnection connection, string bookId, long bankAccountId, LocalDate through) =>
            Baseline(connection, bookId, bankAccountId) is { } baseline
                ? checked(baseline + LineSum(connection, bookId, bankAccountId, "<=", DateText.Format(through)))
                : null;

        /// <summary>
        /// The bank's balance before its first line, backed out of the earliest statement that states one: its opening
        /// balance less the lines booked before it, or its closing balance less the lines booked up to it (OFX states only
        /// a closing balance). Ignored lines count here, since the bank's stated balances include them. Null when no
        /// statement states a balance: then the statement balance is not known, rather than taken as zero.
        /// </summary>
        private static long? Baseline(DbConnection connection, string bookId, long bankAccountId)
        {
            var anchor = connection.QuerySingleOrDefault<(long? Opening, long? Closing, string? FirstDate, string? ClosingDate, string? LastDate)?>("""
                SELECT opening_balance, closing_balance, first_date, closing_date, last_date FROM bank_statements
                WHERE book_id = @bookId AND bank_account_id = @bankAccountId AND first_date IS NOT NULL
                  AND (opening_balance IS NOT NULL OR closing_balance IS NOT NULL)
                ORDER BY first_date, id LIMIT 1
                """, new { bookId, bankAccountId });
            if (anchor is not { } a) return null;
            if (a.Opening is { } opening)
                return checked(opening - LineSum(connection, bookId, bankAccountId, "<", a.FirstDate!));
            var through = a.ClosingDate is { } closingDate && string.CompareOrdinal(closingDate, a.LastDate) > 0 ? closingDate : a.LastDate;
            return checked(a.Closing!.Value - LineSum(connection, bookId, bankAccountId, "<=", through!));
        }

        /// <summary>The bank account's statement lines, ignored ones included, booked before (<c>&lt;</c>) or up to (<c>&lt;=</c>) a date.</summary>
        private static long LineSum(DbConnection connection, string bookId, long bankAccountId, string comparison, string date) =>
            connection.ExecuteScalar<long>(string.Format(CultureInfo.InvariantCulture, """
                SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM statement_lines
                WHERE book_id = @bookId AND bank_account_id = @bankAccountId AND booking_date {0} @date
                """, comparison is "<" or "<=" ? comparison : throw new ArgumentOutOfRangeException(nameof(comparison))),
                new { bookId, bankAccountId, date });

        public ReconciliationResponse ToResponse(BookIdentity book, StoredBankAccount account, LocalDate asOf, string? lastClosed)
        {
            string F(long v) => new Amount(v).Format(book.Digits);
            long? difference = StatementBalance is { } statement ? checked(statement - (BookBalance - UnreconciledTotal + UnmatchedTotal)) : null;
            return new ReconciliationResponse(account.Id, DateText.Format(asOf), StatementBalance is { } known ? F(known) : null, F(BookBalance),
                F(UnreconciledTotal), F(UnmatchedTotal), difference is { } d ? F(d) : null, UnreconciledCount, UnmatchedCount,
                Unreconciled, Unmatched, UnreconciledCount > Unreconciled.Count || UnmatchedCount > Unmatched.Count, lastClosed);
        }
    }
}
