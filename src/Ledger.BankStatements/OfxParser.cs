using System.Text;
using Ledger.Domain;
using NodaTime;

namespace Ledger.BankStatements;

/// <summary>
/// Reads OFX bank and credit-card statements, both OFX 1.x (SGML: a "KEY:VALUE" header, then elements whose leaf
/// values are usually left unclosed, <c>&lt;TRNAMT&gt;-12.50</c>) and OFX 2.x (XML with an <c>&lt;?OFX ...?&gt;</c>
/// instruction). One tolerant tokenizer serves both: an element whose text follows its start tag is a leaf and ends
/// at the next tag; an element holding other elements is an aggregate and must be closed.
/// <para>
/// Each <c>STMTRS</c> (bank) or <c>CCSTMTRS</c> (credit card) becomes one section: <c>CURDEF</c>, the account's
/// <c>ACCTID</c>, its <c>STMTTRN</c>s and <c>LEDGERBAL</c> as the closing balance. OFX states no opening balance.
/// <c>TRNAMT</c> is already signed from the account holder's side.
/// </para>
/// </summary>
public static class OfxParser
{
    public static StatementFile Parse(Stream content, StatementReadOptions options) =>
        Parse(content, options, StatementLimits.MaxLines);

    /// <summary>As <see cref="Parse(Stream, StatementReadOptions)"/> with another line limit, so tests can reach it cheaply.</summary>
    internal static StatementFile Parse(Stream content, StatementReadOptions options, int maxLines)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(options);
        var warnings = new List<string>();
        var prelude = OfxPrelude.Read(content, warnings);
        using var reader = new StreamReader(content, prelude.Encoding, detectEncodingFromByteOrderMarks: false, bufferSize: 16 * 1024, leaveOpen: true);
        var tokenizer = new OfxTokenizer(reader, prelude.Pushback, prelude.Line, prelude.BytesRead);
        var builder = new OfxStatementBuilder(options.Digits, maxLines, warnings);
        while (!builder.Finished)
        {
            var token = tokenizer.Next();
            switch (token.Kind)
            {
                case OfxTokenKind.Start:
                    builder.Start(token.Name, token.Line);
                    if (token.SelfClosing) builder.End(token.Name, token.Line);
                    break;
                case OfxTokenKind.End:
                    builder.End(token.Name, token.Line);
                    break;
                case OfxTokenKind.Text:
                    builder.Text(token.Text, token.TextTooLong, token.Line);
                    break;
                case OfxTokenKind.EndOfFile:
                    builder.EndOfFile(token.Line);
                    break;
            }
        }
        return new StatementFile(StatementFormat.Ofx, builder.Sections, warnings);
    }
}

/// <summary>
/// The part of an OFX file before its first element: the OFX 1.x "OFXHEADER:100 ..." lines, or OFX 2.x's
/// <c>&lt;?xml ...?&gt;&lt;?OFX ...?&gt;</c>. Read byte by byte (it is ASCII) so the encoding it names is known
/// before the body is decoded.
/// </summary>
internal sealed record OfxPrelude(Encoding Encoding, string Pushback, int Line, long BytesRead)
{
    private const int MaxPreludeBytes = 64 * 1024;

    public static OfxPrelude Read(Stream stream, List<string> warnings)
    {
        var header = new StringBuilder();
        var line = 1;
        long bytes = 0;
        string? xmlEncoding = null;
        var isXml = false;

        int Next()
        {
            var b = stream.ReadByte();
            if (b >= 0 && ++bytes > MaxPreludeBytes)
                throw new StatementFormatException("line 1", "This is not an OFX file: no <OFX> element begins within the first 64 KB.");
            if (b == '\n') line++;
            return b;
        }

        var first = Next();
        if (first == 0xEF)
        {
            if (Next() != 0xBB || Next() != 0xBF)
                throw NotOfx();
            first = Next();
        }

        for (var b = first; ; b = Next())
        {
            if (b < 0)
                throw new StatementFormatException($"line {line}", header.Length == 0 && !isXml
                    ? "The file is empty."
                    : "The file ends before its <OFX> element begins: it is cut off or not an OFX file.");
            if (b != '<')
            {
                if (b >= 0x80 || (b < 0x20 && b is not '\r' and not '\n' and not '\t'))
                    throw NotOfx();
                header.Append((char)b);
                continue;
            }

            var after = Next();
            if (after == '?')
            {
                var instruction = ReadUntil("?>", Next);
                if (instruction.StartsWith("xml", StringComparison.OrdinalIgnoreCase))
                {
                    isXml = true;
                    xmlEncoding = Attribute(instruction, "encoding");
                }
                continue;
            }
            if (after == '!')
            {
                ReadUntil(">", Next); // a comment or DOCTYPE before the root
                continue;
            }
            if (after < 0 || after >= 0x80)
                throw new StatementFormatException($"line {line}", "Expected the <OFX> element after the OFX header.");

            var headerText = header.ToString().Trim();
            Encoding encoding;
            if (isXml)
            {
                if (headerText.Length > 0) throw NotOfx();
                encoding = XmlEncoding(xmlEncoding, warnings);
            }
            else
            {
                if (headerText.Length > 0 && !headerText.StartsWith("OFXHEADER", StringComparison.OrdinalIgnoreCase))
                    throw NotOfx();
                // OFX 1.x names "ENCODING:USASCII|UTF-8" and "CHARSET:1252|ISO-8859-1|NONE", and many banks get it
                // wrong (UTF-8 bytes under CHARSET:1252), so the body is read as UTF-8 wherever it is valid UTF-8
                // and as Windows-1252 elsewhere, which reads all of those correctly.
                encoding = StatementText.Utf8OrWindows1252;
            }
            return new OfxPrelude(encoding, "<" + (char)after, line, bytes);
        }
    }

    private static StatementFormatException NotOfx() => new("line 1",
        "This is not an OFX file: it should begin with \"OFXHEADER:100\" (OFX 1.x) or \"<?xml ...?><?OFX ...?>\" (OFX 2.x).");

    private static string ReadUntil(string terminator, Func<int> next)
    {
        var sb = new StringBuilder();
        while (true)
        {
            var b = next();
            if (b < 0) throw new StatementFormatException("line 1", "The file ends inside its header: it is cut off or not an OFX file.");
            sb.Append((char)b);
            if (sb.Length >= terminator.Length && sb.ToString(sb.Length - terminator.Length, terminator.Length) == terminator)
                return sb.ToString(0, sb.Length - terminator.Length);
        }
    }

    private static string? Attribute(string instruction, string name)
    {
        var at = instruction.IndexOf(name + "=", StringComparison.OrdinalIgnoreCase);
        if (at < 0) return null;
        var rest = instruction[(at + name.Length + 1)..].TrimStart();
        if (rest.Length == 0 || rest[0] is not ('"' or '\'')) return null;
        var end = rest.IndexOf(rest[0], 1);
        return end < 0 ? null : rest[1..end];
    }

    private static Encoding XmlEncoding(string? name, List<string> warnings)
    {
        switch (name?.Trim().ToUpperInvariant())
        {
            case null or "" or "UTF-8" or "UTF8":
                return StatementText.Utf8OrWindows1252;
            case "ISO-8859-1" or "LATIN1" or "ISO8859-1" or "WINDOWS-1252" or "CP1252" or "US-ASCII" or "ASCII":
                return StatementText.Windows1252;
            default:
                warnings.Add($"line 1: the file names the encoding \"{name}\", which is not supported; it was read as UTF-8.");
                return StatementText.Utf8OrWindows1252;
        }
    }
}

internal enum OfxTokenKind { Start, End, Text, EndOfFile }

internal readonly record struct OfxToken(OfxTokenKind Kind, string Name, string Text, bool TextTooLong, bool SelfClosing, int Line);

/// <summary>
/// Splits an OFX body into start tags, end tags and text, for SGML and XML alike. Processing instructions,
/// comments and DOCTYPEs are skipped, CDATA is text, and the XML entities (named and numeric) are decoded; an
/// ampersand that starts no entity stays as it is (SGML files write "AT&amp;T" as "AT&amp;T" or "AT&amp;amp;T").
/// </summary>
internal sealed class OfxTokenizer(TextReader reader, string pushback, int line, long bytesBeforeBody)
{
    private const int MaxNameLength = 64;
    private const int MaxRawText = 8 * StatementLimits.MaxTextLength;

    private readonly char[] _buffer = new char[16 * 1024];
    private int _length;
    private int _position;
    private int _pushbackPosition;
    private long _charsRead = bytesBeforeBody;
    private readonly StringBuilder _text = new();

    public int Line { get; private set; } = line;

    private int Peek()
    {
        if (_pushbackPosition < pushback.Length) return pushback[_pushbackPosition];
        if (_position == _length)
        {
            _length = reader.Read(_buffer, 0, _buffer.Length);
            _position = 0;
            if (_length <= 0) { _length = 0; return -1; }
        }
        return _buffer[_position];
    }

    private int Read()
    {
        var c = Peek();
        if (c < 0) return c;
        if (_pushbackPosition < pushback.Length) _pushbackPosition++;
        else _position++;
        if (++_charsRead > StatementLimits.MaxFileBytes)
            throw new StatementFormatException($"line {Line}", $"The file is larger than {StatementLimits.MaxFileBytes / (1024 * 1024)} MB.");
        if (c == '\n') Line++;
        return c;
    }

    public OfxToken Next()
    {
        while (true)
        {
            var c = Peek();
            if (c < 0) return new OfxToken(OfxTokenKind.EndOfFile, "", "", false, false, Line);
            if (c != '<') return ReadText();

            var line = Line;
            Read();
            var n = Peek();
            if (n == '?') { Skip("?>"); continue; }
            if (n == '!')
            {
                Read();
                if (TryConsume("--")) { Skip("-->"); continue; }
                if (TryConsume("[CDATA[")) return ReadCData(line);
                Skip(">");
                continue;
            }
            var closing = n == '/';
            if (closing) Read();
            var name = ReadName(line);
            // Attributes have no place in OFX; skip whatever stands between the name and '>'.
            var last = -1;
            var skipped = 0;
            while (true)
            {
                var a = Read();
                if (a < 0) throw new StatementFormatException($"line {line}", $"The file ends inside the tag <{(closing ? "/" : "")}{name}: it is cut off.");
                if (a == '>') break;
                if (a == '<' || ++skipped > 1000)
                    throw new StatementFormatException($"line {line}", $"The tag <{(closing ? "/" : "")}{name} is not closed with '>'.");
                if (!char.IsWhiteSpace((char)a)) last = a;
            }
            var selfClosing = last == '/';
            return new OfxToken(closing ? OfxTokenKind.End : OfxTokenKind.Start, name, "", false, selfClosing && !closing, line);
        }
    }

    private readonly StringBuilder _name = new();

    private string ReadName(int line)
    {
        var sb = _name.Clear();
        var lower = false;
        while (true)
        {
            var c = Peek();
            if (c < 0 || !(char.IsAsciiLetterOrDigit((char)c) || c is '.' or '_' or '-' or ':')) break;
            if (sb.Length == MaxNameLength)
                throw new StatementFormatException($"line {line}", $"A tag name is longer than {MaxNameLength} characters; this is not OFX.");
            lower |= char.IsAsciiLetterLower((char)c);
            sb.Append((char)Read());
        }
        if (sb.Length == 0)
            throw new StatementFormatException($"line {line}", Peek() < 0
                ? "The file ends inside a tag: it is cut off."
                : "A '<' here starts no tag; in OFX a '<' inside a text must be written \"&lt;\".");
        return lower ? sb.ToString().ToUpperInvariant() : sb.ToString();
    }

    private bool TryConsume(string expected)
    {
        foreach (var e in expected)
        {
            if (Peek() != e) return false;
            Read();
        }
        return true;
    }

    private void Skip(string terminator) => ReadUntil(terminator, null, out _);

    /// <summary>Reads up to and past <paramref name="terminator"/>, keeping at most <see cref="MaxRawText"/> characters in <paramref name="into"/>.</summary>
    private void ReadUntil(string terminator, StringBuilder? into, out bool tooLong)
    {
        var line = Line;
        tooLong = false;
        var window = new char[terminator.Length];
        var seen = 0;
        while (true)
        {
            var c = Read();
            if (c < 0) throw new StatementFormatException($"line {line}", "The file ends inside a comment, instruction or CDATA section: it is cut off.");
            Array.Copy(window, 1, window, 0, window.Length - 1);
            window[^1] = (char)c;
            seen++;
            if (seen >= window.Length && window.AsSpan().SequenceEqual(terminator)) break;
            if (into is null) continue;
            if (into.Length < MaxRawText + terminator.Length) into.Append((char)c);
            else tooLong = true;
        }
        if (into is not null && into.Length >= terminator.Length - 1)
            into.Length -= Math.Min(into.Length, terminator.Length - 1); // the terminator's first characters went in before it was recognised
    }

    private OfxToken ReadText()
    {
        var line = Line;
        _text.Clear();
        var tooLong = false;
        while (_pushbackPosition < pushback.Length && Peek() is >= 0 and not '<')
        {
            var c = (char)Read();
            if (_text.Length < MaxRawText) _text.Append(c);
            else tooLong = true;
        }
        // The body of the file: scan the buffer in blocks up to the next '<'.
        while (_pushbackPosition == pushback.Length && Peek() >= 0)
        {
            var rest = _buffer.AsSpan(_position, _length - _position);
            var end = rest.IndexOf('<');
            var chunk = end < 0 ? rest : rest[..end];
            Line += chunk.Count('\n');
            _charsRead += chunk.Length;
            if (_charsRead > StatementLimits.MaxFileBytes)
                throw new StatementFormatException($"line {Line}", $"The file is larger than {StatementLimits.MaxFileBytes / (1024 * 1024)} MB.");
            var room = MaxRawText - _text.Length;
            if (chunk.Length > room) { tooLong = true; chunk = chunk[..Math.Max(0, room)]; }
            _text.Append(chunk);
            _position += end < 0 ? rest.Length : end;
            if (end >= 0) break;
        }
        return new OfxToken(OfxTokenKind.Text, "", DecodeEntities(_text), tooLong, false, line);
    }

    private OfxToken ReadCData(int line)
    {
        _text.Clear();
        ReadUntil("]]>", _text, out var tooLong);
        return new OfxToken(OfxTokenKind.Text, "", _text.ToString(), tooLong, false, line);
    }

    private static string DecodeEntities(StringBuilder raw)
    {
        var s = raw.ToString();
        if (!s.Contains('&')) return s;
        var sb = new StringBuilder(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '&')
            {
                var semicolon = s.IndexOf(';', i + 1, Math.Min(12, s.Length - i - 1));
                if (semicolon > i + 1 && TryEntity(s.AsSpan(i + 1, semicolon - i - 1), out var decoded))
                {
                    sb.Append(decoded);
                    i = semicolon;
                    continue;
                }
            }
            sb.Append(s[i]);
        }
        return sb.ToString();
    }

    private static bool TryEntity(ReadOnlySpan<char> name, out string decoded)
    {
        decoded = name switch
        {
            "amp" => "&",
            "lt" => "<",
            "gt" => ">",
            "quot" => "\"",
            "apos" => "'",
            "nbsp" => " ",
            _ => "",
        };
        if (decoded.Length > 0) return true;
        if (name.Length < 2 || name[0] != '#') return false;
        var hex = name[1] is 'x' or 'X';
        var digits = hex ? name[2..] : name[1..];
        if (!int.TryParse(digits, hex ? System.Globalization.NumberStyles.AllowHexSpecifier : System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out var code)
            || code is <= 0 or > 0x10FFFF or (>= 0xD800 and <= 0xDFFF))
            return false;
        decoded = char.ConvertFromUtf32(code);
        return true;
    }
}

/// <summary>
/// Follows the element stack the tokens describe and picks out the statements. SGML leaves close themselves at the
/// next tag; an end tag closes every element opened after its own start tag.
/// </summary>
internal sealed class OfxStatementBuilder(int digits, int maxLines, List<string> warnings)
{
    private const int MaxDepth = 64;

    /// <summary>Leaves that may stand empty in SGML (<c>&lt;MEMO&gt;</c> followed by the next tag) without swallowing their siblings.</summary>
    private static readonly HashSet<string> KnownLeaves = new(StringComparer.Ordinal)
    {
        "TRNTYPE", "DTPOSTED", "DTUSER", "DTAVAIL", "TRNAMT", "FITID", "CORRECTFITID", "CORRECTACTION", "SRVRTID",
        "CHECKNUM", "REFNUM", "SIC", "PAYEEID", "NAME", "EXTDNAME", "MEMO", "INV401KSOURCE", "CURRATE", "CURSYM",
        "CURDEF", "BANKID", "BRANCHID", "ACCTID", "ACCTTYPE", "ACCTKEY", "BALAMT", "DTASOF", "DTSTART", "DTEND",
        "CODE", "SEVERITY", "MESSAGE", "DTSERVER", "LANGUAGE", "DTPROFUP", "DTACCTUP", "ORG", "FID", "TRNUID",
        "CLTCOOKIE", "SESSCOOKIE", "USERKEY", "TSKEYEXPIRE", "ADDR1", "ADDR2", "ADDR3", "CITY", "STATE",
        "POSTALCODE", "COUNTRY", "PHONE", "MKTGINFO", "INTU.BID", "INTU.USERID",
    };

    /// <summary>Elements that get a [n] in locations, because a file holds several of them side by side.</summary>
    private static readonly HashSet<string> Indexed = new(StringComparer.Ordinal)
    {
        "STMTTRNRS", "STMTRS", "CCSTMTTRNRS", "CCSTMTRS", "STMTTRN",
    };

    private sealed class Frame(string name, string segment, int line)
    {
        public string Name { get; } = name;
        public string Segment { get; } = segment;
        public int Line { get; } = line;
        public bool HasChildren { get; set; }
        public string? Text { get; set; }
        public bool TextTooLong { get; set; }
        public Dictionary<string, int>? ChildCounts { get; set; }
    }

    private sealed class SectionBuilder(string location)
    {
        public string Location { get; } = location;
        public string? Currency { get; set; }
        public string? Account { get; set; }
        public Amount? LedgerBalance { get; set; }
        public LocalDate? LedgerDate { get; set; }
        public List<StatementLine> Lines { get; } = [];
        public HashSet<string> FitIds { get; } = new(StringComparer.Ordinal);
    }

    private sealed class TransactionBuilder(string location)
    {
        public string Location { get; } = location;
        public string? Type { get; set; }
        public LocalDate? Posted { get; set; }
        public LocalDate? User { get; set; }
        public LocalDate? Available { get; set; }
        public Amount? Amount { get; set; }
        public string? FitId { get; set; }
        public string? Name { get; set; }
        public string? PayeeName { get; set; }
        public string? Memo { get; set; }
        public string? ToAccount { get; set; }
        public string? CorrectFitId { get; set; }
        public string? CorrectAction { get; set; }
    }

    private readonly List<Frame> _stack = [];
    private readonly List<StatementSection> _sections = [];
    private SectionBuilder? _section;
    private TransactionBuilder? _transaction;
    private bool _sawRoot;
    private int _lineCount;

    public bool Finished { get; private set; }
    public IReadOnlyList<StatementSection> Sections => _sections;

    private Frame? Top => _stack.Count == 0 ? null : _stack[^1];

    private string PathOf(int depth) => string.Join('/', _stack.Take(depth).Select(f => f.Segment));

    private string Where(int line, int depth) => depth == 0 ? $"line {line}" : $"line {line} ({PathOf(depth)})";

    public void Start(string name, int line)
    {
        if (Top is { } open && !open.HasChildren && (open.Text is { Length: > 0 } || KnownLeaves.Contains(open.Name)))
            Pop(); // an SGML leaf ends where the next tag begins

        if (!_sawRoot)
        {
            if (name != "OFX")
                throw new StatementFormatException($"line {line}", $"The file's first element is <{name}>; an OFX file begins with <OFX>.");
            _sawRoot = true;
        }
        else if (_stack.Count == 0)
        {
            throw new StatementFormatException($"line {line}", $"<{name}> stands after </OFX>; everything in an OFX file belongs inside <OFX>.");
        }
        if (_stack.Count == MaxDepth)
            throw new StatementFormatException(Where(line, _stack.Count), $"Elements are nested more than {MaxDepth} deep; this is not an OFX statement.");

        var segment = name;
        if (Top is { } parent)
        {
            parent.HasChildren = true;
            parent.Text = null;
            if (Indexed.Contains(name))
            {
                parent.ChildCounts ??= new Dictionary<string, int>(StringComparer.Ordinal);
                var index = parent.ChildCounts.GetValueOrDefault(name) + 1;
                parent.ChildCounts[name] = index;
                segment = $"{name}[{index}]";
            }
        }
        _stack.Add(new Frame(name, segment, line));
        Opened(name, line);
    }

    public void Text(string text, bool tooLong, int line)
    {
        var top = Top;
        if (top is null)
        {
            if (!string.IsNullOrWhiteSpace(text))
                throw new StatementFormatException($"line {line}", _sawRoot
                    ? "There is text after </OFX>."
                    : "There is text before the <OFX> element.");
            return;
        }
        if (top.HasChildren || string.IsNullOrWhiteSpace(text)) return; // layout between aggregates
        top.Text = top.Text is null ? text : top.Text + text; // text, then CDATA
        top.TextTooLong |= tooLong;
    }

    public void End(string name, int line)
    {
        var match = _stack.FindLastIndex(f => f.Name == name);
        if (match < 0)
            throw new StatementFormatException(Where(line, _stack.Count), $"</{name}> closes an element that is not open here.");
        while (_stack.Count > match) Pop();
    }

    public void EndOfFile(int line)
    {
        while (Top is { HasChildren: false } leaf && (leaf.Text is not null || KnownLeaves.Contains(leaf.Name))) Pop();
        if (!_sawRoot)
            throw new StatementFormatException($"line {line}", "The file has no <OFX> element.");
        if (_stack.Count > 0)
        {
            var innermost = Top!;
            throw new StatementFormatException($"line {line}",
                $"The file ends inside <{innermost.Name}> (opened at line {innermost.Line}, {PathOf(_stack.Count)}) before </OFX>: it is cut off.");
        }
        Finish();
    }

    private void Finish()
    {
        if (_sections.Count == 0)
            throw new StatementFormatException("OFX", "The file holds no bank statement (STMTRS) or credit-card statement (CCSTMTRS).");
        Finished = true;
    }

    private void Pop()
    {
        var frame = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        if (frame.HasChildren || frame.Name is "STMTTRN" or "STMTRS" or "CCSTMTRS") Closed(frame.Name); // an empty one is still an aggregate
        else Leaf(frame);
        if (_stack.Count == 0) Finish();
    }

    /// <summary>Where a just-closed element stood: its line and path (its parents are still on the stack).</summary>
    private string LocationOf(Frame frame) =>
        _stack.Count == 0 ? $"line {frame.Line} ({frame.Segment})" : $"line {frame.Line} ({PathOf(_stack.Count)}/{frame.Segment})";

    private string? Parent(int up = 0) => _stack.Count > up ? _stack[^(up + 1)].Name : null;

    private void Opened(string name, int line)
    {
        switch (name)
        {
            case "STMTRS" or "CCSTMTRS":
                if (_section is not null)
                    throw new StatementFormatException(Where(line, _stack.Count), $"<{name}> begins inside another statement.");
                _section = new SectionBuilder(Where(line, _stack.Count));
                break;
            case "STMTTRN" when _transaction is not null:
                throw new StatementFormatException(Where(line, _stack.Count),
                    $"A new <STMTTRN> begins before the transaction opened at {_transaction.Location} is closed with </STMTTRN>.");
            case "STMTTRN" when _section is not null && Parent(1) == "BANKTRANLIST":
                if (++_lineCount > maxLines)
                    throw new StatementFormatException(Where(line, _stack.Count), $"The file holds more than {maxLines} transactions.");
                _transaction = new TransactionBuilder(Where(line, _stack.Count));
                break;
        }
    }

    private void Closed(string name)
    {
        switch (name)
        {
            case "STMTTRN" when _transaction is not null && _stack.Count > 0 && Parent() == "BANKTRANLIST":
                // A correction (CORRECTACTION with CORRECTFITID) takes back an earlier transaction of the statement: DELETE
                // removes it and is no transaction itself, REPLACE puts itself in its place.
                if (_transaction is { CorrectAction: "DELETE" or "REPLACE", CorrectFitId: { } corrected } correction)
                {
                    if (_section!.Lines.RemoveAll(l => l.BankReference == corrected) == 0)
                        warnings.Add($"{correction.Location}: a correction ({correction.CorrectAction}) of FITID \"{corrected}\", which is not in " +
                                     "this statement: if that transaction was imported before, take its line back by hand.");
                    _section.FitIds.Remove(corrected);
                    if (correction.CorrectAction == "DELETE")
                    {
                        _transaction = null;
                        break;
                    }
                }
                var line = BuildLine(_transaction);
                _section!.Lines.Add(line);
                if (line.BankReference is { } fitId && !_section.FitIds.Add(fitId))
                    warnings.Add($"{line.Location}: FITID \"{fitId}\" appears twice in this statement; both transactions were kept.");
                _transaction = null;
                break;
            case "STMTRS" or "CCSTMTRS" when _section is not null:
                if (_transaction is not null)
                    throw new StatementFormatException(_transaction.Location, "The transaction is not closed with </STMTTRN>.");
                _sections.Add(new StatementSection(_section.Account, _section.Currency, null, null,
                    _section.LedgerBalance, _section.LedgerDate, _section.Lines));
                _section = null;
                break;
        }
    }

    private void Leaf(Frame frame)
    {
        if (frame.Text is null) return;
        var parent = Parent();
        if (_transaction is not null && parent == "STMTTRN")
        {
            var t = _transaction;
            switch (frame.Name)
            {
                case "TRNTYPE": t.Type = StatementText.CleanOrNull(frame.Text); break;
                case "DTPOSTED": t.Posted = ParseDate(frame); break;
                case "DTUSER": t.User = ParseDate(frame); break;
                case "DTAVAIL": t.Available = ParseDate(frame); break;
                case "CORRECTFITID": t.CorrectFitId = Kept(frame, "CORRECTFITID"); break;
                case "CORRECTACTION": t.CorrectAction = frame.Text?.Trim().ToUpperInvariant(); break;
                case "TRNAMT": t.Amount = ParseAmount(frame); break;
                case "FITID": t.FitId = Kept(frame, "FITID"); break;
                case "NAME": t.Name = Kept(frame, "NAME"); break;
                case "MEMO": t.Memo = Kept(frame, "MEMO"); break;
            }
        }
        else if (_transaction is not null && parent == "PAYEE" && frame.Name == "NAME")
        {
            _transaction.PayeeName = Kept(frame, "payee NAME");
        }
        else if (_transaction is not null && parent is "BANKACCTTO" or "CCACCTTO" && frame.Name == "ACCTID")
        {
            _transaction.ToAccount = StatementText.CleanOrNull(frame.Text);
        }
        else if (_section is not null && parent is "STMTRS" or "CCSTMTRS" && frame.Name == "CURDEF")
        {
            var currency = StatementText.Clean(frame.Text).ToUpperInvariant();
            if (currency.Length != 3 || !currency.All(char.IsAsciiLetterUpper))
                throw new StatementFormatException(LocationOf(frame), $"CURDEF \"{currency}\" is not a three-letter currency code such as EUR.");
            _section.Currency = currency;
        }
        else if (_section is not null && parent is "BANKACCTFROM" or "CCACCTFROM" && frame.Name == "ACCTID"
                 && Parent(1) is "STMTRS" or "CCSTMTRS")
        {
            _section.Account = Kept(frame, "account number");
        }
        else if (_section is not null && parent == "LEDGERBAL" && Parent(1) is "STMTRS" or "CCSTMTRS")
        {
            if (frame.Name == "BALAMT") _section.LedgerBalance = ParseAmount(frame);
            else if (frame.Name == "DTASOF") _section.LedgerDate = ParseDate(frame);
        }
    }

    private string? Kept(Frame frame, string what)
    {
        var text = StatementText.CleanOrNull(frame.Text);
        if (text is null) return null;
        if (frame.TextTooLong && text.Length <= StatementLimits.MaxTextLength)
            warnings.Add($"{LocationOf(frame)}: the {what} is longer than {StatementLimits.MaxTextLength} characters; only the first part was kept.");
        return text.Length <= StatementLimits.MaxTextLength ? text : StatementText.Cut(text, LocationOf(frame), what, warnings);
    }

    private StatementLine BuildLine(TransactionBuilder t)
    {
        if (t.Posted is not { } posted)
            throw new StatementFormatException(t.Location, "The transaction has no DTPOSTED (the date it was booked).");
        if (t.Amount is not { } amount)
            throw new StatementFormatException(t.Location, "The transaction has no TRNAMT (its amount).");
        var counterparty = t.Name ?? t.PayeeName;
        var description = t.Memo ?? counterparty ?? t.Type ?? "";
        // The value date is when the funds are available (DTAVAIL, as the OFX specification defines it); banks that leave
        // it out often give DTUSER, the day the customer made the payment, which is the nearest there is.
        return new StatementLine(posted, t.Available ?? t.User ?? posted, amount, description, counterparty,
            StatementText.IbanOrNull(t.ToAccount), t.FitId, IsReversal: false, t.Location);
    }

    /// <summary>OFX dates are YYYYMMDD, optionally followed by HHMMSS[.XXX] and a [offset:TZ]; the day is the first eight digits.</summary>
    private LocalDate ParseDate(Frame frame)
    {
        var trimmed = frame.Text!.Trim();
        var date = trimmed.Length >= 8 && StatementText.AllDigits(trimmed.AsSpan(0, 8))
            ? StatementText.Date(StatementText.Number(trimmed.AsSpan(0, 4)), StatementText.Number(trimmed.AsSpan(4, 2)), StatementText.Number(trimmed.AsSpan(6, 2)))
            : null;
        return date ?? throw new StatementFormatException(LocationOf(frame),
            $"\"{Shorten(trimmed)}\" is not a date; OFX dates begin with the year, month and day as YYYYMMDD, such as 20251231.");
    }

    /// <summary>
    /// OFX amounts are signed decimals with a dot ("-12.50"); some banks write a decimal comma ("-12,50"), accepted
    /// when it is the only separator. A leading "+" and a missing zero before the point (".50") are accepted too.
    /// </summary>
    private Amount ParseAmount(Frame frame)
    {
        var trimmed = frame.Text!.Trim();
        var plain = trimmed;
        if (!plain.Contains('.') && plain.Count(c => c == ',') == 1)
        {
            // "2,500" is two and a half thousand in one bank's export and 2.500 in another's: with three digits after the
            // comma the amount cannot be read without guessing, and a guess here is a wrong amount in the books.
            if (digits < 3 && plain.Length - plain.IndexOf(',') - 1 == 3)
                throw new StatementFormatException(LocationOf(frame),
                    $"The amount \"{Shorten(trimmed)}\" is ambiguous: a comma before three digits may separate thousands or decimals. OFX writes amounts with a decimal point (\"2500.00\").");
            plain = plain.Replace(',', '.');
        }
        if (plain.StartsWith('+')) plain = plain[1..];
        if (plain.StartsWith('.')) plain = "0" + plain;
        else if (plain.StartsWith("-.", StringComparison.Ordinal)) plain = "-0" + plain[1..];
        var parsed = StatementText.ParseNormalised(plain, digits);
        if (!parsed.Success)
            throw new StatementFormatException(LocationOf(frame), $"The amount \"{Shorten(trimmed)}\" {parsed.Error}");
        return parsed.Value;
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
