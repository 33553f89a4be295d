using System.Globalization;

namespace Ledger.Domain;

/// <summary>
/// The price of one unit in the document's currency ("19.99", "0.0125"). It may have more decimals than the currency
/// (up to 8; a fraction of a cent per unit is a normal price) because only the line's product is rounded to the
/// currency, never the price. Zero or more, at most 15 digits before the point, kept exactly; <c>default</c> is 0.
/// </summary>
public readonly record struct UnitPrice
{
    public const int MaxDecimals = 8;
    public const int MaxWholeDigits = 15;

    private UnitPrice(decimal value) => Value = value;

    /// <summary>The price, exactly as written and with no trailing zeros.</summary>
    public decimal Value { get; }

    /// <summary>Reads a unit price: zero or more, at most 8 decimals and 15 digits before the point.</summary>
    public static bool TryParse(string? text, out UnitPrice price, out string? error)
    {
        price = default;
        if (!PlainDecimal.TryParse(text, MaxDecimals, MaxWholeDigits, "19.99", out var value, out error)) return false;
        price = new UnitPrice(value);
        return true;
    }

    /// <summary>The canonical text: "19.99", "0.0125", "0".</summary>
    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);
}
