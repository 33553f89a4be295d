using System.Globalization;

namespace Ledger.Domain;

/// <summary>
/// How many units a document line is for ("1", "2.5", "0.125"): greater than zero, at most 12 digits before the
/// point and 6 after, kept exactly. A line written without a quantity is for one unit, and so is <c>default</c>:
/// there is no such thing as a zero quantity here, not even by forgetting to set one.
/// </summary>
public readonly record struct Quantity
{
    public const int MaxDecimals = 6;
    public const int MaxWholeDigits = 12;

    public static readonly Quantity One = default;

    // Zero stands for one, so that default(Quantity) is the quantity a line has when none is written.
    private readonly decimal _value;

    private Quantity(decimal value) => _value = value == 1m ? 0m : value;

    /// <summary>The quantity, exactly as written and with no trailing zeros.</summary>
    public decimal Value => _value == 0m ? 1m : _value;

    /// <summary>
    /// Reads a quantity: greater than zero, at most 6 decimals and 12 digits before the point. No text (null) is
    /// the default quantity, <see cref="One"/>; an empty string is a mistake and is refused.
    /// </summary>
    public static bool TryParse(string? text, out Quantity quantity, out string? error)
    {
        quantity = One;
        if (text is null)
        {
            error = null;
            return true;
        }
        if (!PlainDecimal.TryParse(text, MaxDecimals, MaxWholeDigits, "2.5", out var value, out error)) return false;
        if (value == 0m)
        {
            error = "must be greater than zero.";
            return false;
        }
        quantity = new Quantity(value);
        return true;
    }

    /// <summary>The canonical text: "1", "2.5", "0.125".</summary>
    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);
}
