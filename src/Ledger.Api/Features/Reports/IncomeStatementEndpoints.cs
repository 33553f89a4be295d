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

/// <summary>One column of an income statement: a period's income, expenses and their difference.</summary>
public sealed record IncomeStatementColumn(string From, string To, StatementSection Income, StatementSection Expenses, string NetIncome);

/// <summary>
/// The income statement for [from, to]. With compareFrom/compareTo a <c>comparison</c> column, with columns=month
/// one column per calendar month of the period (<c>months</c>); every column lists the same accounts in the same order.
/// </summary>
public sealed record IncomeStatementResponse(
    string From,
    string To,
    string Currency,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? KnownAt,
    StatementSection Income,
    StatementSection Expenses,
    string NetIncome,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IncomeStatementColumn? Comparison,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<IncomeStatementColumn>? Months);

public static class IncomeStatementEndpoints
{
    public static async Task<Results<Ok<IncomeStatementResponse>, CsvResult, ValidationProblem>> GetIncomeStatement(
        string bookId, [AsParameters] IncomeStatementQuery query, HttpRequest http,
        BookCatalog books, LedgerDatabase database, IClock clock, LedgerWriter writer)
    {
        var knownAt = ReportQueryRules.InstantOrNull(query.KnownAt);
        if (await ReportQueryRules.SettleKnownAtAsync(bookId, knownAt, writer) is { } unsettled) return unsettled;

        await using var report = await ReportSnapshot.OpenAsync(bookId, books, database, knownAt);
        var (book, connection) = (report.Book, report.Connection);
        var (from, to) = await ReportQueryRules.PeriodAsync(report, query.From, query.To, clock);
        if (from > to) return Problems.Validation("from", "must be on or before to.");

        var periods = new List<(LocalDate From, LocalDate To)> { (from, to) };
        var compared = query.CompareFrom is not null;
        if (compared) periods.Add((ReportQueryRules.DateOr(query.CompareFrom, from), ReportQueryRules.DateOr(query.CompareTo, to)));
        if (query.Columns == "month")
        {
            // Counted before the columns are built: a period of centuries must not be enumerated to be refused.
            if (MonthCount(from, to) > IncomeStatementQueryValidator.MaxMonths)
                return Problems.Validation("columns", $"splits at most {IncomeStatementQueryValidator.MaxMonths} months; shorten the period.");
            periods.AddRange(Months(from, to));
        }

        var accounts = await report.AccountsAsync();
        var balances = new StatementBalances(database, connection, bookId, report.ThroughEntry, report.AllTime);
        var movements = new List<IReadOnlyDictionary<long, long>>(periods.Count);
        foreach (var (start, end) in periods) movements.Add(await balances.MovementsAsync(start, end));

        var income = StatementSections.Build(accounts, AccountType.Income, movements, book.Digits);
        var expenses = StatementSections.Build(accounts, AccountType.Expense, movements, book.Digits);
        var columns = periods.Select((period, i) => new IncomeStatementColumn(
            DateText.Format(period.From), DateText.Format(period.To), income[i].Section, expenses[i].Section,
            report.Format(checked(income[i].Total - expenses[i].Total)))).ToList();

        var main = columns[0];
        var response = new IncomeStatementResponse(main.From, main.To, book.Currency.Code,
            knownAt is null ? null : DateText.Format(knownAt.Value),
            main.Income, main.Expenses, main.NetIncome,
            compared ? columns[1] : null,
            query.Columns == "month" ? columns.Skip(compared ? 2 : 1).ToList() : null);

        return ReportFormat.WantsCsv(http, query.Format)
            ? new CsvResult($"income-statement-{response.From}-{response.To}.csv", ToCsv(columns))
            : TypedResults.Ok(response);
    }

    /// <summary>The calendar months of [from, to], the first and last cut to the period.</summary>
    public static IEnumerable<(LocalDate From, LocalDate To)> Months(LocalDate from, LocalDate to)
    {
        for (var start = from; start <= to;)
        {
            var end = start.With(DateAdjusters.EndOfMonth);
            if (end >= to)
            {
                yield return (start, to);
                yield break; // the next month may lie past December 9999
            }
            yield return (start, end);
            start = end.PlusDays(1);
        }
    }

    public static int MonthCount(LocalDate from, LocalDate to) => (to.Year - from.Year) * 12 + to.Month - from.Month + 1;

    /// <summary>One row per line per column; from and to say which column (the period, its comparison, a month) a row is in.</summary>
    public static CsvTable ToCsv(IEnumerable<IncomeStatementColumn> columns)
    {
        var table = new CsvTable(["from", "to", "section", .. StatementSections.CsvColumns]);
        foreach (var column in columns)
        {
            foreach (var line in column.Income.Accounts) table.Row([column.From, column.To, "income", .. line.CsvFields()]);
            foreach (var line in column.Expenses.Accounts) table.Row([column.From, column.To, "expenses", .. line.CsvFields()]);
        }
        return table;
    }
}
