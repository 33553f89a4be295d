using Ledger.Domain;

namespace Ledger.Domain.Tests;

public sealed class QuantityTests
{
    [Theory]
    [InlineData("1", "1")]
    [InlineData("2.5", "2.5")]
    [InlineData("0.125", "0.125")]
    [InlineData("0.000001", "0.000001")]
    [InlineData("2.500000", "2.5")]
    [InlineData("0001", "1")]
    [InlineData("999999999999.999999", "999999999999.999999")]
    [InlineData("000000000000999999999999", "999999999999")] // leading zeros are not digits of the quantity
    public void A_quantity_reads_exactly(string text, string canonical)
    {
        Assert.True(Quantity.TryParse(text, out var quantity, out var error), error);
        Assert.Null(error);
        Assert.Equal(canonical, quantity.ToString());
        Assert.Equal(decimal.Parse(canonical, System.Globalization.CultureInfo.InvariantCulture), quantity.Value);
    }

    [Fact]
    public void No_quantity_is_one_and_so_is_the_default()
    {
        Assert.True(Quantity.TryParse(null, out var quantity, out var error));
        Assert.Null(error);
        Assert.Equal(Quantity.One, quantity);
        Assert.Equal(1m, quantity.Value);
        Assert.Equal(1m, default(Quantity).Value);
        Assert.Equal("1", Quantity.One.ToString());
    }

    [Theory]
    [InlineData("1")]
    [InlineData("1.0")]
    [InlineData("1.000000")]
    [InlineData("01")]
    public void One_written_any_way_is_One(string text)
    {
        Assert.True(Quantity.TryParse(text, out var quantity, out _));
        Assert.Equal(Quantity.One, quantity);
        Assert.Equal(default(Quantity), quantity);
        Assert.Equal(Quantity.One.GetHashCode(), quantity.GetHashCode());
    }

    [Fact]
    public void Equal_quantities_written_differently_are_equal_and_different_ones_are_not()
    {
        Assert.True(Quantity.TryParse("2.50", out var a, out _));
        Assert.True(Quantity.TryParse("2.5", out var b, out _));
        Assert.True(Quantity.TryParse("2.6", out var c, out _));
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, c);
        Assert.NotEqual(Quantity.One, a);
    }

    [Theory]
    [InlineData("", "decimal number")]
    [InlineData("0", "greater than zero")]
    [InlineData("0.0", "greater than zero")]
    [InlineData("0.000000", "greater than zero")]
    [InlineData("-1", "negative")]
    [InlineData("-0.5", "negative")]
    [InlineData("+1", "plain decimal")]
    [InlineData("1e3", "plain decimal")]
    [InlineData("1.", "plain decimal")]
    [InlineData(".5", "plain decimal")]
    [InlineData(" 1", "plain decimal")]
    [InlineData("1,5", "plain decimal")]
    [InlineData("0.0000001", "at most 6 decimal places")]
    [InlineData("1.0000000", "at most 6 decimal places")]
    [InlineData("1234567890123", "at most 12 digits")]
    [InlineData("99999999999999999999999999999999999999", "at most 12 digits")]
    public void Zero_negative_and_malformed_quantities_are_refused(string text, string expected)
    {
        Assert.False(Quantity.TryParse(text, out var quantity, out var error));
        Assert.Contains(expected, error);
        Assert.Equal(Quantity.One, quantity);
    }
}
