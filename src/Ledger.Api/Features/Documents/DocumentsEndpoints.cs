using System.Text;
using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dapper;
using Ledger.Api.Features.Allocations;
using Ledger.Api.Features.Books;
using Ledger.Api.Infrastructure;
using Ledger.Api.Infrastructure.Security;
using Ledger.Domain;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Ledger.Api.Features.Documents;

public sealed record DocumentLineResponse(string Description, string Quantity, string UnitPrice, string Account, string? TaxRate,
    string Net, string Tax, string Gross);

public sealed record DocumentTotalsResponse(string Net, string Tax, string Gross);

/// <summary>
/// A document as answered. Customer documents carry "customer" (and a credit note the "invoice" it corrects), vendor
/// documents "vendor" (and a vendor credit the "bill"); the other fields are left out.
/// </summary>
public sealed record DocumentResponse(
    long Id,
    string? Number,
    string Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Customer,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Vendor,
    string Date,
    string? DueDate,
    string? Reference,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? VendorReference,
    string AmountsAre,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Invoice,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Bill,
    IReadOnlyList<DocumentLineResponse> Lines,
    DocumentTotalsResponse Totals,
    string AmountPaid,
    string AmountDue,
    IReadOnlyList<AppliedAllocation> Allocations,
    bool Overdue,
    long? JournalEntryId,
    string CreatedAt,
    string? IssuedAt,
    string? VoidedAt);

/// <summary>
/// Invoices and credit notes (customers), bills and vendor credits (vendors): one implementation for the four kinds.
/// A draft posts nothing; issuing posts one balanced entry and numbers the document; voiding posts the reversal.
/// </summary>
public static class DocumentsEndpoints
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 500;

    public static void MapDocuments(this IEndpointRouteBuilder app)
    {
        Map(app, DocumentKind.Invoice, "Invoices", "Invoice", "an invoice");
        Map(app, DocumentKind.CreditNote, "Credit notes", "CreditNote", "a credit note");
        Map(app, DocumentKind.Bill, "Bills", "Bill", "a bill");
        Map(app, DocumentKind.VendorCredit, "Vendor credits", "VendorCredit", "a vendor credit");
    }

    private static void Map(IEndpointRouteBuilder app, DocumentKind kind, string tag, string title, string a)
    {
        var documents = app.MapGroup($"/v1/books/{{bookId}}/{kind.Route()}").RequireBookAccess().ValidateRequests().WithTags(tag);
        var posts = kind.Party() == PartyKind.Customer
            ? "debit receivables (gross, with the customer), credit each line's account (net) and each tax rate's sales account (tax)"
            : "debit each line's account (net) and each tax rate's purchase account (tax), credit payables (gross, with the vendor)";
        var mirror = kind is DocumentKind.CreditNote or DocumentKind.VendorCredit ? " (the mirror image of " + (kind == DocumentKind.CreditNote ? "an invoice's" : "a bill's") + ")" : "";
        documents.MapPost("/", (string bookId, DocumentRequest request, [FromHeader(Name = Idempotency.HeaderName)] string? idempotencyKey,
                BookCatalog books, LedgerWriter writer, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json) =>
                CreateAsync(kind, bookId, request, idempotencyKey, books, writer, json.Value.SerializerOptions))
            .WithName($"create{title}").WithSummary($"Create {a} (draft, or issued at once)")
            .WithDescription($"Creates {a} as a draft: no number, nothing posted. Per line net = round(quantity × unitPrice) and " +
                             "tax = round(net × rate / 100) (inclusive: tax = round(gross × rate / (100 + rate)), net = gross − tax), " +
                             "half away from zero to the currency's minor unit; totals are the sums of the lines. With \"issue\": true " +
                             "it is issued in the same call.")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        documents.MapGet("/", (string bookId, [AsParameters] DocumentListQuery query, BookCatalog books, LedgerDatabase database, IClock clock) =>
                ListAsync(kind, bookId, query, books, database, clock))
            .WithName($"list{title}s").WithSummary($"List {tag.ToLowerInvariant()}")
            .WithDescription($"Newest first by id, a page at a time (follow nextCursor); filter by {(kind.Party() == PartyKind.Customer ? "customer" : "vendor")}, " +
                             "status (draft, open, partiallyPaid, paid, void), document date from/to, and overdue=true.");
        documents.MapGet("/{id:long}", (string bookId, long id, BookCatalog books, LedgerDatabase database, IClock clock) =>
                GetAsync(kind, bookId, id, books, database, clock))
            .WithName($"get{title}").WithSummary($"Get {a}")
            .WithDescription("With its lines, totals, amount paid and due, status and whether it is overdue today.");
        documents.MapPut("/{id:long}", (string bookId, long id, DocumentRequest request, BookCatalog books, LedgerWriter writer, IClock clock) =>
                ReplaceAsync(kind, bookId, id, request, books, writer, clock))
            .WithName($"replace{title}").WithSummary($"Replace a draft")
            .WithDescription("Replaces a draft whole. An issued or void document never changes (409): void it or issue a credit.")
            .ProducesProblem(StatusCodes.Status409Conflict);
        documents.MapDelete("/{id:long}", (string bookId, long id, BookCatalog books, LedgerWriter writer) => DeleteAsync(kind, bookId, id, books, writer))
            .WithName($"delete{title}").WithSummary("Delete a draft")
            .WithDescription("Deletes a draft. An issued or void document is never deleted (409).")
            .ProducesProblem(StatusCodes.Status409Conflict);
        documents.MapPost("/{id:long}/issue", (string bookId, long id, [FromHeader(Name = Idempotency.HeaderName)] string? idempotencyKey,
                BookCatalog books, LedgerWriter writer, LedgerDatabase database, IClock clock, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json) =>
                IssueAsync(kind, bookId, id, idempotencyKey, books, writer, clock, json.Value.SerializerOptions))
            .WithName($"issue{title}").WithSummary($"Issue {a}")
            .WithDescription($"Numbers the draft ({kind.NumberPrefix()}000001, gapless per book) and posts its entry{mirror}: {posts}. " +
                             "The due date defaults to the date plus the party's payment terms.")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        documents.MapPost("/{id:long}/void", (string bookId, long id, VoidRequest? request, [FromHeader(Name = Idempotency.HeaderName)] string? idempotencyKey,
                HttpContext http, BookCatalog books, LedgerWriter writer, IClock clock, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json) =>
                VoidAsync(kind, bookId, id, request, idempotencyKey, http, books, writer, clock, json.Value.SerializerOptions))
            .WithName($"void{title}").WithSummary($"Void {a}")
            .WithDescription("Posts the reversal of an issued document that has no allocations (409 naming them otherwise), dated " +
                             "the document's date or the later date given; the document becomes void.")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
    }

    // The ids a new document draws: its own, and when it is issued its open item's (its entry's is drawn for every request).
    private static readonly string[] DraftIds = ["subledger_items"];
    private static readonly string[] IssuedIds = ["subledger_items", "open_items"];

    private static string Location(DocumentKind kind, string bookId, long id) => $"/v1/books/{bookId}/{kind.Route()}/{id}";

    private static async Task<Results<Created<DocumentResponse>, StoredResponse>> CreateAsync(DocumentKind kind, string bookId,
        DocumentRequest request, string? idempotencyKey, BookCatalog books, LedgerWriter writer, JsonSerializerOptions options)
    {
        var book = await books.GetAsync(bookId);
        var today = writer.Now().InUtc().Date;
        return await writer.CreateIdempotentAsync(bookId, idempotencyKey, $"create-{kind.ToName()}", request, options,
            session => Answer(book, kind, DocumentWrites.Create(session, book, kind, request), today),
            created => Location(kind, bookId, created.Id), defersGroupState: true,
            hints: new WriteHints(request.Customer ?? request.Vendor, request.Issue == true ? IssuedIds : DraftIds));
    }

    private static async Task<Results<Created<DocumentResponse>, StoredResponse>> IssueAsync(DocumentKind kind, string bookId, long id,
        string? idempotencyKey, BookCatalog books, LedgerWriter writer, IClock clock, JsonSerializerOptions options)
    {
        var book = await books.GetAsync(bookId);
        var today = clock.GetCurrentInstant().InUtc().Date;
        return await writer.CreateIdempotentAsync(bookId, idempotencyKey, $"issue-{kind.ToName()}/{id}", id, options,
            session => Answer(book, kind, DocumentWrites.Issue(session, book, kind, id), today),
            issued => Location(kind, bookId, id), defersGroupState: true);
    }

    private static async Task<Results<Created<DocumentResponse>, StoredResponse>> VoidAsync(DocumentKind kind, string bookId, long id,
        VoidRequest? request, string? idempotencyKey, HttpContext http, BookCatalog books, LedgerWriter writer, IClock clock,
        JsonSerializerOptions options)
    {
        var book = await books.GetAsync(bookId);
        var today = clock.GetCurrentInstant().InUtc().Date;
        var keyId = http.Caller().KeyId;
        LocalDate? date = request?.Date is { } text && DateText.TryParseDate(text, out var d) ? d : null;
        return await writer.CreateIdempotentAsync(bookId, idempotencyKey, $"void-{kind.ToName()}/{id}", request ?? new VoidRequest(null), options,
            session =>
            {
                DocumentWrites.Void(session, book, kind, id, date, keyId);
                return Read(session.Connection, book, kind, id, today)!;
            },
            voided => Location(kind, bookId, id), defersGroupState: true);
    }

    private static async Task<Ok<DocumentResponse>> ReplaceAsync(DocumentKind kind, string bookId, long id, DocumentRequest request,
        BookCatalog books, LedgerWriter writer, IClock clock)
    {
        var book = await books.GetAsync(bookId);
        var today = clock.GetCurrentInstant().InUtc().Date;
        var replaced = await writer.WriteBookAsync(bookId, session =>
            Answer(book, kind, DocumentWrites.ReplaceDraft(session, book, kind, id, request), today), defersGroupState: true);
        return TypedResults.Ok(replaced);
    }

    private static async Task<NoContent> DeleteAsync(DocumentKind kind, string bookId, long id, BookCatalog books, LedgerWriter writer)
    {
        var book = await books.GetAsync(bookId);
        await writer.WriteBookAsync(bookId, session =>
        {
            DocumentWrites.DeleteDraft(session, book, kind, id);
            return true;
        }, defersGroupState: true);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<DocumentResponse>, ProblemHttpResult>> GetAsync(DocumentKind kind, string bookId, long id,
        BookCatalog books, LedgerDatabase database, IClock clock)
    {
        var book = await books.GetAsync(bookId);
        await using var connection = await database.OpenReadAsync();
        var document = Read(connection, book, kind, id, clock.GetCurrentInstant().InUtc().Date);
        return document is null ? Problems.NotFound($"No {kind.Words()} {id} in this book.") : TypedResults.Ok(document);
    }

    private static async Task<Ok<Page<DocumentResponse>>> ListAsync(DocumentKind kind, string bookId, DocumentListQuery query,
        BookCatalog books, LedgerDatabase database, IClock clock)
    {
        var book = await books.GetAsync(bookId);
        var today = clock.GetCurrentInstant().InUtc().Date;
        var limit = Math.Min(query.Limit ?? DefaultPageSize, MaxPageSize);
        long? before = IdCursor.TryDecode(query.Cursor, out var cursorId) ? cursorId : null;
        var party = kind.Party() == PartyKind.Customer ? query.Customer : query.Vendor;
        // Status and overdue depend on what is paid, which the page computes for its own rows: the SQL narrows by what the
        // row holds, and the page is read in bounded steps until it is full or the list ends.
        // Only the filters given are in the SQL: "(@party IS NULL OR party_id = @party)" would keep either engine's planner
        // from using the party's index, and one customer's page would walk every document of the book.
        var filtered = new StringBuilder(SelectSql).Append(" AND id < @before");
        if (party is not null) filtered.Append(" AND party_id = @party");
        if (query.From is not null) filtered.Append(" AND document_date >= @from");
        if (query.To is not null) filtered.Append(" AND document_date <= @to");
        if (query.Status is not null) filtered.Append(" AND status = @stored");
        var sql = filtered.Append(" ORDER BY id DESC LIMIT @take").ToString();
        var items = new List<DocumentResponse>();
        await using var connection = await database.OpenReplicaReadAsync();
        for (var round = 0; round < 100 && items.Count <= limit; round++)
        {
            var rows = (await connection.QueryAsync<StoredDocument>(sql, new
            {
                bookId, kind = kind.ToName(), party, before = before ?? long.MaxValue, from = query.From, to = query.To,
                stored = query.Status switch { "draft" => "draft", "void" => "void", null => null, _ => "issued" },
                take = limit + 1,
            })).AsList();
            if (rows.Count == 0) break;
            foreach (var document in Answers(connection, book, kind, rows, today))
            {
                if (query.Status is { } status && document.Status != status) continue;
                if (query.Overdue == true && !document.Overdue) continue;
                if (query.Overdue == false && document.Overdue) continue;
                items.Add(document);
                if (items.Count > limit) break;
            }
            if (rows.Count <= limit) break;
            before = rows[^1].Id;
        }
        var more = items.Count > limit;
        if (more) items.RemoveAt(items.Count - 1);
        return TypedResults.Ok(new Page<DocumentResponse>(items,
            more ? IdCursor.Encode(items[^1].Id) : null));
    }

    /// <summary>A document with its lines and what is paid on it now, or null if the book has no such document of this kind.</summary>
    public static DocumentResponse? Read(DbConnection connection, BookIdentity book, DocumentKind kind, long id, LocalDate today)
    {
        var row = connection.QuerySingleOrDefault<StoredDocument>(SelectSql + " AND id = @id", new { bookId = book.Id, kind = kind.ToName(), id });
        return row is null ? null : Answers(connection, book, kind, [row], today)[0];
    }

    /// <summary>
    /// The answers for stored documents of one kind (one page at most), in their order: their lines, their items and the
    /// allocations on those are read for all of them at once, three queries for the page rather than five per document.
    /// </summary>
    private static List<DocumentResponse> Answers(DbConnection connection, BookIdentity book, DocumentKind kind,
        IReadOnlyList<StoredDocument> rows, LocalDate today)
    {
        var (list, _, parameters) = SqlIdList.Of(rows.Select(r => r.Id).ToArray());
        parameters.Add("bookId", book.Id);
        var lines = connection.Query<StoredLine>(SelectLinesSql.Replace("@ids", list, StringComparison.Ordinal), parameters)
            .ToLookup(l => l.DocumentId);
        var items = OpenItemAllocations.ItemsOf(connection, book.Id, kind.ToName(), rows.Where(r => r.Status == "issued").Select(r => r.Id).ToArray());
        var allocations = OpenItemAllocations.LiveOn(connection, book.Id, items.Values.Select(i => i.Id).ToArray(), book.Digits);
        var answers = new List<DocumentResponse>(rows.Count);
        foreach (var row in rows)
        {
            long paid = 0;
            List<AppliedAllocation> applied = [];
            if (row.Status == "issued")
            {
                // Every issued document posted its item; its open amount is its size less the live allocations on it.
                var item = items[row.Id];
                var on = allocations.GetValueOrDefault(item.Id);
                paid = Math.Abs(row.Gross) - (Math.Abs(item.Amount) - (on?.Allocated ?? 0));
                applied = on?.Applied ?? [];
            }
            answers.Add(Answer(book, kind, row, lines[row.Id].ToList(), paid, applied, today));
        }
        return answers;
    }

    /// <summary>
    /// The answer for a document the request has just written, a draft or just issued, from what it wrote: nothing can be
    /// paid on it or allocated to it yet, so nothing is read back. The same as <see cref="Read"/> gives for it afterwards.
    /// </summary>
    private static DocumentResponse Answer(BookIdentity book, DocumentKind kind, DocumentWrites.Written written, LocalDate today)
    {
        var r = written.Row;
        var row = new StoredDocument(r.Id, r.PartyId, r.Status, r.Number, r.DocumentDate, r.DueDate, r.Reference, r.VendorReference, r.AmountsAre,
            r.CorrectsId, r.Net, r.Tax, r.Gross, r.EntryId, written.CreatedAt, written.IssuedAt, VoidedAt: null);
        var lines = written.Lines.Select(l => new StoredLine(r.Id, l.Description, l.Quantity, l.UnitPrice, l.Account, l.TaxRate, l.Net, l.Tax, l.Gross)).ToList();
        return Answer(book, kind, row, lines, paid: 0, applied: [], today);
    }

    private static DocumentResponse Answer(BookIdentity book, DocumentKind kind, StoredDocument row, List<StoredLine> lines, long paid,
        List<AppliedAllocation> applied, LocalDate today)
    {
        string F(long minor) => new Amount(minor).Format(book.Digits);
        var due = row.Status == "issued" ? row.Gross - paid : 0;
        var status = row.Status switch
        {
            "issued" => due == 0 ? "paid" : paid > 0 ? "partiallyPaid" : "open",
            var other => other,
        };
        // Only what the party owes (an invoice) or the book owes (a bill) falls due: an unallocated credit note or vendor
        // credit is a credit waiting to be used, never late.
        var overdue = (kind is DocumentKind.Invoice or DocumentKind.Bill) && due > 0 && row.DueDate is { } dueDate
                      && DateText.ParseStoredDate(dueDate) < today;
        var customer = kind.Party() == PartyKind.Customer;
        return new DocumentResponse(row.Id, row.Number, status, customer ? row.PartyId : null, customer ? null : row.PartyId,
            row.DocumentDate, row.DueDate, row.Reference, row.VendorReference, row.AmountsAre,
            kind == DocumentKind.CreditNote ? row.CorrectsId : null, kind == DocumentKind.VendorCredit ? row.CorrectsId : null,
            lines.Select(l => new DocumentLineResponse(l.Description, l.Quantity, l.UnitPrice, l.Account, l.TaxRate, F(l.Net), F(l.Tax), F(l.Gross))).ToList(),
            new DocumentTotalsResponse(F(row.Net), F(row.Tax), F(row.Gross)), F(paid), F(due), applied, overdue, row.EntryId,
            row.CreatedAt, row.IssuedAt, row.VoidedAt);
    }

    private sealed record StoredDocument(long Id, long PartyId, string Status, string? Number, string DocumentDate, string? DueDate,
        string? Reference, string? VendorReference, string AmountsAre, long? CorrectsId, long Net, long Tax, long Gross, long? EntryId,
        string CreatedAt, string? IssuedAt, string? VoidedAt);

    private sealed record StoredLine(long DocumentId, string Description, string Quantity, string UnitPrice, string Account, string? TaxRate,
        long Net, long Tax, long Gross);

    private const string SelectSql = """
        SELECT id AS Id, party_id AS PartyId, status AS Status, number AS Number, document_date AS DocumentDate, due_date AS DueDate,
               reference AS Reference, vendor_reference AS VendorReference, amounts_are AS AmountsAre, corrects_id AS CorrectsId,
               net AS Net, tax AS Tax, gross AS Gross, entry_id AS EntryId, created_at AS CreatedAt, issued_at AS IssuedAt, voided_at AS VoidedAt
        FROM documents WHERE book_id = @bookId AND kind = @kind
        """;

    private const string SelectLinesSql = """
        SELECT document_id AS DocumentId, description AS Description, quantity AS Quantity, unit_price AS UnitPrice, account AS Account,
               tax_rate AS TaxRate, net AS Net, tax AS Tax, gross AS Gross
        FROM document_lines WHERE book_id = @bookId AND document_id IN @ids ORDER BY document_id, line_no
        """;
}
