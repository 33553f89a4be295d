namespace Ledger.BankStatements;

/// <summary>
/// Recognises a statement's format from the first bytes of the file, so the importer only asks for a CSV mapping
/// profile when the file is not OFX, CAMT.053 or MT940. Looks at no more than <see cref="HeadLength"/> bytes.
/// </summary>
public static class StatementFormatDetector
{
    /// <summary>How many leading bytes the detector looks at; more are ignored.</summary>
    public const int HeadLength = 4096;

    /// <summary>
    /// OFX (SGML "OFXHEADER:" or XML "&lt;OFX&gt;", also after an "&lt;?xml?&gt;" or "&lt;?OFX?&gt;" prolog), CAMT.053 (XML whose
    /// head names camt.053 or BkToCstmrStmt), MT940 (starts with "{1:" or ":20:"), or null for anything else: CSV,
    /// UTF-16 text, other XML, garbage.
    /// </summary>
    public static StatementFormat? Detect(ReadOnlySpan<byte> head)
    {
        if (head.Length > HeadLength) head = head[..HeadLength];
        if (head.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) head = head[3..]; // UTF-8 byte order mark
        head = SkipWhitespace(head);
        if (head.IsEmpty) return null;

        if (StartsWithIgnoreCase(head, "OFXHEADER"u8)) return StatementFormat.Ofx;
        if (head.StartsWith("{1:"u8) || head.StartsWith(":20:"u8)) return StatementFormat.Mt940;
        if (head[0] != (byte)'<') return null;

        // XML: step over the prolog (declaration, processing instructions, comments, DOCTYPE) to the first element.
        var rest = head;
        for (var guard = 0; guard < 32; guard++)
        {
            if (rest.StartsWith("<?"u8))
            {
                if (StartsWithIgnoreCase(rest[2..], "OFX"u8) && rest.Length > 5 && IsNameEnd(rest[5]))
                    return StatementFormat.Ofx;
                rest = After(rest, "?>"u8);
            }
            else if (rest.StartsWith("<!--"u8)) rest = After(rest, "-->"u8);
            else if (rest.StartsWith("<!"u8)) rest = After(rest, ">"u8);
            else break;
            rest = SkipWhitespace(rest);
        }

        if (StartsWithIgnoreCase(rest, "<OFX"u8) && (rest.Length == 4 || IsNameEnd(rest[4])))
            return StatementFormat.Ofx;
        if (head.IndexOf("camt.053"u8) >= 0 || head.IndexOf("BkToCstmrStmt"u8) >= 0)
            return StatementFormat.Camt053;
        return null;
    }

    private static ReadOnlySpan<byte> SkipWhitespace(ReadOnlySpan<byte> s)
    {
        var i = 0;
        while (i < s.Length && s[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') i++;
        return s[i..];
    }

    /// <summary>The bytes after the first <paramref name="end"/>, or nothing when the head ends before it.</summary>
    private static ReadOnlySpan<byte> After(ReadOnlySpan<byte> s, ReadOnlySpan<byte> end)
    {
        var at = s.IndexOf(end);
        return at < 0 ? ReadOnlySpan<byte>.Empty : s[(at + end.Length)..];
    }

    private static bool IsNameEnd(byte b) => b is (byte)'>' or (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or (byte)'/' or (byte)'?';

    private static bool StartsWithIgnoreCase(ReadOnlySpan<byte> s, ReadOnlySpan<byte> upperAscii)
    {
        if (s.Length < upperAscii.Length) return false;
        for (var i = 0; i < upperAscii.Length; i++)
        {
            var b = s[i];
            if (b is >= (byte)'a' and <= (byte)'z') b = (byte)(b - 32);
            if (b != upperAscii[i]) return false;
        }
        return true;
    }
}
