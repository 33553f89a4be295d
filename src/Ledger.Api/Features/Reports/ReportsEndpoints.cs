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
        var book = app.MapGroup("/v1/books/{bookId}").RequireBookAccess().WithTags("Reports");
        book.MapGet("/reports/trial-balance", TrialBalanceEndpoints.GetTrialBalance).ProducesJsonOrCsv<TrialBalanceResponse>();
        book.MapGet("/reports/balance-sheet", BalanceSheetEndpoints.GetBalanceSheet).ProducesJsonOrCsv<BalanceSheetResponse>();
        book.MapGet("/reports/income-statement", IncomeStatementEndpoints.GetIncomeStatement).ProducesJsonOrCsv<IncomeStatementResponse>();
        book.MapGet("/reports/general-ledger", LedgerEndpoints.GetGeneralLedger).ProducesJsonOrCsv<GeneralLedgerResponse>();
        book.MapGet("/accounts/{code}/ledger", LedgerEndpoints.GetAccountLedger).ProducesJsonOrCsv<AccountLedgerResponse>();
    }
}
