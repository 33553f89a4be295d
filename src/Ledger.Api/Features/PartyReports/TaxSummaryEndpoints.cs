using Dapper;
using Ledger.Api.Features.Books;
using Ledger.Api.Features.Reports;
using Ledger.Api.Infrastructure;
using Ledger.Domain;
using Microsoft.AspNetCore.Http.HttpResults;
using NodaTime;

namespace Ledger.Api.Features.PartyReports;

/// <summary>Net and tax of one side, documents less their corrections.</summary>
public sealed record TaxSummaryAmounts(string Net, string Tax);

/// <summary>
/// One tax rate (taxRate null: the lines that name no rate) with its percentage and accounts, what sales and purchases
/// came to, and netTaxDue = sales tax − purchase tax (negative: tax to reclaim).
/// </summary>
public sealed record TaxSummaryRate(
    string? TaxRate,
    string? Name,
    string? Rate,
    string? SalesAccount,
    string? PurchaseAccount,
    TaxSummaryAmounts Sales,
    TaxSummaryAmounts Purchases,
    string NetTaxDue);

public sealed record TaxSummaryTotals(TaxSummaryAmounts Sales, TaxSummaryAmounts Purchases, string NetTaxDue);

/// <summary>The tax summary over [from, to]: one row per rate used, by code, the lines without a rate last, and the totals.</summary>
public sealed record TaxSummaryResponse(string From, string To, string Currency, IReadOnlyList<TaxSummaryRate> Rates, TaxSummaryTotals Totals,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? KnownAt = null);

/// <summary>
/// Sales and purchase tax per rate, counted as the tax accounts see it: each issued document at its date (it posted
/// then) and the void of one, negated, at its reversal's date. A document voided within the period so nets to nothing,
/// and one voided after it stays in the period it was posted in, as a filed return would; so each rate's sales tax is
/// the movement of its sales account in the period, and its purchase tax that of its purchase account, when nothing
/// else posts to them.
/// </summary>
public static class TaxSummaryEndpoints
{
    public static async Task<Results<Ok<TaxSummaryResponse>, CsvResult, ValidationProblem>> GetTaxSummary(
        string bookId, [AsParameters] PartyPeriodQuery query, HttpRequest http, BookCatalog books, LedgerDatabase database, IClock clock,
        LedgerWriter writer)
    {
        var knownAt = ReportQueryRules.InstantOrNull(query.KnownAt);
        if (await ReportQueryRules.SettleKnownAtAsync(bookId, knownAt, writer) is { } unsettled) return unsettled;
        await using var report = await ReportSnapshot.OpenAsync(bookId, books, database, knownAt);
        var (from, to) = await ReportQueryRules.PeriodAsync(report, query.From, query.To, clock);
        if (from > to) return Problems.Validation("from", "must be on or before to.");

        var rows = await report.Connection.QueryAsync<(string? Code, string Kind, long Net, long Tax)>(LinesSql,
            new { bookId, from = DateText.Format(from), to = DateText.Format(to), lastKnown = report.ThroughEntry ?? long.MaxValue });
        var rates = (await report.Connection.QueryAsync<(string Code, string Name, string Rate, string SalesAccount, string PurchaseAccount)>(
            "SELECT code, name, rate, sales_account, purchase_account FROM tax_rates WHERE book_id = @bookId", new { bookId }))
            .ToDictionary(r => r.Code, StringComparer.Ordinal);

        // Per rate: sales net, sales tax, purchases net, purchases tax. Credits count against their side.
        var sums = new SortedDictionary<string, long[]>(StringComparer.Ordinal);
        long[]? unrated = null;
        foreach (var row in rows)
        {
            long[] figures;
            if (row.Code is null) figures = unrated ??= new long[4];
            else if (!sums.TryGetValue(row.Code, out figures!)) sums[row.Code] = figures = new long[4];
            var (offset, sign) = row.Kind switch
            {
                "invoice" => (0, 1L),
                "credit_note" => (0, -1L),
                "bill" => (2, 1L),
                _ => (2, -1L),
            };
            figures[offset] = checked(figures[offset] + sign * row.Net);
            figures[offset + 1] = checked(figures[offset + 1] + sign * row.Tax);
        }

        var lines = new List<TaxSummaryRate>();
        var totals = new long[4];
        void Add(string? code, long[] figures)
        {
            for (var i = 0; i < 4; i++) totals[i] = checked(totals[i] + figures[i]);
            (string Code, string Name, string Rate, string SalesAccount, string PurchaseAccount)? rate =
                code is not null && rates.TryGetValue(code, out var r) ? r : null;
            lines.Add(new TaxSummaryRate(code, rate?.Name, rate?.Rate, rate?.SalesAccount, rate?.PurchaseAccount,
                new TaxSummaryAmounts(report.Format(figures[0]), report.Format(figures[1])),
                new TaxSummaryAmounts(report.Format(figures[2]), report.Format(figures[3])),
                report.Format(checked(figures[1] - figures[3]))));
        }
        foreach (var (code, figures) in sums) Add(code, figures);
        if (unrated is not null) Add(null, unrated);

        var response = new TaxSummaryResponse(DateText.Format(from), DateText.Format(to), report.Book.Currency.Code, lines,
            new TaxSummaryTotals(new TaxSummaryAmounts(report.Format(totals[0]), report.Format(totals[1])),
                new TaxSummaryAmounts(report.Format(totals[2]), report.Format(totals[3])), report.Format(checked(totals[1] - totals[3]))),
            knownAt is { } k ? DateText.Format(k) : null);
        if (!ReportFormat.WantsCsv(http, query.Format)) return TypedResults.Ok(response);

        var table = new CsvTable("taxRate", "name", "rate", "salesAccount", "purchaseAccount", "salesNet", "salesTax", "purchasesNet",
            "purchasesTax", "netTaxDue");
        foreach (var line in lines)
            table.Row(line.TaxRate, line.Name, line.Rate, line.SalesAccount, line.PurchaseAccount, line.Sales.Net, line.Sales.Tax,
                line.Purchases.Net, line.Purchases.Tax, line.NetTaxDue);
        table.Row(null, "total", null, null, null, response.Totals.Sales.Net, response.Totals.Sales.Tax, response.Totals.Purchases.Net,
            response.Totals.Purchases.Tax, response.Totals.NetTaxDue);
        return new CsvResult($"tax-summary-{response.From}-{response.To}.csv", table);
    }

    // Issued and void documents at their date (both posted then), and void ones again, negated, at the reversal's date.
    // Then statement lines coded to an account with a tax rate (money in is a sale, money out a purchase, as the rate's
    // sales or purchase account took the tax), at the match's date, and again, negated, at the date of the undo's reversal.
    private const string LinesSql = """
        SELECT l.tax_rate, d.kind, CAST(SUM(l.net) AS BIGINT), CAST(SUM(l.tax) AS BIGINT)
        FROM documents d JOIN document_lines l ON l.book_id = d.book_id AND l.document_id = d.id
        WHERE d.book_id = @bookId AND d.status IN ('issued', 'void') AND d.document_date >= @from AND d.document_date <= @to
          AND d.entry_id <= @lastKnown
        GROUP BY l.tax_rate, d.kind
        UNION ALL
        SELECT l.tax_rate, d.kind, CAST(-SUM(l.net) AS BIGINT), CAST(-SUM(l.tax) AS BIGINT)
        FROM documents d
        JOIN journal_entries e ON e.id = d.void_entry_id AND e.book_id = d.book_id
        JOIN document_lines l ON l.book_id = d.book_id AND l.document_id = d.id
        WHERE d.book_id = @bookId AND d.status = 'void' AND e.entry_date >= @from AND e.entry_date <= @to
          AND d.void_entry_id <= @lastKnown
        GROUP BY l.tax_rate, d.kind
        UNION ALL
        SELECT m.tax_rate, CASE WHEN s.amount > 0 THEN 'invoice' ELSE 'bill' END, CAST(SUM(m.net) AS BIGINT), CAST(SUM(m.tax) AS BIGINT)
        FROM bank_matches m JOIN statement_lines s ON s.book_id = m.book_id AND s.id = m.statement_line_id
        WHERE m.book_id = @bookId AND m.tax_rate IS NOT NULL AND m.entry_date >= @from AND m.entry_date <= @to AND m.entry_id <= @lastKnown
        GROUP BY m.tax_rate, CASE WHEN s.amount > 0 THEN 'invoice' ELSE 'bill' END
        UNION ALL
        SELECT m.tax_rate, CASE WHEN s.amount > 0 THEN 'invoice' ELSE 'bill' END, CAST(-SUM(m.net) AS BIGINT), CAST(-SUM(m.tax) AS BIGINT)
        FROM bank_matches m JOIN statement_lines s ON s.book_id = m.book_id AND s.id = m.statement_line_id
        JOIN journal_entries e ON e.id = m.reversal_entry_id AND e.book_id = m.book_id
        WHERE m.book_id = @bookId AND m.tax_rate IS NOT NULL AND e.entry_date >= @from AND e.entry_date <= @to
          AND m.reversal_entry_id <= @lastKnown
        GROUP BY m.tax_rate, CASE WHEN s.amount > 0 THEN 'invoice' ELSE 'bill' END
        """;
}
