using System.Globalization;

namespace Ledger.Domain;

/// <summary>
/// An exact amount of money in a currency's minor units (cents for EUR, yen for JPY, fils for KWD).
/// Stored and summed as a 64-bit integer; arithmetic is checked, so an overflow throws instead of wrapping.
/// </summary>
public readonly record struct Amount(long MinorUnits) : IComparable<Amount>
{
    public static readonly Amount Zero = new(0);

    public bool IsPositive => MinorUnits > 0;

    public static Amount operator +(Amount a, Amount b) => new(checked(a.MinorUnits + b.MinorUnits));
    public static Amount operator -(Amount a, Amount b) => new(checked(a.MinorUnits - b.MinorUnits));
    public static Amount operator -(Amount a) => new(checked(-a.MinorUnits));

    public int CompareTo(Amount other) => MinorUnits.CompareTo(other.MinorUnits);

    /// <summary>
    /// Parses a plain decimal string ("1250", "1250.5", "-3.25") into minor units of a currency with
    /// <paramref name="digits"/> decimals. Rejects exponents, more decimals than the currency has, and values
    /// beyond 64-bit minor units — never rounds.
    /// </summary>
    public static AmountParse Parse(string? text, int digits)
    {
        if (string.IsNullOrEmpty(text)) return AmountParse.Fail("must be a decimal number.");
        var s = text.AsSpan();
        var negative = false;
        if (s[0] == '-') { negative = true; s = s[1..]; }
        else if (s[0] == '+') { s = s[1..]; }
        var dot = s.IndexOf('.');
        var whole = dot < 0 ? s : s[..dot];
        var fraction = dot < 0 ? ReadOnlySpan<char>.Empty : s[(dot + 1)..];
        if (whole.IsEmpty || (dot >= 0 && fraction.IsEmpty) || !AllDigits(whole) || !AllDigits(fraction))
            return AmountParse.Fail("must be a plain decimal number such as \"1250.00\".");
        if (fraction.Length > digits)
            return AmountParse.Fail(digits == 0
                ? "must be a whole number: the book currency has no minor unit."
                : $"must have at most {digits} decimal places.");

        // Accumulate downwards: the negative range is one larger, so long.MinValue (which Format writes) reads back.
        long value = 0;
        try
        {
            foreach (var c in whole) value = checked(value * 10 - (c - '0'));
            for (var i = 0; i < digits; i++)
            {
                var d = i < fraction.Length ? fraction[i] - '0' : 0;
                value = checked(value * 10 - d);
            }
            if (!negative) value = checked(-value);
        }
        catch (OverflowException)
        {
            return AmountParse.Fail("is too large: it exceeds 64-bit minor units.");
        }
        return AmountParse.Ok(new Amount(value));
    }

    private static bool AllDigits(ReadOnlySpan<char> s)
    {
        foreach (var c in s) if (c is < '0' or > '9') return false;
        return true;
    }

    /// <summary>Formats as a plain decimal string with exactly the currency's digits ("1250.00", "-0.05", "300").</summary>
    public string Format(int digits)
    {
        if (digits == 0) return MinorUnits.ToString(CultureInfo.InvariantCulture);
        // Work on the magnitude as UInt64 so long.MinValue formats too.
        var negative = MinorUnits < 0;
        var magnitude = negative ? unchecked((ulong)(-(MinorUnits + 1)) + 1UL) : (ulong)MinorUnits;
        var text = magnitude.ToString(CultureInfo.InvariantCulture).PadLeft(digits + 1, '0');
        var formatted = string.Concat(text.AsSpan(0, text.Length - digits), ".", text.AsSpan(text.Length - digits));
        return negative ? "-" + formatted : formatted;
    }
}

public readonly record struct AmountParse(bool Success, Amount Value, string? Error)
{
    public static AmountParse Ok(Amount value) => new(true, value, null);
    public static AmountParse Fail(string error) => new(false, default, error);
}
