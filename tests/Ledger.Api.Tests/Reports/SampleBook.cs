using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Reports;

/// <summary>
/// A small, hand-checkable history on the standard chart, with child accounts under 1010 Bank, 4000 Sales and
/// 6100 Salaries. Fiscal 2025: income 2,300.00, expenses 3,450.00, a loss of 1,150.00. Fiscal 2026 to February:
/// income 3,000.00, expenses 1,200.00.
/// </summary>
public static class SampleBook
{
    public static async Task<string> CreateAsync(LedgerApp app, bool closeFiscal2025)
    {
        var book = await app.CreateBookAsync();
        await app.CreateAccountAsync(book, "1011", "asset", parent: "1010");
        await app.CreateAccountAsync(book, "4010", "income", parent: "4000");
        await app.CreateAccountAsync(book, "6110", "expense", parent: "6100");
        var admin = app.Admin;
        var customer = await app.CreateCustomerAsync(book, "First customer");
        var vendor = await app.CreateVendorAsync(book, "Landlord");
        await admin.PostEntryOkAsync(book, "2025-01-02", "Owner's capital", ("1010", "10000.00", null), ("3000", null, "10000.00"));
        await admin.PostEntryOkAsync(book, "2025-02-10", "Invoice 1", ($"1200/customer:{customer}", "1500.00", null), ("4000", null, "1500.00"));
        await admin.PostEntryOkAsync(book, "2025-03-15", "Online sale", ("1010", "800.00", null), ("4010", null, "800.00"));
        await admin.PostEntryOkAsync(book, "2025-04-01", "Rent", ("6000", "1200.00", null), ("1010", null, "1200.00"));
        await admin.PostEntryOkAsync(book, "2025-06-30", "Payroll, \"June\"", ("6100", "2000.00", null), ("6110", "250.00", null), ("1010", null, "2250.00"));
        await admin.PostEntryOkAsync(book, "2025-09-01", "Loan to savings", ("1011", "5000.00", null), ("2500", null, "5000.00"));
        if (closeFiscal2025) await admin.CloseYearAsync(book, "2025-12-31");
        await admin.PostEntryOkAsync(book, "2026-01-15", "Invoice 2, paid", ("1010", "3000.00", null), ("4000", null, "3000.00"));
        await admin.PostEntryOkAsync(book, "2026-02-01", "Rent", ("6000", "1200.00", null), ($"2000/vendor:{vendor}", null, "1200.00"));
        return book;
    }
}
