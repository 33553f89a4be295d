using Ledger.Domain;

namespace Ledger.Api.Features.Books;

/// <summary>A small chart of accounts that a small business can start bookkeeping with, covering every type.</summary>
public static class StandardChart
{
    public const string Name = "standard";
    public const string RetainedEarningsCode = "3900";

    /// <summary>The control accounts of receivables (customers) and payables (vendors).</summary>
    public const string ReceivablesCode = "1200";
    public const string PayablesCode = "2000";

    public sealed record ChartAccount(string Code, string Name, AccountType Type, string? Description = null);

    public static readonly IReadOnlyList<ChartAccount> Accounts =
    [
        new("1000", "Cash", AccountType.Asset),
        new("1010", "Bank", AccountType.Asset, "Main operating bank account"),
        new("1200", "Accounts Receivable", AccountType.Asset, "Amounts customers owe"),
        new("1400", "Prepaid Expenses", AccountType.Asset),
        new("1500", "Equipment", AccountType.Asset),
        new("2000", "Accounts Payable", AccountType.Liability, "Amounts owed to vendors"),
        new("2100", "Sales Tax Payable", AccountType.Liability),
        new("2200", "Accrued Liabilities", AccountType.Liability),
        new("2500", "Loans Payable", AccountType.Liability),
        new("3000", "Owner's Equity", AccountType.Equity, "Capital contributed by the owners"),
        new(RetainedEarningsCode, "Retained Earnings", AccountType.Equity, "Results of closed fiscal years"),
        new("4000", "Sales", AccountType.Income),
        new("4900", "Other Income", AccountType.Income),
        new("5000", "Cost of Goods Sold", AccountType.Expense),
        new("6000", "Rent", AccountType.Expense),
        new("6100", "Salaries and Wages", AccountType.Expense),
        new("6200", "Utilities", AccountType.Expense),
        new("6300", "Office Supplies", AccountType.Expense),
        new("6900", "Bank Fees", AccountType.Expense),
    ];
}
