using Ledger.Api.Features.Audit;
using System.Globalization;
using Dapper;
using Ledger.Api.Features.Books;
using Ledger.Api.Features.Allocations;
using Ledger.Api.Features.Journal;
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
    public static long CreateDraft(WriteSession session, BookIdentity book, DocumentKind kind, DocumentRequest request)
    {
        var id = session.NextId("subledger_items");
        var draft = Prepare(session, book, kind, request, replacing: null);
        session.Connection.Execute(InsertDocumentSql, new
        {
            id, bookId = book.Id, kind = kind.ToName(), partyId = draft.PartyId, date = request.Date, dueDate = request.DueDate,
            reference = request.Reference, vendorReference = request.VendorReference, amountsAre = draft.AmountsAre.ToName(),
            correctsId = draft.CorrectsId, net = draft.Totals.Net.MinorUnits, tax = draft.Totals.Tax.MinorUnits,
            gross = draft.Totals.Gross.MinorUnits, createdAt = Timestamps.Format(session.Now),
        });
        InsertLines(session, book.Id, id, draft.Lines);
        DocumentSnapshots.Record(session, book.Id, id, "document.drafted", book.Digits);
        return id;
    }

    public static void ReplaceDraft(WriteSession session, BookIdentity book, DocumentKind kind, long id, DocumentRequest request)
    {
        RequireDraft(session, book.Id, kind, id, "replaced");
        var draft = Prepare(session, book, kind, request, replacing: id);
        session.Connection.Execute(UpdateDraftSql, new
        {
            id, bookId = book.Id, partyId = draft.PartyId, date = request.Date, dueDate = request.DueDate, reference = request.Reference,
            vendorReference = request.VendorReference, amountsAre = draft.AmountsAre.ToName(), correctsId = draft.CorrectsId,
            net = draft.Totals.Net.MinorUnits, tax = draft.Totals.Tax.MinorUnits, gross = draft.Totals.Gross.MinorUnits,
        });
        session.Connection.Execute("DELETE FROM document_lines WHERE book_id = @bookId AND document_id = @id", new { bookId = book.Id, id });
        InsertLines(session, book.Id, id, draft.Lines);
        DocumentSnapshots.Record(session, book.Id, id, "document.changed", book.Digits);
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

    /// <summary>Numbers the draft and posts its entry.</summary>
    public static void Issue(WriteSession session, BookIdentity book, DocumentKind kind, long id)
    {
        var document = RequireDraft(session, book.Id, kind, id, "issued");
        var party = session.Connection.QuerySingle<PartyRow>(SelectPartySql, new { bookId = book.Id, id = document.PartyId });
        if (party.Archived != 0)
            throw new ConflictException($"{Capital(kind.Party())} {party.Code} is archived and gets no new documents; unarchive it first.");
        if (document.Gross == 0) throw new ConflictException($"A {kind.Words()} of zero cannot be issued: its lines add up to nothing.");
        var date = DateText.ParseStoredDate(document.DocumentDate);
        var dueDate = document.DueDate is { } due ? DateText.ParseStoredDate(due)
            : kind is DocumentKind.Invoice or DocumentKind.Bill ? date.PlusDays((int)party.PaymentTermsDays) : date;
        var number = NextNumber(session, book.Id, kind);
        var postings = Postings(session, book.Id, kind, document, party);
        var entry = BalancedEntry.Create(date, $"{Capital(kind)} {number}, {party.Name}", number, postings);
        JournalEntryResponse posted;
        try
        {
            posted = JournalPoster.Post(session, book, [entry], sources: [new EntrySourceInfo(kind.ToName(), id, number, dueDate)])[0];
        }
        catch (PostingRefusedException refused)
        {
            throw PostingProblems.ForDerived(refused, book.Id, $"The entry of {kind.Words()} {number}");
        }
        session.Connection.Execute(IssueSql, new
        {
            id, bookId = book.Id, number, dueDate = DateText.Format(dueDate), entryId = posted.Id, issuedAt = Timestamps.Format(session.Now),
        });
        DocumentSnapshots.Record(session, book.Id, id, "document.issued", book.Digits);
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
        var party = session.Connection.QuerySingle<PartyRow>(SelectPartySql, new { bookId = book.Id, id = document.PartyId });
        var reversal = BalancedEntry.Reversing(document.EntryId!.Value, voidDate, $"Void of {kind.Words()} {document.Number}, {party.Name}",
            document.Number, Postings(session, book.Id, kind, document, party));
        JournalEntryResponse posted;
        try
        {
            posted = JournalPoster.Post(session, book, [reversal], sources: [new EntrySourceInfo(kind.ToName(), id, document.Number, voidDate)])[0];
        }
        catch (PostingRefusedException refused)
        {
            throw PostingProblems.ForDerived(refused, book.Id, $"The void of {kind.Words()} {document.Number}");
        }
        OpenItemAllocations.MatchWithReversal(session, book.Id, item, posted.Id, voidDate);
        session.Connection.Execute(VoidSql, new { id, bookId = book.Id, voidEntryId = posted.Id, voidedAt = Timestamps.Format(session.Now) });
        DocumentSnapshots.Record(session, book.Id, id, "document.voided", book.Digits);
    }

    public static ProblemException NotFound(DocumentKind kind, long id) =>
        new(StatusCodes.Status404NotFound, "Not found", $"No {kind.Words()} {id} in this book.");

    public static string Capital(DocumentKind kind) => char.ToUpperInvariant(kind.Words()[0]) + kind.Words()[1..];

    private static string Capital(PartyKind kind) => kind == PartyKind.Customer ? "Customer" : "Vendor";

    private static DocumentRow RequireDraft(WriteSession session, string bookId, DocumentKind kind, long id, string verb)
    {
        var document = session.Connection.QuerySingleOrDefault<DocumentRow>(SelectDocumentSql, new { bookId, kind = kind.ToName(), id })
            ?? throw NotFound(kind, id);
        if (document.Status != "draft")
            throw new ConflictException($"{Capital(kind)} {document.Number} is {document.Status}: only a draft is {verb}; an issued document is corrected by voiding it or by a credit.");
        return document;
    }

    /// <summary>The entry of a document: the gross on the control account with the party, each line's net, each tax account's tax.</summary>
    private static List<Posting> Postings(WriteSession session, string bookId, DocumentKind kind, DocumentRow document, PartyRow party)
    {
        var control = ControlAccounts.Read(session.Connection, bookId).For(kind.Party());
        if (control is null)
            throw new ConflictException($"The book has no {(kind.Party() == PartyKind.Customer ? "receivables" : "payables")} control account; set it (PATCH the book) first.");
        var side = kind.ControlSide();
        var other = side == Side.Debit ? Side.Credit : Side.Debit;
        var postings = new List<Posting> { new(control, side, new Amount(document.Gross), null, new PartyRef(kind.Party(), party.Id)) };
        var lines = session.Connection.Query<StoredLine>(SelectLinesSql, new { bookId, id = document.Id }).AsList();
        foreach (var line in lines.Where(l => l.Net > 0))
            postings.Add(new Posting(line.Account, other, new Amount(line.Net), line.Description));
        var taxColumn = kind.Party() == PartyKind.Customer ? "sales_account" : "purchase_account";
        foreach (var group in lines.Where(l => l.Tax > 0).GroupBy(l => l.TaxRate!).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var account = session.Connection.QuerySingle<string>(
                $"SELECT {taxColumn} FROM tax_rates WHERE book_id = @bookId AND code = @code", new { bookId, code = group.Key });
            postings.Add(new Posting(account, other, new Amount(group.Sum(l => l.Tax)), $"Tax {group.Key}"));
        }
        return postings;
    }

    private sealed record PreparedDraft(long PartyId, long? CorrectsId, AmountsAre AmountsAre, List<PreparedLine> Lines, DocumentTotals Totals);

    private sealed record PreparedLine(string Description, string Quantity, string UnitPrice, string Account, string? TaxRate, DocumentLineAmounts Amounts);

    /// <summary>Checks a request against the book (party, accounts, tax rates, the corrected document) and rounds its figures.</summary>
    private static PreparedDraft Prepare(WriteSession session, BookIdentity book, DocumentKind kind, DocumentRequest request, long? replacing)
    {
        var partyKind = kind.Party();
        var partyField = partyKind == PartyKind.Customer ? "customer" : "vendor";
        var wrongField = partyKind == PartyKind.Customer ? request.Vendor : request.Customer;
        if (wrongField is not null)
            throw new ValidationFailedException(partyKind == PartyKind.Customer ? "vendor" : "customer", $"A {kind.Words()} names a {partyField}.");
        var partyId = (partyKind == PartyKind.Customer ? request.Customer : request.Vendor)
            ?? throw new ValidationFailedException(partyField, $"'{partyField}' must not be empty.");
        var party = session.Connection.QuerySingleOrDefault<PartyRow>(SelectPartySql + " AND kind = @kind",
                new { bookId = book.Id, id = partyId, kind = partyField })
            ?? throw new ValidationFailedException(partyField, $"No {partyField} {partyId} in this book.");
        if (party.Archived != 0)
            throw new ConflictException($"{Capital(partyKind)} {party.Code} is archived and gets no new documents; unarchive it first.");

        var correctsField = kind.Corrects() switch { DocumentKind.Invoice => "invoice", DocumentKind.Bill => "bill", _ => null };
        var corrects = correctsField == "invoice" ? request.Invoice : correctsField == "bill" ? request.Bill : null;
        if (correctsField is null && (request.Invoice ?? request.Bill) is not null)
            throw new ValidationFailedException(request.Invoice is not null ? "invoice" : "bill", $"Only a credit names the document it corrects; a {kind.Words()} does not.");
        if (correctsField is not null && (correctsField == "invoice" ? request.Bill : request.Invoice) is not null)
            throw new ValidationFailedException(correctsField == "invoice" ? "bill" : "invoice", $"A {kind.Words()} corrects a {correctsField}.");
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
        var controls = ControlAccounts.Read(session.Connection, book.Id);
        var errors = new Dictionary<string, string[]>();
        var lines = new List<PreparedLine>();
        var rates = new Dictionary<string, TaxRate>(StringComparer.Ordinal);
        for (var i = 0; i < request.Lines!.Count; i++)
        {
            var line = request.Lines[i]!;
            var account = session.Connection.QuerySingleOrDefault<(string Type, long Archived)?>(
                "SELECT type, archived FROM accounts WHERE book_id = @bookId AND code = @code", new { bookId = book.Id, code = line.Account });
            if (account is null) errors[$"lines[{i}].account"] = [$"No account '{line.Account}' in this book."];
            else if (account.Value.Archived != 0) errors[$"lines[{i}].account"] = [$"Account '{line.Account}' is archived and takes no new postings."];
            else if (controls.Contains(line.Account))
                errors[$"lines[{i}].account"] = [$"must not be a control account: the document posts '{line.Account}' itself."];
            TaxRate? rate = null;
            if (line.TaxRate is { } code)
            {
                if (!rates.TryGetValue(code, out var known))
                {
                    var stored = session.Connection.QuerySingleOrDefault<(string Rate, long Archived)?>(
                        "SELECT rate, archived FROM tax_rates WHERE book_id = @bookId AND code = @code", new { bookId = book.Id, code });
                    if (stored is null) { errors[$"lines[{i}].taxRate"] = [$"No tax rate '{code}' in this book."]; continue; }
                    if (stored.Value.Archived != 0) { errors[$"lines[{i}].taxRate"] = [$"Tax rate '{code}' is archived."]; continue; }
                    TaxRate.TryParse(stored.Value.Rate, out known, out _);
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
        return new PreparedDraft(partyId, corrects, amountsAre, lines, totals);
    }

    private static void InsertLines(WriteSession session, string bookId, long id, List<PreparedLine> lines)
    {
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            session.Connection.Execute(InsertLineSql, new
            {
                id, lineNo = i, bookId, description = line.Description, quantity = line.Quantity, unitPrice = line.UnitPrice,
                account = line.Account, taxRate = line.TaxRate, net = line.Amounts.Net.MinorUnits, tax = line.Amounts.Tax.MinorUnits,
                gross = line.Amounts.Gross.MinorUnits,
            });
        }
    }

    /// <summary>The next number of the kind, gapless per book: "INV-000001".</summary>
    private static string NextNumber(WriteSession session, string bookId, DocumentKind kind)
    {
        var sequence = kind.ToName();
        var row = session.Connection.QuerySingleOrDefault<(string Prefix, long Next)?>(
            "SELECT prefix, next_number FROM book_sequences WHERE book_id = @bookId AND kind = @sequence", new { bookId, sequence });
        if (row is null)
        {
            session.Connection.Execute("INSERT INTO book_sequences (book_id, kind, prefix, next_number) VALUES (@bookId, @sequence, @prefix, 1)",
                new { bookId, sequence, prefix = kind.NumberPrefix() });
            row = (kind.NumberPrefix(), 1);
        }
        session.Connection.Execute("UPDATE book_sequences SET next_number = next_number + 1 WHERE book_id = @bookId AND kind = @sequence",
            new { bookId, sequence });
        return row.Value.Prefix + row.Value.Next.ToString("D6", CultureInfo.InvariantCulture);
    }

    internal sealed record PartyRow(long Id, string Code, string Name, long PaymentTermsDays, long Archived);

    internal sealed record DocumentRow(long Id, string Kind, long PartyId, string Status, string? Number, string DocumentDate, string? DueDate,
        long Gross, long? EntryId);

    private sealed record StoredLine(string Description, string Account, string? TaxRate, long Net, long Tax);

    internal const string SelectPartySql = """
        SELECT id AS Id, code AS Code, name AS Name, payment_terms_days AS PaymentTermsDays, archived AS Archived
        FROM parties WHERE book_id = @bookId AND id = @id
        """;

    private const string SelectDocumentSql = """
        SELECT id AS Id, kind AS Kind, party_id AS PartyId, status AS Status, number AS Number, document_date AS DocumentDate,
               due_date AS DueDate, gross AS Gross, entry_id AS EntryId
        FROM documents WHERE book_id = @bookId AND kind = @kind AND id = @id
        """;

    private const string SelectLinesSql = """
        SELECT description AS Description, account AS Account, tax_rate AS TaxRate, net AS Net, tax AS Tax
        FROM document_lines WHERE book_id = @bookId AND document_id = @id ORDER BY line_no
        """;

    private const string InsertDocumentSql = """
        INSERT INTO documents (id, book_id, kind, party_id, status, number, document_date, due_date, reference, vendor_reference,
                               amounts_are, corrects_id, net, tax, gross, entry_id, void_entry_id, created_at, issued_at, voided_at)
        VALUES (@id, @bookId, @kind, @partyId, 'draft', NULL, @date, @dueDate, @reference, @vendorReference,
                @amountsAre, @correctsId, @net, @tax, @gross, NULL, NULL, @createdAt, NULL, NULL)
        """;

    private const string UpdateDraftSql = """
        UPDATE documents
        SET party_id = @partyId, document_date = @date, due_date = @dueDate, reference = @reference, vendor_reference = @vendorReference,
            amounts_are = @amountsAre, corrects_id = @correctsId, net = @net, tax = @tax, gross = @gross
        WHERE book_id = @bookId AND id = @id
        """;

    private const string InsertLineSql = """
        INSERT INTO document_lines (document_id, line_no, book_id, description, quantity, unit_price, account, tax_rate, net, tax, gross)
        VALUES (@id, @lineNo, @bookId, @description, @quantity, @unitPrice, @account, @taxRate, @net, @tax, @gross)
        """;

    private const string IssueSql = """
        UPDATE documents SET status = 'issued', number = @number, due_date = @dueDate, entry_id = @entryId, issued_at = @issuedAt
        WHERE book_id = @bookId AND id = @id
        """;

    private const string VoidSql = """
        UPDATE documents SET status = 'void', void_entry_id = @voidEntryId, voided_at = @voidedAt WHERE book_id = @bookId AND id = @id
        """;

    private const string DuplicateVendorReferenceSql = """
        SELECT COUNT(*) FROM documents
        WHERE book_id = @bookId AND party_id = @partyId AND kind = 'bill' AND vendor_reference = @vendorReference
          AND status <> 'void' AND id <> @replacing
        """;
}
