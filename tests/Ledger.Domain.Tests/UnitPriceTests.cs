using Ledger.Domain;

namespace Ledger.Domain.Tests;

public sealed class UnitPriceTests
{
    [Theory]
    [InlineData("0", "0")]
    [InlineData("19.99", "19.99")]
    [InlineData("19.990", "19.99")]
    [InlineData("0.0125", "0.0125")] // finer than the cent: only the line's product is rounded
    [InlineData("0.00000001", "0.00000001")]
    [InlineData("999999999999999.99999999", "999999999999999.99999999")]
    [InlineData("0000999999999999999", "999999999999999")]
    public void A_unit_price_reads_exactly_with_up_to_8_decimals(string text, string canonical)
    {
        Assert.True(UnitPrice.TryParse(text, out var price, out var error), error);
        Assert.Null(error);
        Assert.Equal(canonical, price.ToString());
        Assert.Equal(decimal.Parse(canonical, System.Globalization.CultureInfo.InvariantCulture), price.Value);
    }

    [Fact]
    public void The_default_price_is_zero()
    {
        Assert.True(UnitPrice.TryParse("0.00", out var zero, out _));
        Assert.Equal(default, zero);
        Assert.Equal(0m, default(UnitPrice).Value);
    }

    [Theory]
    [InlineData(null, "decimal number")]
    [InlineData("", "decimal number")]
    [InlineData("-0.01", "negative")]
    [InlineData("1e2", "plain decimal")]
    [InlineData("19,99", "plain decimal")]
    [InlineData("19.99 ", "plain decimal")]
    [InlineData("EUR 19.99", "plain decimal")]
    [InlineData("0.000000001", "at most 8 decimal places")]
    [InlineData("1234567890123456", "at most 15 digits")]
    public void Negative_and_malformed_prices_are_refused(string? text, string expected)
    {
        Assert.False(UnitPrice.TryParse(text, out var price, out var error));
        Assert.Contains(expected, error);
        Assert.Equal(default, price);
    }
}
