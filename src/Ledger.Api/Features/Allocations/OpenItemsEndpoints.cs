using System.Globalization;
using System.Text;
using Dapper;
using FluentValidation;
using Ledger.Api.Features.Books;
using Ledger.Api.Features.Journal;
using Ledger.Api.Infrastructure;
using Ledger.Api.Infrastructure.Security;
using Ledger.Domain;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Ledger.Api.Features.Allocations;

public sealed record OpenItemListQuery(
    [property: FromQuery(Name = "customer")] long? Customer,
    [property: FromQuery(Name = "vendor")] long? Vendor,
    [property: FromQuery(Name = "journalEntry")] long? JournalEntry,
    [property: FromQuery(Name = "status")] string? Status,
    [property: FromQuery(Name = "limit")] int? Limit,
    [property: FromQuery(Name = "cursor")] string? Cursor);

/// <summary>
/// One line posted to a control account with its party, as it stands now, in the same terms as aging's detail: what
/// posted it (<c>sourceType</c> invoice, bill, credit_note, vendor_credit, payment, or journal for a hand-posted line,
/// which has no <c>sourceId</c>), the entry and the line's index in it, and its <c>amount</c>, what live allocations take
/// of it and what is <c>open</c>, signed as the party owes (receivables: an invoice positive, a payment negative;
/// payables: a bill positive, a payment negative), so that amount − allocated = open.
/// </summary>
public sealed record OpenItemResponse(
    long Id,
    string Ledger,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] long? Customer,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] long? Vendor,
    string SourceType,
    long? SourceId,
    string? Number,
    long JournalEntryId,
    int Line,
    string Date,
    string DueDate,
    string Amount,
    string Allocated,
    string Open);

public sealed class OpenItemListQueryValidator : AbstractValidator<OpenItemListQuery>
{
    public OpenItemListQueryValidator()
    {
        RuleFor(x => x.Vendor).Null().When(x => x.Customer is not null).WithMessage("Filter by a customer or a vendor, not both.");
        RuleFor(x => x.Status).Must(s => s is null or "open" or "settled").WithMessage("must be 'open' or 'settled'.");
        RuleFor(x => x.Limit).GreaterThanOrEqualTo(1).WithMessage("must be at least 1.");
        RuleFor(x => x.Cursor).IsIdCursor();
    }
}

/// <summary>
/// The open items of the receivables and payables subledgers, one per control-account line. Documents and payments
/// show theirs in their own answers; this list is where the items of hand-posted journal lines (opening balances,
/// write-offs) are found, so that they can be allocated by their id like any other.
/// </summary>
public static class OpenItemsEndpoints
{
    public static void MapOpenItems(this IEndpointRouteBuilder app)
    {
        var items = app.MapGroup("/v1/books/{bookId}/open-items").RequireBookAccess().ValidateRequests().WithTags("Allocations");
        items.MapGet("/", ListAsync).WithName("listOpenItems").WithSummary("List open items")
            .WithDescription("Every line posted to the receivables or payables control account, in the order posted, with its party, " +
                             "side, amount, what is allocated and what is still open, and the document, payment or journal entry " +
                             "that posted it. Filter by customer, vendor, journalEntry and status (open: something left; settled: " +
                             "nothing left). An item's id names it in an allocation (documentItem, againstItem) or a payment's " +
                             "allocations (item): the way to settle an opening balance or write-off posted by hand.");
    }

    private static async Task<Ok<Page<OpenItemResponse>>> ListAsync(string bookId, [AsParameters] OpenItemListQuery query,
        BookCatalog books, LedgerDatabase database)
    {
        var book = await books.GetAsync(bookId);
        var limit = Math.Min(query.Limit ?? JournalQueries.DefaultPageSize, JournalQueries.MaxPageSize);
        long after = IdCursor.TryDecode(query.Cursor, out var cursorId) ? cursorId : 0;
        var sql = new StringBuilder(SelectSql);
        if (query.Customer is not null) sql.Append(" AND p.kind = 'customer' AND o.party_id = @customer");
        if (query.Vendor is not null) sql.Append(" AND p.kind = 'vendor' AND o.party_id = @vendor");
        if (query.JournalEntry is not null) sql.Append(" AND o.entry_id = @entryId");
        if (query.Status == "open") sql.Append($" AND ABS(o.amount) > {OpenItemAllocations.AllocatedOnItemSql}");
        if (query.Status == "settled") sql.Append($" AND ABS(o.amount) <= {OpenItemAllocations.AllocatedOnItemSql}");
        sql.Append(" ORDER BY o.id LIMIT @take");

        await using var connection = await database.OpenReplicaReadAsync();
        var rows = (await connection.QueryAsync<ItemRow>(sql.ToString(), new
        {
            bookId, after, customer = query.Customer, vendor = query.Vendor, entryId = query.JournalEntry, take = limit + 1,
        })).AsList();
        var more = rows.Count > limit;
        if (more) rows.RemoveAt(rows.Count - 1);
        string F(long minor) => new Amount(minor).Format(book.Digits);
        var items = rows.Select(r =>
        {
            var size = Math.Abs(r.Amount);
            // Allocations never exceed either item's open amount (checked when made); say so if the rows disagree.
            if (r.Allocated < 0 || r.Allocated > size)
                throw new InvalidOperationException($"Open item {r.Id} of book {bookId} has {r.Allocated} allocated against a size of {size}.");
            var customer = r.Kind == "customer";
            // As the party owes: receivables as posted (debit positive), payables turned round (credit positive).
            long sign = r.Ledger == "receivables" ? 1 : -1;
            var owed = sign * r.Amount;
            var allocated = Math.Sign(owed) * r.Allocated;
            return new OpenItemResponse(r.Id, r.Ledger, customer ? r.PartyId : null, customer ? null : r.PartyId, r.SourceType, r.SourceId,
                r.Number, r.EntryId, (int)r.LineNo, r.ItemDate, r.DueDate, F(owed), F(allocated), F(owed - allocated));
        }).ToList();
        return TypedResults.Ok(new Page<OpenItemResponse>(items,
            more ? IdCursor.Encode(rows[^1].Id) : null));
    }

    // Properties, not a positional record: on SQLite an empty result types the computed column as a blob, which
    // Dapper's constructor matching then refuses.
    private sealed class ItemRow
    {
        public long Id { get; init; }
        public long PartyId { get; init; }
        public string Kind { get; init; } = "";
        public string Ledger { get; init; } = "";
        public long EntryId { get; init; }
        public long LineNo { get; init; }
        public string ItemDate { get; init; } = "";
        public string DueDate { get; init; } = "";
        public long Amount { get; init; }
        public string SourceType { get; init; } = "";
        public long? SourceId { get; init; }
        public string? Number { get; init; }
        public long Allocated { get; init; }
    }

    // Payments have no number of their own; a document's is the one it was issued with.
    private const string SelectSql = $"""
        SELECT o.id AS Id, o.party_id AS PartyId, p.kind AS Kind, o.ledger AS Ledger, o.entry_id AS EntryId, o.line_no AS LineNo,
               o.item_date AS ItemDate, o.due_date AS DueDate, o.amount AS Amount, o.source_type AS SourceType, o.source_id AS SourceId,
               d.number AS Number, {OpenItemAllocations.AllocatedOnItemSql} AS Allocated
        FROM open_items o
        JOIN parties p ON p.id = o.party_id AND p.book_id = o.book_id
        LEFT JOIN documents d ON d.book_id = o.book_id AND d.id = o.source_id AND o.source_type NOT IN ('payment', 'journal')
        WHERE o.book_id = @bookId AND o.id > @after
        """;
}
