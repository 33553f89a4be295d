using Ledger.Domain;

namespace Ledger.Domain.Tests;

public sealed class CurrencyTests
{
    [Theory]
    [InlineData("EUR", 2)]
    [InlineData("USD", 2)]
    [InlineData("GBP", 2)]
    [InlineData("CHF", 2)]
    [InlineData("JPY", 0)]
    [InlineData("KRW", 0)]
    [InlineData("ISK", 0)]
    [InlineData("CLP", 0)]
    [InlineData("KWD", 3)]
    [InlineData("BHD", 3)]
    [InlineData("JOD", 3)]
    [InlineData("TND", 3)]
    public void Known_codes_carry_their_ISO_4217_minor_unit_digits(string code, int digits)
    {
        Assert.True(Currency.TryFromCode(code, out var currency));
        Assert.Equal(code, currency.Code);
        Assert.Equal(digits, currency.MinorDigits);
        Assert.Equal(code, currency.ToString());
        Assert.Equal(currency, Currency.FromCode(code));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("eur")]
    [InlineData("Eur")]
    [InlineData("EU")]
    [InlineData("EURO")]
    [InlineData(" EUR")]
    [InlineData("XXX")]
    [InlineData("XAU")] // precious metals are not a book currency
    [InlineData("ABC")]
    public void Unknown_or_badly_written_codes_are_refused(string? code)
    {
        Assert.False(Currency.TryFromCode(code, out var currency));
        Assert.Equal(default, currency);
    }

    [Fact]
    public void FromCode_throws_for_an_unknown_code()
    {
        var error = Assert.Throws<ArgumentException>(() => Currency.FromCode("ZZZ"));
        Assert.Contains("ZZZ", error.Message);
    }
}
