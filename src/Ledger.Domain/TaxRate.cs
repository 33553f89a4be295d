using System.Globalization;

namespace Ledger.Domain;

/// <summary>
/// A tax rate as a percentage ("19", "7", "5.5", "0"), kept exactly: a rate is a legal figure, and 5.5 % read as a
/// binary fraction would already be a different rate. Every instance is between 0 and 100 with at most 4 decimals;
/// <c>default</c> is 0 %.
/// </summary>
public readonly record struct TaxRate
{
    public const int MaxDecimals = 4;

    private TaxRate(decimal percent) => Percent = percent;

    /// <summary>The rate in percent, exactly as written and with no trailing zeros (19 for "19.00").</summary>
    public decimal Percent { get; }

    /// <summary>Reads a percentage: 0 to 100, at most 4 decimals, plain digits with an optional '.'.</summary>
    public static bool TryParse(string? text, out TaxRate rate, out string? error)
    {
        rate = default;
        // Three digits before the point are enough for 100; anything longer is refused before it is read.
        if (!PlainDecimal.TryParse(text, MaxDecimals, 3, "19", out var percent, out error)) return false;
        if (percent > 100m)
        {
            error = "must be a percentage between 0 and 100.";
            return false;
        }
        rate = new TaxRate(percent);
        return true;
    }

    /// <summary>The canonical text: "19", "5.5", "0" (no trailing zeros, no exponent).</summary>
    public override string ToString() => Percent.ToString(CultureInfo.InvariantCulture);
}
