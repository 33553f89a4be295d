using System.Text.Json.Nodes;
using Ledger.Domain;

namespace Ledger.Api.Features.Audit;

/// <summary>
/// What an event says about a journal entry: built from the entry as it is posted, and again from the stored rows
/// when the audit checks that the rows still say it. Both paths give the same canonical bytes, or the row changed.
/// </summary>
public static class AuditSnapshots
{
    [ThreadStatic] private static System.Text.StringBuilder? _text;

    /// <summary>One posted line: its account's code, the amount signed as stored (debit positive), its party if any.</summary>
    public readonly record struct EntryLine(string Account, long Signed, string? Description, string? PartyKind, long? PartyId);

    /// <summary>
    /// The canonical text of <see cref="Entry"/>, written directly with the members in their sorted order: every posted
    /// entry goes through here, and building a JSON tree to sort and write it would cost the poster a fifth of its time.
    /// A test holds it equal to <c>CanonicalJson.Text(Entry(...))</c>.
    /// </summary>
    public static string EntryText(long id, long number, string date, string description, string? reference, long? reversalOf, bool closing,
        string? sourceType, long? sourceId, IReadOnlyList<EntryLine> lines, int digits) =>
        EntryText(id, number, date, description, reference, reversalOf, closing, sourceType, sourceId, lines, digits, [], out _);

    /// <summary>
    /// As <see cref="EntryText"/>, with the fingerprints the entry's rows keep (when <paramref name="lineFingerprints"/>
    /// has room for them): XXH3-64 of the UTF-16 code units of the entry's text with its lines' array emptied (seed 0),
    /// and of each line's text (seed: the line's number). The event's hash proves the rows unchanged; when it does not,
    /// the fingerprints say which row changed.
    /// </summary>
    public static string EntryText(long id, long number, string date, string description, string? reference, long? reversalOf, bool closing,
        string? sourceType, long? sourceId, IReadOnlyList<EntryLine> lines, int digits, Span<long> lineFingerprints, out long entryFingerprint)
    {
        var t = _text ??= new System.Text.StringBuilder(512);
        t.Clear();
        var fingerprints = lineFingerprints.Length >= lines.Count;
        // Members sorted by name: closing, date, description, id, lines, number, reference, reversalOf, source.
        t.Append("{\"closing\":").Append(closing ? "true" : "false");
        t.Append(",\"date\":"); CanonicalJson.AppendString(t, date);
        t.Append(",\"description\":"); CanonicalJson.AppendString(t, description);
        t.Append(",\"id\":").Append(id);
        t.Append(",\"lines\":[");
        var linesStart = t.Length;
        for (var i = 0; i < lines.Count; i++)
        {
            if (i > 0) t.Append(',');
            var lineStart = t.Length;
            AppendLine(t, lines[i], digits);
            if (fingerprints) lineFingerprints[i] = Fingerprint(t, lineStart, t.Length - lineStart, seed: i);
        }
        var linesEnd = t.Length;
        t.Append("],\"number\":").Append(number);
        t.Append(",\"reference\":");
        if (reference is null) t.Append("null"); else CanonicalJson.AppendString(t, reference);
        t.Append(",\"reversalOf\":");
        if (reversalOf is null) t.Append("null"); else t.Append(reversalOf.Value);
        t.Append(",\"source\":");
        if (sourceType is null) t.Append("null");
        else
        {
            t.Append("{\"id\":");
            if (sourceId is null) t.Append("null"); else t.Append(sourceId.Value);
            t.Append(",\"type\":"); CanonicalJson.AppendString(t, sourceType); t.Append('}');
        }
        var text = t.Append('}').ToString();
        entryFingerprint = 0;
        if (fingerprints)
        {
            // The entry's own members: the text with the lines' array emptied.
            var own = new System.IO.Hashing.XxHash3();
            own.Append(System.Runtime.InteropServices.MemoryMarshal.AsBytes(text.AsSpan(0, linesStart)));
            own.Append(System.Runtime.InteropServices.MemoryMarshal.AsBytes(text.AsSpan(linesEnd)));
            entryFingerprint = unchecked((long)own.GetCurrentHashAsUInt64());
        }
        return text;
    }

    private static void AppendLine(System.Text.StringBuilder t, EntryLine line, int digits)
    {
        // Line members sorted: account, credit, customer, debit, description, vendor.
        t.Append("{\"account\":"); CanonicalJson.AppendString(t, line.Account);
        var amount = Magnitude(line.Signed, digits);
        if (line.Signed < 0) { t.Append(",\"credit\":"); CanonicalJson.AppendString(t, amount); }
        if (line.PartyKind == "customer") t.Append(",\"customer\":").Append(line.PartyId);
        if (line.Signed >= 0) { t.Append(",\"debit\":"); CanonicalJson.AppendString(t, amount); }
        t.Append(",\"description\":");
        if (line.Description is null) t.Append("null"); else CanonicalJson.AppendString(t, line.Description);
        if (line.PartyKind == "vendor") t.Append(",\"vendor\":").Append(line.PartyId);
        t.Append('}');
    }

    // The amount without its sign, formatted from the signed value: Math.Abs would throw on a stored long.MinValue, which
    // only a changed row holds, and the feed and the audit must still read that row (the audit then names it).
    private static string Magnitude(long signed, int digits)
    {
        var formatted = new Amount(signed).Format(digits);
        return signed < 0 ? formatted[1..] : formatted;
    }

    private static long Fingerprint(System.Text.StringBuilder t, int start, int length, long seed)
    {
        Span<char> chars = length <= 512 ? stackalloc char[length] : new char[length];
        t.CopyTo(start, chars, length);
        return Fingerprint(chars, seed);
    }

    // XXH3 (64 bits, seed 0) over the text's UTF-16 code units: a fingerprint only says which row changed once the chain
    // has shown that one did, so it needs no cryptographic strength (nor could any unkeyed hash resist someone who can
    // rewrite the row beside it), only to be cheap, as every posted entry and line computes one.
    // The seed is the line's number, so a line moved to another place no longer matches.
    private static long Fingerprint(ReadOnlySpan<char> text, long seed) =>
        unchecked((long)System.IO.Hashing.XxHash3.HashToUInt64(System.Runtime.InteropServices.MemoryMarshal.AsBytes(text), seed));

    public static JsonObject Entry(long id, long number, string date, string description, string? reference, long? reversalOf, bool closing,
        string? sourceType, long? sourceId, IReadOnlyList<EntryLine> lines, int digits)
    {
        var array = new JsonArray();
        foreach (var line in lines)
        {
            var amount = Magnitude(line.Signed, digits);
            var node = new JsonObject { ["account"] = line.Account, [line.Signed >= 0 ? "debit" : "credit"] = amount, ["description"] = line.Description };
            if (line.PartyKind is { } kind) node[kind] = line.PartyId;
            array.Add(node);
        }
        return new JsonObject
        {
            ["id"] = id,
            ["number"] = number,
            ["date"] = date,
            ["description"] = description,
            ["reference"] = reference,
            ["reversalOf"] = reversalOf,
            ["closing"] = closing,
            ["source"] = sourceType is null ? null : new JsonObject { ["type"] = sourceType, ["id"] = sourceId },
            ["lines"] = array,
        };
    }
}

/// <summary>What an event says about a document (invoice, bill, credit note, vendor credit): its stored figures and lines.</summary>
public static class DocumentSnapshots
{
    public static JsonObject? Read(System.Data.Common.DbConnection connection, string bookId, long id, int digits)
    {
        var d = Dapper.SqlMapper.QuerySingleOrDefault<DocumentRow>(connection, SelectDocumentSql, new { bookId, id });
        if (d is null) return null;
        var lines = Dapper.SqlMapper.Query<LineRow>(connection, SelectLinesSql, new { bookId, id });
        return Build(d, lines, digits);
    }

    public static JsonObject Build(DocumentRow d, IEnumerable<LineRow> lines, int digits)
    {
        string F(long v) => new Amount(v).Format(digits);
        var array = new JsonArray();
        foreach (var l in lines)
            array.Add(new JsonObject
            {
                ["line"] = l.LineNo, ["description"] = l.Description, ["quantity"] = l.Quantity, ["unitPrice"] = l.UnitPrice, ["account"] = l.Account,
                ["taxRate"] = l.TaxRate, ["net"] = F(l.Net), ["tax"] = F(l.Tax), ["gross"] = F(l.Gross),
            });
        return new JsonObject
        {
            ["id"] = d.Id, ["kind"] = d.Kind, ["status"] = d.Status, ["number"] = d.Number, ["party"] = d.PartyId, ["date"] = d.DocumentDate,
            ["dueDate"] = d.DueDate, ["reference"] = d.Reference, ["vendorReference"] = d.VendorReference, ["amountsAre"] = d.AmountsAre,
            ["corrects"] = d.CorrectsId, ["net"] = F(d.Net), ["tax"] = F(d.Tax), ["gross"] = F(d.Gross), ["entryId"] = d.EntryId,
            ["voidEntryId"] = d.VoidEntryId, ["lines"] = array,
        };
    }

    public sealed record DocumentRow(long Id, string Kind, string Status, string? Number, long PartyId, string DocumentDate, string? DueDate,
        string? Reference, string? VendorReference, string AmountsAre, long? CorrectsId, long Net, long Tax, long Gross, long? EntryId,
        long? VoidEntryId, long? EventSequence);

    public sealed record LineRow(long DocumentId, long LineNo, string Description, string Quantity, string UnitPrice, string Account, string? TaxRate,
        long Net, long Tax, long Gross);

    public const string DocumentColumns = """
        id AS Id, kind AS Kind, status AS Status, number AS Number, party_id AS PartyId, document_date AS DocumentDate, due_date AS DueDate,
        reference AS Reference, vendor_reference AS VendorReference, amounts_are AS AmountsAre, corrects_id AS CorrectsId, net AS Net, tax AS Tax,
        gross AS Gross, entry_id AS EntryId, void_entry_id AS VoidEntryId, event_sequence AS EventSequence
        """;

    public const string LineColumns = """
        document_id AS DocumentId, line_no AS LineNo, description AS Description, quantity AS Quantity, unit_price AS UnitPrice, account AS Account,
        tax_rate AS TaxRate, net AS Net, tax AS Tax, gross AS Gross
        """;

    private const string SelectDocumentSql = "SELECT " + DocumentColumns + " FROM documents WHERE book_id = @bookId AND id = @id";

    private const string SelectLinesSql = "SELECT " + LineColumns + " FROM document_lines WHERE book_id = @bookId AND document_id = @id ORDER BY line_no";

    /// <summary>
    /// Appends the event of a document from the row and lines the caller is writing, instead of reading them back: the
    /// data is what <see cref="Read"/> gives for that row once it is stored, as both go through <see cref="Build"/>. Returns
    /// the event's sequence, which the caller writes on the row (event_sequence) with the row itself.
    /// </summary>
    public static long Append(Infrastructure.WriteSession session, string bookId, string type, DocumentRow row, IEnumerable<LineRow> lines, int digits) =>
        EventLog.Append(session, bookId, type, "document", row.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), Build(row, lines, digits));

    /// <summary>
    /// Appends the document's event (its state after the change) and records it on the document row, so the audit can
    /// tell whether the row still says what its last event says. A deleted draft's event carries only what it was.
    /// </summary>
    public static void Record(Infrastructure.WriteSession session, string bookId, long id, string type, int digits)
    {
        var connection = session.Connection;
        var snapshot = Read(connection, bookId, id, digits) ?? throw new InvalidOperationException($"Document {id} vanished before its event.");
        var sequence = EventLog.Append(session, bookId, type, "document", id.ToString(System.Globalization.CultureInfo.InvariantCulture), snapshot);
        Dapper.SqlMapper.Execute(connection, "UPDATE documents SET event_sequence = @sequence WHERE book_id = @bookId AND id = @id",
            new { sequence, bookId, id });
    }
}
