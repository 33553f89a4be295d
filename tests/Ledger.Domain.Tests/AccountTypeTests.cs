using Ledger.Domain;

namespace Ledger.Domain.Tests;

public sealed class AccountTypeTests
{
    [Theory]
    [InlineData("asset", AccountType.Asset, Side.Debit, false)]
    [InlineData("expense", AccountType.Expense, Side.Debit, true)]
    [InlineData("liability", AccountType.Liability, Side.Credit, false)]
    [InlineData("equity", AccountType.Equity, Side.Credit, false)]
    [InlineData("income", AccountType.Income, Side.Credit, true)]
    public void Each_type_has_its_name_normal_side_and_temporariness(string name, AccountType type, Side normalSide, bool temporary)
    {
        Assert.True(AccountTypes.TryParse(name, out var parsed));
        Assert.Equal(type, parsed);
        Assert.Equal(name, type.ToName());
        Assert.Equal(normalSide, type.NormalSide());
        Assert.Equal(temporary, type.IsTemporary());
        Assert.Contains(name, AccountTypes.Names);
    }

    [Fact]
    public void Names_lists_exactly_the_five_types()
    {
        Assert.Equal(["asset", "liability", "equity", "income", "expense"], AccountTypes.Names);
        Assert.Equal(Enum.GetValues<AccountType>().Select(t => t.ToName()).Order(), AccountTypes.Names.Order());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Asset")]
    [InlineData("ASSET")]
    [InlineData("assets")]
    [InlineData("revenue")]
    [InlineData(" asset")]
    public void TryParse_refuses_anything_but_the_lower_case_names(string? name) =>
        Assert.False(AccountTypes.TryParse(name, out _));

    [Fact]
    public void ToName_throws_for_an_undefined_type() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ((AccountType)99).ToName());

    [Theory]
    [InlineData(AccountType.Asset, 1500L, 1500L)]
    [InlineData(AccountType.Asset, -200L, -200L)]
    [InlineData(AccountType.Expense, 75L, 75L)]
    [InlineData(AccountType.Liability, -1500L, 1500L)]
    [InlineData(AccountType.Liability, 300L, -300L)]
    [InlineData(AccountType.Equity, -42L, 42L)]
    [InlineData(AccountType.Income, -99L, 99L)]
    [InlineData(AccountType.Income, 0L, 0L)]
    [InlineData(AccountType.Asset, long.MaxValue, long.MaxValue)]
    [InlineData(AccountType.Income, -long.MaxValue, long.MaxValue)]
    [InlineData(AccountType.Equity, long.MaxValue, -long.MaxValue)]
    public void NormalBalance_is_positive_on_the_normal_side(AccountType type, long netDebit, long expected) =>
        Assert.Equal(expected, type.NormalBalance(netDebit));

    [Fact]
    public void NormalBalance_throws_rather_than_wraps_at_long_MinValue()
    {
        Assert.Equal(long.MinValue, AccountType.Asset.NormalBalance(long.MinValue));
        Assert.Throws<OverflowException>(() => AccountType.Liability.NormalBalance(long.MinValue));
    }
}
