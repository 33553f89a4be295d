namespace Ledger.Domain;

/// <summary>An account with its own balance in each report column (same sign convention for every account given).</summary>
public sealed record AccountBalances(string Code, string? ParentCode, IReadOnlyList<long> Balances);

/// <summary>An account as a report lists it: its depth under its parents, its own balances and its subtotals.</summary>
public sealed record RolledUpAccount(string Code, string? ParentCode, int Level, IReadOnlyList<long> Balances, IReadOnlyList<long> Subtotals);

/// <summary>
/// Rolls accounts up into their parents, as statements show them: each parent is followed by its children
/// (ordered by code) and carries, per column, its own balance plus everything below it.
/// </summary>
public static class AccountRollup
{
    /// <summary>
    /// The accounts in tree order. An account whose parent is not among <paramref name="accounts"/> is a root
    /// (parents always share the child's type, so a section's accounts form whole trees). Accounts that are zero in
    /// every column, with nothing non-zero below them, are left out. Summing the balances of all rows, or the
    /// subtotals of the roots, gives the same column total.
    /// </summary>
    public static IReadOnlyList<RolledUpAccount> Rollup(IReadOnlyList<AccountBalances> accounts)
    {
        var byCode = accounts.ToDictionary(a => a.Code, StringComparer.Ordinal);
        var children = accounts
            .Where(a => a.ParentCode is not null && byCode.ContainsKey(a.ParentCode))
            .ToLookup(a => a.ParentCode!, StringComparer.Ordinal);
        var result = new List<RolledUpAccount>(accounts.Count);

        foreach (var root in accounts.Where(a => a.ParentCode is null || !byCode.ContainsKey(a.ParentCode)).OrderBy(a => a.Code, StringComparer.Ordinal))
            Visit(root, 0);
        return result;

        // Parents are set once, at creation, to an account that already exists, so the parent links form no cycle.
        // Returns the subtotals of the account's subtree; adds its rows to the result only when any of them is non-zero.
        long[] Visit(AccountBalances account, int level)
        {
            var subtotals = account.Balances.ToArray();
            var slot = result.Count;
            var anyBelow = false;
            foreach (var child in children[account.Code].OrderBy(c => c.Code, StringComparer.Ordinal))
            {
                var countBefore = result.Count;
                var childTotals = Visit(child, level + 1);
                anyBelow |= result.Count > countBefore;
                for (var i = 0; i < subtotals.Length; i++) subtotals[i] = checked(subtotals[i] + childTotals[i]);
            }
            if (anyBelow || account.Balances.Any(b => b != 0))
                result.Insert(slot, new RolledUpAccount(account.Code, account.ParentCode, level, account.Balances, subtotals));
            return subtotals;
        }
    }
}
