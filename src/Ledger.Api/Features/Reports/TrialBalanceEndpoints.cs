using Ledger.Api.Features.Accounts;
using Ledger.Api.Features.Books;
using Ledger.Api.Infrastructure;
using Ledger.Domain;
using Microsoft.AspNetCore.Http.HttpResults;
using NodaTime;

namespace Ledger.Api.Features.Reports;

public sealed record TrialBalanceLine(string Account, string Name, string Type, string Debit, string Credit);

public sealed record TrialBalanceTotals(string Debit, string Credit);

public sealed record TrialBalanceResponse(string AsOf, string Currency, IReadOnlyList<TrialBalanceLine> Lines, TrialBalanceTotals Totals);

public static class TrialBalanceEndpoints
{
    public static void MapReports(this IEndpointRouteBuilder app)
    {
        var reports = app.MapGroup("/v1/books/{bookId}/reports").RequireApiKey().WithTags("Reports");
        reports.MapGet("/trial-balance", GetTrialBalance);
    }

    public static async Task<Results<Ok<TrialBalanceResponse>, ValidationProblem>> GetTrialBalance(
        string bookId, string? asOf, BookCatalog books, LedgerDatabase database, IClock clock)
    {
        var date = clock.GetCurrentInstant().InUtc().Date;
        if (asOf is not null && !DateText.TryParseDate(asOf, out date))
            return Problems.Validation("asOf", "must be a date written YYYY-MM-DD.");
        var book = await books.GetAsync(bookId);

        await using var connection = await database.OpenReadAsync();
        var accounts = await AccountQueries.ListAsync(connection, bookId);
        var net = await Balances.NetAsOfAsync(connection, bookId, date);

        var lines = new List<TrialBalanceLine>();
        long debitTotal = 0, creditTotal = 0;
        var zero = Amount.Zero.Format(book.Digits);
        foreach (var account in accounts)
        {
            if (!net.TryGetValue(account.Id, out var balance) || balance == 0) continue;
            var formatted = new Amount(Math.Abs(balance)).Format(book.Digits);
            if (balance > 0) debitTotal = checked(debitTotal + balance);
            else creditTotal = checked(creditTotal - balance);
            lines.Add(new TrialBalanceLine(account.Code, account.Name, account.Type,
                balance > 0 ? formatted : zero, balance < 0 ? formatted : zero));
        }
        return TypedResults.Ok(new TrialBalanceResponse(DateText.Format(date), book.Currency.Code, lines,
            new TrialBalanceTotals(new Amount(debitTotal).Format(book.Digits), new Amount(creditTotal).Format(book.Digits))));
    }
}
