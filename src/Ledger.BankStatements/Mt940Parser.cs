using System.Text;
using Ledger.Domain;
using NodaTime;

namespace Ledger.BankStatements;

/// <summary>
/// Reads SWIFT MT940 customer statements: bare, or wrapped in SWIFT blocks <c>{1:...}{2:...}{4:</c> ... <c>-}</c>,
/// one or several statements per file, each beginning at <c>:20:</c>. A field runs from its <c>:NN:</c> tag to the
/// next line that starts a tag. Each statement becomes one section: <c>:25:</c> the account, <c>:60F:</c>/<c>:60M:</c>
/// the opening balance, one line per <c>:61:</c> with the <c>:86:</c> that follows it, <c>:62F:</c>/<c>:62M:</c>
/// the closing balance.
/// </summary>
public static class Mt940Parser
{
    public static StatementFile Parse(Stream content, StatementReadOptions options) =>
        Parse(content, options, StatementLimits.MaxLines);

    /// <summary>As <see cref="Parse(Stream, StatementReadOptions)"/> with another line limit, so tests can reach it cheaply.</summary>
    internal static StatementFile Parse(Stream content, StatementReadOptions options, int maxLines)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(options);
        var warnings = new List<string>();
        var statements = new Mt940StatementBuilder(options.Digits, maxLines, warnings);
        using var reader = new StreamReader(content, StatementText.Utf8OrWindows1252, detectEncodingFromByteOrderMarks: true, bufferSize: 16 * 1024, leaveOpen: true);
        var lines = new Mt940LineReader(reader);
        new Mt940FieldReader(lines, statements).Run();
        return new StatementFile(StatementFormat.Mt940, statements.Sections, warnings);
    }
}

/// <summary>Physical lines (CR, LF or CRLF), each at most <see cref="MaxLineLength"/> characters; the file at most <see cref="StatementLimits.MaxFileBytes"/>.</summary>
internal sealed class Mt940LineReader(TextReader reader)
{
    private const int MaxLineLength = 10_000;
    private readonly char[] _buffer = new char[16 * 1024];
    private readonly StringBuilder _line = new();
    private int _length;
    private int _position;
    private long _chars;
    private bool _skipLineFeed;

    public int LineNumber { get; private set; }

    private bool Fill()
    {
        if (_position < _length) return true;
        _length = reader.Read(_buffer, 0, _buffer.Length);
        _position = 0;
        if (_length <= 0) { _length = 0; return false; }
        _chars += _length;
        if (_chars > StatementLimits.MaxFileBytes)
            throw new StatementFormatException($"line {LineNumber + 1}", $"The file is larger than {StatementLimits.MaxFileBytes / (1024 * 1024)} MB.");
        return true;
    }

    public string? Next()
    {
        _line.Clear();
        var any = false;
        while (Fill())
        {
            if (_skipLineFeed)
            {
                _skipLineFeed = false;
                if (_buffer[_position] == '\n') { _position++; continue; }
            }
            any = true;
            var rest = _buffer.AsSpan(_position, _length - _position);
            var end = rest.IndexOfAny('\r', '\n');
            var take = end < 0 ? rest.Length : end;
            if (_line.Length + take > MaxLineLength)
                throw new StatementFormatException($"line {LineNumber + 1}", $"The line is longer than {MaxLineLength} characters; MT940 lines hold at most 65.");
            _line.Append(rest[..take]);
            _position += take;
            if (end < 0) continue;
            _skipLineFeed = _buffer[_position] == '\r';
            _position++;
            LineNumber++;
            return _line.ToString();
        }
        if (!any) return null;
        LineNumber++;
        return _line.ToString();
    }
}

/// <summary>
/// Turns lines into fields: strips the SWIFT block wrapper, recognises <c>:NN:</c>/<c>:NNa:</c> tags at the start of
/// a line and appends every other line to the field before it.
/// </summary>
internal sealed class Mt940FieldReader(Mt940LineReader lines, Mt940StatementBuilder statements)
{
    private const int MaxLinesPerField = 100;

    private string? _tag;
    private int _tagLine;
    private readonly List<string> _value = [];
    private bool _inBlock4;
    private int _block4Line;
    private bool _sawBlocks;

    public void Run()
    {
        while (lines.Next() is { } line)
        {
            var number = lines.LineNumber;
            if (line.Length >= 3 && line[0] == '{' && char.IsAsciiDigit(line[1]) && line[2] == ':')
            {
                line = StripBlockHeaders(line, number);
                if (line.Length == 0) continue;
            }
            if (line.StartsWith("-}", StringComparison.Ordinal) || line.Trim() == "-")
            {
                // End of a SWIFT message (or the "-" some banks put between statements); a {5:...} trailer may follow.
                Flush();
                statements.EndOfMessage(number);
                _inBlock4 = false;
                continue;
            }
            if (_sawBlocks && !_inBlock4 && line.Trim().Length > 0)
                throw new StatementFormatException($"line {number}", "This text stands outside a SWIFT message's text block {4: ... -}.");

            if (TryTag(line, out var tag, out var rest))
            {
                Flush();
                _tag = tag;
                _tagLine = number;
                _value.Add(rest);
            }
            else if (_tag is not null)
            {
                if (line.Trim().Length == 0) continue;
                if (_value.Count == MaxLinesPerField)
                    throw new StatementFormatException($"line {number}", $"The field :{_tag}: (line {_tagLine}) runs over more than {MaxLinesPerField} lines.");
                _value.Add(line);
            }
            else if (line.Trim().Length > 0)
            {
                throw new StatementFormatException($"line {number}",
                    "Expected an MT940 field such as \":20:\" here; this does not look like an MT940 statement.");
            }
        }
        Flush();
        if (_inBlock4)
            throw new StatementFormatException($"line {lines.LineNumber}",
                $"The file ends inside the SWIFT message begun at line {_block4Line} (its closing \"-}}\" is missing): it is cut off.");
        statements.EndOfFile(lines.LineNumber);
    }

    private void Flush()
    {
        if (_tag is null) return;
        statements.Field(_tag, _value, _tagLine);
        _tag = null;
        _value.Clear();
    }

    /// <summary>Removes "{1:...}{2:...}{3:{...}}" and the "{4:" that opens the text; returns what follows on the line.</summary>
    private string StripBlockHeaders(string line, int number)
    {
        var i = 0;
        while (i < line.Length && line[i] == '{')
        {
            var colon = line.IndexOf(':', i);
            if (colon < 0) throw new StatementFormatException($"line {number}", "A SWIFT block \"{\" has no block number.");
            var id = line[(i + 1)..colon];
            if (id == "4")
            {
                Flush();
                statements.EndOfMessage(number);
                _inBlock4 = true;
                _sawBlocks = true;
                _block4Line = number;
                return line[(colon + 1)..];
            }
            // Skip the block with its nested braces ({3:{108:...}}, {5:{CHK:...}}).
            var depth = 0;
            var j = i;
            for (; j < line.Length; j++)
            {
                if (line[j] == '{') depth++;
                else if (line[j] == '}' && --depth == 0) break;
            }
            if (j == line.Length)
                throw new StatementFormatException($"line {number}", $"The SWIFT block {{{id}: is not closed with \"}}\" on its line.");
            _sawBlocks = true;
            i = j + 1;
        }
        return line[i..];
    }

    private static bool TryTag(string line, out string tag, out string rest)
    {
        tag = "";
        rest = "";
        if (line.Length < 4 || line[0] != ':' || !char.IsAsciiDigit(line[1]) || !char.IsAsciiDigit(line[2])) return false;
        var end = line[3] == ':' ? 3 : (line.Length > 4 && char.IsAsciiLetter(line[3]) && line[4] == ':' ? 4 : -1);
        if (end < 0) return false;
        tag = line[1..end].ToUpperInvariant();
        rest = line[(end + 1)..];
        return true;
    }
}

/// <summary>Builds sections from fields, checking the order MT940 prescribes.</summary>
internal sealed class Mt940StatementBuilder(int digits, int maxLines, List<string> warnings)
{
    private sealed class Statement(int line)
    {
        public int Line { get; } = line;
        public string? Account { get; set; }
        public string? Currency { get; set; }
        public Amount? Opening { get; set; }
        public LocalDate? OpeningDate { get; set; }
        public Amount? Closing { get; set; }
        public LocalDate? ClosingDate { get; set; }
        public List<StatementLine> Lines { get; } = [];
    }

    private sealed record PendingLine(Mt940StatementLine Line, int LineNumber)
    {
        public List<string> Information { get; } = [];
    }

    private readonly List<StatementSection> _sections = [];
    private readonly HashSet<string> _warnedTags = new(StringComparer.Ordinal);
    private Statement? _statement;
    private PendingLine? _pending;
    private int _lineCount;

    public IReadOnlyList<StatementSection> Sections => _sections;

    public void Field(string tag, IReadOnlyList<string> value, int line)
    {
        var location = $"line {line}";
        if (tag == "86" && _pending is not null)
        {
            _pending.Information.AddRange(value);
            return;
        }
        FinishPendingLine();

        if (tag == "20")
        {
            FinishStatement(line);
            _statement = new Statement(line);
            return;
        }
        if (_statement is null)
            throw new StatementFormatException(location, $"The field :{tag}: comes before the statement's reference :20:; every MT940 statement begins with :20:.");

        var first = value.Count > 0 ? value[0] : "";
        switch (tag)
        {
            case "25":
                _statement.Account = StatementText.CleanOrNull(first) is { } account ? StatementText.Cut(account, location, "account", warnings) : null;
                break;
            case "60F" or "60M" or "60":
                if (_statement.Opening is not null)
                    throw new StatementFormatException(location, "The statement has a second opening balance (:60F:/:60M:).");
                var (openingAmount, openingDate, openingCurrency) = Balance(first, tag, location);
                _statement.Opening = openingAmount;
                _statement.OpeningDate = openingDate;
                _statement.Currency = openingCurrency;
                break;
            case "61":
                if (_statement.Opening is null)
                    throw new StatementFormatException(location, "The statement line :61: comes before the opening balance :60F:; the opening balance must come first.");
                if (_statement.Closing is not null)
                    throw new StatementFormatException(location, "The statement line :61: comes after the closing balance :62F:.");
                if (++_lineCount > maxLines)
                    throw new StatementFormatException(location, $"The file holds more than {maxLines} statement lines.");
                _pending = new PendingLine(Mt940StatementLine.Parse(value, digits, location), line);
                break;
            case "62F" or "62M" or "62":
                if (_statement.Opening is null)
                    throw new StatementFormatException(location, "The closing balance :62F: comes before the opening balance :60F:.");
                if (_statement.Closing is not null)
                    throw new StatementFormatException(location, "The statement has a second closing balance (:62F:/:62M:).");
                var (closingAmount, closingDate, closingCurrency) = Balance(first, tag, location);
                if (closingCurrency != _statement.Currency)
                    throw new StatementFormatException(location, $"The closing balance is in {closingCurrency} but the opening balance in {_statement.Currency}.");
                _statement.Closing = closingAmount;
                _statement.ClosingDate = closingDate;
                break;
            case "21" or "28" or "28C" or "64" or "65" or "86":
                break; // related reference, statement number, available balances, statement-level information
            default:
                if (_warnedTags.Add(tag))
                    warnings.Add($"{location}: the field :{tag}: is not part of an MT940 statement and was ignored.");
                break;
        }
    }

    /// <summary>A SWIFT message ended ("-}" or a "-" line): its statement is complete.</summary>
    public void EndOfMessage(int line)
    {
        FinishPendingLine();
        FinishStatement(line);
    }

    public void EndOfFile(int line)
    {
        FinishPendingLine();
        FinishStatement(line);
        if (_sections.Count == 0)
            throw new StatementFormatException($"line {line}", "The file holds no MT940 statement (no :20: field).");
    }

    private void FinishPendingLine()
    {
        if (_pending is null) return;
        _statement!.Lines.Add(_pending.Line.ToStatementLine(_pending.Information, warnings));
        _pending = null;
    }

    private void FinishStatement(int line)
    {
        if (_statement is null) return;
        var s = _statement;
        _statement = null;
        if (s.Opening is null)
            throw new StatementFormatException($"line {line}", $"The statement begun at line {s.Line} has no opening balance :60F:; the file may be cut off.");
        if (s.Closing is null)
            throw new StatementFormatException($"line {line}", $"The statement begun at line {s.Line} has no closing balance :62F:; the file may be cut off.");
        _sections.Add(new StatementSection(s.Account, s.Currency, s.Opening, s.OpeningDate, s.Closing, s.ClosingDate, s.Lines));
    }

    /// <summary>A balance field: C or D, YYMMDD, a three-letter currency, an amount with a decimal comma.</summary>
    private (Amount Amount, LocalDate Date, string Currency) Balance(string text, string tag, string location)
    {
        var t = text.Trim();
        if (t.Length < 11 || t[0] is not ('C' or 'D'))
            throw new StatementFormatException(location,
                $"The balance :{tag}: \"{Mt940StatementLine.Shorten(t)}\" should read C or D, the date as YYMMDD, the currency and the amount, such as C251231EUR1234,56.");
        var date = Mt940StatementLine.Date(t.AsSpan(1, 6), location, $"balance :{tag}:");
        var currency = t.Substring(7, 3);
        if (!currency.All(char.IsAsciiLetterUpper))
            throw new StatementFormatException(location, $"The balance :{tag}: names the currency \"{currency}\"; expected a three-letter code such as EUR.");
        var amount = Mt940StatementLine.ParseAmount(t[10..], digits, location);
        return (t[0] == 'D' ? -amount : amount, date, currency);
    }
}

/// <summary>
/// One <c>:61:</c> field: <c>6!n[4!n]2a[1!a]15d1!a3!c16x[//16x]</c> on its first line, supplementary details
/// (34x) on the second.
/// </summary>
internal sealed record Mt940StatementLine(
    LocalDate ValueDate,
    LocalDate BookingDate,
    Amount Amount,
    bool IsReversal,
    string TypeCode,
    string? CustomerReference,
    string? BankReference,
    string? Supplementary,
    string Location)
{
    public static Mt940StatementLine Parse(IReadOnlyList<string> value, int digits, string location)
    {
        var text = value.Count > 0 ? value[0].TrimEnd() : "";
        var i = 0;
        if (text.Length < 6 || !StatementText.AllDigits(text.AsSpan(0, 6)))
            throw new StatementFormatException(location, $"The statement line :61: \"{Shorten(text)}\" should begin with the value date as YYMMDD.");
        var valueDate = Date(text.AsSpan(0, 6), location, "value date");
        i = 6;

        var bookingDate = valueDate;
        if (text.Length >= i + 4 && StatementText.AllDigits(text.AsSpan(i, 4)))
        {
            bookingDate = EntryDate(valueDate, text.AsSpan(i, 4), location);
            i += 4;
        }

        bool negative, reversal;
        if (Rest(text, i).StartsWith("RC", StringComparison.Ordinal)) { negative = true; reversal = true; i += 2; }
        else if (Rest(text, i).StartsWith("RD", StringComparison.Ordinal)) { negative = false; reversal = true; i += 2; }
        else if (Rest(text, i).StartsWith('C')) { negative = false; reversal = false; i += 1; }
        else if (Rest(text, i).StartsWith('D')) { negative = true; reversal = false; i += 1; }
        else
            throw new StatementFormatException(location,
                $"The statement line :61: has \"{Shorten(Rest(text, i))}\" where the mark C (credit), D (debit), RC or RD (reversal) should stand.");

        if (i < text.Length && char.IsAsciiLetter(text[i])) i++; // funds code: the third letter of the currency

        var amountStart = i;
        while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] is ',' or '.')) i++;
        var amountText = text[amountStart..i];
        if (amountText.Length == 0)
            throw new StatementFormatException(location, $"The statement line :61: has \"{Shorten(Rest(text, amountStart))}\" where the amount should stand, such as 1234,56.");
        var amount = ParseAmount(amountText, digits, location);

        if (text.Length < i + 4 || text[i] is not ('N' or 'F' or 'S') || !text.AsSpan(i + 1, 3).ContainsOnlyAsciiLettersOrDigits())
            throw new StatementFormatException(location,
                $"The statement line :61: has \"{Shorten(Rest(text, amountStart))}\": after the amount ({amountText}) should come the transaction type, such as NTRF; is the amount written as 1234,56?");
        var typeCode = text.Substring(i, 4);
        i += 4;

        var references = text[i..];
        var split = references.IndexOf("//", StringComparison.Ordinal);
        var customer = split < 0 ? references : references[..split];
        var bank = split < 0 ? null : references[(split + 2)..];
        var supplementary = value.Count > 1 ? string.Join(" ", value.Skip(1)) : null;
        return new Mt940StatementLine(valueDate, bookingDate, negative ? -amount : amount, reversal, typeCode,
            Reference(customer), Reference(bank), supplementary, location);
    }

    private static ReadOnlySpan<char> Rest(string text, int i) => i < text.Length ? text.AsSpan(i) : [];

    /// <summary>A reference, or null when empty or "NONREF" (MT940's "there is none").</summary>
    private static string? Reference(string? text)
    {
        var cleaned = StatementText.CleanOrNull(text);
        return cleaned is null || cleaned.Equals("NONREF", StringComparison.OrdinalIgnoreCase) ? null : cleaned;
    }

    public StatementLine ToStatementLine(IReadOnlyList<string> information, List<string> warnings)
    {
        var info = Mt940Information.Parse(information);
        var description = info.Description;
        if (description.Length == 0) description = StatementText.Clean(Supplementary ?? "");
        if (description.Length == 0) description = CustomerReference ?? TypeCode;
        var reference = BankReference ?? CustomerReference ?? info.EndToEndReference;
        return new StatementLine(BookingDate, ValueDate, Amount,
            StatementText.Cut(description, Location, "description", warnings),
            StatementText.CutOrNull(info.Counterparty, Location, "counterparty", warnings),
            info.CounterpartyIban,
            StatementText.CutOrNull(reference, Location, "reference", warnings),
            IsReversal, Location);
    }

    /// <summary>
    /// The entry (booking) date has no year: of the value date's year and the years either side, the one that puts
    /// it closest to the value date (value 2025-12-31, entry 0102 → 2026-01-02).
    /// </summary>
    public static LocalDate EntryDate(LocalDate valueDate, ReadOnlySpan<char> mmdd, string location)
    {
        var month = StatementText.Number(mmdd[..2]);
        var day = StatementText.Number(mmdd[2..]);
        LocalDate? best = null;
        var bestDistance = long.MaxValue;
        for (var year = valueDate.Year - 1; year <= valueDate.Year + 1; year++)
        {
            if (StatementText.Date(year, month, day) is not { } candidate) continue;
            var distance = Math.Abs(Period.Between(valueDate, candidate, PeriodUnits.Days).Days);
            if (distance < bestDistance) { best = candidate; bestDistance = distance; }
        }
        return best ?? throw new StatementFormatException(location,
            $"The entry date \"{mmdd}\" of the statement line :61: is not a date; it should be MMDD, such as 0102.");
    }

    /// <summary>A YYMMDD date; years 00–79 are 2000–2079, 80–99 are 1980–1999.</summary>
    public static LocalDate Date(ReadOnlySpan<char> yymmdd, string location, string what)
    {
        LocalDate? date = null;
        if (StatementText.AllDigits(yymmdd) && yymmdd.Length == 6)
        {
            var yy = StatementText.Number(yymmdd[..2]);
            date = StatementText.Date(yy < 80 ? 2000 + yy : 1900 + yy, StatementText.Number(yymmdd.Slice(2, 2)), StatementText.Number(yymmdd[4..]));
        }
        return date ?? throw new StatementFormatException(location, $"The {what} \"{yymmdd}\" is not a date; it should be YYMMDD, such as 251231.");
    }

    /// <summary>An MT940 amount: digits with a decimal comma ("1234,56", "1234,"), never a sign or a dot.</summary>
    public static Amount ParseAmount(string text, int digits, string location)
    {
        var t = text.Trim();
        if (t.Contains('.'))
            throw new StatementFormatException(location, $"The amount \"{t}\" contains a dot; MT940 amounts have a decimal comma and no thousands separator, such as 1234,56.");
        var comma = t.IndexOf(',');
        if (comma < 0 || t.IndexOf(',', comma + 1) >= 0 || comma == 0 || !StatementText.AllDigits(t.AsSpan(0, comma))
            || (comma < t.Length - 1 && !StatementText.AllDigits(t.AsSpan(comma + 1))))
            throw new StatementFormatException(location, $"The amount \"{Shorten(t)}\" should be digits with one decimal comma, such as 1234,56.");
        var parsed = StatementText.ParseNormalised(t.Replace(',', '.'), digits);
        if (!parsed.Success)
            throw new StatementFormatException(location, $"The amount \"{t}\" {parsed.Error}");
        return parsed.Value;
    }

    public static string Shorten(ReadOnlySpan<char> text) => text.Length <= 40 ? text.ToString() : string.Concat(text[..40], "…");
}

internal static class Mt940SpanExtensions
{
    public static bool ContainsOnlyAsciiLettersOrDigits(this ReadOnlySpan<char> span)
    {
        foreach (var c in span) if (!char.IsAsciiLetterOrDigit(c)) return false;
        return true;
    }
}

/// <summary>
/// The <c>:86:</c> information to the account owner. The structured (German "DFÜ") form is
/// <c>NNN?00posting text?10primanota?20purpose 1 ... ?29purpose 10?30BIC?31IBAN?32name 1?33name 2?34...?60purpose 11 ... ?63purpose 14</c>;
/// anything else is free text.
/// </summary>
internal sealed record Mt940Information(string Description, string? Counterparty, string? CounterpartyIban, string? EndToEndReference)
{
    /// <summary>Purpose and name subfields are at most 27 characters; a full one continues in the next without a space.</summary>
    private const int SubfieldWidth = 27;

    public static Mt940Information Parse(IReadOnlyList<string> lines)
    {
        if (lines.Count == 0) return new Mt940Information("", null, null, null);
        // Structured lines are cut at 65 characters wherever that falls, so they join without a separator.
        var joined = string.Concat(lines);
        if (!IsStructured(joined))
            return new Mt940Information(StatementText.Clean(string.Join(" ", lines)), null, null, null);

        var subfields = Subfields(joined);
        string? posting = null;
        var purpose = new StringBuilder();
        var name = new StringBuilder();
        string? account = null;
        string? previousPurpose = null;
        string? previousName = null;
        foreach (var (code, text) in subfields)
        {
            switch (code)
            {
                case 0:
                    posting = text;
                    break;
                case >= 20 and <= 29 or >= 60 and <= 63:
                    Append(purpose, text, previousPurpose);
                    previousPurpose = text;
                    break;
                case 31:
                    account = text;
                    break;
                case 32 or 33:
                    Append(name, text, previousName);
                    previousName = text;
                    break;
            }
        }
        var purposeText = purpose.ToString();
        var description = StatementText.Clean(string.Join(" ", new[] { posting, purposeText }.Where(p => !string.IsNullOrWhiteSpace(p))));
        return new Mt940Information(description, StatementText.CleanOrNull(name.ToString()), StatementText.IbanOrNull(account),
            SepaValue(StatementText.Clean(purposeText), "EREF+"));
    }

    private static void Append(StringBuilder into, string text, string? previous)
    {
        // A full subfield runs on into the next, unless the next begins a SEPA keyword ("MREF+", "SVWZ+"): a value of
        // exactly 27 characters ends there, and gluing the keyword to it would corrupt both.
        if (previous is not null && (previous.Length < SubfieldWidth || StartsWithSepaKeyword(text))) into.Append(' ');
        into.Append(text);
    }

    private static bool StartsWithSepaKeyword(string text) =>
        text.Length >= 5 && text[4] == '+' && char.IsAsciiLetterUpper(text[0]) && char.IsAsciiLetterUpper(text[1])
        && char.IsAsciiLetterUpper(text[2]) && char.IsAsciiLetterUpper(text[3]);

    private static bool IsStructured(string text)
    {
        var start = text.Length >= 3 && StatementText.AllDigits(text.AsSpan(0, 3)) ? 3 : 0;
        return text.Length >= start + 3 && text[start] == '?' && char.IsAsciiDigit(text[start + 1]) && char.IsAsciiDigit(text[start + 2]);
    }

    /// <summary>The "?NN" subfields in order; text before the first is the business transaction code.</summary>
    private static List<(int Code, string Text)> Subfields(string text)
    {
        var result = new List<(int, string)>();
        var i = text.IndexOf('?');
        while (i >= 0 && i + 2 < text.Length)
        {
            var code = StatementText.Number(text.AsSpan(i + 1, 2));
            var next = i + 3;
            while (true)
            {
                next = text.IndexOf('?', next);
                if (next < 0 || (next + 2 < text.Length && char.IsAsciiDigit(text[next + 1]) && char.IsAsciiDigit(text[next + 2]))) break;
                next++;
            }
            result.Add((code, next < 0 ? text[(i + 3)..] : text[(i + 3)..next]));
            i = next;
        }
        return result;
    }

    /// <summary>The value after a SEPA keyword ("EREF+ABC-123 SVWZ+..." → "ABC-123"), up to the next keyword; null when absent or NOTPROVIDED.</summary>
    private static string? SepaValue(string purpose, string keyword)
    {
        var at = purpose.IndexOf(keyword, StringComparison.Ordinal);
        if (at < 0) return null;
        var start = at + keyword.Length;
        var end = purpose.Length;
        for (var j = start; j + 4 < purpose.Length; j++)
        {
            if (purpose[j + 4] == '+' && char.IsAsciiLetterUpper(purpose[j]) && char.IsAsciiLetterUpper(purpose[j + 1])
                && char.IsAsciiLetterUpper(purpose[j + 2]) && char.IsAsciiLetterUpper(purpose[j + 3])
                && (j == start || purpose[j - 1] == ' '))
            {
                end = j;
                break;
            }
        }
        var value = purpose[start..end].Trim();
        return value.Length == 0 ? null : StatementText.ProvidedOrNull(value);
    }
}
