using System.Text;
using Ledger.Domain;
using NodaTime;

namespace Ledger.BankStatements;

/// <summary>
/// What the parsers share: cleaning texts (all four formats), cutting them at <see cref="StatementLimits.MaxTextLength"/>,
/// turning a bank's number text into an <see cref="Amount"/> and checking calendar dates, and reading bytes whose
/// encoding the file does not state reliably.
/// </summary>
internal static class StatementText
{
    /// <summary>
    /// Trims, turns every whitespace run (tabs and line breaks included) into one space and drops other control
    /// characters (NUL, ESC, DEL, C1 controls): a bank's text may carry any of them.
    /// </summary>
    public static string Clean(ReadOnlySpan<char> text)
    {
        var sb = new StringBuilder(text.Length);
        var pendingSpace = false;
        foreach (var c in text)
        {
            if (c is '\t' or '\n' or '\r' or '\v' or '\f' || char.IsWhiteSpace(c))
            {
                pendingSpace = sb.Length > 0;
                continue;
            }
            if (c < '\u0020' || c is >= '\u007f' and <= '\u009f' || c == '\ufeff') continue;
            if (pendingSpace) { sb.Append(' '); pendingSpace = false; }
            sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary><see cref="Clean"/>, or null when nothing is left.</summary>
    public static string? CleanOrNull(string? text)
    {
        if (text is null) return null;
        var cleaned = Clean(text);
        return cleaned.Length == 0 ? null : cleaned;
    }

    /// <summary>A reference as given, or null for none: absent, or "NOTPROVIDED" (SEPA's word for none, in any case).</summary>
    public static string? ProvidedOrNull(string? text) =>
        text is null || text.Equals("NOTPROVIDED", StringComparison.OrdinalIgnoreCase) ? null : text;

    /// <summary>Cuts <paramref name="text"/> at the longest text kept, warning where it was cut.</summary>
    public static string Cut(string text, string location, string what, List<string> warnings)
    {
        if (text.Length <= StatementLimits.MaxTextLength) return text;
        var length = StatementLimits.MaxTextLength;
        if (char.IsHighSurrogate(text[length - 1])) length--;
        warnings.Add($"{location}: the {what} is longer than {StatementLimits.MaxTextLength} characters; only the first {length} were kept.");
        return text[..length];
    }

    public static string? CutOrNull(string? text, string location, string what, List<string> warnings) =>
        text is null ? null : Cut(text, location, what, warnings);

    /// <summary>
    /// Reads a plain decimal after the bank's own spelling has been turned into "1234.56": trailing zeros beyond the
    /// currency's digits are dropped (they change nothing), more significant digits are refused by
    /// <see cref="Amount.Parse"/>, never rounded.
    /// </summary>
    public static AmountParse ParseNormalised(string plain, int digits)
    {
        var dot = plain.IndexOf('.');
        if (dot >= 0)
        {
            var end = plain.Length;
            while (end > dot + 1 + digits && plain[end - 1] == '0') end--;
            if (end == dot + 1) end = dot; // "12." or "12.000" with no digits left
            plain = plain[..end];
        }
        return Amount.Parse(plain, digits);
    }

    /// <summary>A calendar date, or null when the numbers name no day (month 13, 31 April, 29 February 2025).</summary>
    public static LocalDate? Date(int year, int month, int day)
    {
        if (year is < 1 or > 9999 || month is < 1 or > 12 || day < 1) return null;
        if (day > CalendarSystem.Iso.GetDaysInMonth(year, month)) return null;
        return new LocalDate(year, month, day);
    }

    public static bool AllDigits(ReadOnlySpan<char> s)
    {
        if (s.IsEmpty) return false;
        foreach (var c in s) if (c is < '0' or > '9') return false;
        return true;
    }

    public static int Number(ReadOnlySpan<char> digits)
    {
        var value = 0;
        foreach (var c in digits) value = value * 10 + (c - '0');
        return value;
    }

    /// <summary>True for text shaped like an IBAN (two letters, two check digits, 11–30 letters or digits).</summary>
    public static bool LooksLikeIban(string text)
    {
        if (text.Length is < 15 or > 34) return false;
        if (!char.IsAsciiLetterUpper(text[0]) || !char.IsAsciiLetterUpper(text[1])) return false;
        if (!char.IsAsciiDigit(text[2]) || !char.IsAsciiDigit(text[3])) return false;
        for (var i = 4; i < text.Length; i++)
            if (!char.IsAsciiLetterUpper(text[i]) && !char.IsAsciiDigit(text[i])) return false;
        return true;
    }

    /// <summary>An IBAN with its spaces removed and letters upper-cased, or null when the text is not shaped like one.</summary>
    public static string? IbanOrNull(string? text)
    {
        if (text is null) return null;
        var compact = Clean(text).Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant();
        // "DE00000000000000000000": the shape of an IBAN filled with zeros is a placeholder, not an account.
        return LooksLikeIban(compact) && compact.AsSpan(2).IndexOfAnyExcept('0') >= 0 ? compact : null;
    }

    /// <summary>
    /// UTF-8 where the bytes are valid UTF-8, and Windows-1252 for every byte that is not: banks write OFX and MT940
    /// files in either and often say nothing (or the wrong thing) about which, and a Windows-1252 umlaut is almost
    /// never valid UTF-8.
    /// </summary>
    public static readonly Encoding Utf8OrWindows1252 =
        Encoding.GetEncoding("utf-8", EncoderFallback.ReplacementFallback, new Windows1252Fallback());

    /// <summary>Windows-1252 exactly, for files that declare it in a way that can be trusted (an XML declaration).</summary>
    public static readonly Encoding Windows1252 =
        CodePagesEncodingProvider.Instance.GetEncoding(1252) ?? Encoding.Latin1;

    private static readonly string HighHalf = Windows1252.GetString(Enumerable.Range(0x80, 0x80).Select(b => (byte)b).ToArray());

    /// <summary>Reads each byte that is not valid UTF-8 as its Windows-1252 character.</summary>
    private sealed class Windows1252Fallback : DecoderFallback
    {
        public override int MaxCharCount => 4;

        public override DecoderFallbackBuffer CreateFallbackBuffer() => new Buffer();

        private sealed class Buffer : DecoderFallbackBuffer
        {
            private readonly char[] _chars = new char[16];
            private int _count;
            private int _position;

            public override bool Fallback(byte[] bytesUnknown, int index)
            {
                _count = 0;
                _position = 0;
                foreach (var b in bytesUnknown)
                {
                    if (_count == _chars.Length) break;
                    _chars[_count++] = b < 0x80 ? (char)b : HighHalf[b - 0x80];
                }
                return _count > 0;
            }

            public override char GetNextChar() => _position < _count ? _chars[_position++] : '\0';

            public override bool MovePrevious()
            {
                if (_position == 0) return false;
                _position--;
                return true;
            }

            public override int Remaining => _count - _position;

            public override void Reset()
            {
                _count = 0;
                _position = 0;
            }
        }
    }
}
