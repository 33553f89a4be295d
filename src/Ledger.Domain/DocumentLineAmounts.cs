using System.Numerics;

namespace Ledger.Domain;

/// <summary>
/// The net, tax and gross of one invoice or bill line, in the document currency's minor units. Every instance has
/// <c>Net + Tax == Gross</c> and no negative figure: the constructor refuses anything else, so figures read back from
/// storage are held to the same rule as figures just computed.
/// </summary>
public readonly record struct DocumentLineAmounts
{
    public DocumentLineAmounts(Amount net, Amount tax, Amount gross)
    {
        if (net.MinorUnits < 0 || tax.MinorUnits < 0 || gross.MinorUnits < 0)
            throw new ArgumentException($"A document line's figures are never negative (net {net.MinorUnits}, tax {tax.MinorUnits}, gross {gross.MinorUnits}).");
        if (checked(net.MinorUnits + tax.MinorUnits) != gross.MinorUnits)
            throw new ArgumentException($"A document line's net plus tax must be its gross (net {net.MinorUnits}, tax {tax.MinorUnits}, gross {gross.MinorUnits}).");
        Net = net;
        Tax = tax;
        Gross = gross;
    }

    public Amount Net { get; }
    public Amount Tax { get; }
    public Amount Gross { get; }

    public void Deconstruct(out Amount net, out Amount tax, out Amount gross) => (net, tax, gross) = (Net, Tax, Gross);

    /// <summary>
    /// The figures of a line by the document contract, each rounded half away from zero to the currency's
    /// <paramref name="digits"/> (its minor unit):
    /// <list type="bullet">
    /// <item>exclusive: <c>net = round(quantity × unitPrice)</c>, <c>tax = round(net × rate / 100)</c>, <c>gross = net + tax</c>;</item>
    /// <item>inclusive: <c>gross = round(quantity × unitPrice)</c>, <c>tax = round(gross × rate / (100 + rate))</c>, <c>net = gross − tax</c>.</item>
    /// </list>
    /// No rate means no tax. Only those products are rounded, never the unit price, so a price finer than the
    /// currency ("0.0125" EUR) counts in full. Throws <see cref="OverflowException"/> when a figure does not fit in
    /// 64-bit minor units.
    /// </summary>
    /// <remarks>
    /// The arithmetic is on exact integers (each decimal as mantissa / 10^scale), not on <see cref="decimal"/>: a
    /// quantity of 18 significant digits times a price of 23 has up to 41, and decimal keeps 28–29, so it would round
    /// the product once on its own (to nearest even) before the contract's rounding; that double rounding can move a
    /// figure by a cent. For every product decimal holds exactly, the results are those of
    /// <c>Math.Round(x, digits, MidpointRounding.AwayFromZero)</c>.
    /// </remarks>
    public static DocumentLineAmounts Compute(Quantity quantity, UnitPrice unitPrice, TaxRate? rate, AmountsAre amountsAre, int digits)
    {
        // 10^18 is the largest power of ten a long holds; currencies have 0 to 4 digits.
        if (digits is < 0 or > 18) throw new ArgumentOutOfRangeException(nameof(digits), digits, "A currency's minor unit has 0 to 18 digits.");
        if (amountsAre is not (AmountsAre.Exclusive or AmountsAre.Inclusive)) throw new ArgumentOutOfRangeException(nameof(amountsAre));

        var (q, qScale) = PlainDecimal.Exact(quantity.Value);
        var (p, pScale) = PlainDecimal.Exact(unitPrice.Value);
        // quantity × unitPrice in minor units is q·p·10^digits / 10^(qScale + pScale).
        var line = RoundHalfAwayFromZero(q * p * BigInteger.Pow(10, digits), BigInteger.Pow(10, qScale + pScale));

        // rate / 100 is r / (100·10^rScale); rate / (100 + rate) is r / (100·10^rScale + r).
        var (r, rScale) = rate is { } taxRate ? PlainDecimal.Exact(taxRate.Percent) : (BigInteger.Zero, 0);
        var hundred = 100 * BigInteger.Pow(10, rScale);

        BigInteger net, tax, gross;
        if (amountsAre == AmountsAre.Exclusive)
        {
            net = line;
            tax = RoundHalfAwayFromZero(net * r, hundred);
            gross = net + tax;
        }
        else
        {
            gross = line;
            tax = RoundHalfAwayFromZero(gross * r, hundred + r);
            net = gross - tax;
        }
        return new DocumentLineAmounts(ToAmount(net, "net"), ToAmount(tax, "tax"), ToAmount(gross, "gross"));
    }

    // For a figure that is never negative, half away from zero is half up: floor(n/d + 1/2) = floor((2n + d) / 2d).
    private static BigInteger RoundHalfAwayFromZero(BigInteger numerator, BigInteger denominator) =>
        (2 * numerator + denominator) / (2 * denominator);

    private static Amount ToAmount(BigInteger minorUnits, string figure) =>
        minorUnits <= long.MaxValue
            ? new Amount((long)minorUnits)
            : throw new OverflowException($"The line's {figure} does not fit in 64-bit minor units.");
}
