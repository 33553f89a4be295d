using Dapper;
using Ledger.Api.Features.Allocations;
using Ledger.Api.Features.Books;
using Ledger.Api.Features.Reports;
using Ledger.Api.Infrastructure;
using Ledger.Domain;
using Microsoft.AspNetCore.Http.HttpResults;
using NodaTime;

namespace Ledger.Api.Features.PartyReports;

/// <summary>
/// Net of tax, issued documents only (drafts and void ones left out), corrections deducted, by document date:
/// thisYear is the book's fiscal year containing today (all of it), lastYear the one before, last12Months the twelve
/// months through today (from the day after today's date a year ago).
/// </summary>
public sealed record PartyPeriodAmounts(string ThisYear, string LastYear, string Last12Months);

/// <summary>
/// A customer as a sales team reads it, today (asOf). openBalance is what the customer owes now, credits deducted (its
/// total in aged receivables as of today); overdueBalance what is still open of what it owes that fell due before today:
/// its invoices and the debits posted by hand on its receivables (opening balances), each by its due date, a hand-posted
/// line's due date being its own date;
/// averageDaysToPay the days from an invoice's date to the allocations that settled it over the last 12 months,
/// weighted by amount, to one decimal (null without any).
/// </summary>
public sealed record CustomerAccountResponse(
    PartySummary Party,
    string AsOf,
    string Currency,
    PartyPeriodAmounts Revenue,
    string OpenBalance,
    string OverdueBalance,
    decimal? AverageDaysToPay,
    long InvoiceCount,
    string? LastInvoiceDate,
    string? LastPaymentDate);

/// <summary>
/// A vendor as the customer account view shows a customer, owed-positive: spend (bills less vendor credits, net of tax),
/// what the book owes it now and what of that is past due; invoiceCount and lastInvoiceDate count the vendor's bills
/// (its invoices to the book), lastPaymentDate is the last payment made to it.
/// </summary>
public sealed record VendorAccountResponse(
    PartySummary Party,
    string AsOf,
    string Currency,
    PartyPeriodAmounts Spend,
    string OpenBalance,
    string OverdueBalance,
    decimal? AverageDaysToPay,
    long InvoiceCount,
    string? LastInvoiceDate,
    string? LastPaymentDate);

public static class PartyAccountEndpoints
{
    public static async Task<Results<Ok<CustomerAccountResponse>, ProblemHttpResult>> GetCustomerAccount(
        string bookId, long id, BookCatalog books, LedgerDatabase database, IClock clock)
    {
        var figures = await ReadAsync(PartyKind.Customer, bookId, id, books, database, clock);
        if (figures is null) return Problems.NotFound($"No customer {id} in this book.");
        var f = figures.Value;
        return TypedResults.Ok(new CustomerAccountResponse(f.Party, f.AsOf, f.Currency, f.Periods, f.Open, f.Overdue, f.AverageDays,
            f.InvoiceCount, f.LastInvoice, f.LastPayment));
    }

    public static async Task<Results<Ok<VendorAccountResponse>, ProblemHttpResult>> GetVendorAccount(
        string bookId, long id, BookCatalog books, LedgerDatabase database, IClock clock)
    {
        var figures = await ReadAsync(PartyKind.Vendor, bookId, id, books, database, clock);
        if (figures is null) return Problems.NotFound($"No vendor {id} in this book.");
        var f = figures.Value;
        return TypedResults.Ok(new VendorAccountResponse(f.Party, f.AsOf, f.Currency, f.Periods, f.Open, f.Overdue, f.AverageDays,
            f.InvoiceCount, f.LastInvoice, f.LastPayment));
    }

    private readonly record struct Figures(PartySummary Party, string AsOf, string Currency, PartyPeriodAmounts Periods, string Open,
        string Overdue, decimal? AverageDays, long InvoiceCount, string? LastInvoice, string? LastPayment);

    private static async Task<Figures?> ReadAsync(PartyKind kind, string bookId, long id, BookCatalog books, LedgerDatabase database, IClock clock)
    {
        await using var report = await ReportSnapshot.OpenAsync(bookId, books, database);
        var connection = report.Connection;
        var party = await PartyReportsEndpoints.FindPartyAsync(connection, bookId, kind, id);
        if (party is null) return null;

        var today = clock.Today();
        var thisYear = FiscalYear.Containing(today, await report.FiscalYearStartMonthAsync());
        var lastYear = FiscalYear.Containing(thisYear.Start.PlusDays(-1), thisYear.Start.Month);
        var twelveMonthsFrom = today.PlusMonths(-12).PlusDays(1);
        var customer = kind == PartyKind.Customer;
        var sign = PartyReportsEndpoints.Sign(kind);
        var args = new
        {
            bookId, partyId = id, ledger = PartyReportsEndpoints.Ledger(kind), today = DateText.Format(today),
            document = customer ? "invoice" : "bill", correction = customer ? "credit_note" : "vendor_credit",
            direction = customer ? "in" : "out", voided = OpenItemAllocations.VoidedBy, sign,
            thisFrom = DateText.Format(thisYear.Start), thisTo = DateText.Format(thisYear.End),
            lastFrom = DateText.Format(lastYear.Start), lastTo = DateText.Format(lastYear.End),
            recentFrom = DateText.Format(twelveMonthsFrom), allLines = customer ? 0 : 1,
        };

        var periods = await connection.QuerySingleAsync<(long ThisYear, long LastYear, long Last12Months)>(PeriodsSql, args);
        var open = checked(sign * await connection.ExecuteScalarAsync<long>(OpenBalanceSql, args));
        var overdue = checked(sign * await connection.ExecuteScalarAsync<long>(OverdueSql, args));
        var documents = await connection.QuerySingleAsync<(long Count, string? Last)>(DocumentsSql, args);
        var lastPayment = await connection.ExecuteScalarAsync<string?>(LastPaymentSql, args);

        // Days are counted here rather than in SQL: date arithmetic is not in the subset both engines share.
        decimal weighted = 0, allocated = 0;
        foreach (var (amount, itemDate, allocationDate) in await connection.QueryAsync<(long, string, string)>(PaidSql, args))
        {
            var days = Period.Between(DateText.ParseStoredDate(itemDate), DateText.ParseStoredDate(allocationDate), PeriodUnits.Days).Days;
            weighted += (decimal)amount * days;
            allocated += amount;
        }
        decimal? averageDays = allocated == 0 ? null : Math.Round(weighted / allocated, 1, MidpointRounding.AwayFromZero);

        return new Figures(party, DateText.Format(today), report.Book.Currency.Code,
            new PartyPeriodAmounts(report.Format(periods.ThisYear), report.Format(periods.LastYear), report.Format(periods.Last12Months)),
            report.Format(open), report.Format(overdue), averageDays, documents.Count, documents.Last, lastPayment);
    }

    // A customer's revenue counts the lines on income accounts (as the revenue report and the income statement do); a
    // vendor's spend counts every line of its bills, equipment bought included.
    private const string NetSql = "CASE WHEN @allLines = 1 OR a.type = 'income' THEN (CASE WHEN d.kind = @document THEN l.net ELSE -l.net END) ELSE 0 END";

    private const string PeriodsSql = $"""
        SELECT CAST(COALESCE(SUM(CASE WHEN d.document_date >= @thisFrom AND d.document_date <= @thisTo THEN {NetSql} ELSE 0 END), 0) AS BIGINT),
               CAST(COALESCE(SUM(CASE WHEN d.document_date >= @lastFrom AND d.document_date <= @lastTo THEN {NetSql} ELSE 0 END), 0) AS BIGINT),
               CAST(COALESCE(SUM(CASE WHEN d.document_date >= @recentFrom AND d.document_date <= @today THEN {NetSql} ELSE 0 END), 0) AS BIGINT)
        FROM documents d
        JOIN document_lines l ON l.book_id = d.book_id AND l.document_id = d.id
        LEFT JOIN accounts a ON a.book_id = d.book_id AND a.code = l.account
        WHERE d.book_id = @bookId AND d.party_id = @partyId AND d.status = 'issued' AND d.kind IN (@document, @correction)
        """;

    // Allocations match a party's debits with its own credits, so what is open sums to the items' amounts.
    private const string OpenBalanceSql = """
        SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM open_items
        WHERE book_id = @bookId AND party_id = @partyId AND ledger = @ledger AND item_date <= @today
        """;

    // What is open today of the invoices (bills) and hand-posted items due before today: allocations dated up to today and
    // not undone count, as in aging as of today. Only owed items count (amount × sign > 0): a customer's credits are not
    // overdue, and a void's reversal carries its document's source with the other sign, matched by the void. Refunds
    // (payments out to a customer) and a voided credit note's reversal have the owed sign but are not a debt that fell
    // due, so sources other than the document kind and 'journal' are left out. Nor is a debit whose entry was reversed by
    // today: a reversal is not matched with what it reverses (a void is), so its opposite item would stay apart.
    private const string OverdueSql = """
        WITH counted AS (
            SELECT a.debit_item_id AS item_id, a.amount FROM allocations a
            WHERE a.book_id = @bookId AND a.party_id = @partyId AND a.ledger = @ledger AND a.allocation_date <= @today AND a.undone_at IS NULL
            UNION ALL
            SELECT a.credit_item_id, -a.amount FROM allocations a
            WHERE a.book_id = @bookId AND a.party_id = @partyId AND a.ledger = @ledger AND a.allocation_date <= @today AND a.undone_at IS NULL
        ), allocated AS (
            SELECT item_id, SUM(amount) AS amount FROM counted GROUP BY item_id
        )
        SELECT CAST(COALESCE(SUM(o.amount - COALESCE(al.amount, 0)), 0) AS BIGINT)
        FROM open_items o LEFT JOIN allocated al ON al.item_id = o.id
        WHERE o.book_id = @bookId AND o.party_id = @partyId AND o.ledger = @ledger AND o.source_type IN (@document, 'journal')
          AND o.item_date <= @today AND o.due_date < @today AND o.amount * @sign > 0
          AND NOT EXISTS (SELECT 1 FROM journal_entries e JOIN journal_entries r ON r.id = e.reversed_by AND r.book_id = e.book_id
                          WHERE e.book_id = @bookId AND e.id = o.entry_id AND r.entry_date <= @today)
        """;

    private const string DocumentsSql = """
        SELECT COUNT(*), MAX(document_date) FROM documents
        WHERE book_id = @bookId AND party_id = @partyId AND kind = @document AND status = 'issued'
        """;

    private const string LastPaymentSql = """
        SELECT MAX(payment_date) FROM payments
        WHERE book_id = @bookId AND party_id = @partyId AND direction = @direction AND voided_at IS NULL
        """;

    // The allocations of the last 12 months that settled what the party owed (the debit item on receivables, the credit
    // item on payables), with that item's date; a void's match with its reversal and undone allocations are not payments.
    // Nor is a refund: money paid back to a customer (received back from a vendor) is a payment's own item on the owed
    // side, and matching it with the credit it refunds settles no debt of the party's.
    private const string PaidSql = """
        SELECT a.amount, o.item_date, a.allocation_date FROM allocations a
        JOIN open_items o ON o.book_id = a.book_id AND o.id = CASE WHEN @sign > 0 THEN a.debit_item_id ELSE a.credit_item_id END
        WHERE a.book_id = @bookId AND a.party_id = @partyId AND a.ledger = @ledger AND a.undone_at IS NULL AND a.recorded_by <> @voided
          AND a.allocation_date >= @recentFrom AND a.allocation_date <= @today AND o.source_type <> 'payment'
        """;
}
