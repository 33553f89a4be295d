using Ledger.Api.Features.Audit;
using System.Data.Common;
using System.Text.Json;
using Dapper;
using FluentValidation;
using Ledger.Api.Features.Books;
using Ledger.Api.Infrastructure;
using Ledger.Api.Infrastructure.Security;
using Ledger.Domain;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Ledger.Api.Features.Allocations;

/// <summary>
/// An open item: one line posted to a control account, with its party and what posted it. Its amount is signed as
/// posted there (debit positive): on receivables an invoice is positive and a payment or credit note negative; on
/// payables a bill is negative and a payment or vendor credit positive.
/// </summary>
public sealed record OpenItem(long Id, long PartyId, string Ledger, long Amount, string ItemDate, string SourceType, long? SourceId, long EntryId);

/// <summary>
/// Each side is named by its document or payment (<c>document</c>, <c>against</c>) or by its open item's own id
/// (<c>documentItem</c>, <c>againstItem</c>): the only way to name what a hand-posted journal line put on a control
/// account (an opening balance, a write-off), which has no document.
/// </summary>
public sealed record AllocateRequest(long? Document, long? Against, AmountInput? Amount, string? Date, long? DocumentItem = null,
    long? AgainstItem = null);

/// <summary>
/// An allocation seen from one of its items: the document or payment on the other side (null when a hand-posted journal
/// line made that item) and that item's id.
/// </summary>
public sealed record AppliedAllocation(long Id, long? Against, long AgainstItem, string Amount, string Date);

/// <summary>
/// <c>document</c> is the invoice or bill side (the debit item on receivables, the credit on payables), <c>against</c>
/// what settles it; either is null when its item was posted by a hand-made journal line, and the item ids are always there.
/// </summary>
public sealed record AllocationResponse(long Id, long? Document, long DocumentItem, long? Against, long AgainstItem, string Amount,
    string Date, string RecordedAt, string? UndoneAt);

/// <summary>One side of an allocation as a request names it: a document or payment id, or an open item's own id.</summary>
public readonly record struct ItemReference(long Id, bool IsOpenItem, string Field)
{
    public static ItemReference ForDocument(long id, string field) => new(id, false, field);

    public static ItemReference ForOpenItem(long id, string field) => new(id, true, field);

    public override string ToString() => IsOpenItem ? $"open item {Id}" : Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

public sealed class AllocateRequestValidator : AbstractValidator<AllocateRequest>
{
    public AllocateRequestValidator()
    {
        RuleFor(x => x.Document).NotNull().When(x => x.DocumentItem is null)
            .WithMessage("Name the document or payment (or its open item as documentItem).");
        RuleFor(x => x.DocumentItem).Null().When(x => x.Document is not null).WithMessage("Name document or documentItem, not both.");
        RuleFor(x => x.Against).NotNull().When(x => x.AgainstItem is null)
            .WithMessage("Name the payment or credit that settles the document (or its open item as againstItem).");
        RuleFor(x => x.AgainstItem).Null().When(x => x.Against is not null).WithMessage("Name against or againstItem, not both.");
        RuleFor(x => x.Against).NotEqual(x => x.Document).When(x => x.Document is not null).WithMessage("must differ from document.");
        RuleFor(x => x.AgainstItem).NotEqual(x => x.DocumentItem).When(x => x.DocumentItem is not null).WithMessage("must differ from documentItem.");
        RuleFor(x => x.Amount).NotNull();
        RuleFor(x => x.Date).Must(d => DateText.TryParseDate(d, out _)).When(x => x.Date is not null)
            .WithMessage("must be a calendar date written YYYY-MM-DD.");
    }
}

/// <summary>
/// Allocations match a debit and a credit open item of one party and control account: an invoice with the payment or
/// credit note that settles it, a bill with its payment or vendor credit. They post nothing (both items already sit on
/// the control account), so the open items keep summing to it. An undone allocation stays, with when it was undone,
/// so a report as known at an earlier instant still sees it.
/// </summary>
public static class OpenItemAllocations
{
    /// <summary>Who recorded the allocation that a void makes between a document and its reversal (never undone by hand).</summary>
    public const string VoidedBy = "system:void";

    public static void MapAllocations(this IEndpointRouteBuilder app)
    {
        var allocations = app.MapGroup("/v1/books/{bookId}/allocations").RequireBookAccess().ValidateRequests().WithTags("Allocations");
        allocations.MapPost("/", AllocateAsync).WithName("createAllocation").WithSummary("Match a document with a payment or credit")
            .WithDescription("Matches two open items of the same party and control account with opposite signs (an invoice or " +
                             "bill with the payment, credit note or vendor credit that settles it, in either order) for an amount. " +
                             "Posts nothing. 409 with the reason: more than either item's open amount, another party, a draft " +
                             "or void document, a date on or before the lock date. The date defaults to the later of the two.")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        allocations.MapGet("/{id:long}", GetAsync).WithName("getAllocation").WithSummary("Get an allocation")
            .WithDescription("One allocation: its two items, amount and date, when it was recorded and, once undone, when.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        allocations.MapDelete("/{id:long}", UndoAsync).WithName("undoAllocation").WithSummary("Undo an allocation")
            .WithDescription("Undoes an allocation: both items are open again by its amount. It stays in the history with when it " +
                             "was undone, so reports as known at an earlier instant still see it.")
            .ProducesProblem(StatusCodes.Status409Conflict);
    }

    private static async Task<Results<Created<AllocationResponse>, StoredResponse>> AllocateAsync(string bookId, AllocateRequest request,
        [FromHeader(Name = Idempotency.HeaderName)] string? idempotencyKey, HttpContext http, BookCatalog books, LedgerWriter writer,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
    {
        var book = await books.GetAsync(bookId);
        var amount = request.Amount!.Value.Parse(book.Digits);
        if (!amount.Success) throw new ValidationFailedException("amount", amount.Error!);
        if (!amount.Value.IsPositive) throw new ValidationFailedException("amount", "must be greater than zero.");
        var keyId = http.Caller().KeyId;
        return await writer.CreateIdempotentAsync(bookId, idempotencyKey, "create-allocation", request, json.Value.SerializerOptions,
            session =>
            {
                var date = request.Date is { } given && DateText.TryParseDate(given, out var d) ? d : (NodaTime.LocalDate?)null;
                var first = request.Document is { } document
                    ? ItemReference.ForDocument(document, "document") : ItemReference.ForOpenItem(request.DocumentItem!.Value, "documentItem");
                var second = request.Against is { } against
                    ? ItemReference.ForDocument(against, "against") : ItemReference.ForOpenItem(request.AgainstItem!.Value, "againstItem");
                var id = Allocate(session, book, first, second, amount.Value.MinorUnits, date, keyId, "amount").Id;
                return Read(session.Connection, book, id)!;
            },
            created => $"/v1/books/{bookId}/allocations/{created.Id}", defersGroupState: true);
    }

    // The Location of a created allocation: read from the primary, so an allocation just made is found.
    private static async Task<Results<Ok<AllocationResponse>, ProblemHttpResult>> GetAsync(string bookId, long id, BookCatalog books,
        LedgerDatabase database)
    {
        var book = await books.GetAsync(bookId);
        await using var connection = await database.OpenReadAsync();
        return Read(connection, book, id) is { } allocation ? TypedResults.Ok(allocation) : Problems.NotFound($"No allocation {id} in this book.");
    }

    private static async Task<Ok<AllocationResponse>> UndoAsync(string bookId, long id, HttpContext http, BookCatalog books, LedgerWriter writer)
    {
        var book = await books.GetAsync(bookId);
        var keyId = http.Caller().KeyId;
        var undone = await writer.WriteBookAsync(bookId, session =>
        {
            var row = session.Connection.QuerySingleOrDefault<AllocationRow>(SelectAllocationSql + " WHERE a.book_id = @bookId AND a.id = @id",
                new { bookId, id }) ?? throw new ProblemException(StatusCodes.Status404NotFound, "Not found", $"No allocation {id} in this book.");
            if (row.UndoneAt is not null) throw new ConflictException($"Allocation {id} was undone at {row.UndoneAt}.");
            if (row.RecordedBy == VoidedBy) throw new ConflictException($"Allocation {id} matches a void document with its reversal; it is never undone.");
            RefuseLocked(session, bookId, DateText.ParseStoredDate(row.AllocationDate), "Allocation");
            Undo(session, bookId, id, keyId);
            return Read(session.Connection, book, id)!;
        }, defersGroupState: true);
        return TypedResults.Ok(undone);
    }

    /// <summary>
    /// Allocates <paramref name="amount"/> between the open items of two documents or payments (ids share one space),
    /// refusing with the reason what the books do not allow. Returns what was made.
    /// </summary>
    public static MadeAllocation Allocate(WriteSession session, BookIdentity book, long documentId, long againstId, long amount,
        NodaTime.LocalDate? date, string recordedBy, string documentField, string againstField, string amountField) =>
        Allocate(session, book, ItemReference.ForDocument(documentId, documentField), ItemReference.ForDocument(againstId, againstField),
            amount, date, recordedBy, amountField);

    /// <summary>
    /// Allocates <paramref name="amount"/> between two open items, each named by its document or payment or by its own
    /// id, refusing with the reason what the books do not allow. Returns what was made, so a caller can answer without
    /// reading it back.
    /// </summary>
    public static MadeAllocation Allocate(WriteSession session, BookIdentity book, ItemReference documentSide, ItemReference againstSide, long amount,
        NodaTime.LocalDate? date, string recordedBy, string amountField)
    {
        session.PlanReadsForValues();
        var (first, firstAllocated) = Resolve(session.Connection, book.Id, documentSide);
        var (second, secondAllocated) = Resolve(session.Connection, book.Id, againstSide);
        // Two references can name one item (a payment by its id and its item by its own): nothing to match. The side named
        // by its item's id is the one to fix (a new payment's own side is no field of the request: its field is "payment").
        if (first.Id == second.Id)
        {
            var (blamed, other) = documentSide.IsOpenItem && !againstSide.IsOpenItem ? (documentSide, againstSide) : (againstSide, documentSide);
            throw new ValidationFailedException(blamed.Field, $"{blamed} is the same open item as {other}.");
        }
        if (first.PartyId != second.PartyId || first.Ledger != second.Ledger)
            throw new ConflictException($"{Describe(first)} and {Describe(second)} belong to different {(first.Ledger == second.Ledger ? "parties" : "ledgers")}; an allocation matches items of one party.");
        if (Math.Sign(first.Amount) == Math.Sign(second.Amount))
            throw new ConflictException($"{Describe(first)} and {Describe(second)} are both {(first.Amount > 0 ? "debits" : "credits")} on the control account; an allocation matches a debit with a credit.");
        var latest = Later(DateText.ParseStoredDate(first.ItemDate), DateText.ParseStoredDate(second.ItemDate));
        // Never before either item exists: aging as of any date then counts both items or neither, so it ties out.
        if (date is { } given && given < latest)
            throw new ValidationFailedException("date", $"must be on or after both items' dates ({DateText.Format(latest)}).");
        var allocationDate = date ?? latest;
        RefuseLocked(session, book.Id, allocationDate, "An allocation");
        foreach (var (item, allocated) in new[] { (first, firstAllocated), (second, secondAllocated) })
        {
            // Read with the item when it was named by its document or payment (one round trip less on PostgreSQL).
            var open = allocated is { } sum ? Math.Abs(item.Amount) - sum : OpenAmount(session.Connection, book.Id, item);
            if (amount > open)
                throw new ConflictException($"{amountField} {new Amount(amount).Format(book.Digits)} is more than the {new Amount(open).Format(book.Digits)} still open on {Describe(item)}.");
        }
        var (debit, credit) = first.Amount > 0 ? (first, second) : (second, first);
        var id = Insert(session, book, first.PartyId, first.Ledger, debit.Id, credit.Id, amount, allocationDate, recordedBy);
        return new MadeAllocation(id, first, amount, allocationDate);
    }

    /// <summary>An item as a message names it: by its document or payment ("invoice 3", "payment 12"), else by its own id.</summary>
    private static string Describe(OpenItem item) =>
        item.SourceId is { } source ? $"{item.SourceType.Replace('_', ' ')} {source}" : $"open item {item.Id} (posted by hand)";

    /// <summary>An allocation as <see cref="Allocate(WriteSession, BookIdentity, ItemReference, ItemReference, long, NodaTime.LocalDate?, string, string)"/> wrote it, with the document side's item as resolved.</summary>
    public sealed record MadeAllocation(long Id, OpenItem DocumentItem, long Amount, NodaTime.LocalDate Date);

    /// <summary>Marks an allocation undone (it stays in the history) and records the event.</summary>
    public static void Undo(WriteSession session, string bookId, long id, string by)
    {
        session.Connection.Execute("UPDATE allocations SET undone_at = @at, undone_by = @by WHERE book_id = @bookId AND id = @id",
            new { at = Timestamps.Format(session.Now), by, bookId, id });
        EventLog.Append(session, bookId, "allocation.undone", "allocation", id.ToString(System.Globalization.CultureInfo.InvariantCulture),
            EventData.Of(("id", id)));
    }

    public static long Insert(WriteSession session, BookIdentity book, long partyId, string ledger, long debitItemId, long creditItemId,
        long amount, NodaTime.LocalDate date, string recordedBy)
    {
        var bookId = book.Id;
        var id = session.NextId("allocations");
        // Written with the request's other rows (PostgreSQL sends them together); any read after it sends them first.
        session.InsertRows("allocations", AllocationColumns,
            [[id, bookId, partyId, ledger, debitItemId, creditItemId, amount, DateText.Format(date), Timestamps.Format(session.Now), recordedBy, null, null]]);
        EventLog.Append(session, bookId, "allocation.made", "allocation", id.ToString(System.Globalization.CultureInfo.InvariantCulture), EventData.Of(
            ("id", id), ("ledger", ledger), ("party", partyId), ("debitItem", debitItemId), ("creditItem", creditItemId),
            // A decimal string in the book's digits, as every amount the API writes: an integer of minor units would pass
            // 2^53, where JSON readers (and RFC 8785 tools) that read numbers as doubles lose the cents.
            ("amount", new Amount(amount).Format(book.Digits)),
            ("date", DateText.Format(date))));
        return id;
    }

    private static readonly string[] AllocationColumns =
        ["id", "book_id", "party_id", "ledger", "debit_item_id", "credit_item_id", "amount", "allocation_date", "recorded_at", "recorded_by",
         "undone_at", "undone_by"];

    /// <summary>
    /// Matches a voided document's or payment's open item with the one its reversal entry posted, in full and on the void's
    /// date, so neither stays open. Recorded by <see cref="VoidedBy"/>, which is never undone.
    /// </summary>
    public static void MatchWithReversal(WriteSession session, BookIdentity book, OpenItem item, long reversalEntryId, NodaTime.LocalDate date)
    {
        var bookId = book.Id;
        var reversal = session.Connection.QuerySingle<long>(
            "SELECT id FROM open_items WHERE book_id = @bookId AND entry_id = @entryId", new { bookId, entryId = reversalEntryId });
        var (debit, credit) = item.Amount > 0 ? (item.Id, reversal) : (reversal, item.Id);
        Insert(session, book, item.PartyId, item.Ledger, debit, credit, Math.Abs(item.Amount), date, VoidedBy);
    }

    /// <summary>The open item a document or payment posted when it was issued (its first, before any void).</summary>
    public static OpenItem ItemOf(DbConnection connection, string bookId, string sourceType, long sourceId) =>
        connection.QueryFirst<OpenItem>(SelectItemSql + " AND source_type = @sourceType AND source_id = @sourceId ORDER BY id",
            new { bookId, sourceType, sourceId });

    /// <summary>Ids of the allocations on an item that are not undone (each side through its own index, as in <see cref="AllocatedOnItemSql"/>).</summary>
    public static List<long> ActiveOn(DbConnection connection, string bookId, long itemId) =>
        connection.Query<long>("""
            SELECT id FROM allocations WHERE book_id = @bookId AND debit_item_id = @itemId AND undone_at IS NULL
            UNION ALL
            SELECT id FROM allocations WHERE book_id = @bookId AND credit_item_id = @itemId AND undone_at IS NULL
            ORDER BY id
            """, new { bookId, itemId }).AsList();

    /// <summary>What the live (not undone) allocations on an item take of it, and those of them to show on its document or payment.</summary>
    public sealed record ItemAllocations(long Allocated, List<AppliedAllocation> Applied);

    /// <summary>
    /// The live allocations on each of <paramref name="itemIds"/> (one page of a list at most), read in one query: what
    /// they add up to (the match a void makes with its reversal included, so size − allocated is what is open) and, in
    /// the order made, the ones to show, each with the document or payment and the item on its other side. Items
    /// without any are absent.
    /// </summary>
    public static Dictionary<long, ItemAllocations> LiveOn(DbConnection connection, string bookId, IReadOnlyCollection<long> itemIds, int digits)
    {
        var result = new Dictionary<long, ItemAllocations>();
        if (itemIds.Count == 0) return result;
        var (list, _, parameters) = SqlIdList.Of(itemIds);
        parameters.Add("bookId", bookId);
        var rows = connection.Query<(long ItemId, long Id, long? Against, long AgainstItem, long Amount, string Date, string RecordedBy)>(
            LiveOnItemsSql.Replace("@items", list, StringComparison.Ordinal), parameters).AsList();
        rows.Sort((a, b) => a.Id.CompareTo(b.Id));
        foreach (var row in rows)
        {
            if (!result.TryGetValue(row.ItemId, out var on)) result[row.ItemId] = on = new ItemAllocations(0, []);
            on = on with { Allocated = checked(on.Allocated + row.Amount) };
            if (row.RecordedBy != VoidedBy)
                on.Applied.Add(new AppliedAllocation(row.Id, row.Against, row.AgainstItem, new Amount(row.Amount).Format(digits), row.Date));
            result[row.ItemId] = on;
        }
        return result;
    }

    // Each side through its own index ((book_id, debit_item_id) and (book_id, credit_item_id)), with the item opposite.
    private const string LiveOnItemsSql = """
        SELECT a.debit_item_id, a.id, o.source_id, o.id, a.amount, a.allocation_date, a.recorded_by FROM allocations a
        JOIN open_items o ON o.book_id = a.book_id AND o.id = a.credit_item_id
        WHERE a.book_id = @bookId AND a.undone_at IS NULL AND a.debit_item_id IN @items
        UNION ALL
        SELECT a.credit_item_id, a.id, o.source_id, o.id, a.amount, a.allocation_date, a.recorded_by FROM allocations a
        JOIN open_items o ON o.book_id = a.book_id AND o.id = a.debit_item_id
        WHERE a.book_id = @bookId AND a.undone_at IS NULL AND a.credit_item_id IN @items
        """;

    /// <summary>
    /// The item each of <paramref name="sourceIds"/> (documents of one kind, or payments) posted when issued or recorded:
    /// its first, before any void. Sources without one (drafts) are absent.
    /// </summary>
    public static Dictionary<long, OpenItem> ItemsOf(DbConnection connection, string bookId, string sourceType, IReadOnlyCollection<long> sourceIds)
    {
        var result = new Dictionary<long, OpenItem>();
        if (sourceIds.Count == 0) return result;
        var (list, _, parameters) = SqlIdList.Of(sourceIds);
        parameters.Add("bookId", bookId);
        parameters.Add("sourceType", sourceType);
        foreach (var item in connection.Query<OpenItem>(SelectItemSql + $" AND source_type = @sourceType AND source_id IN {list} ORDER BY id", parameters))
            result.TryAdd(item.SourceId!.Value, item);
        return result;
    }

    /// <summary>
    /// What the live allocations on open item <c>o</c> add up to, as a column of a query over <c>open_items o</c>: its open
    /// amount is |o.amount| less this. The one definition for every query that lists open documents.
    /// <para>
    /// Two sums, one per side, rather than one over "debit_item_id = o.id OR credit_item_id = o.id": each is a search of
    /// its own index. With the OR, SQLite (without statistics) searched one index by the book alone, reading every
    /// allocation of the book for each item, so each payment's checks grew with the allocations before it. An
    /// allocation's two items are never the same item, so nothing is counted twice.
    /// </para>
    /// </summary>
    public const string AllocatedOnItemSql = """
        CAST(COALESCE((SELECT SUM(a.amount) FROM allocations a
                       WHERE a.book_id = o.book_id AND a.debit_item_id = o.id AND a.undone_at IS NULL), 0)
           + COALESCE((SELECT SUM(a.amount) FROM allocations a
                       WHERE a.book_id = o.book_id AND a.credit_item_id = o.id AND a.undone_at IS NULL), 0) AS BIGINT)
        """;

    /// <summary>What is still open on an item now: its size less the allocations on it that are not undone.</summary>
    public static long OpenAmount(DbConnection connection, string bookId, OpenItem item) =>
        Math.Abs(item.Amount) - connection.ExecuteScalar<long>(
            $"SELECT {AllocatedOnItemSql} FROM open_items o WHERE o.book_id = @bookId AND o.id = @itemId", new { bookId, itemId = item.Id });

    /// <summary>
    /// The open item a reference names. An item a document or payment posted answers as naming that document or payment
    /// would (drafts, voids and reversals refused alike); one a hand-posted journal line made is allocated as it is.
    /// </summary>
    /// <returns>The item, and what its live allocations add up to when the same read could tell (null: not read).</returns>
    private static (OpenItem Item, long? Allocated) Resolve(DbConnection connection, string bookId, ItemReference reference)
    {
        if (!reference.IsOpenItem) return SourceItem(connection, bookId, reference.Id, reference.Field);
        var item = connection.QuerySingleOrDefault<OpenItem>(SelectItemSql + " AND id = @itemId", new { bookId, itemId = reference.Id })
            ?? throw new ValidationFailedException(reference.Field, $"No open item {reference.Id} in this book.");
        if (item.SourceId is not { } sourceId) return (item, null);
        var issued = SourceItem(connection, bookId, sourceId, reference.Field);
        // A document's or payment's later items are its void's reversal, matched with the first in full when it was voided.
        if (issued.Item.Id != item.Id)
            throw new ConflictException($"{reference.Field} {reference.Id} is what the void of {item.SourceType.Replace('_', ' ')} {sourceId} posted; it is matched with the original already.");
        return issued;
    }

    /// <summary>The issued document's or payment's item: drafts and void documents have none to allocate.</summary>
    private static (OpenItem Item, long? Allocated) SourceItem(DbConnection connection, string bookId, long id, string field)
    {
        // One round trip: what the id is (documents and payments share one id sequence, so at most one row names it),
        // its state, the first item it posted and what is allocated on that item.
        var source = connection.QueryFirstOrDefault<SourceRow>(SelectSourceSql, new { bookId, id })
            ?? throw new ValidationFailedException(field, $"No document or payment {id} in this book.");
        if (source.Kind == "payment")
        {
            if (source.Status == "void") throw new ConflictException($"{field} {id} is a void payment; it is not allocated.");
        }
        else if (source.Status != "issued")
            throw new ConflictException($"{field} {id} is {Article.A($"{source.Status} {source.Kind.Replace('_', ' ')}")}; only issued documents are allocated.");
        if (source.ItemId is not { } itemId)
            throw new InvalidOperationException($"The {source.Kind.Replace('_', ' ')} {id} has no open item.");
        return (new OpenItem(itemId, source.PartyId!.Value, source.Ledger!, source.Amount!.Value, source.ItemDate!, source.Kind, id, source.EntryId!.Value),
            source.Allocated);
    }

    // Settable properties, not a positional record: the item's columns are NULL for a draft, and Dapper matches
    // constructors by exact column type.
    private sealed class SourceRow
    {
        public string Kind { get; init; } = "";
        public string Status { get; init; } = "";
        public long? ItemId { get; init; }
        public long? PartyId { get; init; }
        public string? Ledger { get; init; }
        public long? Amount { get; init; }
        public string? ItemDate { get; init; }
        public long? EntryId { get; init; }
        public long? Allocated { get; init; }
    }

    // The item is the source's first (before any void's reversal); a draft has none. Found through
    // (book_id, source_id, source_type) by its source's id alone (documents and payments share one id sequence), so the
    // search does not depend on the planner joining on s.kind: with source_type second in that index, PostgreSQL at
    // times joined on it after searching by the book alone, reading every item of the book for each payment.
    private const string SelectSourceSql = """
        SELECT s.kind AS Kind, s.status AS Status, o.id AS ItemId, o.party_id AS PartyId, o.ledger AS Ledger, o.amount AS Amount,
               o.item_date AS ItemDate, o.entry_id AS EntryId,
        """ + AllocatedOnItemSql + """
         AS Allocated
        FROM (SELECT kind, status FROM documents WHERE book_id = @bookId AND id = @id
              UNION ALL
              SELECT 'payment', CASE WHEN voided_at IS NULL THEN 'recorded' ELSE 'void' END FROM payments WHERE book_id = @bookId AND id = @id) s
        LEFT JOIN open_items o ON o.book_id = @bookId AND o.source_id = @id AND o.source_type = s.kind
        ORDER BY o.id
        LIMIT 1
        """;

    /// <summary>
    /// Refuses a date on or before the book's lock date, as the group has the book (the lock date moves only by work that
    /// does not defer group state, before which the writer forgets what it read).
    /// </summary>
    private static void RefuseLocked(WriteSession session, string bookId, NodaTime.LocalDate date, string what)
    {
        if (Journal.JournalPoster.BookOf(session, bookId).LockDate is { } lockDate && date <= lockDate)
            throw new ConflictException($"The books are locked through {DateText.Format(lockDate)}: {what.ToLowerInvariant()} dated {DateText.Format(date)} changes what was open then.");
    }

    private static NodaTime.LocalDate Later(NodaTime.LocalDate a, NodaTime.LocalDate b) => a > b ? a : b;

    public static AllocationResponse? Read(DbConnection connection, BookIdentity book, long id) =>
        connection.QuerySingleOrDefault<AllocationRow>(SelectAllocationSql + " WHERE a.book_id = @bookId AND a.id = @id", new { bookId = book.Id, id })
            ?.ToResponse(book.Digits);

    private const string SelectItemSql = """
        SELECT id AS Id, party_id AS PartyId, ledger AS Ledger, amount AS Amount, item_date AS ItemDate, source_type AS SourceType,
               source_id AS SourceId, entry_id AS EntryId
        FROM open_items WHERE book_id = @bookId
        """;

    // The document is the debit's source on receivables (an invoice) and the credit's on payables (a bill).
    private const string SelectAllocationSql = """
        SELECT a.id AS Id, a.ledger AS Ledger, d.source_id AS DebitSource, c.source_id AS CreditSource, a.debit_item_id AS DebitItem,
               a.credit_item_id AS CreditItem, a.amount AS Amount,
               a.allocation_date AS AllocationDate, a.recorded_at AS RecordedAt, a.recorded_by AS RecordedBy, a.undone_at AS UndoneAt
        FROM allocations a
        JOIN open_items d ON d.id = a.debit_item_id AND d.book_id = a.book_id
        JOIN open_items c ON c.id = a.credit_item_id AND c.book_id = a.book_id
        """;

    private sealed record AllocationRow(long Id, string Ledger, long? DebitSource, long? CreditSource, long DebitItem, long CreditItem,
        long Amount, string AllocationDate, string RecordedAt, string RecordedBy, string? UndoneAt)
    {
        public AllocationResponse ToResponse(int digits) => Ledger == "receivables"
            ? new(Id, DebitSource, DebitItem, CreditSource, CreditItem, new Amount(Amount).Format(digits), AllocationDate, RecordedAt, UndoneAt)
            : new(Id, CreditSource, CreditItem, DebitSource, DebitItem, new Amount(Amount).Format(digits), AllocationDate, RecordedAt, UndoneAt);
    }
}
