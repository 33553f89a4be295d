using System.Numerics;

namespace Ledger.Domain;

/// <summary>
/// The decimal strings invoices and bills are written in (quantities, unit prices, tax rates): ASCII digits with an
/// optional '.', nothing else. Read exactly, never rounded, so that the only rounding in a document is the one its
/// contract names (see <see cref="DocumentLineAmounts"/>).
/// </summary>
internal static class PlainDecimal
{
    /// <summary>
    /// Reads <paramref name="text"/> into an exact decimal with the shortest scale ("19.00" reads as 19), refusing a
    /// sign, an exponent, spaces, more than <paramref name="maxDecimals"/> written decimals (trailing zeros count, as
    /// for <see cref="Amount.Parse"/>: nothing is silently dropped) or more than <paramref name="maxWholeDigits"/>
    /// digits before the point once leading zeros are set aside.
    /// </summary>
    public static bool TryParse(string? text, int maxDecimals, int maxWholeDigits, string example, out decimal value, out string? error)
    {
        // 28 digits always fit the 96-bit mantissa of a decimal, so the value below is built exactly.
        if (maxDecimals + maxWholeDigits > 28) throw new ArgumentOutOfRangeException(nameof(maxDecimals), "A decimal holds at most 28 digits exactly.");
        value = 0m;
        if (string.IsNullOrEmpty(text))
        {
            error = "must be a decimal number.";
            return false;
        }
        if (text[0] == '-')
        {
            error = "must not be negative.";
            return false;
        }
        var s = text.AsSpan();
        var dot = s.IndexOf('.');
        var whole = dot < 0 ? s : s[..dot];
        var fraction = dot < 0 ? ReadOnlySpan<char>.Empty : s[(dot + 1)..];
        if (whole.IsEmpty || (dot >= 0 && fraction.IsEmpty) || !AllDigits(whole) || !AllDigits(fraction))
        {
            error = $"must be a plain decimal number such as \"{example}\": digits and an optional '.', without sign, exponent or spaces.";
            return false;
        }
        if (fraction.Length > maxDecimals)
        {
            error = maxDecimals == 0 ? "must be a whole number." : $"must have at most {maxDecimals} decimal places.";
            return false;
        }
        whole = whole.TrimStart('0');
        if (whole.Length > maxWholeDigits)
        {
            error = $"must have at most {maxWholeDigits} digits before the decimal point.";
            return false;
        }

        fraction = fraction.TrimEnd('0');
        UInt128 mantissa = 0;
        foreach (var c in whole) mantissa = mantissa * 10 + (uint)(c - '0');
        foreach (var c in fraction) mantissa = mantissa * 10 + (uint)(c - '0');
        value = new decimal(
            unchecked((int)(uint)mantissa), unchecked((int)(uint)(mantissa >> 32)), unchecked((int)(uint)(mantissa >> 64)),
            false, (byte)fraction.Length);
        error = null;
        return true;
    }

    private static bool AllDigits(ReadOnlySpan<char> s)
    {
        foreach (var c in s) if (c is < '0' or > '9') return false;
        return true;
    }

    /// <summary>A non-negative decimal as an integer mantissa and a power-of-ten scale: value = mantissa / 10^scale, exactly.</summary>
    public static (BigInteger Mantissa, int Scale) Exact(decimal value)
    {
        if (value < 0) throw new ArgumentOutOfRangeException(nameof(value), "Document figures are never negative.");
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(value, bits);
        var mantissa = (new BigInteger(unchecked((uint)bits[2])) << 64)
            | (new BigInteger(unchecked((uint)bits[1])) << 32)
            | new BigInteger(unchecked((uint)bits[0]));
        return (mantissa, value.Scale);
    }
}
