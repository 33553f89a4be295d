using Ledger.Api.Features.Accounts;
using Ledger.Domain;

namespace Ledger.Api.Features.Reports;

/// <summary>
/// One account on a statement, on its normal side. <c>balance</c> is the account's own; <c>subtotal</c> adds every
/// account below it (the same as balance for an account without children). A section's total is the sum of its
/// balances, or equally of its level-0 subtotals.
/// </summary>
public sealed record StatementLine(string Account, string Name, string? Parent, int Level, string Balance, string Subtotal);

public sealed record StatementSection(string Total, IReadOnlyList<StatementLine> Accounts);

public static class StatementSections
{
    /// <summary>
    /// The section of accounts of <paramref name="type"/> in each column, from each column's net (debit − credit)
    /// balances. Every column lists the same accounts in the same order (those non-zero in any column), so
    /// columns line up as a table. Returns the sections and their totals in minor units.
    /// </summary>
    public static IReadOnlyList<(StatementSection Section, long Total)> Build(
        IReadOnlyList<AccountRow> accounts, AccountType type, IReadOnlyList<IReadOnlyDictionary<long, long>> columns, int digits)
    {
        var ofType = accounts.Where(a => a.AccountType == type).ToList();
        var names = ofType.ToDictionary(a => a.Code, a => a.Name, StringComparer.Ordinal);
        var rolledUp = AccountRollup.Rollup(ofType
            .Select(a => new AccountBalances(a.Code, a.ParentCode,
                columns.Select(net => type.NormalBalance(net.GetValueOrDefault(a.Id))).ToArray()))
            .ToList());

        var sections = new List<(StatementSection, long)>(columns.Count);
        for (var c = 0; c < columns.Count; c++)
        {
            long total = 0;
            var lines = new List<StatementLine>(rolledUp.Count);
            foreach (var account in rolledUp)
            {
                total = checked(total + account.Balances[c]);
                lines.Add(new StatementLine(account.Code, names[account.Code], account.ParentCode, account.Level,
                    new Amount(account.Balances[c]).Format(digits), new Amount(account.Subtotals[c]).Format(digits)));
            }
            sections.Add((new StatementSection(new Amount(total).Format(digits), lines), total));
        }
        return sections;
    }

    /// <summary>The CSV columns of statement lines, after whatever columns say which section (and period) a row is in.</summary>
    public static readonly string[] CsvColumns = ["account", "name", "parent", "level", "balance", "subtotal"];

    public static string?[] CsvFields(this StatementLine line) =>
        [line.Account, line.Name, line.Parent, line.Level.ToString(System.Globalization.CultureInfo.InvariantCulture), line.Balance, line.Subtotal];
}
