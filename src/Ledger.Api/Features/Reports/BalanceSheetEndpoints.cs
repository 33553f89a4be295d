using System.Text.Json.Serialization;
using Dapper;
using FluentValidation;
using Ledger.Api.Features.Accounts;
using Ledger.Api.Features.Books;
using Ledger.Api.Infrastructure;
using Ledger.Domain;
using Microsoft.AspNetCore.Http.HttpResults;
using NodaTime;

namespace Ledger.Api.Features.Reports;

/// <summary>
/// Equity as the balance sheet shows it: the equity accounts, plus the income and expense not yet closed into
/// retained earnings, split into this fiscal year's and earlier years'. Total includes both.
/// </summary>
public sealed record EquitySection(
    string Total,
    IReadOnlyList<StatementLine> Accounts,
    string CurrentYearEarnings,
    string UnclosedRetainedEarnings);

/// <summary>The accounting equation, stated: assets = liabilities + equity.</summary>
public sealed record BalanceSheetCheck(string Assets, string LiabilitiesAndEquity, bool Balanced);

public sealed record BalanceSheetResponse(
    string AsOf,
    string Currency,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? KnownAt,
    StatementSection Assets,
    StatementSection Liabilities,
    EquitySection Equity,
    BalanceSheetCheck Check);

public static class BalanceSheetEndpoints
{
    public const string CurrentYearEarningsName = "Current year earnings";
    public const string UnclosedRetainedEarningsName = "Retained earnings, unclosed";

    public static async Task<Results<Ok<BalanceSheetResponse>, CsvResult, ValidationProblem>> GetBalanceSheet(
        string bookId, [AsParameters] AsOfReportQuery query, HttpRequest http,
        BookCatalog books, LedgerDatabase database, IClock clock, LedgerWriter writer)
    {
        var asOf = ReportQueryRules.DateOr(query.AsOf, clock.Today());
        var knownAt = ReportQueryRules.InstantOrNull(query.KnownAt);
        if (await ReportQueryRules.SettleKnownAtAsync(bookId, knownAt, writer) is { } unsettled) return unsettled;

        await using var report = await ReportSnapshot.OpenAsync(bookId, books, database, knownAt);
        var (book, connection) = (report.Book, report.Connection);
        var accounts = await report.AccountsAsync();
        var startMonth = await report.FiscalYearStartMonthAsync();
        var balances = new StatementBalances(database, connection, bookId, report.ThroughEntry, report.AllTime);
        IReadOnlyDictionary<long, long>[] net = [await balances.AsOfAsync(asOf)];

        var (assets, assetTotal) = StatementSections.Build(accounts, AccountType.Asset, net, book.Digits)[0];
        var (liabilities, liabilityTotal) = StatementSections.Build(accounts, AccountType.Liability, net, book.Digits)[0];
        var (equityAccounts, equityAccountTotal) = StatementSections.Build(accounts, AccountType.Equity, net, book.Digits)[0];

        // Income and expense still on their accounts are equity not yet closed. What was earned since the later of
        // the fiscal year's start and the last close is this year's; the rest belongs to earlier, unclosed years.
        var unclosedEarnings = -SumTemporary(accounts, net[0]);
        var latestClose = await balances.LatestCloseAsync(asOf);
        var currentFrom = YearEndClose.CurrentEarningsFrom(asOf, startMonth, latestClose?.End);
        var currentEarnings = currentFrom > asOf ? 0 : -SumTemporary(accounts, await balances.MovementsAsync(currentFrom, asOf));
        // A close within this fiscal year (its end, asOf being that day) swept what was posted by then; a correction dated
        // in the year and posted after the close is still on the accounts, and it is this year's, not an earlier one's.
        var yearStart = FiscalYear.Containing(asOf, startMonth).Start;
        if (latestClose is { } close && close.End >= yearStart)
            currentEarnings = checked(currentEarnings - SumTemporary(accounts, await balances.PostedAfterAsync(close.EntryId, yearStart, close.End)));
        var priorEarnings = checked(unclosedEarnings - currentEarnings);

        var equityTotal = checked(equityAccountTotal + unclosedEarnings);
        var liabilitiesAndEquity = checked(liabilityTotal + equityTotal);
        var response = new BalanceSheetResponse(
            DateText.Format(asOf), book.Currency.Code, knownAt is null ? null : DateText.Format(knownAt.Value),
            assets, liabilities,
            new EquitySection(report.Format(equityTotal), equityAccounts.Accounts, report.Format(currentEarnings), report.Format(priorEarnings)),
            new BalanceSheetCheck(report.Format(assetTotal), report.Format(liabilitiesAndEquity), assetTotal == liabilitiesAndEquity));

        return ReportFormat.WantsCsv(http, query.Format)
            ? new CsvResult($"balance-sheet-{response.AsOf}.csv", ToCsv(response))
            : TypedResults.Ok(response);
    }

    /// <summary>Net debit of every income and expense account: minus the earnings they hold.</summary>
    private static long SumTemporary(IReadOnlyList<AccountRow> accounts, IReadOnlyDictionary<long, long> net) =>
        accounts.Where(a => a.AccountType.IsTemporary()).Aggregate(0L, (sum, a) => checked(sum + net.GetValueOrDefault(a.Id)));

    /// <summary>One row per line, the section's JSON name first; the computed earnings are equity rows without an account.</summary>
    public static CsvTable ToCsv(BalanceSheetResponse sheet)
    {
        var table = new CsvTable(["section", .. StatementSections.CsvColumns]);
        foreach (var (name, lines) in new[] { ("assets", sheet.Assets.Accounts), ("liabilities", sheet.Liabilities.Accounts), ("equity", sheet.Equity.Accounts) })
            foreach (var line in lines)
                table.Row([name, .. line.CsvFields()]);
        table.Row("equity", null, CurrentYearEarningsName, null, "0", sheet.Equity.CurrentYearEarnings, sheet.Equity.CurrentYearEarnings);
        table.Row("equity", null, UnclosedRetainedEarningsName, null, "0", sheet.Equity.UnclosedRetainedEarnings, sheet.Equity.UnclosedRetainedEarnings);
        return table;
    }

}
