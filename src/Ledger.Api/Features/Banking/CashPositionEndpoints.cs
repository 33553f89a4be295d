using Dapper;
using Ledger.Api.Features.Books;
using Ledger.Api.Features.Reports;
using Ledger.Api.Infrastructure;
using Ledger.Api.Infrastructure.Security;
using Ledger.Domain;
using Microsoft.AspNetCore.Http.HttpResults;
using NodaTime;

namespace Ledger.Api.Features.Banking;

public sealed record CashPositionAccount(long BankAccount, string Name, string Account, string Kind, string BookBalance, string? StatementBalance,
    string? StatementDate, int UnmatchedLines, string UnmatchedTotal);

public sealed record CashPositionTotals(string BookBalance,
    [property: System.ComponentModel.Description("The sum of the accounts' statement balances where one is known: an account with no " +
        "statement yet (statementBalance null, such as a cash box) adds nothing, so this can be less than bookBalance without a difference to explain.")]
    string StatementBalance, int UnmatchedLines, string UnmatchedTotal);

public sealed record CashPositionQuery(
    [property: Microsoft.AspNetCore.Mvc.FromQuery(Name = "asOf")] string? AsOf,
    [property: Microsoft.AspNetCore.Mvc.FromQuery(Name = "format")] string? Format);

public sealed class CashPositionQueryValidator : FluentValidation.AbstractValidator<CashPositionQuery>
{
    public CashPositionQueryValidator()
    {
        RuleFor(x => x.AsOf).IsDate();
        RuleFor(x => x.Format).IsReportFormat();
    }
}

public sealed record CashPositionResponse(string AsOf, string Currency, IReadOnlyList<CashPositionAccount> Accounts, CashPositionTotals Totals);

/// <summary>
/// Where the money is: every bank and cash account with its book balance, its balance by the bank's last statement line
/// on or before the date, and what the bank booked that the books do not have yet.
/// </summary>
public static class CashPositionEndpoints
{
    public static void MapCashPosition(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1/books/{bookId}").RequireBookAccess().ValidateRequests().WithTags("Reports")
            .MapGet("/reports/cash-position", GetAsync).ProducesJsonOrCsv<CashPositionResponse>()
            .WithName("getCashPosition").WithSummary("Cash position")
            .WithDescription("Every bank and cash account as of a date (today by default): its book balance, its statement balance and the " +
                             "date of the last statement line on or before then, and its unmatched lines (count and total); with totals. " +
                             "JSON, or CSV with format=csv or Accept: text/csv.");
    }

    private static async Task<Results<Ok<CashPositionResponse>, CsvResult>> GetAsync(string bookId, [AsParameters] CashPositionQuery query, HttpRequest http,
        BookCatalog books, LedgerDatabase database, IClock clock)
    {
        var book = await books.GetAsync(bookId);
        var asOf = ReportQueryRules.DateOr(query.AsOf, clock.Today());
        await using var connection = await database.OpenReplicaReadAsync();
        var accounts = connection.Query<StoredBankAccount>(BankAccountsEndpoints.SelectSql + " WHERE book_id = @bookId ORDER BY id", new { bookId }).ToList();
        string F(long v) => new Amount(v).Format(book.Digits);
        var rows = new List<CashPositionAccount>();
        long bookTotal = 0, statementTotal = 0, unmatchedTotal = 0;
        var unmatchedLines = 0;
        foreach (var account in accounts)
        {
            var figures = ReconciliationEndpoints.Figures.Compute(connection, book, account, asOf);
            // The last statement's own closing balance when it is the latest word from the bank; else the balance its
            // lines make up to the last one (null when no statement ever stated a balance to start from).
            var stated = connection.QuerySingleOrDefault<(long Closing, string Date)?>("""
                SELECT closing_balance, COALESCE(closing_date, last_date) FROM bank_statements
                WHERE book_id = @bookId AND bank_account_id = @id AND closing_balance IS NOT NULL AND COALESCE(closing_date, last_date) <= @asOf
                ORDER BY COALESCE(closing_date, last_date) DESC, id DESC LIMIT 1
                """, new { bookId, id = account.Id, asOf = DateText.Format(asOf) });
            var (statement, statementDate) = stated is { } s && (figures.LastLineDate is null || string.CompareOrdinal(s.Date, figures.LastLineDate) >= 0)
                ? ((long?)s.Closing, (string?)s.Date)
                : (figures.LastLineDate is null ? null : figures.StatementBalance, figures.LastLineDate);
            rows.Add(new CashPositionAccount(account.Id, account.Name, account.Account, account.Kind, F(figures.BookBalance),
                statement is { } known ? F(known) : null, statementDate, figures.UnmatchedCount, F(figures.UnmatchedTotal)));
            bookTotal = checked(bookTotal + figures.BookBalance);
            if (statement is { } balance) statementTotal = checked(statementTotal + balance);
            unmatchedLines += figures.UnmatchedCount;
            unmatchedTotal = checked(unmatchedTotal + figures.UnmatchedTotal);
        }
        var response = new CashPositionResponse(DateText.Format(asOf), book.Currency.Code, rows,
            new CashPositionTotals(F(bookTotal), F(statementTotal), unmatchedLines, F(unmatchedTotal)));
        if (!ReportFormat.WantsCsv(http, query.Format)) return TypedResults.Ok(response);
        var table = new CsvTable("bankAccount", "name", "account", "kind", "bookBalance", "statementBalance", "statementDate", "unmatchedLines", "unmatchedTotal");
        foreach (var r in rows)
            table.Row(r.BankAccount.ToString(System.Globalization.CultureInfo.InvariantCulture), r.Name, r.Account, r.Kind, r.BookBalance, r.StatementBalance,
                r.StatementDate, r.UnmatchedLines.ToString(System.Globalization.CultureInfo.InvariantCulture), r.UnmatchedTotal);
        return new CsvResult($"cash-position-{response.AsOf}.csv", table);
    }
}
