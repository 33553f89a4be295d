using Ledger.Api.Features.Audit;
using System.Globalization;
using Dapper;
using Ledger.Api.Features.Books;
using Ledger.Api.Features.Allocations;
using Ledger.Api.Features.Journal;
using Ledger.Api.Features.Parties;
using Ledger.Api.Features.TaxRates;
using Party = Ledger.Api.Features.Parties.GroupParties.Party;
using Ledger.Api.Infrastructure;
using Ledger.Domain;
using NodaTime;

namespace Ledger.Api.Features.Documents;

/// <summary>
/// Drafts, issues and voids documents inside the writer. A draft holds its lines with their rounded figures and posts
/// nothing; issuing numbers it (gapless per kind and book) and posts one balanced entry whose control-account line is the
/// party's open item; voiding posts that entry's reversal and matches the two open items, so nothing stays open.
/// Every refusal is thrown as a problem and rolls the whole request back.
/// </summary>
public static class DocumentWrites
{
    /// <summary>
    /// A document as the request wrote it: its row and lines as stored, and when it was created and issued. The event and
    /// the answer are built from these, so nothing the request just wrote is read back.
    /// </summary>
    public sealed record Written(DocumentSnapshots.DocumentRow Row, IReadOnlyList<DocumentSnapshots.LineRow> Lines, string CreatedAt, string? IssuedAt);

    /// <summary>
    /// Creates a draft, or with "issue": true the issued document in one pass: checked and computed once, numbered,
    /// posted and written as issued, with the one event document.issued (it never was a draft, so no document.drafted).
    /// </summary>
    public static Written Create(WriteSession session, BookIdentity book, DocumentKind kind, DocumentRequest request)
    {
        var id = session.NextId("subledger_items");
        var prepared = Prepare(session, book, kind, request, replacing: null);
        var createdAt = Timestamps.Format(session.Now);
        var lines = LineRows(id, prepared.Lines);
        var row = DraftRow(id, kind, request, prepared);
        var issue = request.Issue == true;
        if (issue) row = Issue(session, book, kind, row, lines, prepared.Party, prepared.Controls, prepared.TaxAccounts);
        var issuedAt = issue ? createdAt : null;
        // The event first, so the row is written once with the sequence of its event.
        row = row with
        {
            EventSequence = DocumentSnapshots.Append(session, book.Id, issue ? "document.issued" : "document.drafted", row, lines, book.Digits),
        };
        session.InsertRows("documents", DocumentColumns, [
            [row.Id, book.Id, row.Kind, row.PartyId, row.Status, row.Number, row.DocumentDate, row.DueDate, row.Reference, row.VendorReference,
             row.AmountsAre, row.CorrectsId, row.Net, row.Tax, row.Gross, row.EntryId, null, createdAt, issuedAt, null, row.EventSequence],
        ]);
        InsertLines(session, book.Id, lines);
        return new Written(row, lines, createdAt, issuedAt);
    }

    /// <summary>
    /// Replaces a draft whole (document.changed) and, with "issue": true, issues it in the same pass (document.issued):
    /// the row is written once, in its final state.
    /// </summary>
    public static Written ReplaceDraft(WriteSession session, BookIdentity book, DocumentKind kind, long id, DocumentRequest request)
    {
        var stored = RequireDraft(session, book.Id, kind, id, "replaced");
        var prepared = Prepare(session, book, kind, request, replacing: id);
        var lines = LineRows(id, prepared.Lines);
        var row = DraftRow(id, kind, request, prepared);
        // The draft as changed is an event of its own even when it is issued at once: it was a draft before this request.
        var sequence = DocumentSnapshots.Append(session, book.Id, "document.changed", row, lines, book.Digits);
        string? issuedAt = null;
        if (request.Issue == true)
        {
            row = Issue(session, book, kind, row, lines, prepared.Party, prepared.Controls, prepared.TaxAccounts);
            issuedAt = Timestamps.Format(session.Now);
            sequence = DocumentSnapshots.Append(session, book.Id, "document.issued", row, lines, book.Digits);
        }
        row = row with { EventSequence = sequence };
        Update(session, book.Id, row, issuedAt);
        session.Command(DeleteLinesSql).Bind("@book_id", book.Id).Bind("@id", id).ExecuteNonQuery();
        InsertLines(session, book.Id, lines);
        return new Written(row, lines, stored.CreatedAt, issuedAt);
    }

    public static void DeleteDraft(WriteSession session, BookIdentity book, DocumentKind kind, long id)
    {
        RequireDraft(session, book.Id, kind, id, "deleted");
        // The event keeps what the draft was: the row is gone after this.
        var last = DocumentSnapshots.Read(session.Connection, book.Id, id, book.Digits)!;
        EventLog.Append(session, book.Id, "document.deleted", "document", id.ToString(CultureInfo.InvariantCulture), last);
        session.Connection.Execute("DELETE FROM document_lines WHERE book_id = @bookId AND document_id = @id", new { bookId = book.Id, id });
        session.Connection.Execute("DELETE FROM documents WHERE book_id = @bookId AND id = @id", new { bookId = book.Id, id });
    }

    /// <summary>Numbers a stored draft and posts its entry: the draft, its lines and its party are each read once.</summary>
    public static Written Issue(WriteSession session, BookIdentity book, DocumentKind kind, long id)
    {
        var stored = RequireDraft(session, book.Id, kind, id, "issued");
        var (party, controls) = PartyAndControls(session, book.Id, stored.Row.PartyId, kind.Party());
        if (party is null) throw new InvalidOperationException($"The party {stored.Row.PartyId} of document {id} is gone.");
        if (party.Archived)
            throw new ConflictException($"{Capital(kind.Party())} {party.Code} is archived and gets no new documents; unarchive it first.");
        var lines = ReadLines(session, book.Id, id);
        var row = Issue(session, book, kind, stored.Row, lines, party, controls, TaxAccounts(session, book.Id, kind, lines));
        row = row with { EventSequence = DocumentSnapshots.Append(session, book.Id, "document.issued", row, lines, book.Digits) };
        var issuedAt = Timestamps.Format(session.Now);
        Update(session, book.Id, row, issuedAt);
        return new Written(row, lines, stored.CreatedAt, issuedAt);
    }

    /// <summary>
    /// What issuing adds to a draft: checks that it owes something, takes the next number (gapless per kind and book),
    /// posts its entry and answers the row as issued (numbered, due, with its entry). The caller writes the row and its event.
    /// </summary>
    private static DocumentSnapshots.DocumentRow Issue(WriteSession session, BookIdentity book, DocumentKind kind, DocumentSnapshots.DocumentRow draft,
        IReadOnlyList<DocumentSnapshots.LineRow> lines, Party party, ControlAccounts controls, IReadOnlyDictionary<string, string> taxAccounts)
    {
        if (draft.Gross == 0)
        {
            var what = Article.A(kind.Words());
            throw new ConflictException($"{char.ToUpperInvariant(what[0])}{what[1..]} of zero cannot be issued: its lines add up to nothing.");
        }
        var date = DateText.ParseStoredDate(draft.DocumentDate);
        var dueDate = draft.DueDate is { } due ? DateText.ParseStoredDate(due)
            : kind is DocumentKind.Invoice or DocumentKind.Bill ? date.PlusDays((int)party.PaymentTermsDays) : date;
        var number = DocumentNumbers.Next(session, book.Id, kind);
        var postings = Postings(kind, draft.Gross, lines, party, controls, taxAccounts);
        var entry = BalancedEntry.Create(date, $"{Capital(kind)} {number}, {party.Name}", number, postings);
        JournalEntryResponse posted;
        try
        {
            posted = JournalPoster.Post(session, book, [entry], sources: [new EntrySourceInfo(kind.ToName(), draft.Id, number, dueDate)])[0];
        }
        catch (PostingRefusedException refused)
        {
            throw PostingProblems.ForDerived(refused, book.Id, $"The entry of {kind.Words()} {number}");
        }
        return draft with { Status = "issued", Number = number, DueDate = DateText.Format(dueDate), EntryId = posted.Id };
    }

    /// <summary>Posts the reversal of an issued document without allocations, and matches its open item with the reversal's.</summary>
    public static void Void(WriteSession session, BookIdentity book, DocumentKind kind, long id, LocalDate? date, string keyId)
    {
        var document = session.Connection.QuerySingleOrDefault<DocumentRow>(SelectDocumentSql, new { bookId = book.Id, kind = kind.ToName(), id })
            ?? throw NotFound(kind, id);
        if (document.Status != "issued")
            throw new ConflictException($"{Capital(kind)} {document.Number ?? id.ToString(CultureInfo.InvariantCulture)} is {document.Status}: only an issued document is voided.");
        var item = OpenItemAllocations.ItemOf(session.Connection, book.Id, kind.ToName(), id);
        var active = OpenItemAllocations.ActiveOn(session.Connection, book.Id, item.Id);
        if (active.Count > 0)
            throw new ConflictException($"{Capital(kind)} {document.Number} has allocations ({string.Join(", ", active)}); undo them before voiding it.");
        var documentDate = DateText.ParseStoredDate(document.DocumentDate);
        var voidDate = date ?? documentDate;
        if (voidDate < documentDate)
            throw new ValidationFailedException("date", $"must be on or after the {kind.Words()}'s date ({document.DocumentDate}).");
        var (party, controls) = PartyAndControls(session, book.Id, document.PartyId, kind.Party());
        if (party is null) throw new InvalidOperationException($"The party {document.PartyId} of document {id} is gone.");
        var lines = ReadLines(session, book.Id, id);
        var reversal = BalancedEntry.Reversing(document.EntryId!.Value, voidDate, $"Void of {kind.Words()} {document.Number}, {party.Name}",
            document.Number, Postings(kind, document.Gross, lines, party, controls, TaxAccounts(session, book.Id, kind, lines)));
        JournalEntryResponse posted;
        try
        {
            posted = JournalPoster.Post(session, book, [reversal], sources: [new EntrySourceInfo(kind.ToName(), id, document.Number, voidDate)])[0];
        }
        catch (PostingRefusedException refused)
        {
            throw PostingProblems.ForDerived(refused, book.Id, $"The void of {kind.Words()} {document.Number}");
        }
        OpenItemAllocations.MatchWithReversal(session, book, item, posted.Id, voidDate);
        session.Connection.Execute(VoidSql, new { id, bookId = book.Id, voidEntryId = posted.Id, voidedAt = Timestamps.Format(session.Now) });
        DocumentSnapshots.Record(session, book.Id, id, "document.voided", book.Digits);
    }

    public static ProblemException NotFound(DocumentKind kind, long id) =>
        new(StatusCodes.Status404NotFound, "Not found", $"No {kind.Words()} {id} in this book.");

    public static string Capital(DocumentKind kind) => char.ToUpperInvariant(kind.Words()[0]) + kind.Words()[1..];

    private static string Capital(PartyKind kind) => kind == PartyKind.Customer ? "Customer" : "Vendor";

    /// <summary>A stored draft as the snapshot sees it, with when it was created (the answer gives that).</summary>
    private sealed record StoredDraft(DocumentSnapshots.DocumentRow Row, string CreatedAt);

    private static StoredDraft RequireDraft(WriteSession session, string bookId, DocumentKind kind, long id, string verb)
    {
        // Through Command, not ReadCommand: the draft may be a row an earlier request of the group left waiting (PostgreSQL).
        using var reader = session.Command(SelectDraftSql).Bind("@book_id", bookId).Bind("@kind", kind.ToName()).Bind("@id", id).ExecuteReader();
        if (!reader.Read()) throw NotFound(kind, id);
        var row = new DocumentSnapshots.DocumentRow(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), Text(reader, 3), reader.GetInt64(4),
            reader.GetString(5), Text(reader, 6), Text(reader, 7), Text(reader, 8), reader.GetString(9), Long(reader, 10), reader.GetInt64(11),
            reader.GetInt64(12), reader.GetInt64(13), Long(reader, 14), Long(reader, 15), Long(reader, 16));
        if (row.Status != "draft")
            throw new ConflictException($"{Capital(kind)} {row.Number} is {row.Status}: only a draft is {verb}; an issued document is corrected by voiding it or by a credit.");
        return new StoredDraft(row, reader.GetString(17));
    }

    private static List<DocumentSnapshots.LineRow> ReadLines(WriteSession session, string bookId, long id)
    {
        var lines = new List<DocumentSnapshots.LineRow>();
        using var reader = session.Command(SelectLinesSql).Bind("@book_id", bookId).Bind("@id", id).ExecuteReader();
        while (reader.Read())
            lines.Add(new DocumentSnapshots.LineRow(reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                reader.GetString(5), Text(reader, 6), reader.GetInt64(7), reader.GetInt64(8), reader.GetInt64(9)));
        return lines;
    }

    private static string? Text(System.Data.Common.DbDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetString(i);

    private static long? Long(System.Data.Common.DbDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetInt64(i);

    /// <summary>
    /// The party of the kind (null if the book has none of that kind with that id) and the book's control accounts, as the
    /// group has them (see <see cref="GroupParties"/>, <see cref="JournalPoster.BookOf"/>): a group of documents for a few
    /// customers reads each once, and its entries are posted with the same reads.
    /// </summary>
    private static (Party? Party, ControlAccounts Controls) PartyAndControls(WriteSession session, string bookId, long partyId, PartyKind kind)
    {
        var party = GroupParties.Find(session, bookId, partyId);
        return (party?.Kind == kind ? party : null, JournalPoster.BookOf(session, bookId).Controls);
    }

    /// <summary>The account each tax rate of the lines posts to: sales for customer documents, purchase for vendor documents.</summary>
    private static Dictionary<string, string> TaxAccounts(WriteSession session, string bookId, DocumentKind kind, IEnumerable<DocumentSnapshots.LineRow> lines) =>
        TaxAccounts(kind, GroupTaxRates.Find(session, bookId, lines.Where(l => l.Tax > 0).Select(l => l.TaxRate!)));

    private static Dictionary<string, string> TaxAccounts(DocumentKind kind, Dictionary<string, GroupTaxRates.Rate> rates) =>
        rates.ToDictionary(r => r.Key, r => kind.Party() == PartyKind.Customer ? r.Value.SalesAccount : r.Value.PurchaseAccount, StringComparer.Ordinal);

    /// <summary>The entry of a document: the gross on the control account with the party, each line's net, each tax account's tax.</summary>
    private static List<Posting> Postings(DocumentKind kind, long gross, IReadOnlyList<DocumentSnapshots.LineRow> lines, Party party,
        ControlAccounts controls, IReadOnlyDictionary<string, string> taxAccounts)
    {
        var control = controls.For(kind.Party());
        if (control is null)
            throw new ConflictException($"The book has no {(kind.Party() == PartyKind.Customer ? "receivables" : "payables")} control account; set it (PATCH the book) first.");
        var side = kind.ControlSide();
        var other = side == Side.Debit ? Side.Credit : Side.Debit;
        var postings = new List<Posting> { new(control, side, new Amount(gross), null, new PartyRef(kind.Party(), party.Id)) };
        foreach (var line in lines.Where(l => l.Net > 0))
            postings.Add(new Posting(line.Account, other, new Amount(line.Net), line.Description));
        foreach (var group in lines.Where(l => l.Tax > 0).GroupBy(l => l.TaxRate!).OrderBy(g => g.Key, StringComparer.Ordinal))
            postings.Add(new Posting(taxAccounts[group.Key], other, new Amount(group.Sum(l => l.Tax)), $"Tax {group.Key}"));
        return postings;
    }

    private sealed record PreparedDraft(Party Party, ControlAccounts Controls, long? CorrectsId, AmountsAre AmountsAre, List<PreparedLine> Lines,
        DocumentTotals Totals, IReadOnlyDictionary<string, string> TaxAccounts);

    private sealed record PreparedLine(string Description, string Quantity, string UnitPrice, string Account, string? TaxRate, DocumentLineAmounts Amounts);

    /// <summary>
    /// Checks a request against the book (party, accounts, tax rates, the corrected document) and rounds its figures. What
    /// it reads on the way (the party, the control accounts, the tax rates' accounts) is kept for issuing.
    /// </summary>
    private static PreparedDraft Prepare(WriteSession session, BookIdentity book, DocumentKind kind, DocumentRequest request, long? replacing)
    {
        var partyKind = kind.Party();
        var partyField = partyKind == PartyKind.Customer ? "customer" : "vendor";
        var wrongField = partyKind == PartyKind.Customer ? request.Vendor : request.Customer;
        if (wrongField is not null)
            throw new ValidationFailedException(partyKind == PartyKind.Customer ? "vendor" : "customer", $"A {kind.Words()} names a {partyField}.");
        var partyId = (partyKind == PartyKind.Customer ? request.Customer : request.Vendor)
            ?? throw new ValidationFailedException(partyField, $"'{partyField}' must not be empty.");
        var (found, controls) = PartyAndControls(session, book.Id, partyId, partyKind);
        var party = found ?? throw new ValidationFailedException(partyField, $"No {partyField} {partyId} in this book.");
        if (party.Archived)
            throw new ConflictException($"{Capital(partyKind)} {party.Code} is archived and gets no new documents; unarchive it first.");

        var correctsField = kind.Corrects() switch { DocumentKind.Invoice => "invoice", DocumentKind.Bill => "bill", _ => null };
        var corrects = correctsField == "invoice" ? request.Invoice : correctsField == "bill" ? request.Bill : null;
        if (correctsField is null && (request.Invoice ?? request.Bill) is not null)
            throw new ValidationFailedException(request.Invoice is not null ? "invoice" : "bill", $"Only a credit names the document it corrects; {Article.A(kind.Words())} does not.");
        if (correctsField is not null && (correctsField == "invoice" ? request.Bill : request.Invoice) is not null)
            throw new ValidationFailedException(correctsField == "invoice" ? "bill" : "invoice", $"A {kind.Words()} corrects {Article.A(correctsField)}.");
        if (corrects is { } correctedId)
        {
            var corrected = session.Connection.QuerySingleOrDefault<DocumentRow>(SelectDocumentSql,
                new { bookId = book.Id, kind = kind.Corrects()!.Value.ToName(), id = correctedId });
            if (corrected is null || corrected.PartyId != partyId || corrected.Status != "issued")
                throw new ValidationFailedException(correctsField!, $"must be an issued {correctsField} of the same {partyField}.");
        }
        if (kind == DocumentKind.Bill && request.VendorReference is { } vendorReference &&
            session.Connection.ExecuteScalar<long>(DuplicateVendorReferenceSql,
                new { bookId = book.Id, partyId, vendorReference, replacing = replacing ?? 0 }) > 0)
            throw new ConflictException($"Vendor {party.Code} already has a bill with reference '{vendorReference}'.");

        AmountsAreText.TryParse(request.AmountsAre ?? "exclusive", out var amountsAre);
        // Every account and tax rate the lines name, read together rather than line by line, and once per group: the
        // accounts as the entry will be posted with them.
        var accounts = JournalPoster.AccountsOf(session, book.Id, request.Lines!.Select(l => l!.Account!));
        var storedRates = GroupTaxRates.Find(session, book.Id, request.Lines!.Where(l => l!.TaxRate is not null).Select(l => l!.TaxRate!));
        var errors = new Dictionary<string, string[]>();
        var lines = new List<PreparedLine>();
        var rates = new Dictionary<string, TaxRate>(StringComparer.Ordinal);
        for (var i = 0; i < request.Lines!.Count; i++)
        {
            var line = request.Lines[i]!;
            if (!accounts.TryGetValue(line.Account!, out var account)) errors[$"lines[{i}].account"] = [$"No account '{line.Account}' in this book."];
            else if (account.Archived) errors[$"lines[{i}].account"] = [$"Account '{line.Account}' is archived and takes no new postings."];
            else if (controls.Contains(line.Account))
                errors[$"lines[{i}].account"] = [$"must not be a control account: the document posts '{line.Account}' itself."];
            TaxRate? rate = null;
            if (line.TaxRate is { } code)
            {
                if (!rates.TryGetValue(code, out var known))
                {
                    if (!storedRates.TryGetValue(code, out var stored)) { errors[$"lines[{i}].taxRate"] = [$"No tax rate '{code}' in this book."]; continue; }
                    if (stored.Archived) { errors[$"lines[{i}].taxRate"] = [$"Tax rate '{code}' is archived."]; continue; }
                    TaxRate.TryParse(stored.Percentage, out known, out _);
                    rates[code] = known;
                }
                rate = known;
            }
            Quantity.TryParse(line.Quantity, out var quantity, out _);
            UnitPrice.TryParse(line.UnitPrice, out var price, out _);
            try
            {
                var amounts = DocumentLineAmounts.Compute(quantity, price, rate, amountsAre, book.Digits);
                lines.Add(new PreparedLine(line.Description!, quantity.ToString(), price.ToString(), line.Account!, line.TaxRate, amounts));
            }
            catch (OverflowException)
            {
                errors[$"lines[{i}].unitPrice"] = ["quantity × unitPrice is too large for 64-bit minor units."];
            }
        }
        if (errors.Count > 0) throw new ValidationFailedException(errors);
        DocumentTotals totals;
        try
        {
            totals = DocumentTotals.Sum(lines.Select(l => l.Amounts));
        }
        catch (OverflowException)
        {
            throw new ValidationFailedException("lines", "The document's total is too large for 64-bit minor units.");
        }
        return new PreparedDraft(party, controls, corrects, amountsAre, lines, totals, TaxAccounts(kind, storedRates));
    }

    /// <summary>The row of a checked request as a draft: no number, no entry, the due date as given.</summary>
    private static DocumentSnapshots.DocumentRow DraftRow(long id, DocumentKind kind, DocumentRequest request, PreparedDraft draft) =>
        new(id, kind.ToName(), "draft", null, draft.Party.Id, request.Date!, request.DueDate, request.Reference, request.VendorReference,
            draft.AmountsAre.ToName(), draft.CorrectsId, draft.Totals.Net.MinorUnits, draft.Totals.Tax.MinorUnits, draft.Totals.Gross.MinorUnits,
            EntryId: null, VoidEntryId: null, EventSequence: null);

    private static List<DocumentSnapshots.LineRow> LineRows(long id, List<PreparedLine> lines) =>
        lines.Select((l, i) => new DocumentSnapshots.LineRow(id, i, l.Description, l.Quantity, l.UnitPrice, l.Account, l.TaxRate,
            l.Amounts.Net.MinorUnits, l.Amounts.Tax.MinorUnits, l.Amounts.Gross.MinorUnits)).ToList();

    private static void InsertLines(WriteSession session, string bookId, IReadOnlyList<DocumentSnapshots.LineRow> lines) =>
        session.InsertRows("document_lines", LineColumns, lines.Select(l => new object?[]
        {
            l.DocumentId, l.LineNo, bookId, l.Description, l.Quantity, l.UnitPrice, l.Account, l.TaxRate, l.Net, l.Tax, l.Gross,
        }).ToList());

    /// <summary>Writes a stored document's row as it now is (changed, issued, or both), naming its last event.</summary>
    private static void Update(WriteSession session, string bookId, DocumentSnapshots.DocumentRow row, string? issuedAt) =>
        session.Command(UpdateDocumentSql)
            .Bind("@book_id", bookId).Bind("@id", row.Id).Bind("@party_id", row.PartyId).Bind("@status", row.Status).Bind("@number", row.Number)
            .Bind("@document_date", row.DocumentDate).Bind("@due_date", row.DueDate).Bind("@reference", row.Reference)
            .Bind("@vendor_reference", row.VendorReference).Bind("@amounts_are", row.AmountsAre).Bind("@corrects_id", row.CorrectsId)
            .Bind("@net", row.Net).Bind("@tax", row.Tax).Bind("@gross", row.Gross).Bind("@entry_id", row.EntryId).Bind("@issued_at", issuedAt)
            .Bind("@event_sequence", row.EventSequence)
            .ExecuteNonQuery();

    internal sealed record DocumentRow(long Id, string Kind, long PartyId, string Status, string? Number, string DocumentDate, string? DueDate,
        long Gross, long? EntryId);

    private const string SelectDocumentSql = """
        SELECT id AS Id, kind AS Kind, party_id AS PartyId, status AS Status, number AS Number, document_date AS DocumentDate,
               due_date AS DueDate, gross AS Gross, entry_id AS EntryId
        FROM documents WHERE book_id = @bookId AND kind = @kind AND id = @id
        """;

    // The columns of DocumentSnapshots.DocumentRow in its order, then created_at.
    private const string SelectDraftSql = """
        SELECT id, kind, status, number, party_id, document_date, due_date, reference, vendor_reference, amounts_are, corrects_id,
               net, tax, gross, entry_id, void_entry_id, event_sequence, created_at
        FROM documents WHERE book_id = @book_id AND kind = @kind AND id = @id
        """;

    // The columns of DocumentSnapshots.LineRow in its order.
    private const string SelectLinesSql = """
        SELECT document_id, line_no, description, quantity, unit_price, account, tax_rate, net, tax, gross
        FROM document_lines WHERE book_id = @book_id AND document_id = @id ORDER BY line_no
        """;

    private static readonly string[] DocumentColumns =
        ["id", "book_id", "kind", "party_id", "status", "number", "document_date", "due_date", "reference", "vendor_reference", "amounts_are",
         "corrects_id", "net", "tax", "gross", "entry_id", "void_entry_id", "created_at", "issued_at", "voided_at", "event_sequence"];

    private static readonly string[] LineColumns =
        ["document_id", "line_no", "book_id", "description", "quantity", "unit_price", "account", "tax_rate", "net", "tax", "gross"];

    private const string UpdateDocumentSql = """
        UPDATE documents
        SET party_id = @party_id, status = @status, number = @number, document_date = @document_date, due_date = @due_date,
            reference = @reference, vendor_reference = @vendor_reference, amounts_are = @amounts_are, corrects_id = @corrects_id,
            net = @net, tax = @tax, gross = @gross, entry_id = @entry_id, issued_at = @issued_at, event_sequence = @event_sequence
        WHERE book_id = @book_id AND id = @id
        """;

    private const string DeleteLinesSql = "DELETE FROM document_lines WHERE book_id = @book_id AND document_id = @id";

    private const string VoidSql = """
        UPDATE documents SET status = 'void', void_entry_id = @voidEntryId, voided_at = @voidedAt WHERE book_id = @bookId AND id = @id
        """;

    private const string DuplicateVendorReferenceSql = """
        SELECT COUNT(*) FROM documents
        WHERE book_id = @bookId AND party_id = @partyId AND kind = 'bill' AND vendor_reference = @vendorReference
          AND status <> 'void' AND id <> @replacing
        """;
}
