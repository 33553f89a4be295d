using Ledger.Domain;

namespace Ledger.Domain.Tests;

public sealed class AmountsAreTests
{
    [Theory]
    [InlineData("exclusive", AmountsAre.Exclusive)]
    [InlineData("inclusive", AmountsAre.Inclusive)]
    public void The_API_names_read_and_write_back(string name, AmountsAre expected)
    {
        Assert.True(AmountsAreText.TryParse(name, out var amountsAre));
        Assert.Equal(expected, amountsAre);
        Assert.Equal(name, amountsAre.ToName());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Exclusive")]
    [InlineData("INCLUSIVE")]
    [InlineData(" inclusive")]
    [InlineData("net")]
    [InlineData("gross")]
    [InlineData("0")]
    public void Other_names_are_refused(string? name) => Assert.False(AmountsAreText.TryParse(name, out _));

    [Fact]
    public void Every_value_has_a_listed_name()
    {
        Assert.Equal(Enum.GetValues<AmountsAre>().Select(v => v.ToName()), AmountsAreText.Names);
        Assert.Throws<ArgumentOutOfRangeException>(() => ((AmountsAre)7).ToName());
    }
}
