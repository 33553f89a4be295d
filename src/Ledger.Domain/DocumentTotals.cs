namespace Ledger.Domain;

/// <summary>
/// The net, tax and gross of a whole invoice or bill: the sums of its line figures, so <c>Net + Tax == Gross</c>
/// holds for the document because it holds for every line (the tax is never recomputed on the total, which could
/// round differently). The constructor refuses figures that break that rule or are negative.
/// </summary>
public readonly record struct DocumentTotals
{
    public static readonly DocumentTotals Zero = default;

    public DocumentTotals(Amount net, Amount tax, Amount gross)
    {
        if (net.MinorUnits < 0 || tax.MinorUnits < 0 || gross.MinorUnits < 0)
            throw new ArgumentException($"A document's totals are never negative (net {net.MinorUnits}, tax {tax.MinorUnits}, gross {gross.MinorUnits}).");
        if (checked(net.MinorUnits + tax.MinorUnits) != gross.MinorUnits)
            throw new ArgumentException($"A document's net plus tax must be its gross (net {net.MinorUnits}, tax {tax.MinorUnits}, gross {gross.MinorUnits}).");
        Net = net;
        Tax = tax;
        Gross = gross;
    }

    public Amount Net { get; }
    public Amount Tax { get; }
    public Amount Gross { get; }

    public void Deconstruct(out Amount net, out Amount tax, out Amount gross) => (net, tax, gross) = (Net, Tax, Gross);

    /// <summary>The sums of the lines' figures; throws <see cref="OverflowException"/> when a sum leaves 64 bits.</summary>
    public static DocumentTotals Sum(IEnumerable<DocumentLineAmounts> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        Amount net = Amount.Zero, tax = Amount.Zero, gross = Amount.Zero;
        foreach (var line in lines)
        {
            net += line.Net;
            tax += line.Tax;
            gross += line.Gross;
        }
        return new DocumentTotals(net, tax, gross);
    }
}
