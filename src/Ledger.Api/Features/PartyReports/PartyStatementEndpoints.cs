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
/// One line of a statement: a line the party has on the control account (an open item), with what posted it and the
/// running balance after it. type is invoice, credit_note, bill, vendor_credit, payment or journal (a line posted by
/// hand); reversal is true on the line that voids a document or payment, or reverses a journal entry.
/// </summary>
public sealed record PartyStatementLine(
    string Date,
    string Type,
    long? Id,
    string? Number,
    string? Reference,
    string Description,
    string? DueDate,
    bool Reversal,
    long EntryId,
    string Amount,
    string Balance);

/// <summary>
/// A customer's or vendor's statement over [from, to]: opening balance, every line in date order with the running
/// balance, closing balance. closingBalance = openingBalance + the lines' amounts = what is owed at to.
/// </summary>
public sealed record PartyStatementResponse(
    PartySummary Party,
    string From,
    string To,
    string Currency,
    string OpeningBalance,
    IReadOnlyList<PartyStatementLine> Lines,
    string ClosingBalance,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? KnownAt = null);

/// <summary>
/// Statements. Every line on a control account is an open item of its party, so a party's lines are exactly what it
/// owes or is owed: the opening balance is the sum of its items dated before from, and the closing balance (the sum of
/// those dated up to to) equals its total in the aging report as of to, since allocations only match a party's debits
/// with its own credits. Receivables are shown as posted (invoices positive); payables owed-positive (bills positive).
/// </summary>
public static class PartyStatementEndpoints
{
    public const string OpeningBalanceName = "Opening balance";
    public const string ClosingBalanceName = "Closing balance";

    public static Task<Results<Ok<PartyStatementResponse>, CsvResult, ValidationProblem, ProblemHttpResult>> GetCustomerStatement(
        string bookId, long id, [AsParameters] PartyPeriodQuery query, HttpRequest http, BookCatalog books, LedgerDatabase database, IClock clock,
        LedgerWriter writer) =>
        GetAsync(PartyKind.Customer, bookId, id, query, http, books, database, clock, writer);

    public static Task<Results<Ok<PartyStatementResponse>, CsvResult, ValidationProblem, ProblemHttpResult>> GetVendorStatement(
        string bookId, long id, [AsParameters] PartyPeriodQuery query, HttpRequest http, BookCatalog books, LedgerDatabase database, IClock clock,
        LedgerWriter writer) =>
        GetAsync(PartyKind.Vendor, bookId, id, query, http, books, database, clock, writer);

    private static async Task<Results<Ok<PartyStatementResponse>, CsvResult, ValidationProblem, ProblemHttpResult>> GetAsync(PartyKind kind,
        string bookId, long id, PartyPeriodQuery query, HttpRequest http, BookCatalog books, LedgerDatabase database, IClock clock,
        LedgerWriter writer)
    {
        var knownAt = ReportQueryRules.InstantOrNull(query.KnownAt);
        if (await ReportQueryRules.SettleKnownAtAsync(bookId, knownAt, writer) is { } unsettled) return unsettled;
        await using var report = await ReportSnapshot.OpenAsync(bookId, books, database, knownAt);
        var connection = report.Connection;
        var party = await PartyReportsEndpoints.FindPartyAsync(connection, bookId, kind, id);
        if (party is null) return Problems.NotFound($"No {(kind == PartyKind.Customer ? "customer" : "vendor")} {id} in this book.");
        var (from, to) = await ReportQueryRules.PeriodAsync(report, query.From, query.To, clock);
        if (from > to) return Problems.Validation("from", "must be on or before to.");

        var sign = PartyReportsEndpoints.Sign(kind);
        var args = new { bookId, partyId = id, ledger = PartyReportsEndpoints.Ledger(kind), from = DateText.Format(from), to = DateText.Format(to),
            lastKnown = report.ThroughEntry ?? long.MaxValue };
        var opening = checked(sign * await connection.ExecuteScalarAsync<long>(OpeningSql, args));
        var rows = await connection.QueryAsync<LineRow>(LinesSql, args);

        var balance = opening;
        var lines = new List<PartyStatementLine>();
        foreach (var row in rows)
        {
            var amount = checked(sign * row.Amount);
            balance = checked(balance + amount);
            var document = row.SourceType is not ("payment" or "journal");
            // The due date matters for what is owed: an invoice or bill, not its void, a credit or a payment.
            var reversal = row.Reversal != 0;
            var owes = row.SourceType is "invoice" or "bill" && !reversal;
            lines.Add(new PartyStatementLine(row.ItemDate, row.SourceType, row.SourceId, document ? row.Number : null,
                row.Reference, row.Description, owes ? row.DueDate : null, reversal, row.EntryId, report.Format(amount), report.Format(balance)));
        }

        var response = new PartyStatementResponse(party, DateText.Format(from), DateText.Format(to), report.Book.Currency.Code,
            report.Format(opening), lines, report.Format(balance), knownAt is { } k ? DateText.Format(k) : null);
        if (!ReportFormat.WantsCsv(http, query.Format)) return TypedResults.Ok(response);
        var table = new CsvTable("date", "type", "id", "number", "reference", "description", "dueDate", "reversal", "entryId", "amount", "balance");
        table.Row(response.From, null, null, null, null, OpeningBalanceName, null, null, null, null, response.OpeningBalance);
        foreach (var line in lines)
            table.Row(line.Date, line.Type, line.Id?.ToString(CultureInfo.InvariantCulture), line.Number, line.Reference, line.Description,
                line.DueDate, line.Reversal ? "true" : "false", line.EntryId.ToString(CultureInfo.InvariantCulture), line.Amount, line.Balance);
        table.Row(response.To, null, null, null, null, ClosingBalanceName, null, null, null, null, response.ClosingBalance);
        return new CsvResult($"statement-{(kind == PartyKind.Customer ? "customer" : "vendor")}-{party.Code}-{response.From}-{response.To}.csv", table);
    }

    private sealed class LineRow
    {
        public string ItemDate { get; init; } = "";
        public string DueDate { get; init; } = "";
        public long Amount { get; init; }
        public string SourceType { get; init; } = "";
        public long? SourceId { get; init; }
        public long EntryId { get; init; }
        public string Description { get; init; } = "";
        public string? Number { get; init; }
        public string? Reference { get; init; }
        public long Reversal { get; init; }
    }

    private const string OpeningSql = """
        SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM open_items
        WHERE book_id = @bookId AND party_id = @partyId AND ledger = @ledger AND item_date < @from AND entry_id <= @lastKnown
        """;

    // A document's reference; for a vendor's document the vendor's own reference when it has one (what the vendor's
    // statement shows). A payment's or a hand-posted entry's reference. A reversal is the entry that voided the
    // document or payment (its void_entry_id), or any entry reversing another.
    private const string LinesSql = """
        SELECT o.item_date AS ItemDate, o.due_date AS DueDate, o.amount AS Amount, o.source_type AS SourceType, o.source_id AS SourceId,
               o.entry_id AS EntryId, e.description AS Description, d.number AS Number,
               CASE WHEN d.id IS NOT NULL THEN COALESCE(d.vendor_reference, d.reference)
                    WHEN p.id IS NOT NULL THEN p.reference ELSE e.reference END AS Reference,
               CASE WHEN e.reversal_of IS NOT NULL OR o.entry_id = d.void_entry_id OR o.entry_id = p.void_entry_id THEN 1 ELSE 0 END AS Reversal
        FROM open_items o
        JOIN journal_entries e ON e.id = o.entry_id AND e.book_id = o.book_id
        LEFT JOIN documents d ON d.book_id = o.book_id AND d.id = o.source_id AND o.source_type NOT IN ('payment', 'journal')
        LEFT JOIN payments p ON p.book_id = o.book_id AND p.id = o.source_id AND o.source_type = 'payment'
        WHERE o.book_id = @bookId AND o.party_id = @partyId AND o.ledger = @ledger AND o.item_date >= @from AND o.item_date <= @to
          AND o.entry_id <= @lastKnown
        ORDER BY o.item_date, o.entry_id, o.line_no
        """;
}
