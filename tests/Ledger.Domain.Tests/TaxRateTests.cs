using Ledger.Domain;

namespace Ledger.Domain.Tests;

public sealed class TaxRateTests
{
    [Theory]
    [InlineData("19", "19")]
    [InlineData("7", "7")]
    [InlineData("5.5", "5.5")]
    [InlineData("0", "0")]
    [InlineData("0.0", "0")]
    [InlineData("19.00", "19")]
    [InlineData("5.50", "5.5")]
    [InlineData("007", "7")]
    [InlineData("100", "100")]
    [InlineData("100.0000", "100")]
    [InlineData("0.0001", "0.0001")]
    [InlineData("99.9999", "99.9999")]
    [InlineData("000000000000000000000000000000000000019", "19")] // leading zeros add no digits
    public void A_percentage_reads_exactly_and_writes_its_canonical_text(string text, string canonical)
    {
        Assert.True(TaxRate.TryParse(text, out var rate, out var error), error);
        Assert.Null(error);
        Assert.Equal(canonical, rate.ToString());
        Assert.Equal(decimal.Parse(canonical, System.Globalization.CultureInfo.InvariantCulture), rate.Percent);
    }

    [Fact]
    public void The_percent_keeps_every_decimal_and_has_no_trailing_zeros()
    {
        Assert.True(TaxRate.TryParse("5.5000", out var rate, out _));
        Assert.Equal(5.5m, rate.Percent);
        Assert.Equal(1, rate.Percent.Scale);
        Assert.True(TaxRate.TryParse("12.3456", out rate, out _));
        Assert.Equal(12.3456m, rate.Percent);
    }

    [Fact]
    public void Rates_written_differently_but_equal_are_equal()
    {
        Assert.True(TaxRate.TryParse("19.00", out var a, out _));
        Assert.True(TaxRate.TryParse("19", out var b, out _));
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.Equal("0", default(TaxRate).ToString());
        Assert.True(TaxRate.TryParse("0", out var zero, out _));
        Assert.Equal(default, zero);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("-1")]
    [InlineData("-0")]
    [InlineData("+5")]
    [InlineData("1e2")]
    [InlineData("1E2")]
    [InlineData("19e0")]
    [InlineData("101")]
    [InlineData("100.0001")]
    [InlineData("100.00001")]
    [InlineData("1000")]
    [InlineData("99999999999999999999999999999999999999")]
    [InlineData("5.12345")]
    [InlineData("5.50000")] // five written decimals, even if they are zeros
    [InlineData(" 5")]
    [InlineData("5 ")]
    [InlineData("5,5")]
    [InlineData(".5")]
    [InlineData("5.")]
    [InlineData("5..5")]
    [InlineData("5.5.5")]
    [InlineData("5%")]
    [InlineData("abc")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("0x10")]
    [InlineData("\u0665")] // Arabic-Indic five is not an ASCII digit
    public void Anything_but_a_plain_percentage_from_0_to_100_with_4_decimals_is_refused(string? text)
    {
        Assert.False(TaxRate.TryParse(text, out var rate, out var error));
        Assert.False(string.IsNullOrWhiteSpace(error));
        Assert.Equal(default, rate);
    }

    [Theory]
    [InlineData("101", "between 0 and 100")]
    [InlineData("100.0001", "between 0 and 100")]
    [InlineData("1000", "at most 3 digits")]
    [InlineData("5.12345", "at most 4 decimal places")]
    [InlineData("-7", "negative")]
    [InlineData("1e2", "plain decimal")]
    [InlineData("", "decimal number")]
    public void The_refusal_says_what_is_wrong(string text, string expected)
    {
        Assert.False(TaxRate.TryParse(text, out _, out var error));
        Assert.Contains(expected, error);
    }
}
