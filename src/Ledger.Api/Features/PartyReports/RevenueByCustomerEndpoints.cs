using System.Globalization;
using Dapper;
using Ledger.Api.Features.Books;
using Ledger.Api.Features.Reports;
using Ledger.Api.Infrastructure;
using Ledger.Domain;
using Microsoft.AspNetCore.Http.HttpResults;
using NodaTime;

namespace Ledger.Api.Features.PartyReports;

/// <summary>
/// One customer's net revenue over the period (issued invoices less issued credit notes, net of tax), its share of the
/// total as a percentage with one decimal ("42.5"; null when the total is not positive), and its issued invoices.
/// </summary>
public sealed record RevenueByCustomerLine(int Rank, long Id, string Code, string Name, string Revenue, string? Share, long InvoiceCount);

/// <summary>Customers ranked by net revenue, highest first (ties by code), with the total.</summary>
public sealed record RevenueByCustomerResponse(
    string From,
    string To,
    string Currency,
    IReadOnlyList<RevenueByCustomerLine> Customers,
    string Total,
    long InvoiceCount,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? KnownAt = null);

public static class RevenueByCustomerEndpoints
{
    public static async Task<Results<Ok<RevenueByCustomerResponse>, CsvResult, ValidationProblem>> GetRevenueByCustomer(
        string bookId, [AsParameters] PartyPeriodQuery query, HttpRequest http, BookCatalog books, LedgerDatabase database, IClock clock,
        LedgerWriter writer)
    {
        var knownAt = ReportQueryRules.InstantOrNull(query.KnownAt);
        if (await ReportQueryRules.SettleKnownAtAsync(bookId, knownAt, writer) is { } unsettled) return unsettled;
        await using var report = await ReportSnapshot.OpenAsync(bookId, books, database, knownAt);
        var (from, to) = await ReportQueryRules.PeriodAsync(report, query.From, query.To, clock);
        if (from > to) return Problems.Validation("from", "must be on or before to.");

        var rows = (await report.Connection.QueryAsync<(long Id, string Code, string Name, long Revenue, long Invoices)>(RevenueSql,
            new { bookId, from = DateText.Format(from), to = DateText.Format(to), lastKnown = report.ThroughEntry ?? long.MaxValue })).AsList();
        var total = rows.Aggregate(0L, (sum, r) => checked(sum + r.Revenue));
        var ranked = rows.OrderByDescending(r => r.Revenue).ThenBy(r => r.Code, StringComparer.Ordinal)
            .Select((r, i) => new RevenueByCustomerLine(i + 1, r.Id, r.Code, r.Name, report.Format(r.Revenue), Share(r.Revenue, total), r.Invoices))
            .ToList();
        var response = new RevenueByCustomerResponse(DateText.Format(from), DateText.Format(to), report.Book.Currency.Code, ranked,
            report.Format(total), rows.Aggregate(0L, (sum, r) => sum + r.Invoices), knownAt is { } k ? DateText.Format(k) : null);
        if (!ReportFormat.WantsCsv(http, query.Format)) return TypedResults.Ok(response);

        var table = new CsvTable("rank", "id", "code", "name", "revenue", "share", "invoiceCount");
        foreach (var line in ranked)
            table.Row(line.Rank.ToString(CultureInfo.InvariantCulture), line.Id.ToString(CultureInfo.InvariantCulture), line.Code, line.Name,
                line.Revenue, line.Share, line.InvoiceCount.ToString(CultureInfo.InvariantCulture));
        table.Row(null, null, null, "total", response.Total, null, response.InvoiceCount.ToString(CultureInfo.InvariantCulture));
        return new CsvResult($"revenue-by-customer-{response.From}-{response.To}.csv", table);
    }

    /// <summary>
    /// revenue / total as a percentage, one decimal, half away from zero: each share is rounded alone, so the shares can
    /// add up to 99.9 or 100.1. Null when the total is zero or negative, where a share means nothing.
    /// </summary>
    public static string? Share(long revenue, long total) => total <= 0
        ? null
        : Math.Round((decimal)revenue * 100m / total, 1, MidpointRounding.AwayFromZero).ToString("0.0", CultureInfo.InvariantCulture);

    // Customers with an issued invoice or credit note dated in the period. Void documents were taken back by their
    // reversal and drafts never posted: neither is revenue. As known at an instant: issued by then, and not yet void
    // then (a document voided later was still revenue at that instant). Revenue is what the lines post to income
    // accounts: equipment sold (an asset) or a deposit taken (a liability) is invoiced but earns nothing, and the
    // income statement does not count it either.
    private const string RevenueSql = """
        SELECT c.id, c.code, c.name, r.revenue, r.invoices
        FROM (
            SELECT d.party_id,
                   CAST(COALESCE(SUM(CASE WHEN a.type = 'income' THEN (CASE WHEN d.kind = 'invoice' THEN l.net ELSE -l.net END) ELSE 0 END), 0)
                        AS BIGINT) AS revenue,
                   CAST(COUNT(DISTINCT CASE WHEN d.kind = 'invoice' THEN d.id END) AS BIGINT) AS invoices
            FROM documents d
            JOIN document_lines l ON l.book_id = d.book_id AND l.document_id = d.id
            LEFT JOIN accounts a ON a.book_id = d.book_id AND a.code = l.account
            WHERE d.book_id = @bookId AND d.kind IN ('invoice', 'credit_note') AND d.entry_id <= @lastKnown
              AND (d.status = 'issued' OR (d.status = 'void' AND d.void_entry_id > @lastKnown))
              AND d.document_date >= @from AND d.document_date <= @to
            GROUP BY d.party_id
        ) r
        JOIN parties c ON c.id = r.party_id AND c.book_id = @bookId
        """;
}
