using System.Text;
using System.Xml;
using System.Xml.Linq;
using Ledger.Domain;
using NodaTime;
using NodaTime.Text;

namespace Ledger.BankStatements;

/// <summary>
/// Reads an ISO 20022 camt.053 BankToCustomerStatement (camt.053.001.02 to .001.08). Elements are matched by local
/// name, so any of the versions' namespaces (or none) reads the same. The file is read forward-only: only the
/// current <c>Acct</c>, <c>Bal</c> or <c>Ntry</c> element is held in memory, and no DTD or external entity is ever
/// resolved. Entries that are not booked (<c>PDNG</c>, <c>INFO</c>, <c>FUTR</c>) are skipped with a warning; a
/// batch entry whose transaction details each state an amount becomes one line per transaction.
/// </summary>
public static class Camt053Parser
{
    private const string MessagePath = "Document/BkToCstmrStmt";

    public static StatementFile Parse(Stream content, StatementReadOptions options)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(options);
        var run = new Run(options.Digits);
        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            IgnoreComments = true,
            IgnoreProcessingInstructions = true,
            IgnoreWhitespace = true,
            CloseInput = false,
        };
        try
        {
            using var reader = XmlReader.Create(content, settings);
            ReadDocument(reader, run);
        }
        catch (XmlException e)
        {
            // A refused DTD carries no position, and its message speaks to programmers.
            if (e.LineNumber == 0 && e.Message.Contains("DTD", StringComparison.Ordinal))
                throw new StatementFormatException("file",
                    "The file contains a document type declaration (<!DOCTYPE>), which is refused for security reasons; a camt.053 statement never has one.");
            throw new StatementFormatException(e.LineNumber > 0 ? $"line {e.LineNumber}" : "file",
                $"The file is not well-formed XML, so it cannot be read as a camt.053 statement: {e.Message}");
        }
        return new StatementFile(StatementFormat.Camt053, run.Sections, run.Warnings.ToList());
    }

    private static void ReadDocument(XmlReader reader, Run run)
    {
        reader.MoveToContent();
        if (reader.NodeType != XmlNodeType.Element)
            throw new StatementFormatException("file", "The file holds no XML element.");
        if (reader.LocalName != "Document")
            throw new StatementFormatException(reader.LocalName,
                $"This is not a camt.053 statement: the file starts with <{reader.LocalName}> instead of <Document>.");

        var found = false;
        foreach (var name in Children(reader))
        {
            switch (name)
            {
                case "BkToCstmrStmt":
                    if (found)
                        throw new StatementFormatException(MessagePath, "The file holds more than one <BkToCstmrStmt>.");
                    found = true;
                    ReadMessage(reader, run);
                    break;
                case "BkToCstmrAcctRpt":
                    throw new StatementFormatException("Document/" + name,
                        "This is a camt.052 account report (intraday), not a camt.053 end-of-day statement.");
                case "BkToCstmrDbtCdtNtfctn":
                    throw new StatementFormatException("Document/" + name,
                        "This is a camt.054 debit/credit notification, not a camt.053 statement.");
                default:
                    reader.Skip();
                    break;
            }
        }
        if (!found)
            throw new StatementFormatException("Document", "This is not a camt.053 statement: <Document> holds no <BkToCstmrStmt>.");
    }

    private static void ReadMessage(XmlReader reader, Run run)
    {
        var statements = 0;
        foreach (var name in Children(reader))
        {
            if (name == "Stmt")
            {
                statements++;
                ReadStatement(reader, run, $"{MessagePath}/Stmt[{statements}]");
            }
            else reader.Skip();
        }
        if (statements == 0)
            throw new StatementFormatException(MessagePath, "The statement message holds no statement (<Stmt>).");
    }

    private static void ReadStatement(XmlReader reader, Run run, string path)
    {
        string? account = null;
        string? currency = null;
        (Amount Amount, LocalDate? Date, string Code)? opening = null;
        (Amount Amount, LocalDate? Date)? closing = null;
        // A statement sent in pages closes each page but the last with an interim booked balance (ITBD) instead.
        (Amount Amount, LocalDate? Date)? interim = null;
        var lines = new List<StatementLine>();
        var balances = 0;
        var entries = 0;

        foreach (var name in Children(reader))
        {
            switch (name)
            {
                case "Acct":
                {
                    var acct = (XElement)XNode.ReadFrom(reader);
                    account = Text(Find(acct, "Id", "IBAN")) is { } iban ? CompactIban(iban)
                        : Text(Find(acct, "Id", "Othr", "Id")) is { } other ? Clean(other) : null;
                    if (account is not null) account = run.Cut(account, "account identifier", path + "/Acct");
                    currency = Text(Find(acct, "Ccy"))?.ToUpperInvariant();
                    break;
                }
                case "Bal":
                {
                    balances++;
                    var balPath = $"{path}/Bal[{balances}]";
                    var bal = (XElement)XNode.ReadFrom(reader);
                    var code = Text(Find(bal, "Tp", "CdOrPrtry", "Cd"))?.ToUpperInvariant();
                    if (code is not ("OPBD" or "PRCD" or "CLBD" or "ITBD")) break; // available balances are not needed
                    var (magnitude, ccy) = ReadAmount(Find(bal, "Amt"), balPath + "/Amt", run.Digits);
                    currency = CheckCurrency(currency, ccy, balPath + "/Amt");
                    var amount = ReadSign(Find(bal, "CdtDbtInd"), balPath + "/CdtDbtInd") < 0 ? -magnitude : magnitude;
                    var dateHolder = Find(bal, "Dt");
                    LocalDate? date = dateHolder is null ? null : ReadDate(dateHolder, balPath + "/Dt");
                    if (code == "ITBD") interim = (amount, date);
                    else if (code == "CLBD")
                    {
                        if (closing is not null) run.Warnings.Add($"{balPath}: a second closing balance (CLBD) was ignored.");
                        else closing = (amount, date);
                    }
                    else if (opening is null || (opening.Value.Code == "PRCD" && code == "OPBD")) opening = (amount, date, code);
                    else if (opening.Value.Code == code) run.Warnings.Add($"{balPath}: a second opening balance ({code}) was ignored.");
                    break;
                }
                case "Ntry":
                {
                    entries++;
                    var entryPath = $"{path}/Ntry[{entries}]";
                    if (++run.Entries > StatementLimits.MaxLines)
                        throw new StatementFormatException(entryPath,
                            $"The file holds more than {StatementLimits.MaxLines:N0} entries; split it into smaller statements.");
                    var ntry = (XElement)XNode.ReadFrom(reader);
                    currency = ReadEntry(ntry, entryPath, currency, lines, run);
                    break;
                }
                default:
                    reader.Skip();
                    break;
            }
        }

        // Without a closing balance, a page's interim booked balance is what its lines must reach: checked like one.
        closing ??= interim;
        run.Sections.Add(new StatementSection(account, currency, opening?.Amount, opening?.Date, closing?.Amount, closing?.Date, lines));
    }

    /// <summary>Adds the entry's line(s) to <paramref name="lines"/>; returns the statement's currency (learnt from the entry when the account gave none).</summary>
    private static string? ReadEntry(XElement ntry, string path, string? currency, List<StatementLine> lines, Run run)
    {
        var status = EntryStatus(ntry);
        if (status is not null && status != "BOOK")
        {
            var what = status switch { "PDNG" => "pending", "INFO" => "information-only", "FUTR" => "future", _ => "not booked" };
            run.Warnings.Add($"{path}: skipped an entry with status {status} ({what}); only booked entries are imported.");
            return currency;
        }

        var (magnitude, ccy) = ReadAmount(Find(ntry, "Amt"), path + "/Amt", run.Digits);
        currency = CheckCurrency(currency, ccy, path + "/Amt");
        var sign = ReadSign(Find(ntry, "CdtDbtInd"), path + "/CdtDbtInd");
        var entryAmount = sign < 0 ? -magnitude : magnitude;
        var reversal = ReadBool(Find(ntry, "RvslInd"), path + "/RvslInd");

        var bookedAt = Find(ntry, "BookgDt");
        var valuedAt = Find(ntry, "ValDt");
        var booking = bookedAt is not null ? ReadDate(bookedAt, path + "/BookgDt")
            : valuedAt is not null ? ReadDate(valuedAt, path + "/ValDt")
            : throw new StatementFormatException(path, "The entry has no booking date (<BookgDt>).");
        var value = valuedAt is not null ? ReadDate(valuedAt, path + "/ValDt") : booking;

        var entryRef = Reference(Find(ntry, "AcctSvcrRef"));
        var entryInfo = Text(Find(ntry, "AddtlNtryInf"));

        // Transaction details, possibly spread over several NtryDtls (a .001.02 batch also carries a Btch summary).
        var details = new List<(XElement Tx, string Path)>();
        var groups = All(ntry, "NtryDtls");
        for (var g = 0; g < groups.Count; g++)
        {
            var groupPath = groups.Count == 1 ? path + "/NtryDtls" : $"{path}/NtryDtls[{g + 1}]";
            var index = 0;
            foreach (var tx in All(groups[g], "TxDtls"))
            {
                index++;
                if (details.Count >= StatementLimits.MaxLines)
                    throw new StatementFormatException(path, $"The entry holds more than {StatementLimits.MaxLines:N0} transaction details.");
                details.Add((tx, $"{groupPath}/TxDtls[{index}]"));
            }
        }

        if (details.Count >= 2)
        {
            var parts = new List<(XElement Tx, string Path, Amount Amount, int Sign)>(details.Count);
            foreach (var (tx, txPath) in details)
            {
                var amountElement = Find(tx, "Amt") is { } own ? (Element: own, Path: txPath + "/Amt")
                    : Find(tx, "AmtDtls", "TxAmt", "Amt") is { } txAmt ? (Element: txAmt, Path: txPath + "/AmtDtls/TxAmt/Amt")
                    : (Element: (XElement?)null, Path: txPath);
                if (amountElement.Element is null) break;
                var (partMagnitude, partCcy) = ReadAmount(amountElement.Element, amountElement.Path, run.Digits);
                if (partCcy is not null && ccy is not null && !string.Equals(partCcy, ccy, StringComparison.OrdinalIgnoreCase))
                {
                    run.Warnings.Add($"{txPath}: the transaction amount is in {partCcy}, not the entry's {ccy}, so the entry is imported as one line.");
                    break;
                }
                var partSign = Find(tx, "CdtDbtInd") is { } ind ? ReadSign(ind, txPath + "/CdtDbtInd") : sign;
                parts.Add((tx, txPath, partMagnitude, partSign));
            }

            if (parts.Count == details.Count)
            {
                var sum = Amount.Zero;
                try
                {
                    foreach (var part in parts) sum += part.Sign < 0 ? -part.Amount : part.Amount;
                }
                catch (OverflowException)
                {
                    throw new StatementFormatException(path, "The transaction amounts of this entry are too large to add up.");
                }
                if (sum != entryAmount)
                    throw new StatementFormatException(path,
                        $"The {parts.Count} transaction details add up to {sum.Format(run.Digits)}, but the entry amount is {entryAmount.Format(run.Digits)}.");

                var used = new HashSet<string>(StringComparer.Ordinal);
                for (var i = 0; i < parts.Count; i++)
                {
                    var (tx, txPath, partMagnitude, partSign) = parts[i];
                    var own = Reference(Find(tx, "Refs", "AcctSvcrRef"));
                    var endToEnd = Reference(Find(tx, "Refs", "EndToEndId"));
                    var reference = own
                        ?? (entryRef is not null ? $"{entryRef}/{endToEnd ?? (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)}" : endToEnd);
                    if (reference is not null && !used.Add(reference))
                    {
                        reference = $"{reference}/{i + 1}";
                        used.Add(reference);
                    }
                    run.AddLine(lines, MakeLine(run, booking, value, partSign < 0 ? -partMagnitude : partMagnitude, partSign, reversal,
                        tx, reference, entryInfo, txPath));
                }
                return currency;
            }
            if (parts.Count > 0)
                run.Warnings.Add($"{path}: not every one of the {details.Count} transaction details states an amount, so the entry is imported as one line.");
        }

        var single = details.Count == 1 ? details[0].Tx : null;
        var singleRef = Reference(Find(single, "Refs", "AcctSvcrRef")) ?? entryRef ?? Reference(Find(single, "Refs", "EndToEndId"));
        var fallback = details.Count > 1 ? entryInfo ?? $"Batch of {details.Count} transactions" : entryInfo;
        run.AddLine(lines, MakeLine(run, booking, value, entryAmount, sign, reversal, single, singleRef, fallback, path));
        return currency;
    }

    private static StatementLine MakeLine(Run run, LocalDate booking, LocalDate value, Amount amount, int sign, bool reversal,
        XElement? tx, string? reference, string? fallbackDescription, string location)
    {
        // A credit's counterparty is the debtor, a debit's the creditor. A reversal keeps the parties of the booking
        // it undoes, so the sides swap: a reversed debit (booked as a credit) still names the original creditor.
        var fromDebtor = (sign > 0) != reversal;
        var parties = Find(tx, "RltdPties");
        var partyName = fromDebtor
            ? Text(Find(parties, "Dbtr", "Nm")) ?? Text(Find(parties, "Dbtr", "Pty", "Nm"))
            : Text(Find(parties, "Cdtr", "Nm")) ?? Text(Find(parties, "Cdtr", "Pty", "Nm"));
        var iban = Text(Find(parties, fromDebtor ? "DbtrAcct" : "CdtrAcct", "Id", "IBAN"));

        var remittance = Find(tx, "RmtInf");
        var description = Join(remittance, "Ustrd")
            ?? JoinStructuredRefs(remittance)
            ?? Text(Find(tx, "AddtlTxInf"))
            ?? fallbackDescription
            ?? "";

        return new StatementLine(
            booking,
            value,
            amount,
            run.Cut(Clean(description), "description", location),
            partyName is null ? null : run.Cut(Clean(partyName), "counterparty", location),
            iban is null ? null : run.Cut(CompactIban(iban), "counterparty IBAN", location),
            reference is null ? null : run.Cut(Clean(reference), "bank reference", location),
            reversal,
            location);
    }

    // ---- values --------------------------------------------------------------------------------------------

    private static (Amount Magnitude, string? Currency) ReadAmount(XElement? amt, string path, int digits)
    {
        if (amt is null) throw new StatementFormatException(path, "The amount is missing.");
        var text = amt.Value.Trim();
        var parsed = Amount.Parse(text, digits);
        if (!parsed.Success)
            throw new StatementFormatException(path, $"The amount \"{Shorten(text)}\" {parsed.Error}");
        if (parsed.Value.MinorUnits < 0)
            throw new StatementFormatException(path,
                $"The amount \"{Shorten(text)}\" is negative; camt.053 gives the direction in <CdtDbtInd>, never with a minus sign.");
        string? ccy = null;
        for (var attribute = amt.FirstAttribute; attribute is not null; attribute = attribute.NextAttribute)
        {
            if (attribute.Name.LocalName != "Ccy") continue;
            ccy = attribute.Value.Trim().ToUpperInvariant();
            break;
        }
        return (parsed.Value, string.IsNullOrEmpty(ccy) ? null : ccy);
    }

    private static string? CheckCurrency(string? statement, string? amount, string path)
    {
        if (amount is null) return statement;
        if (statement is null) return amount;
        if (!string.Equals(statement, amount, StringComparison.OrdinalIgnoreCase))
            throw new StatementFormatException(path, $"The amount is in {amount}, but the account is kept in {statement}.");
        return statement;
    }

    private static int ReadSign(XElement? indicator, string path)
    {
        var code = Text(indicator);
        return code switch
        {
            "CRDT" => 1,
            "DBIT" => -1,
            null => throw new StatementFormatException(path, "The credit/debit indicator (<CdtDbtInd>) is missing."),
            _ => throw new StatementFormatException(path, $"The credit/debit indicator must be CRDT or DBIT, not \"{Shorten(code)}\"."),
        };
    }

    private static bool ReadBool(XElement? element, string path) => Text(element) switch
    {
        null or "false" or "0" => false,
        "true" or "1" => true,
        var other => throw new StatementFormatException(path, $"The reversal indicator must be true or false, not \"{Shorten(other)}\"."),
    };

    /// <summary>The entry's status: the plain code of .001.02–.001.07 (<c>&lt;Sts&gt;BOOK&lt;/Sts&gt;</c>) or <c>Sts/Cd</c> (or <c>Sts/Prtry</c>) of .001.08.</summary>
    private static string? EntryStatus(XElement ntry)
    {
        var sts = Find(ntry, "Sts");
        if (sts is null) return null;
        var code = sts.HasElements ? Text(Find(sts, "Cd")) ?? Text(Find(sts, "Prtry")) : Text(sts);
        return code?.ToUpperInvariant();
    }

    /// <summary>Reads <c>Dt</c> (a date) or <c>DtTm</c> (a date and time, whose date part as written is taken) inside <paramref name="holder"/>.</summary>
    private static LocalDate ReadDate(XElement holder, string path)
    {
        if (Find(holder, "Dt") is { } dt) return ParseDate(dt.Value.Trim(), path + "/Dt", dateTime: false);
        if (Find(holder, "DtTm") is { } dtTm) return ParseDate(dtTm.Value.Trim(), path + "/DtTm", dateTime: true);
        throw new StatementFormatException(path, "The date is missing: expected <Dt> or <DtTm>.");
    }

    private static LocalDate ParseDate(string text, string path, bool dateTime)
    {
        if (text.Length >= 10)
        {
            var rest = text.AsSpan(10);
            var restOk = dateTime
                ? rest.Length > 1 && rest[0] == 'T'
                : rest.IsEmpty || rest[0] is 'Z' or '+' or '-';
            if (restOk)
            {
                var result = LocalDatePattern.Iso.Parse(text[..10]);
                if (result.Success) return result.Value;
            }
        }
        throw new StatementFormatException(path, dateTime
            ? $"\"{Shorten(text)}\" is not a date and time such as 2024-03-31T12:00:00."
            : $"\"{Shorten(text)}\" is not a date such as 2024-03-31.");
    }

    private static string? Reference(XElement? element)
    {
        var text = Text(element);
        return StatementText.ProvidedOrNull(text);
    }

    private static string? Join(XElement? parent, string name)
    {
        if (parent is null) return null;
        var parts = All(parent, name).Select(Text).OfType<string>().ToList();
        return parts.Count == 0 ? null : string.Join(' ', parts);
    }

    private static string? JoinStructuredRefs(XElement? remittance)
    {
        if (remittance is null) return null;
        var refs = All(remittance, "Strd").Select(s => Text(Find(s, "CdtrRefInf", "Ref"))).OfType<string>().ToList();
        return refs.Count == 0 ? null : string.Join(' ', refs);
    }

    // ---- XML helpers -----------------------------------------------------------------------------------------

    /// <summary>
    /// Yields the local name of each child element of the element the reader is on, leaving the reader on that child;
    /// the caller must consume the child (Skip or XNode.ReadFrom) before asking for the next. Ends after the parent's end tag.
    /// </summary>
    private static IEnumerable<string> Children(XmlReader reader)
    {
        if (reader.IsEmptyElement)
        {
            reader.Read();
            yield break;
        }
        var depth = reader.Depth;
        reader.Read();
        while (!reader.EOF)
        {
            if (reader.NodeType == XmlNodeType.EndElement && reader.Depth == depth)
            {
                reader.Read();
                yield break;
            }
            if (reader.NodeType == XmlNodeType.Element && reader.Depth == depth + 1) yield return reader.LocalName;
            else reader.Read();
        }
    }

    /// <summary>The first descendant along <paramref name="names"/> (local names, any namespace), or null.</summary>
    private static XElement? Find(XElement? element, params ReadOnlySpan<string> names)
    {
        foreach (var name in names)
        {
            if (element is null) return null;
            var node = element.FirstNode;
            while (node is not null && (node is not XElement child || child.Name.LocalName != name)) node = node.NextNode;
            element = (XElement?)node;
        }
        return element;
    }

    /// <summary>The children of <paramref name="element"/> with local name <paramref name="name"/>, in order.</summary>
    private static List<XElement> All(XElement element, string name)
    {
        var all = new List<XElement>();
        for (var node = element.FirstNode; node is not null; node = node.NextNode)
            if (node is XElement child && child.Name.LocalName == name) all.Add(child);
        return all;
    }

    /// <summary>The element's trimmed text, or null when it is absent or blank.</summary>
    private static string? Text(XElement? element)
    {
        if (element is null) return null;
        var value = element.Value.Trim();
        return value.Length == 0 ? null : value;
    }

    private static string CompactIban(string iban) => Clean(iban).Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant();

    private static string Shorten(string text) => text.Length <= 40 ? Clean(text) : Clean(text[..40]) + "…";

    // One cleaning for every format's texts.
    private static string Clean(string text) => StatementText.Clean(text);

    private sealed class Run(int digits)
    {
        public int Digits { get; } = digits;
        public int Entries { get; set; }
        public List<StatementSection> Sections { get; } = [];
        public WarningList Warnings { get; } = new();
        private int lineCount;

        public void AddLine(List<StatementLine> lines, StatementLine line)
        {
            if (++lineCount > StatementLimits.MaxLines)
                throw new StatementFormatException(line.Location,
                    $"The file holds more than {StatementLimits.MaxLines:N0} statement lines; split it into smaller statements.");
            lines.Add(line);
        }

        public string Cut(string text, string what, string location)
        {
            if (text.Length <= StatementLimits.MaxTextLength) return text;
            var length = StatementLimits.MaxTextLength;
            if (char.IsHighSurrogate(text[length - 1])) length--;
            Warnings.Add($"{location}: the {what} was longer than {StatementLimits.MaxTextLength} characters and was cut.");
            return text[..length];
        }
    }

    /// <summary>Warnings, at most <see cref="Max"/> of them; the rest are counted in a last warning.</summary>
    private sealed class WarningList
    {
        private const int Max = 200;
        private readonly List<string> items = [];
        private int dropped;

        public void Add(string warning)
        {
            if (items.Count < Max) items.Add(warning);
            else dropped++;
        }

        public List<string> ToList()
        {
            var all = new List<string>(items);
            if (dropped > 0) all.Add($"… and {dropped:N0} more warnings like these.");
            return all;
        }
    }
}
