using Ledger.Domain;

namespace Ledger.Domain.Tests;

public sealed class DocumentTotalsTests
{
    private static DocumentLineAmounts Line(long net, long tax) => new(new Amount(net), new Amount(tax), new Amount(net + tax));

    private static UnitPrice P(string text) =>
        UnitPrice.TryParse(text, out var price, out var error) ? price : throw new ArgumentException(error);

    [Fact]
    public void Totals_are_the_sums_of_the_line_figures()
    {
        var totals = DocumentTotals.Sum([Line(4998, 950), Line(97, 7), Line(5997, 0)]);
        Assert.Equal(new Amount(11092), totals.Net);
        Assert.Equal(new Amount(957), totals.Tax);
        Assert.Equal(new Amount(12049), totals.Gross);
    }

    [Fact]
    public void The_tax_of_a_document_is_the_sum_of_its_rounded_line_taxes_not_the_tax_of_its_total()
    {
        // Three lines of 0.10 at 5 %: each 0.005 rounds to 0.01, so the document's tax is 0.03, where 5 % of the
        // 0.30 net would round to 0.02. The contract sums the lines, so net + tax = gross on every line and in total.
        TaxRate.TryParse("5", out var rate, out _);
        var line = DocumentLineAmounts.Compute(Quantity.One, P("0.10"), rate, AmountsAre.Exclusive, 2);
        var (net, tax, gross) = DocumentTotals.Sum([line, line, line]);
        Assert.Equal(30, net.MinorUnits);
        Assert.Equal(3, tax.MinorUnits);
        Assert.Equal(33, gross.MinorUnits);
    }

    [Fact]
    public void No_lines_total_zero()
    {
        Assert.Equal(DocumentTotals.Zero, DocumentTotals.Sum([]));
        Assert.Equal(Amount.Zero, DocumentTotals.Zero.Gross);
    }

    [Fact]
    public void Sums_beyond_64_bits_throw_instead_of_wrapping()
    {
        Assert.Throws<OverflowException>(() => DocumentTotals.Sum([Line(long.MaxValue, 0), Line(1, 0)]));
        Assert.Throws<OverflowException>(() => DocumentTotals.Sum([Line(0, long.MaxValue), Line(0, 1)]));
        // Net and tax each fit, their sum (the gross) does not: no single line can hold that, so neither can the totals.
        Assert.Throws<OverflowException>(() => DocumentTotals.Sum([Line(long.MaxValue - 1, 1), Line(1, 0)]));
        Assert.Equal(long.MaxValue, DocumentTotals.Sum([Line(long.MaxValue - 10, 5), Line(3, 2)]).Gross.MinorUnits);
    }

    [Theory]
    [InlineData(100, 19, 120)]
    [InlineData(-100, 19, -81)]
    [InlineData(100, -19, 81)]
    public void Totals_that_do_not_add_up_are_refused(long net, long tax, long gross) =>
        Assert.Throws<ArgumentException>(() => new DocumentTotals(new Amount(net), new Amount(tax), new Amount(gross)));

    [Fact]
    public void Random_documents_add_up_in_both_modes()
    {
        var random = new Random(4217);
        string[] rates = ["0", "5.5", "7", "19", "21"];
        for (var document = 0; document < 500; document++)
        {
            var amountsAre = random.Next(2) == 0 ? AmountsAre.Exclusive : AmountsAre.Inclusive;
            var lines = new List<DocumentLineAmounts>();
            long net = 0, tax = 0;
            for (var i = random.Next(0, 20); i > 0; i--)
            {
                Quantity.TryParse($"{random.Next(1, 100)}.{random.Next(0, 1000):D3}", out var quantity, out _);
                TaxRate.TryParse(rates[random.Next(rates.Length)], out var rate, out _);
                var line = DocumentLineAmounts.Compute(quantity, P($"{random.Next(0, 1000)}.{random.Next(0, 10000):D4}"), rate, amountsAre, 2);
                lines.Add(line);
                net += line.Net.MinorUnits;
                tax += line.Tax.MinorUnits;
            }
            var totals = DocumentTotals.Sum(lines);
            Assert.Equal(net, totals.Net.MinorUnits);
            Assert.Equal(tax, totals.Tax.MinorUnits);
            Assert.Equal(totals.Gross.MinorUnits, totals.Net.MinorUnits + totals.Tax.MinorUnits);
        }
    }
}
