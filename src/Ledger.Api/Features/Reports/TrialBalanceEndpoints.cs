using System.Text.Json.Serialization;
using FluentValidation;
using Ledger.Api.Features.Accounts;
using Ledger.Api.Features.Books;
using Ledger.Api.Infrastructure;
using Ledger.Domain;
using Microsoft.AspNetCore.Http.HttpResults;
using NodaTime;

namespace Ledger.Api.Features.Reports;

public sealed record TrialBalanceLine(string Account, string Name, string Type, string Debit, string Credit);

public sealed record TrialBalanceTotals(string Debit, string Credit);

public sealed record TrialBalanceResponse(
    string AsOf,
    string Currency,
    IReadOnlyList<TrialBalanceLine> Lines,
    TrialBalanceTotals Totals,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? KnownAt = null);

/// <summary>
/// Every account's balance as of a date, on its debit or credit side, closing entries included. Flat, without
/// parent roll-ups: a parent's subtotal in the debit and credit columns would count its children twice.
/// </summary>
public static class TrialBalanceEndpoints
{
    public static async Task<Results<Ok<TrialBalanceResponse>, CsvResult, ValidationProblem>> GetTrialBalance(
        string bookId, [AsParameters] AsOfReportQuery query, HttpRequest http,
        BookCatalog books, LedgerDatabase database, IClock clock, LedgerWriter writer)
    {
        var date = ReportQueryRules.DateOr(query.AsOf, clock.Today());
        var knownAt = ReportQueryRules.InstantOrNull(query.KnownAt);
        if (await ReportQueryRules.SettleKnownAtAsync(bookId, knownAt, writer) is { } unsettled) return unsettled;

        await using var report = await ReportSnapshot.OpenAsync(bookId, books, database, knownAt);
        var (book, connection) = (report.Book, report.Connection);
        var accounts = await report.AccountsAsync();
        var net = await Balances.NetAsOfAsync(database, connection, bookId, date, report.ThroughEntry, report.AllTime);

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
        var response = new TrialBalanceResponse(DateText.Format(date), book.Currency.Code, lines,
            new TrialBalanceTotals(new Amount(debitTotal).Format(book.Digits), new Amount(creditTotal).Format(book.Digits)),
            knownAt is null ? null : DateText.Format(knownAt.Value));
        if (!ReportFormat.WantsCsv(http, query.Format)) return TypedResults.Ok(response);

        var table = new CsvTable("account", "name", "type", "debit", "credit");
        foreach (var line in lines) table.Row(line.Account, line.Name, line.Type, line.Debit, line.Credit);
        return new CsvResult($"trial-balance-{response.AsOf}.csv", table);
    }
}
