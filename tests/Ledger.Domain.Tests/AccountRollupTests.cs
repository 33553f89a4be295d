using Ledger.Domain;

namespace Ledger.Domain.Tests;

public sealed class AccountRollupTests
{
    [Fact]
    public void Parents_come_before_their_children_with_subtotals_per_column()
    {
        var rows = AccountRollup.Rollup(
        [
            new("1200", null, [5, 0]),
            new("1010", null, [100, 10]),
            new("1012", "1011", [1, 2]),
            new("1011", "1010", [20, 0]),
            new("1013", "1010", [0, 0]),
        ]);

        Assert.Equal(["1010", "1011", "1012", "1200"], rows.Select(r => r.Code));
        Assert.Equal([0, 1, 2, 0], rows.Select(r => r.Level));
        Assert.Equal([121, 12], rows[0].Subtotals);
        Assert.Equal([21, 2], rows[1].Subtotals);
        Assert.Equal([100, 10], rows[0].Balances);
        Assert.Equal(rows.Sum(r => r.Balances[0]), rows.Where(r => r.Level == 0).Sum(r => r.Subtotals[0]));
    }

    [Fact]
    public void A_parent_without_a_balance_of_its_own_is_shown_for_its_children_and_empty_trees_are_left_out()
    {
        var rows = AccountRollup.Rollup(
        [
            new("6000", null, [0]),
            new("6010", "6000", [7]),
            new("6100", null, [0]),
            new("6110", "6100", [0]),
        ]);
        Assert.Equal(["6000", "6010"], rows.Select(r => r.Code));
        Assert.Equal([7], rows[0].Subtotals);
    }

    [Fact]
    public void An_account_whose_parent_is_not_listed_is_a_root() =>
        Assert.Equal(0, AccountRollup.Rollup([new("4010", "4000", [3])]).Single().Level);
}
