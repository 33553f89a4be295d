using Ledger.Domain;

namespace Ledger.Domain.Tests;

public sealed class AmountTests
{
    [Theory]
    [InlineData("1250", 2, 125000L)]
    [InlineData("1250.5", 2, 125050L)]
    [InlineData("1250.50", 2, 125050L)]
    [InlineData("0.01", 2, 1L)]
    [InlineData("-3.25", 2, -325L)]
    [InlineData("+1", 2, 100L)]
    [InlineData("0", 2, 0L)]
    [InlineData("-0", 2, 0L)]
    [InlineData("007.10", 2, 710L)]
    [InlineData("300", 0, 300L)]
    [InlineData("-300", 0, -300L)]
    [InlineData("1.001", 3, 1001L)]
    [InlineData("1.2", 3, 1200L)]
    [InlineData("5", 3, 5000L)]
    [InlineData("0000000000000000000000000000000001", 2, 100L)]
    public void Parse_reads_plain_decimals_into_minor_units(string text, int digits, long expected)
    {
        var parsed = Amount.Parse(text, digits);
        Assert.True(parsed.Success, parsed.Error);
        Assert.Null(parsed.Error);
        Assert.Equal(expected, parsed.Value.MinorUnits);
    }

    [Theory]
    [InlineData(null, 2)]
    [InlineData("", 2)]
    [InlineData("-", 2)]
    [InlineData("+", 2)]
    [InlineData("1.", 2)]
    [InlineData(".5", 2)]
    [InlineData("-.5", 2)]
    [InlineData("1e5", 2)]
    [InlineData("1E5", 0)]
    [InlineData(" 1", 2)]
    [InlineData("1 ", 2)]
    [InlineData("1 000", 2)]
    [InlineData("1,50", 2)]
    [InlineData("1.2.3", 2)]
    [InlineData("--1", 2)]
    [InlineData("+-1", 2)]
    [InlineData("abc", 2)]
    [InlineData("0x10", 2)]
    [InlineData("NaN", 2)]
    [InlineData("Infinity", 2)]
    [InlineData("\u0661\u0662", 2)] // Arabic-Indic digits are not ASCII digits
    [InlineData("1.001", 2)]
    [InlineData("1.500", 2)] // even trailing zeros beyond the currency's digits are refused, never rounded
    [InlineData("1.5", 0)]
    [InlineData("1.0", 0)]
    [InlineData("1.0001", 3)]
    public void Parse_rejects_anything_but_a_plain_decimal_within_the_currency_digits(string? text, int digits)
    {
        var parsed = Amount.Parse(text, digits);
        Assert.False(parsed.Success);
        Assert.False(string.IsNullOrWhiteSpace(parsed.Error));
        Assert.Equal(default, parsed.Value);
    }

    [Theory]
    [InlineData("9223372036854775807", 0, long.MaxValue)]
    [InlineData("92233720368547758.07", 2, long.MaxValue)]
    [InlineData("9223372036854775.807", 3, long.MaxValue)]
    [InlineData("-9223372036854775807", 0, -long.MaxValue)]
    [InlineData("-92233720368547758.07", 2, -long.MaxValue)]
    public void Parse_accepts_the_64_bit_edges_exactly(string text, int digits, long expected)
    {
        var parsed = Amount.Parse(text, digits);
        Assert.True(parsed.Success, parsed.Error);
        Assert.Equal(expected, parsed.Value.MinorUnits);
    }

    [Theory]
    [InlineData("9223372036854775808", 0)]
    [InlineData("92233720368547758.08", 2)]
    [InlineData("92233720368547758.1", 2)]
    [InlineData("92233720368547759", 2)]
    [InlineData("9223372036854775.808", 3)]
    [InlineData("99999999999999999999", 0)]
    [InlineData("99999999999999999999", 2)]
    [InlineData("-9223372036854775809", 0)]
    [InlineData("-92233720368547758.09", 2)]
    [InlineData("123456789012345678901234567890", 2)]
    public void Parse_rejects_values_beyond_64_bit_minor_units_instead_of_wrapping(string text, int digits)
    {
        var parsed = Amount.Parse(text, digits);
        Assert.False(parsed.Success);
        Assert.Contains("64-bit", parsed.Error);
    }

    [Fact]
    public void Parse_accepts_long_MinValue_as_Format_writes_it()
    {
        // Format writes long.MinValue; Parse must read back everything Format writes.
        foreach (var (text, digits) in new[] { ("-9223372036854775808", 0), ("-92233720368547758.08", 2), ("-9223372036854775.808", 3) })
        {
            Assert.Equal(text, new Amount(long.MinValue).Format(digits));
            var parsed = Amount.Parse(text, digits);
            Assert.True(parsed.Success, $"{text} (digits {digits}): {parsed.Error}");
            Assert.Equal(long.MinValue, parsed.Value.MinorUnits);
        }
    }

    [Theory]
    [InlineData(0L, 0, "0")]
    [InlineData(0L, 2, "0.00")]
    [InlineData(0L, 3, "0.000")]
    [InlineData(5L, 2, "0.05")]
    [InlineData(-5L, 2, "-0.05")]
    [InlineData(125000L, 2, "1250.00")]
    [InlineData(-125050L, 2, "-1250.50")]
    [InlineData(300L, 0, "300")]
    [InlineData(-300L, 0, "-300")]
    [InlineData(1L, 3, "0.001")]
    [InlineData(1001L, 3, "1.001")]
    [InlineData(-999L, 3, "-0.999")]
    [InlineData(long.MaxValue, 0, "9223372036854775807")]
    [InlineData(long.MaxValue, 2, "92233720368547758.07")]
    [InlineData(long.MaxValue, 3, "9223372036854775.807")]
    [InlineData(long.MinValue, 0, "-9223372036854775808")]
    [InlineData(long.MinValue, 2, "-92233720368547758.08")]
    [InlineData(long.MinValue, 3, "-9223372036854775.808")]
    public void Format_writes_exactly_the_currency_digits(long minorUnits, int digits, string expected) =>
        Assert.Equal(expected, new Amount(minorUnits).Format(digits));

    [Fact]
    public void Format_then_Parse_round_trips_across_the_range()
    {
        var random = new Random(4217);
        var samples = new List<long> { 0, 1, -1, 9, 10, 99, 100, 101, long.MaxValue, long.MaxValue - 1, -long.MaxValue };
        for (var i = 0; i < 500; i++) samples.Add(random.NextInt64(long.MinValue + 1, long.MaxValue));
        foreach (var digits in new[] { 0, 2, 3, 4 })
            foreach (var value in samples)
            {
                var text = new Amount(value).Format(digits);
                var parsed = Amount.Parse(text, digits);
                Assert.True(parsed.Success, $"{text}: {parsed.Error}");
                Assert.Equal(value, parsed.Value.MinorUnits);
            }
    }

    [Fact]
    public void Arithmetic_is_exact_and_throws_on_overflow_instead_of_wrapping()
    {
        Assert.Equal(new Amount(30), new Amount(10) + new Amount(20));
        Assert.Equal(new Amount(-10), new Amount(10) - new Amount(20));
        Assert.Equal(new Amount(-7), -new Amount(7));
        Assert.Equal(new Amount(long.MaxValue), new Amount(long.MaxValue - 1) + new Amount(1));

        Assert.Throws<OverflowException>(() => new Amount(long.MaxValue) + new Amount(1));
        Assert.Throws<OverflowException>(() => new Amount(long.MinValue) - new Amount(1));
        Assert.Throws<OverflowException>(() => -new Amount(long.MinValue));
    }

    [Fact]
    public void Comparison_and_sign_follow_minor_units()
    {
        Assert.True(new Amount(1).IsPositive);
        Assert.False(Amount.Zero.IsPositive);
        Assert.False(new Amount(-1).IsPositive);
        Assert.True(new Amount(-1).CompareTo(Amount.Zero) < 0);
        Assert.True(new Amount(long.MaxValue).CompareTo(new Amount(long.MaxValue - 1)) > 0);
        Assert.Equal(0, new Amount(42).CompareTo(new Amount(42)));
    }
}
