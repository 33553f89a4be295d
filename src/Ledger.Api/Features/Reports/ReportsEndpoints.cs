using Ledger.Api.Infrastructure;
using Ledger.Api.Infrastructure.Security;

namespace Ledger.Api.Features.Reports;

public static class ReportsEndpoints
{
    /// <summary>
    /// Financial statements and ledgers. Each answers JSON, or CSV for <c>Accept: text/csv</c> or <c>?format=csv</c>;
    /// trial balance, balance sheet and income statement also take <c>knownAt</c> to be pulled again exactly as they
    /// were at an earlier instant.
    /// </summary>
    public static void MapReports(this IEndpointRouteBuilder app)
    {
        var book = app.MapGroup("/v1/books/{bookId}").RequireBookAccess().ValidateRequests().WithTags("Reports");
        book.MapGet("/reports/trial-balance", TrialBalanceEndpoints.GetTrialBalance).ProducesJsonOrCsv<TrialBalanceResponse>()
            .WithName("getTrialBalance").WithSummary("Trial balance")
            .WithDescription("Every account's balance as of a date (today by default) in a debit or a credit column; the " +
                             "columns' totals are equal. With knownAt, the report as it stood at that instant: the same " +
                             "answer whenever it is asked again. JSON, or CSV with format=csv or Accept: text/csv.");
        book.MapGet("/reports/balance-sheet", BalanceSheetEndpoints.GetBalanceSheet).ProducesJsonOrCsv<BalanceSheetResponse>()
            .WithName("getBalanceSheet").WithSummary("Balance sheet")
            .WithDescription("Assets, liabilities and equity as of a date, parents rolled up over their children, with the " +
                             "current year's earnings in equity; assets equal liabilities plus equity. knownAt and CSV as for the trial balance.");
        book.MapGet("/reports/income-statement", IncomeStatementEndpoints.GetIncomeStatement).ProducesJsonOrCsv<IncomeStatementResponse>()
            .WithName("getIncomeStatement").WithSummary("Income statement")
            .WithDescription("Income and expense over a period (the fiscal year to date by default), optionally beside a " +
                             "comparison period or split into monthly columns, with net income. knownAt and CSV as for the trial balance.");
        book.MapGet("/reports/general-ledger", LedgerEndpoints.GetGeneralLedger).ProducesJsonOrCsv<GeneralLedgerResponse>()
            .WithName("getGeneralLedger").WithSummary("General ledger")
            .WithDescription("Every account's opening balance, movements with running balance, and closing balance over a " +
                             "period. Bounded in size: a period with more postings than the server allows is refused (400); " +
                             "page through one account's ledger instead.");
        book.MapGet("/reports/aged-receivables", AgingEndpoints.GetAgedReceivables).ProducesJsonOrCsv<AgingResponse>()
            .WithName("getAgedReceivables").WithSummary("Aged receivables")
            .WithDescription("What each customer owes as of a date (today by default), split into current, one column per " +
                             "bucket of days overdue (buckets=30,60,90) and older, by due date or document date (basis). Credits " +
                             "(unallocated payments, credit notes) are aged by their own date. Allocations count when dated on or " +
                             "before asOf and, with knownAt, recorded and not undone by then. controlAccount is the receivables " +
                             "account's balance as of the same date; difference (the control balance less the total) is zero. " +
                             "detail=true lists each open item.");
        book.MapGet("/reports/aged-payables", AgingEndpoints.GetAgedPayables).ProducesJsonOrCsv<AgingResponse>()
            .WithName("getAgedPayables").WithSummary("Aged payables")
            .WithDescription("What the book owes each vendor as of a date, aged as for receivables and shown owed-positive; " +
                             "controlAccount is the payables account's balance (credit-positive), and difference is zero.");
        book.MapGet("/accounts/{code}/ledger", LedgerEndpoints.GetAccountLedger).ProducesJsonOrCsv<AccountLedgerResponse>()
            .WithName("getAccountLedger").WithSummary("One account's ledger")
            .WithDescription("One account's opening balance, movements with running balance a page at a time (follow " +
                             "nextCursor), and closing balance over a period.");
    }
}
