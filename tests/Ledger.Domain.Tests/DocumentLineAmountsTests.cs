using System.Globalization;
using System.Numerics;
using Ledger.Domain;

namespace Ledger.Domain.Tests;

public sealed class DocumentLineAmountsTests
{
    private const int Eur = 2, Jpy = 0, Kwd = 3;

    private static Quantity Q(string? text) =>
        Quantity.TryParse(text, out var quantity, out var error) ? quantity : throw new ArgumentException(error);

    private static UnitPrice P(string text) =>
        UnitPrice.TryParse(text, out var price, out var error) ? price : throw new ArgumentException(error);

    private static TaxRate? R(string? text) =>
        text is null ? null : TaxRate.TryParse(text, out var rate, out var error) ? rate : throw new ArgumentException(error);

    private static void AssertLine(DocumentLineAmounts line, long net, long tax, long gross)
    {
        Assert.Equal(net, line.Net.MinorUnits);
        Assert.Equal(tax, line.Tax.MinorUnits);
        Assert.Equal(gross, line.Gross.MinorUnits);
    }

    // Every figure below is worked by hand; the comment on each is the arithmetic.
    [Theory]
    [InlineData("3", "0.335", "19", Eur, 101, 19, 120)] // 1.005 → 1.01 (half away from zero; to even it would be 1.00); 0.1919 → 0.19
    [InlineData("2.5", "19.99", "19", Eur, 4998, 950, 5948)] // 49.975 → 49.98; 9.4962 → 9.50
    [InlineData("0.125", "7.77", "7", Eur, 97, 7, 104)] // 0.97125 → 0.97; 0.0679 → 0.07
    [InlineData("1", "0.50", "5", Eur, 50, 3, 53)] // 0.025 → 0.03
    [InlineData("1", "0.10", "5", Eur, 10, 1, 11)] // 0.005 → 0.01
    [InlineData("1", "0.30", "5", Eur, 30, 2, 32)] // 0.015 → 0.02
    [InlineData("1", "0.10", "5.5", Eur, 10, 1, 11)] // 0.0055 → 0.01
    [InlineData("1", "1.00", "5.5", Eur, 100, 6, 106)] // 0.055 → 0.06
    [InlineData("1", "0.90", "5.5", Eur, 90, 5, 95)] // 0.0495 → 0.05
    [InlineData("1", "0.09", "5.5", Eur, 9, 0, 9)] // 0.00495 → 0.00, just under half a cent
    [InlineData("1", "0.50", "7", Eur, 50, 4, 54)] // 0.035 → 0.04
    [InlineData("1", "0.07", "7", Eur, 7, 0, 7)] // 0.0049 → 0.00
    [InlineData("1", "0.01", "50", Eur, 1, 1, 2)] // 0.005 → 0.01
    [InlineData("1", "0.01", "49.9999", Eur, 1, 0, 1)] // 0.00499999 → 0.00
    [InlineData("3", "19.99", "0", Eur, 5997, 0, 5997)]
    [InlineData("3", "19.99", null, Eur, 5997, 0, 5997)] // no rate, no tax
    [InlineData("1", "100", "100", Eur, 10000, 10000, 20000)]
    [InlineData("1", "0", "19", Eur, 0, 0, 0)]
    [InlineData("1", "0.0125", "19", Eur, 1, 0, 1)] // 0.0125 → 0.01; 0.0019 → 0.00
    [InlineData("2", "0.0125", "19", Eur, 3, 1, 4)] // 0.025 → 0.03; 0.0057 → 0.01
    [InlineData("3", "0.0125", "19", Eur, 4, 1, 5)] // 0.0375 → 0.04; 0.0076 → 0.01
    [InlineData("1000", "0.0125", "19", Eur, 1250, 238, 1488)] // 12.50; 2.375 → 2.38
    [InlineData("1", "0.005", "19", Eur, 1, 0, 1)] // half a cent → 0.01
    [InlineData("1", "0.00499999", "19", Eur, 0, 0, 0)] // under half a cent → 0.00
    [InlineData("0.000001", "0.01", "19", Eur, 0, 0, 0)]
    [InlineData("1", "0.5", "10", Jpy, 1, 0, 1)] // half a yen → 1 (to even it would be 0)
    [InlineData("1", "1", "8", Jpy, 1, 0, 1)] // 0.08 yen of tax → 0
    [InlineData("1", "7", "8", Jpy, 7, 1, 8)] // 0.56 → 1
    [InlineData("3", "333", "10", Jpy, 999, 100, 1099)] // 99.9 → 100
    [InlineData("3", "1.2345", "5", Kwd, 3704, 185, 3889)] // 3.7035 → 3.704; 0.1852 → 0.185
    [InlineData("1.2345", "3", "5", Kwd, 3704, 185, 3889)] // the same product the other way round
    [InlineData("1", "0.0005", "5", Kwd, 1, 0, 1)] // half a fils → 0.001
    public void Exclusive_lines_round_the_product_then_the_tax_half_away_from_zero(
        string quantity, string unitPrice, string? rate, int digits, long net, long tax, long gross) =>
        AssertLine(DocumentLineAmounts.Compute(Q(quantity), P(unitPrice), R(rate), AmountsAre.Exclusive, digits), net, tax, gross);

    [Theory]
    [InlineData("1", "119", "19", Eur, 10000, 1900, 11900)]
    [InlineData("1", "10", "19", Eur, 840, 160, 1000)] // 10 × 19 / 119 = 1.5966 → 1.60
    [InlineData("2.5", "19.99", "19", Eur, 4200, 798, 4998)] // 49.975 → 49.98; 7.98017 → 7.98
    [InlineData("1", "0.03", "19", Eur, 3, 0, 3)] // 0.00479 → 0.00
    [InlineData("1", "0.04", "19", Eur, 3, 1, 4)] // 0.00639 → 0.01
    [InlineData("1", "0.01", "100", Eur, 0, 1, 1)] // 0.005 → 0.01: the whole cent is tax
    [InlineData("1", "0.03", "100", Eur, 1, 2, 3)] // 0.015 → 0.02
    [InlineData("1", "19.99", "0", Eur, 1999, 0, 1999)]
    [InlineData("1", "19.99", null, Eur, 1999, 0, 1999)]
    [InlineData("3", "333", "10", Jpy, 908, 91, 999)] // 999 × 10 / 110 = 90.82 → 91
    [InlineData("1", "1", "8", Jpy, 1, 0, 1)] // 8 / 108 = 0.074 → 0
    [InlineData("1", "1.05", "5", Kwd, 1000, 50, 1050)]
    [InlineData("3", "1.2345", "5", Kwd, 3528, 176, 3704)] // 3.704 × 5 / 105 = 0.17638 → 0.176
    public void Inclusive_lines_take_the_tax_out_of_the_rounded_gross(
        string quantity, string unitPrice, string? rate, int digits, long net, long tax, long gross) =>
        AssertLine(DocumentLineAmounts.Compute(Q(quantity), P(unitPrice), R(rate), AmountsAre.Inclusive, digits), net, tax, gross);

    [Fact]
    public void Inclusive_19_percent_on_every_gross_from_one_cent_to_9_99()
    {
        var rate = R("19");
        for (long gross = 1; gross <= 999; gross++)
        {
            var price = P(string.Create(CultureInfo.InvariantCulture, $"{gross / 100}.{gross % 100:D2}"));
            var line = DocumentLineAmounts.Compute(Quantity.One, price, rate, AmountsAre.Inclusive, Eur);

            // round(gross × 19 / 119) by integer division: floor(gross × 19 / 119 + 1/2).
            var expectedTax = (2 * gross * 19 + 119) / (2 * 119);
            Assert.Equal(gross, line.Gross.MinorUnits);
            Assert.Equal(expectedTax, line.Tax.MinorUnits);
            Assert.Equal(gross, line.Net.MinorUnits + line.Tax.MinorUnits);
            Assert.True(line.Net.MinorUnits >= 0, $"gross {gross}: net {line.Net.MinorUnits}");
        }
    }

    [Theory]
    [InlineData("19", 19, 1)]
    [InlineData("7", 7, 1)]
    [InlineData("5.5", 55, 10)]
    [InlineData("0", 0, 1)]
    [InlineData("100", 100, 1)]
    [InlineData("0.0001", 1, 10000)]
    public void Every_figure_from_one_cent_to_99_99_in_both_modes(string rateText, long rateNumerator, long rateDenominator)
    {
        // The rate as a fraction rateNumerator / rateDenominator percent, so rate / 100 = n / (100·d).
        var rate = R(rateText);
        for (long figure = 0; figure <= 9999; figure++)
        {
            var price = P(string.Create(CultureInfo.InvariantCulture, $"{figure / 100}.{figure % 100:D2}"));

            var exclusive = DocumentLineAmounts.Compute(Quantity.One, price, rate, AmountsAre.Exclusive, Eur);
            var exclusiveTax = RoundHalfUp(figure * rateNumerator, 100 * rateDenominator);
            AssertLine(exclusive, figure, exclusiveTax, figure + exclusiveTax);

            var inclusive = DocumentLineAmounts.Compute(Quantity.One, price, rate, AmountsAre.Inclusive, Eur);
            var inclusiveTax = RoundHalfUp(figure * rateNumerator, 100 * rateDenominator + rateNumerator);
            AssertLine(inclusive, figure - inclusiveTax, inclusiveTax, figure);
        }
    }

    // Round n / d half up (= half away from zero for n ≥ 0) by quotient and remainder.
    private static long RoundHalfUp(long n, long d) => n / d + (2 * (n % d) >= d ? 1 : 0);

    [Fact]
    public void A_product_beyond_decimal_precision_is_rounded_once_not_twice()
    {
        // 123456789012.345679 × 16300.00000243 = 2012345661201234.56499999999997 exactly: 30 significant digits.
        // decimal keeps fewer, rounds the product to ...565 first, and rounding that half away from zero gives .57;
        // the contract rounds the exact product once: .56.
        var quantity = Q("123456789012.345679");
        var price = P("16300.00000243");
        Assert.Equal(2012345661201234.57m, Math.Round(quantity.Value * price.Value, 2, MidpointRounding.AwayFromZero));

        var line = DocumentLineAmounts.Compute(quantity, price, null, AmountsAre.Exclusive, Eur);
        AssertLine(line, 201234566120123456, 0, 201234566120123456);
    }

    [Fact]
    public void A_product_beyond_64_bit_minor_units_throws_instead_of_wrapping()
    {
        Assert.Throws<OverflowException>(() =>
            DocumentLineAmounts.Compute(Q("999999999999"), P("999999999999999"), R("19"), AmountsAre.Exclusive, Eur));
        Assert.Throws<OverflowException>(() =>
            DocumentLineAmounts.Compute(Q("999999999999.999999"), P("999999999999999.99999999"), null, AmountsAre.Inclusive, Jpy));
        Assert.Throws<OverflowException>(() =>
            DocumentLineAmounts.Compute(Q("1"), P("922337203685477.5808"), null, AmountsAre.Exclusive, 4));
    }

    [Fact]
    public void The_largest_figure_is_long_MaxValue_exactly()
    {
        var line = DocumentLineAmounts.Compute(Q("1"), P("922337203685477.5807"), null, AmountsAre.Exclusive, 4);
        AssertLine(line, long.MaxValue, 0, long.MaxValue);
        var inclusive = DocumentLineAmounts.Compute(Q("1"), P("922337203685477.5807"), R("100"), AmountsAre.Inclusive, 4);
        Assert.Equal(long.MaxValue, inclusive.Gross.MinorUnits);
        Assert.Equal(long.MaxValue / 2 + 1, inclusive.Tax.MinorUnits); // half of an odd figure, rounded up
    }

    [Fact]
    public void A_net_that_fits_with_a_gross_that_does_not_throws()
    {
        // 10^11 × 500000 EUR = 5·10^18 cents fits; with 100 % tax the gross, 10^19 cents, does not.
        var untaxed = DocumentLineAmounts.Compute(Q("100000000000"), P("500000"), R("0"), AmountsAre.Exclusive, Eur);
        Assert.Equal(5_000_000_000_000_000_000, untaxed.Net.MinorUnits);
        Assert.Throws<OverflowException>(() =>
            DocumentLineAmounts.Compute(Q("100000000000"), P("500000"), R("100"), AmountsAre.Exclusive, Eur));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(19)]
    public void Digits_outside_any_currency_are_refused(int digits) =>
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            DocumentLineAmounts.Compute(Quantity.One, P("1"), null, AmountsAre.Exclusive, digits));

    [Fact]
    public void An_unknown_mode_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            DocumentLineAmounts.Compute(Quantity.One, P("1"), null, (AmountsAre)2, Eur));

    [Theory]
    [InlineData(100, 19, 120)]
    [InlineData(-100, 19, -81)]
    [InlineData(100, -19, 81)]
    [InlineData(0, 0, 1)]
    public void Figures_that_do_not_add_up_or_are_negative_never_make_a_line(long net, long tax, long gross) =>
        Assert.Throws<ArgumentException>(() => new DocumentLineAmounts(new Amount(net), new Amount(tax), new Amount(gross)));

    [Fact]
    public void Stored_figures_that_add_up_make_a_line()
    {
        var (net, tax, gross) = new DocumentLineAmounts(new Amount(100), new Amount(19), new Amount(119));
        Assert.Equal((100L, 19L, 119L), (net.MinorUnits, tax.MinorUnits, gross.MinorUnits));
        Assert.Equal(default, new DocumentLineAmounts(Amount.Zero, Amount.Zero, Amount.Zero));
    }

    [Fact]
    public void Ten_thousand_random_lines_agree_with_integer_arithmetic_in_both_modes_and_three_currencies()
    {
        var random = new Random(20260301);
        int[] currencyDigits = [Eur, Jpy, Kwd];
        string?[] usualRates = [null, "0", "5", "5.5", "7", "8", "10", "19", "20", "21", "100"];
        int computed = 0, overflowed = 0, comparedWithDecimal = 0;

        for (var i = 0; i < 10_000; i++)
        {
            var digits = currencyDigits[random.Next(currencyDigits.Length)];
            var amountsAre = random.Next(2) == 0 ? AmountsAre.Exclusive : AmountsAre.Inclusive;

            // Mostly everyday lines, sometimes any size the parsers allow (which may not fit 64-bit minor units).
            var large = random.Next(20) == 0;
            var (qMantissa, qScale) = RandomDecimal(random, maxWhole: large ? 12 : 4, maxScale: 6, positive: true);
            var (pMantissa, pScale) = RandomDecimal(random, maxWhole: large ? 15 : 5, maxScale: 8, positive: false);
            var (rMantissa, rScale) = random.Next(2) == 0
                ? (BigInteger.Zero, -1)
                : (new BigInteger(random.Next(0, 1_000_001)), 4); // 0.0000 to 100.0000 %
            var rateText = rScale < 0 ? usualRates[random.Next(usualRates.Length)] : Write(rMantissa, rScale);
            if (rateText is not null && rScale < 0) (rMantissa, rScale) = Read(rateText);

            var quantity = Q(Write(qMantissa, qScale));
            var price = P(Write(pMantissa, pScale));
            var rate = R(rateText);
            var context = $"#{i}: {quantity} × {price} at {rateText ?? "no rate"} % {amountsAre}, {digits} digits";

            // The contract, by quotient and remainder on exact integers.
            var product = RoundHalfUp(qMantissa * pMantissa * BigInteger.Pow(10, digits), BigInteger.Pow(10, qScale + pScale));
            BigInteger net, tax, gross;
            var hundred = 100 * BigInteger.Pow(10, Math.Max(rScale, 0));
            if (amountsAre == AmountsAre.Exclusive)
            {
                net = product;
                tax = RoundHalfUp(net * rMantissa, hundred);
                gross = net + tax;
            }
            else
            {
                gross = product;
                tax = RoundHalfUp(gross * rMantissa, hundred + rMantissa);
                net = gross - tax;
            }

            if (gross > long.MaxValue)
            {
                Assert.Throws<OverflowException>(() => DocumentLineAmounts.Compute(quantity, price, rate, amountsAre, digits));
                overflowed++;
                continue;
            }

            var line = DocumentLineAmounts.Compute(quantity, price, rate, amountsAre, digits);
            Assert.True((long)net == line.Net.MinorUnits, $"{context}: net {line.Net.MinorUnits}, expected {net}");
            Assert.True((long)tax == line.Tax.MinorUnits, $"{context}: tax {line.Tax.MinorUnits}, expected {tax}");
            Assert.True((long)gross == line.Gross.MinorUnits, $"{context}: gross {line.Gross.MinorUnits}, expected {gross}");
            Assert.Equal(line.Gross.MinorUnits, line.Net.MinorUnits + line.Tax.MinorUnits);
            Assert.True(line.Net.MinorUnits >= 0 && line.Tax.MinorUnits >= 0, context);
            computed++;

            // Where decimal holds the product exactly, Math.Round half away from zero says the same.
            if (product < BigInteger.Pow(10, 12))
            {
                var scale = digits switch { 0 => 1m, 2 => 100m, _ => 1000m };
                var roundedProduct = Math.Round(quantity.Value * price.Value, digits, MidpointRounding.AwayFromZero) * scale;
                Assert.True(roundedProduct == (decimal)product, $"{context}: decimal rounds the product to {roundedProduct}");
                if (amountsAre == AmountsAre.Exclusive)
                {
                    var percent = rate?.Percent ?? 0m;
                    var roundedTax = Math.Round(line.Net.MinorUnits / scale * percent / 100m, digits, MidpointRounding.AwayFromZero) * scale;
                    Assert.True(roundedTax == line.Tax.MinorUnits, $"{context}: decimal rounds the tax to {roundedTax}");
                }
                comparedWithDecimal++;
            }
        }

        // The test proves something only if both outcomes and the decimal comparison actually happened.
        Assert.True(computed > 9000, $"{computed} computed");
        Assert.True(overflowed > 50, $"{overflowed} overflowed");
        Assert.True(comparedWithDecimal > 5000, $"{comparedWithDecimal} compared with decimal");
    }

    private static BigInteger RoundHalfUp(BigInteger n, BigInteger d)
    {
        var quotient = BigInteger.DivRem(n, d, out var remainder);
        return 2 * remainder >= d ? quotient + 1 : quotient;
    }

    // A random exact decimal as mantissa / 10^scale, with up to maxWhole digits before the point.
    private static (BigInteger Mantissa, int Scale) RandomDecimal(Random random, int maxWhole, int maxScale, bool positive)
    {
        var scale = random.Next(maxScale + 1);
        var digits = random.Next(1, maxWhole + scale + 1);
        BigInteger mantissa;
        do
        {
            mantissa = 0;
            for (var d = 0; d < digits; d++) mantissa = mantissa * 10 + random.Next(10);
        } while (positive && mantissa == 0);
        return (mantissa, scale);
    }

    private static string Write(BigInteger mantissa, int scale)
    {
        var text = mantissa.ToString(CultureInfo.InvariantCulture).PadLeft(scale + 1, '0');
        return scale == 0 ? text : text[..^scale] + "." + text[^scale..];
    }

    private static (BigInteger Mantissa, int Scale) Read(string text)
    {
        var dot = text.IndexOf('.');
        return dot < 0
            ? (BigInteger.Parse(text, CultureInfo.InvariantCulture), 0)
            : (BigInteger.Parse(text.Remove(dot, 1), CultureInfo.InvariantCulture), text.Length - dot - 1);
    }
}
