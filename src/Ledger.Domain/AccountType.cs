namespace Ledger.Domain;

public enum AccountType
{
    Asset,
    Liability,
    Equity,
    Income,
    Expense,
}

public enum Side
{
    Debit,
    Credit,
}

public static class AccountTypes
{
    public static readonly IReadOnlyList<string> Names = ["asset", "liability", "equity", "income", "expense"];

    public static bool TryParse(string? name, out AccountType type)
    {
        switch (name)
        {
            case "asset": type = AccountType.Asset; return true;
            case "liability": type = AccountType.Liability; return true;
            case "equity": type = AccountType.Equity; return true;
            case "income": type = AccountType.Income; return true;
            case "expense": type = AccountType.Expense; return true;
            default: type = default; return false;
        }
    }

    public static string ToName(this AccountType type) => type switch
    {
        AccountType.Asset => "asset",
        AccountType.Liability => "liability",
        AccountType.Equity => "equity",
        AccountType.Income => "income",
        AccountType.Expense => "expense",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>The side on which an account of this type normally carries its balance.</summary>
    public static Side NormalSide(this AccountType type) =>
        type is AccountType.Asset or AccountType.Expense ? Side.Debit : Side.Credit;

    /// <summary>Income and expense accounts are closed into retained earnings at year end.</summary>
    public static bool IsTemporary(this AccountType type) => type is AccountType.Income or AccountType.Expense;

    /// <summary>
    /// A balance on the account's normal side, from a signed net where debits are positive and credits negative.
    /// </summary>
    public static long NormalBalance(this AccountType type, long netDebit) =>
        type.NormalSide() == Side.Debit ? netDebit : checked(-netDebit);
}
