using Dapper;
using FluentValidation;
using Ledger.Api.Features.Parties;
using Ledger.Api.Features.Reports;
using Ledger.Api.Infrastructure;
using Ledger.Api.Infrastructure.Security;
using Ledger.Domain;
using Microsoft.AspNetCore.Mvc;

namespace Ledger.Api.Features.PartyReports;

/// <summary>
/// Query of a report over a period: from and to (the fiscal year to date by default), knownAt (only what was recorded
/// by that instant, so the report can be pulled again exactly as it was), JSON or CSV.
/// </summary>
public sealed record PartyPeriodQuery(
    [property: FromQuery(Name = "from")] string? From,
    [property: FromQuery(Name = "to")] string? To,
    [property: FromQuery(Name = "format")] string? Format,
    [property: FromQuery(Name = "knownAt")] string? KnownAt = null);

public sealed class PartyPeriodQueryValidator : AbstractValidator<PartyPeriodQuery>
{
    public PartyPeriodQueryValidator()
    {
        RuleFor(x => x.From).IsDate().IsNotAfter(x => x.To, "to");
        RuleFor(x => x.To).IsDate();
        RuleFor(x => x.Format).IsReportFormat();
        RuleFor(x => x.KnownAt).IsInstant();
    }
}

/// <summary>The customer or vendor a report is about.</summary>
public sealed record PartySummary(long Id, string Code, string Name);

/// <summary>
/// The receivables and payables reports beside aging: a customer's or vendor's statement and account view, revenue by
/// customer, and the tax summary. Each reads one consistent snapshot; amounts are decimal strings in the book's currency.
/// </summary>
public static class PartyReportsEndpoints
{
    public static void MapPartyReports(this IEndpointRouteBuilder app)
    {
        var book = app.MapGroup("/v1/books/{bookId}").RequireBookAccess().ValidateRequests().WithTags("Reports");
        book.MapGet("/customers/{id:long}/statement", PartyStatementEndpoints.GetCustomerStatement).ProducesJsonOrCsv<PartyStatementResponse>()
            .WithName("getCustomerStatement").WithSummary("Customer statement")
            .WithDescription("The customer's opening balance at from, every invoice, credit note, payment and hand-posted line on " +
                             "receivables dated from..to (the fiscal year to date by default) with the running balance, voids as " +
                             "lines of their own, and the closing balance: what the customer owes at to, equal to its total in " +
                             "aged receivables as of to. Invoices are positive, credit notes and payments negative. JSON, or CSV " +
                             "with format=csv or Accept: text/csv.");
        book.MapGet("/vendors/{id:long}/statement", PartyStatementEndpoints.GetVendorStatement).ProducesJsonOrCsv<PartyStatementResponse>()
            .WithName("getVendorStatement").WithSummary("Vendor statement")
            .WithDescription("The vendor's statement as for a customer, shown owed-positive: bills are positive, vendor credits and " +
                             "payments negative; the closing balance is what the book owes the vendor at to.");
        book.MapGet("/customers/{id:long}/account", PartyAccountEndpoints.GetCustomerAccount)
            .WithName("getCustomerAccount").WithSummary("Customer account view")
            .WithDescription("What a sales team reads about one customer today: revenue (net of tax, credit notes deducted, issued " +
                             "documents only) in this fiscal year, the last fiscal year and the last 12 months; what the customer " +
                             "owes now (credits deducted) and what is past due of its invoices and of the debits posted by hand on its " +
                             "receivables (opening balances, due on their own date); the amount-weighted average days from an " +
                             "invoice's date to the allocations that settled it over the last 12 months (null without any); the " +
                             "number of issued invoices and the dates of the last invoice and the last payment received.");
        book.MapGet("/vendors/{id:long}/account", PartyAccountEndpoints.GetVendorAccount)
            .WithName("getVendorAccount").WithSummary("Vendor account view")
            .WithDescription("The customer account view's figures for a vendor, owed-positive: spend (bills net of tax, vendor " +
                             "credits deducted), what the book owes the vendor now and what of it is past due, average days to " +
                             "pay its bills, invoiceCount and lastInvoiceDate counting the vendor's bills, and the last payment made.");
        book.MapGet("/reports/revenue-by-customer", RevenueByCustomerEndpoints.GetRevenueByCustomer).ProducesJsonOrCsv<RevenueByCustomerResponse>()
            .WithName("getRevenueByCustomer").WithSummary("Revenue by customer")
            .WithDescription("Customers ranked by net revenue over a period (the fiscal year to date by default): issued invoices " +
                             "less issued credit notes, net of tax, by document date; void documents and drafts are left out. " +
                             "share is each customer's percentage of the total with one decimal (rounded half away from zero, so " +
                             "the shares need not add up to exactly 100; null when the total is not positive). JSON or CSV.");
        book.MapGet("/reports/tax-summary", TaxSummaryEndpoints.GetTaxSummary).ProducesJsonOrCsv<TaxSummaryResponse>()
            .WithName("getTaxSummary").WithSummary("Tax summary")
            .WithDescription("Per tax rate, the net and tax of sales (invoices less credit notes) and of purchases (bills less " +
                             "vendor credits) over a period (the fiscal year to date by default), and the net tax due (sales tax " +
                             "less purchase tax). Counted as posted: a document at its date, the void of one at the date of its " +
                             "reversal, so the figures equal the movements of the rates' tax accounts in the period. Lines without " +
                             "a rate are one row with taxRate null. JSON or CSV.");
    }

    /// <summary>The party of this kind with this id in the book, or null (an unknown id, or a party of the other kind).</summary>
    internal static Task<PartySummary?> FindPartyAsync(System.Data.Common.DbConnection connection, string bookId, PartyKind kind, long id) =>
        connection.QuerySingleOrDefaultAsync<PartySummary?>(
            "SELECT id AS Id, code AS Code, name AS Name FROM parties WHERE book_id = @bookId AND kind = @kind AND id = @id",
            new { bookId, kind = PartiesEndpoints.KindName(kind), id });

    internal static string Ledger(PartyKind kind) => kind == PartyKind.Customer ? "receivables" : "payables";

    /// <summary>Receivables are shown as posted (owed to the book: debit positive); payables owed-positive (credit positive).</summary>
    internal static long Sign(PartyKind kind) => kind == PartyKind.Customer ? 1 : -1;
}
