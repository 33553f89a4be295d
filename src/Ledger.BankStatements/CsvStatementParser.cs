using System.Globalization;
using System.Text;
using CsvHelper;
using Ledger.Domain;
using NodaTime;
using NodaTime.Text;

namespace Ledger.BankStatements;

/// <summary>
/// Reads a bank's CSV export through a <see cref="CsvProfile"/>: the profile's encoding, <see cref="CsvProfile.SkipRows"/>
/// physical lines skipped (account details), an optional header, columns by header text or 1-based position, amounts in
/// the bank's own notation (decimal comma, thousands separators, trailing minus, parentheses) either signed or split into
/// debit and credit columns, and an optional running balance that is checked row by row (oldest-first or newest-first).
/// Lines come back in file order; each <see cref="StatementLine.Location"/> is the physical line ("line 7").
/// </summary>
public static class CsvStatementParser
{
    private static readonly Lazy<Encoding> Windows1252 = new(() =>
    {
        CodePages.Ensure();
        return Encoding.GetEncoding(1252);
    });

    public static StatementFile Parse(Stream content, CsvProfile profile, StatementReadOptions options)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(options);

        var format = new NumberFormat(profile, options.Digits);
        var datePattern = DatePattern(profile.DateFormat);
        var encoding = EncodingOf(profile.Encoding);
        var separator = SeparatorOf(profile.Delimiter);
        if (profile.SkipRows is < 0 or > StatementLimits.MaxLines)
            throw new StatementFormatException("profile.skipRows", $"The number of rows to skip must be between 0 and {StatementLimits.MaxLines:N0}.");
        CheckAmountColumns(profile.Columns);
        var debitMarks = new HashSet<string>(profile.DebitMarks ?? [], StringComparer.OrdinalIgnoreCase);
        var skipStatuses = new HashSet<string>(profile.SkipStatuses ?? [], StringComparer.OrdinalIgnoreCase);
        if (!string.IsNullOrWhiteSpace(profile.Columns.Sign) && (debitMarks.Count == 0 || string.IsNullOrWhiteSpace(profile.Columns.Amount)))
            throw new StatementFormatException("profile.columns.sign",
                "A debit/credit mark column goes with an amount column and the marks that mean money out (debitMarks, such as [\"S\"]).");
        if (!string.IsNullOrWhiteSpace(profile.Columns.Status) && skipStatuses.Count == 0)
            throw new StatementFormatException("profile.columns.status", "A status column goes with the statuses to skip (skipStatuses).");

        var warnings = new List<string>();
        var droppedWarnings = 0;
        void Warn(string warning)
        {
            if (warnings.Count < 200) warnings.Add(warning);
            else droppedWarnings++;
        }

        // A profile that says windows-1252 or iso-8859-1 for a file that is UTF-8 (a byte order mark, or non-ASCII bytes
        // that all form UTF-8, which an umlaut in those code pages almost never does) would import "JÃ¼rgen" for "Jürgen",
        // and the same line from a correct file would not be found as its duplicate: such a file is read as UTF-8.
        if (encoding.CodePage != Encoding.UTF8.CodePage)
        {
            var bytes = ReadAll(content);
            var bom = bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]);
            if (bom || (bytes.AsSpan().IndexOfAnyInRange((byte)0x80, (byte)0xFF) >= 0 && System.Text.Unicode.Utf8.IsValid(bytes)))
            {
                encoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
                Warn($"The file is UTF-8 ({(bom ? "it begins with a UTF-8 byte order mark" : "its non-ASCII bytes are UTF-8")}), not " +
                     $"{profile.Encoding} as the profile says: it was read as UTF-8.");
            }
            content = new MemoryStream(bytes, writable: false);
        }

        var rows = new List<Row>();
        try
        {
            using var text = new StreamReader(content, encoding, detectEncodingFromByteOrderMarks: false, bufferSize: 16 * 1024, leaveOpen: true);
            var skipped = 0;
            while (skipped < profile.SkipRows && text.ReadLine() is not null) skipped++;

            var malformed = new List<CsvMalformedRecord>();
            var csvOptions = new CsvReaderOptions
            {
                Separator = separator,
                HasHeader = false, // the header is read below, so that it can be matched loosely and located
                TrackLineNumbers = true,
                SkipEmptyLines = true,
                DetectSeparatorHint = false,
                MissingField = CsvMissingFieldHandling.ReturnEmpty,
                FieldCountMismatch = CsvFieldCountHandling.Allow,
                MalformedData = CsvMalformedDataHandling.Recover,
                OnMalformedRecord = malformed.Add,
                MaxRecordSize = 1024 * 1024,
            };
            using var csv = CsvReader.Create(text, csvOptions, leaveOpen: true);
            Columns? columns = null;
            while (csv.Read())
            {
                var line = checked(skipped + (int)csv.LineNumber);
                var location = $"line {line}";
                foreach (var bad in malformed)
                {
                    if (bad.Reason == CsvMalformedReason.UnterminatedQuote)
                        throw new StatementFormatException(location, "A quoted field is never closed: a quote (\") is missing.");
                    Warn($"{location}: the row has a stray quote (\") and was read as written.");
                }
                malformed.Clear();

                var fields = new string[csv.FieldCount];
                for (var i = 0; i < fields.Length; i++) fields[i] = csv.GetString(i);
                if (line == skipped + 1 && fields.Length > 0) fields[0] = fields[0].TrimStart('\uFEFF');
                if (fields.All(string.IsNullOrWhiteSpace)) continue;

                if (columns is null)
                {
                    columns = Columns.Resolve(profile.Columns, profile.HasHeader ? fields : null, location);
                    if (profile.HasHeader) continue;
                }
                if (rows.Count >= StatementLimits.MaxLines)
                    throw new StatementFormatException(location,
                        $"The file holds more than {StatementLimits.MaxLines:N0} statement lines; split it into smaller files.");
                // A row the bank marks as not yet booked ("Umsatz vorgemerkt") is no statement line: when it is booked it comes
                // again, perhaps with another date, and imported now it would be counted twice.
                if (columns.Status is { } statusColumn && statusColumn.Index < fields.Length
                    && skipStatuses.Contains(fields[statusColumn.Index].Trim()))
                {
                    Warn($"{location}: skipped, its status \"{Shorten(Clean(fields[statusColumn.Index].Trim()))}\" is one the profile skips (not yet booked).");
                    continue;
                }
                rows.Add(ReadRow(fields, columns, format, datePattern, profile.DateFormat, location, Warn, debitMarks));
            }
            if (columns is null && profile.HasHeader)
                throw new StatementFormatException($"line {skipped + 1}",
                    profile.SkipRows > 0
                        ? $"The file has no header line after the {profile.SkipRows} rows the profile skips."
                        : "The file has no header line.");
        }
        catch (DecoderFallbackException)
        {
            throw new StatementFormatException("file",
                $"The file is not valid {profile.Encoding} text; check the encoding in the profile (iso-8859-1 or windows-1252?).");
        }
        catch (CsvFormatException e)
        {
            if (e.InnerException is DecoderFallbackException)
                throw new StatementFormatException("file",
                    $"The file is not valid {profile.Encoding} text; check the encoding in the profile (iso-8859-1 or windows-1252?).");
            throw new StatementFormatException(e.LineNumber > 0 ? $"line {e.LineNumber + profile.SkipRows}" : "file",
                $"The file cannot be read as CSV: {e.Message}");
        }

        var (opening, openingDate, closing, closingDate) = profile.Columns.Balance is null
            ? (null, null, null, null)
            : CheckBalances(rows, options.Digits);
        if (droppedWarnings > 0) warnings.Add($"… and {droppedWarnings:N0} more warnings like these.");
        var section = new StatementSection(null, null, opening, openingDate, closing, closingDate, rows.Select(r => r.Line).ToList());
        return new StatementFile(StatementFormat.Csv, [section], warnings);
    }

    private static byte[] ReadAll(Stream content)
    {
        if (content is MemoryStream memory && memory.Position == 0) return memory.ToArray();
        using var copy = new MemoryStream();
        content.CopyTo(copy);
        return copy.ToArray();
    }

    private sealed record Row(StatementLine Line, Amount? Balance);

    private static Row ReadRow(string[] fields, Columns columns, NumberFormat format, LocalDatePattern datePattern, string dateFormat,
        string location, Action<string> warn, HashSet<string> debitMarks)
    {
        string Required(Column column)
        {
            if (column.Index >= fields.Length)
                throw new StatementFormatException(location,
                    $"The row has {fields.Length} fields, but the {column.Role} is expected in column {column.Index + 1} (\"{column.Name}\").");
            return fields[column.Index].Trim();
        }
        string Optional(Column? column) => column is null || column.Index >= fields.Length ? "" : fields[column.Index].Trim();

        LocalDate Date(Column column, string cell)
        {
            if (cell.Length == 0) throw new StatementFormatException(location, $"The {column.Role} is empty.");
            var parsed = datePattern.Parse(cell);
            if (!parsed.Success)
                throw new StatementFormatException(location,
                    $"The {column.Role} \"{Shorten(cell)}\" is not a date in the form {dateFormat}.");
            return parsed.Value;
        }

        var booking = Date(columns.Date, Required(columns.Date));
        var valueCell = Optional(columns.ValueDate);
        var value = valueCell.Length == 0 ? booking : Date(columns.ValueDate!, valueCell);

        Amount amount;
        try
        {
            if (columns.Amount is { } amountColumn)
            {
                var cell = Required(amountColumn);
                if (cell.Length == 0) throw new StatementFormatException(location, $"The {amountColumn.Role} is empty.");
                amount = format.Parse(cell, amountColumn.Role, location);
                // With a mark column ("S"/"H") the amount is a magnitude and the mark says which way it went.
                if (columns.Sign is { } signColumn)
                {
                    var mark = Required(signColumn);
                    if (mark.Length == 0) throw new StatementFormatException(location, $"The {signColumn.Role} is empty.");
                    var magnitude = amount.MinorUnits < 0 ? -amount : amount;
                    amount = debitMarks.Contains(mark) ? -magnitude : magnitude;
                }
            }
            else
            {
                var debitCell = Optional(columns.Debit);
                var creditCell = Optional(columns.Credit);
                var debit = debitCell.Length == 0 ? Amount.Zero : format.Parse(debitCell, columns.Debit!.Role, location);
                var credit = creditCell.Length == 0 ? Amount.Zero : format.Parse(creditCell, columns.Credit!.Role, location);
                if (debit != Amount.Zero && credit != Amount.Zero)
                    throw new StatementFormatException(location,
                        $"The row has both a debit (\"{Shorten(debitCell)}\") and a credit (\"{Shorten(creditCell)}\"); only one of them may be filled.");
                if (credit.MinorUnits < 0)
                    throw new StatementFormatException(location,
                        $"The credit \"{Shorten(creditCell)}\" is negative; money in must be written as a positive amount.");
                // A debit is money out whether the bank writes it as "12,50" or "-12,50".
                amount = debit != Amount.Zero ? (debit.MinorUnits < 0 ? debit : -debit) : credit;
            }
        }
        catch (OverflowException)
        {
            throw new StatementFormatException(location, "The amount is too large.");
        }

        var balanceCell = Optional(columns.Balance);
        Amount? balance = balanceCell.Length == 0 ? null : format.Parse(balanceCell, columns.Balance!.Role, location);

        string? Text(Column? column, string what)
        {
            var cell = Clean(Optional(column));
            return cell.Length == 0 ? null : Cut(cell, what, location, warn);
        }

        var description = Cut(Clean(Required(columns.Description)), "description", location, warn);
        // Placeholders as the other formats drop them: an IBAN column holding no IBAN ("0000000000"), a reference of
        // "NOTPROVIDED" (SEPA's word for none).
        var iban = StatementText.IbanOrNull(Text(columns.Iban, "IBAN"));
        var reference = StatementText.ProvidedOrNull(Text(columns.Reference, "reference"));
        var line = new StatementLine(booking, value, amount, description, Text(columns.Counterparty, "counterparty"), iban,
            reference, IsReversal: false, location);
        return new Row(line, balance);
    }

    /// <summary>
    /// Checks the running balance (previous balance + amount = this balance) in chronological order — file order, or
    /// reversed for a newest-first export (the dates decide which to try first; the other is tried when it fails) — and
    /// returns the opening balance (before the first line) and closing balance (after the last), with the first and last
    /// booking dates. Rows without a balance are carried over.
    /// </summary>
    private static (Amount?, LocalDate?, Amount?, LocalDate?) CheckBalances(List<Row> rows, int digits)
    {
        if (rows.Count == 0 || rows.All(r => r.Balance is null)) return (null, null, null, null);
        var newestFirst = rows[0].Line.BookingDate > rows[^1].Line.BookingDate;
        var (order, failure) = Check(rows, reverse: newestFirst, digits);
        if (order is null)
        {
            (order, _) = Check(rows, reverse: !newestFirst, digits);
            if (order is null) throw failure!;
        }

        try
        {
            Amount? opening = null;
            var before = Amount.Zero;
            foreach (var row in order)
            {
                before += row.Line.Amount;
                if (row.Balance is { } b)
                {
                    opening = b - before;
                    break;
                }
            }
            Amount? closing = null;
            var after = Amount.Zero;
            for (var i = order.Count - 1; i >= 0; i--)
            {
                if (order[i].Balance is { } b)
                {
                    closing = b + after;
                    break;
                }
                after += order[i].Line.Amount;
            }
            return (opening, order[0].Line.BookingDate, closing, order[^1].Line.BookingDate);
        }
        catch (OverflowException)
        {
            throw new StatementFormatException("file", "The balances are too large to add up.");
        }
    }

    private static (List<Row>? Order, StatementFormatException? Failure) Check(List<Row> rows, bool reverse, int digits)
    {
        var order = new List<Row>(rows);
        if (reverse) order.Reverse();
        Amount? running = null;
        foreach (var row in order)
        {
            try
            {
                if (running is { } previous) running = previous + row.Line.Amount;
            }
            catch (OverflowException)
            {
                return (null, new StatementFormatException(row.Line.Location, "The running balance is too large to add up."));
            }
            if (row.Balance is not { } balance) continue;
            if (running is { } expected && expected != balance)
                return (null, new StatementFormatException(row.Line.Location,
                    $"The balance {balance.Format(digits)} does not follow from the previous row: the previous balance plus " +
                    $"{row.Line.Amount.Format(digits)} gives {expected.Format(digits)}{(reverse ? " (reading the file newest first)" : "")}."));
            running = balance;
        }
        return (order, null);
    }

    // ---- profile ---------------------------------------------------------------------------------------------

    private static Encoding EncodingOf(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        "utf-8" or "utf8" => new UTF8Encoding(encoderShouldEmitUTF8Identifier: true, throwOnInvalidBytes: true),
        "iso-8859-1" or "latin1" or "latin-1" => Encoding.Latin1,
        "windows-1252" or "cp1252" => Windows1252.Value,
        _ => throw new StatementFormatException("profile.encoding",
            $"The encoding \"{name}\" is not supported; use utf-8, iso-8859-1 or windows-1252."),
    };

    private static char SeparatorOf(string? delimiter)
    {
        var d = delimiter switch { "\\t" or "tab" or "TAB" => "\t", _ => delimiter };
        if (d is not { Length: 1 } || d[0] > 127 || d[0] is '"' or '\r' or '\n' || char.IsLetterOrDigit(d[0]))
            throw new StatementFormatException("profile.delimiter",
                $"The delimiter \"{delimiter}\" cannot be used: it must be one character such as ; , | or a tab.");
        return d[0];
    }

    private static LocalDatePattern DatePattern(string? format)
    {
        if (string.IsNullOrWhiteSpace(format))
            throw new StatementFormatException("profile.dateFormat", "The profile gives no date format (such as dd.MM.yyyy).");
        try
        {
            return LocalDatePattern.CreateWithInvariantCulture(format);
        }
        catch (InvalidPatternException e)
        {
            throw new StatementFormatException("profile.dateFormat", $"The date format \"{format}\" is not valid: {e.Message}");
        }
    }

    private static void CheckAmountColumns(CsvColumns columns)
    {
        var signed = !string.IsNullOrWhiteSpace(columns.Amount);
        var debit = !string.IsNullOrWhiteSpace(columns.Debit);
        var credit = !string.IsNullOrWhiteSpace(columns.Credit);
        if (signed ? debit || credit : !(debit && credit))
            throw new StatementFormatException("profile.columns",
                "The profile must name either an amount column, or both a debit and a credit column.");
    }

    private sealed record Column(string Name, string Role, int Index);

    private sealed record Columns(Column Date, Column? ValueDate, Column? Amount, Column? Debit, Column? Credit, Column Description,
        Column? Counterparty, Column? Iban, Column? Reference, Column? Balance, Column? Sign, Column? Status)
    {
        /// <summary>Finds each profile column in the header (trimmed, any case) or, without one, by 1-based position.</summary>
        public static Columns Resolve(CsvColumns names, string[]? header, string headerLocation)
        {
            Column? Find(string? name, string role)
            {
                if (string.IsNullOrWhiteSpace(name)) return null;
                name = name.Trim();
                if (header is not null)
                {
                    for (var i = 0; i < header.Length; i++)
                        if (string.Equals(header[i].Trim(), name, StringComparison.OrdinalIgnoreCase))
                            return new Column(name, role, i);
                }
                if (int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var position)
                    && position >= 1 && position <= (header?.Length ?? 10_000))
                    return new Column(name, role, position - 1);
                if (header is not null)
                    throw new StatementFormatException(headerLocation,
                        $"The header has no column \"{name}\" for the {role}. Its columns are: " +
                        string.Join(", ", header.Select(h => $"\"{Shorten(Clean(h))}\"").Take(40)) + ".");
                throw new StatementFormatException("profile.columns",
                    $"Without a header line the {role} column must be a position (1 for the first column), not \"{name}\".");
            }

            return new Columns(
                Find(names.Date, "booking date")!,
                Find(names.ValueDate, "value date"),
                Find(names.Amount, "amount"),
                Find(names.Debit, "debit"),
                Find(names.Credit, "credit"),
                Find(names.Description, "description") ?? throw new StatementFormatException("profile.columns", "The profile names no description column."),
                Find(names.Counterparty, "counterparty"),
                Find(names.Iban, "IBAN"),
                Find(names.Reference, "reference"),
                Find(names.Balance, "balance"),
                Find(names.Sign, "debit/credit mark"),
                Find(names.Status, "status"));
        }
    }

    /// <summary>The bank's number notation: decimal separator, optional thousands separator, signs "-12,50", "12,50-", "(12,50)".</summary>
    private sealed class NumberFormat
    {
        private readonly char decimalSeparator;
        private readonly char? thousandsSeparator;
        private readonly int digits;

        public NumberFormat(CsvProfile profile, int digits)
        {
            decimalSeparator = profile.DecimalSeparator;
            thousandsSeparator = profile.ThousandsSeparator;
            this.digits = digits;
            if (char.IsDigit(decimalSeparator) || decimalSeparator is '-' or '+' or '(' or ')')
                throw new StatementFormatException("profile.decimalSeparator", $"\"{decimalSeparator}\" cannot be a decimal separator.");
            if (thousandsSeparator is { } t && (t == decimalSeparator || char.IsDigit(t) || t is '-' or '+' or '(' or ')'))
                throw new StatementFormatException("profile.thousandsSeparator",
                    $"\"{t}\" cannot be the thousands separator when the decimal separator is \"{decimalSeparator}\".");
        }

        private bool IsThousands(char c) =>
            thousandsSeparator is { } t && (c == t || (t == ' ' && c is '\u00A0' or '\u202F'));

        public Amount Parse(string raw, string role, string location)
        {
            var s = raw.Trim();
            var negative = false;
            if (s.Length >= 2 && s[0] == '(' && s[^1] == ')')
            {
                negative = true;
                s = s[1..^1].Trim();
            }
            if (s.EndsWith('-') || s.EndsWith('+'))
            {
                if (s[^1] == '-') negative = !negative ? true : throw Bad(raw, role, location, "has two minus signs.");
                s = s[..^1].TrimEnd();
            }
            if (s.StartsWith('-') || s.StartsWith('+'))
            {
                if (s[0] == '-') negative = !negative ? true : throw Bad(raw, role, location, "has two minus signs.");
                s = s[1..].TrimStart();
            }

            var whole = new StringBuilder(s.Length);
            var fraction = new StringBuilder();
            var seenDecimal = false;
            var groups = new List<int>();
            var group = 0;
            foreach (var c in s)
            {
                if (c is >= '0' and <= '9')
                {
                    (seenDecimal ? fraction : whole).Append(c);
                    group++;
                }
                else if (c == decimalSeparator && !seenDecimal)
                {
                    seenDecimal = true;
                }
                else if (IsThousands(c) && !seenDecimal)
                {
                    groups.Add(group);
                    group = 0;
                }
                else throw Bad(raw, role, location,
                    c == decimalSeparator ? "has more than one decimal separator."
                    : $"is not a number written as the profile expects (decimal separator \"{decimalSeparator}\"" +
                      (thousandsSeparator is { } t ? $", thousands separator \"{(t == ' ' ? "space" : t.ToString())}\")." : ")."));
            }
            if (groups.Count > 0)
            {
                // 1.234.567,89: the first group has 1 to 3 digits, every later one exactly 3.
                groups.Add(seenDecimal ? whole.Length - groups.Sum() : group);
                if (groups[0] is < 1 or > 3 || groups.Skip(1).Any(g => g != 3))
                    throw Bad(raw, role, location, "has its thousands separators in the wrong places.");
            }
            if (whole.Length == 0 && fraction.Length > 0) whole.Append('0');
            var plain = (negative ? "-" : "") + whole + (seenDecimal ? "." + fraction : "");
            var parsed = Amount.Parse(plain, digits);
            if (!parsed.Success) throw Bad(raw, role, location, parsed.Error!);
            return parsed.Value;
        }

        private static StatementFormatException Bad(string raw, string role, string location, string problem) =>
            new(location, $"The {role} \"{Shorten(raw)}\" {problem}");
    }

    // ---- text ------------------------------------------------------------------------------------------------

    private static string Cut(string text, string what, string location, Action<string> warn)
    {
        if (text.Length <= StatementLimits.MaxTextLength) return text;
        var length = StatementLimits.MaxTextLength;
        if (char.IsHighSurrogate(text[length - 1])) length--;
        warn($"{location}: the {what} was longer than {StatementLimits.MaxTextLength} characters and was cut.");
        return text[..length];
    }

    private static string Shorten(string text) => text.Length <= 40 ? Clean(text) : Clean(text[..40]) + "…";

    // One cleaning for every format's texts.
    private static string Clean(string text) => StatementText.Clean(text);
}
