using Ledger.Api.Features.Audit;
using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dapper;
using FluentValidation;
using Ledger.Api.Features.Allocations;
using Ledger.Api.Features.Books;
using Ledger.Api.Features.Documents;
using Ledger.Api.Features.Journal;
using Ledger.Api.Infrastructure;
using Ledger.Api.Infrastructure.Security;
using Ledger.Domain;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Ledger.Api.Features.Payments;

/// <summary>What of the payment goes to a document, named by its id or by its open item's id (<c>item</c>: the way to settle what a hand-posted journal line put on the party, such as an opening balance).</summary>
public sealed record PaymentAllocationRequest(long? Document, AmountInput? Amount, long? Item = null);

public sealed record PaymentRequest(long? Customer, long? Vendor, string? Direction, string? Date, AmountInput? Amount, string? Account,
    string? Reference, IReadOnlyList<PaymentAllocationRequest?>? Allocations);

public sealed record PaymentResponse(
    long Id,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Customer,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Vendor,
    string Direction,
    string Date,
    string Amount,
    string Account,
    string? Reference,
    string Allocated,
    string Unallocated,
    IReadOnlyList<AppliedAllocation> Allocations,
    string Status,
    long JournalEntryId,
    string CreatedAt,
    string? VoidedAt);

public sealed record PaymentListQuery(
    [property: FromQuery(Name = "customer")] long? Customer,
    [property: FromQuery(Name = "vendor")] long? Vendor,
    [property: FromQuery(Name = "from")] string? From,
    [property: FromQuery(Name = "to")] string? To,
    [property: FromQuery(Name = "limit")] int? Limit,
    [property: FromQuery(Name = "cursor")] string? Cursor);

public sealed class PaymentRequestValidator : AbstractValidator<PaymentRequest>
{
    public const int MaxAllocations = 500;

    public PaymentRequestValidator()
    {
        RuleFor(x => x.Customer).NotNull().When(x => x.Vendor is null).WithMessage("Name the customer or the vendor.");
        RuleFor(x => x.Vendor).Null().When(x => x.Customer is not null).WithMessage("A payment names a customer or a vendor, not both.");
        RuleFor(x => x.Direction).Must(d => d is null or "in" or "out").WithMessage("must be 'in' or 'out'.");
        RuleFor(x => x.Date).NotEmpty().Must(d => DateText.TryParseDate(d, out _)).WithMessage("must be a calendar date written YYYY-MM-DD.");
        RuleFor(x => x.Amount).NotNull();
        RuleFor(x => x.Account).NotEmpty().MaximumLength(32);
        RuleFor(x => x.Reference).MaximumLength(255);
        RuleFor(x => x.Allocations).Must(a => a!.Count <= MaxAllocations).When(x => x.Allocations is not null)
            .WithMessage($"A payment allocates to at most {MaxAllocations} documents.");
        RuleForEach(x => x.Allocations).ChildRules(allocation =>
        {
            allocation.RuleFor(a => a!.Document).NotNull().When(a => a!.Item is null).WithMessage("Name the document (or its open item as item).");
            allocation.RuleFor(a => a!.Item).Null().When(a => a!.Document is not null).WithMessage("Name document or item, not both.");
            allocation.RuleFor(a => a!.Amount).NotNull();
        }).When(x => x.Allocations is { Count: <= MaxAllocations });
    }
}

public sealed class PaymentListQueryValidator : AbstractValidator<PaymentListQuery>
{
    public PaymentListQueryValidator()
    {
        RuleFor(x => x.From).Must(d => d is null || DateText.TryParseDate(d, out _)).WithMessage("must be a date written YYYY-MM-DD.");
        RuleFor(x => x.To).Must(d => d is null || DateText.TryParseDate(d, out _)).WithMessage("must be a date written YYYY-MM-DD.");
        RuleFor(x => x.Limit).GreaterThanOrEqualTo(1).WithMessage("must be at least 1.");
        RuleFor(x => x.Cursor).IsIdCursor();
    }
}

/// <summary>
/// Money in from or out to a customer or vendor through a bank or cash account: one balanced entry whose control line
/// is the party's open item. Allocations given with it are made in the same transaction; what is left unallocated
/// stays on the party as credit. Refunds (out to a customer, in from a vendor) mirror the usual directions.
/// </summary>
public static class PaymentsEndpoints
{
    public static void MapPayments(this IEndpointRouteBuilder app)
    {
        var payments = app.MapGroup("/v1/books/{bookId}/payments").RequireBookAccess().ValidateRequests().WithTags("Payments");
        payments.MapPost("/", CreateAsync).WithName("createPayment").WithSummary("Record a payment")
            .WithDescription("Money in from a customer (debit the account, credit receivables with the customer) or out to a vendor " +
                             "(debit payables with the vendor, credit the account); \"direction\" turns either into a refund. " +
                             "Allocations given are made at once (409 if more than what is open); the rest stays on the party as credit.")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        payments.MapGet("/", ListAsync).WithName("listPayments").WithSummary("List payments")
            .WithDescription("Newest first, a page at a time (follow nextCursor); filter by customer, vendor and date from/to.");
        payments.MapGet("/{id:long}", GetAsync).WithName("getPayment").WithSummary("Get a payment")
            .WithDescription("With what of it is allocated and what is left as credit.");
        payments.MapPost("/{id:long}/void", VoidAsync).WithName("voidPayment").WithSummary("Void a payment")
            .WithDescription("Posts the reversal of a payment without allocations (409 naming them otherwise), dated the payment's " +
                             "date or the later date given (a cheque that bounced in April is voided in April, not in March's books).")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
    }

    private static readonly string[] PaymentColumns =
        ["id", "book_id", "party_id", "direction", "payment_date", "amount", "account", "reference", "entry_id", "void_entry_id", "created_at", "voided_at"];

    // The ids a payment draws: its own and its open item's (its entry's is drawn for every request).
    private static readonly string[] PaymentIds = ["subledger_items", "open_items"];

    private static async Task<Results<Created<PaymentResponse>, StoredResponse>> CreateAsync(string bookId, PaymentRequest request,
        [FromHeader(Name = Idempotency.HeaderName)] string? idempotencyKey, HttpContext http, BookCatalog books, LedgerWriter writer,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
    {
        var book = await books.GetAsync(bookId);
        var amount = ParseAmount(request.Amount!.Value, book.Digits, "amount");
        var allocations = (request.Allocations ?? []).Select((a, i) => (
            Target: a!.Document is { } document
                ? ItemReference.ForDocument(document, $"allocations[{i}].document")
                : ItemReference.ForOpenItem(a.Item!.Value, $"allocations[{i}].item"),
            Amount: ParseAmount(a.Amount!.Value, book.Digits, $"allocations[{i}].amount"), Index: i)).ToList();
        var keyId = http.Caller().KeyId;
        var options = json.Value.SerializerOptions;
        return await writer.CreateIdempotentAsync(bookId, idempotencyKey, "create-payment", request, options,
            session =>
            {
                var payment = Record(session, book, request, amount);
                // The answer is built from what this request wrote (a new payment has no allocations but these), not read
                // back: on PostgreSQL the three reads that took were a quarter of a payment's round trips.
                var applied = new List<AppliedAllocation>(allocations.Count);
                long allocatedTotal = 0;
                foreach (var (target, allocated, i) in allocations)
                {
                    var made = OpenItemAllocations.Allocate(session, book, target, ItemReference.ForDocument(payment.Id, "payment"), allocated, null,
                        keyId, $"allocations[{i}].amount");
                    applied.Add(new AppliedAllocation(made.Id, made.DocumentItem.SourceId, made.DocumentItem.Id,
                        new Amount(made.Amount).Format(book.Digits), DateText.Format(made.Date)));
                    allocatedTotal = checked(allocatedTotal + made.Amount);
                }
                return Answer(book, payment, amount - allocatedTotal, applied);
            },
            created => $"/v1/books/{bookId}/payments/{created.Id}", defersGroupState: true,
            hints: new WriteHints(request.Customer ?? request.Vendor, PaymentIds));
    }

    private static long ParseAmount(AmountInput input, int digits, string field)
    {
        var parsed = input.Parse(digits);
        if (!parsed.Success) throw new ValidationFailedException(field, parsed.Error!);
        if (!parsed.Value.IsPositive) throw new ValidationFailedException(field, "must be greater than zero.");
        return parsed.Value.MinorUnits;
    }

    /// <summary>Records a payment (its entry and its row) and returns the row it wrote; allocations are the caller's. Bank matches use it too.</summary>
    public static StoredPayment Record(WriteSession session, BookIdentity book, PaymentRequest request, long amount)
    {
        var kind = request.Customer is not null ? PartyKind.Customer : PartyKind.Vendor;
        var partyField = kind == PartyKind.Customer ? "customer" : "vendor";
        var partyId = (request.Customer ?? request.Vendor)!.Value;
        // The party and the control accounts as the group has them, which its entry is then posted with.
        var party = Parties.GroupParties.Find(session, book.Id, partyId) is { } found && found.Kind == kind ? found
            : throw new ValidationFailedException(partyField, $"No {partyField} {partyId} in this book.");
        var direction = request.Direction ?? (kind == PartyKind.Customer ? "in" : "out");
        var controls = JournalPoster.BookOf(session, book.Id).Controls;
        var control = controls.For(kind)
            ?? throw new ConflictException($"The book has no {(kind == PartyKind.Customer ? "receivables" : "payables")} control account; set it (PATCH the book) first.");
        var account = session.Connection.QuerySingleOrDefault<(string Type, long Archived)?>(
            "SELECT type, archived FROM accounts WHERE book_id = @bookId AND code = @code", new { bookId = book.Id, code = request.Account });
        if (account is null) throw new ValidationFailedException("account", $"No account '{request.Account}' in this book.");
        if (account.Value.Type != "asset" || controls.Contains(request.Account))
            throw new ValidationFailedException("account", "must be a bank or cash account (an asset account that is not a control account).");
        if (account.Value.Archived != 0) throw new ValidationFailedException("account", $"Account '{request.Account}' is archived and takes no new postings.");

        // Money in is a debit on the bank account, money out a credit; the control line takes the other side.
        var bankSide = direction == "in" ? Side.Debit : Side.Credit;
        var controlSide = bankSide == Side.Debit ? Side.Credit : Side.Debit;
        var id = session.NextId("subledger_items");
        var date = DateText.ParseStoredDate(request.Date!);
        var what = direction == "in" ? $"Payment from {party.Name}" : $"Payment to {party.Name}";
        var entry = BalancedEntry.Create(date, what, request.Reference, [
            new Posting(request.Account!, bankSide, new Amount(amount)),
            new Posting(control, controlSide, new Amount(amount), null, new PartyRef(kind, partyId)),
        ]);
        JournalEntryResponse posted;
        try
        {
            posted = JournalPoster.Post(session, book, [entry], sources: [new EntrySourceInfo("payment", id, null, date)])[0];
        }
        catch (PostingRefusedException refused)
        {
            throw PostingProblems.ForDerived(refused, book.Id, $"The entry of this payment");
        }
        // Written with the request's other rows (PostgreSQL sends them together); any read after it sends them first.
        var createdAt = Timestamps.Format(session.Now);
        session.InsertRows("payments", PaymentColumns,
            [[id, book.Id, partyId, direction, request.Date, amount, request.Account, request.Reference, posted.Id, null, createdAt, null]]);
        EventLog.Append(session, book.Id, "payment.recorded", "payment", id.ToString(CultureInfo.InvariantCulture), EventData.Of(
            ("id", id), (partyField, partyId), ("direction", direction), ("date", request.Date),
            ("amount", new Amount(amount).Format(book.Digits)), ("account", request.Account), ("reference", request.Reference), ("entryId", posted.Id)));
        return new StoredPayment(id, partyId, partyField, direction, request.Date!, amount, request.Account!, request.Reference, posted.Id, createdAt, null);
    }

    private static async Task<Results<Created<PaymentResponse>, StoredResponse>> VoidAsync(string bookId, long id, VoidRequest? request,
        [FromHeader(Name = Idempotency.HeaderName)] string? idempotencyKey, BookCatalog books, LedgerWriter writer,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
    {
        var book = await books.GetAsync(bookId);
        var options = json.Value.SerializerOptions;
        NodaTime.LocalDate? date = request?.Date is { } text && DateText.TryParseDate(text, out var d) ? d : null;
        return await writer.CreateIdempotentAsync(bookId, idempotencyKey, $"void-payment/{id}", request ?? new VoidRequest(null), options,
            session =>
            {
                // A payment matched to a statement line is voided through the match (undoing it), unless the money came
                // back: a returned direct debit or a bounced cheque is voided on the later day it went back, the line that
                // brought it stays matched, and the line that took it back is matched to the void's entry.
                if (session.Connection.QuerySingleOrDefault<(long EntryId, string PaymentDate)?>(
                        "SELECT entry_id, payment_date FROM payments WHERE book_id = @bookId AND id = @id", new { bookId, id }) is { } stored
                    && (date is null || string.CompareOrdinal(DateText.Format(date.Value), stored.PaymentDate) <= 0)
                    && Banking.StatementMatching.LineMatchedTo(session.Connection, bookId, stored.EntryId) is { } line)
                    throw new ConflictException($"Payment {id} is matched to statement line {line}. If it was never paid, undo that match " +
                        $"(DELETE …/statement-lines/{line}/match), which voids it; if the money came back (a returned direct debit, a " +
                        $"bounced cheque), void it with the date it went back, after {stored.PaymentDate}, and match the line that took it back to the void's entry.");
                Void(session, book, id, date);
                return Read(session.Connection, book, id)!;
            },
            voided => $"/v1/books/{bookId}/payments/{id}", defersGroupState: true);
    }

    /// <summary>
    /// Voids a payment that has no live allocations: posts its reversal on <paramref name="voidDate"/> (the payment's own
    /// date when null, never before it) and matches the two open items, so neither stays open. Bank matches undo the
    /// payments they created through it, on the payment's date.
    /// </summary>
    public static void Void(WriteSession session, BookIdentity book, long id, NodaTime.LocalDate? voidDate = null)
    {
        var row = session.Connection.QuerySingleOrDefault<StoredPayment>(SelectSql + " WHERE p.book_id = @bookId AND p.id = @id", new { bookId = book.Id, id })
            ?? throw new ProblemException(StatusCodes.Status404NotFound, "Not found", $"No payment {id} in this book.");
        if (row.VoidedAt is not null) throw new ConflictException($"Payment {id} was voided at {row.VoidedAt}.");
        var item = OpenItemAllocations.ItemOf(session.Connection, book.Id, "payment", id);
        var active = OpenItemAllocations.ActiveOn(session.Connection, book.Id, item.Id);
        if (active.Count > 0) throw new ConflictException($"Payment {id} has allocations ({string.Join(", ", active)}); undo them before voiding it.");
        var paymentDate = DateText.ParseStoredDate(row.PaymentDate);
        var date = voidDate ?? paymentDate;
        if (date < paymentDate) throw new ValidationFailedException("date", $"must be on or after the payment's date ({row.PaymentDate}).");
        var bankSide = row.Direction == "in" ? Side.Debit : Side.Credit;
        var controlSide = bankSide == Side.Debit ? Side.Credit : Side.Debit;
        var control = session.Connection.QuerySingle<string>(
            "SELECT a.code FROM open_items o JOIN postings p ON p.entry_id = o.entry_id AND p.line_no = o.line_no AND p.book_id = o.book_id " +
            "JOIN accounts a ON a.id = p.account_id AND a.book_id = p.book_id WHERE o.book_id = @bookId AND o.id = @itemId",
            new { bookId = book.Id, itemId = item.Id });
        var kind = item.Ledger == "receivables" ? PartyKind.Customer : PartyKind.Vendor;
        var reversal = BalancedEntry.Reversing(row.EntryId, date, $"Void of payment {id}", row.Reference, [
            new Posting(row.Account, bankSide, new Amount(row.Amount)),
            new Posting(control, controlSide, new Amount(row.Amount), null, new PartyRef(kind, row.PartyId)),
        ]);
        JournalEntryResponse posted;
        try
        {
            posted = JournalPoster.Post(session, book, [reversal], sources: [new EntrySourceInfo("payment", id, null, date)])[0];
        }
        catch (PostingRefusedException refused)
        {
            throw PostingProblems.ForDerived(refused, book.Id, $"The void of payment {id}");
        }
        OpenItemAllocations.MatchWithReversal(session, book, item, posted.Id, date);
        session.Connection.Execute("UPDATE payments SET void_entry_id = @entryId, voided_at = @at WHERE book_id = @bookId AND id = @id",
            new { entryId = posted.Id, at = Timestamps.Format(session.Now), bookId = book.Id, id });
        EventLog.Append(session, book.Id, "payment.voided", "payment", id.ToString(CultureInfo.InvariantCulture), EventData.Of(
            ("id", id), ("voidEntryId", posted.Id)));
    }

    private static async Task<Results<Ok<PaymentResponse>, ProblemHttpResult>> GetAsync(string bookId, long id, BookCatalog books, LedgerDatabase database)
    {
        var book = await books.GetAsync(bookId);
        await using var connection = await database.OpenReadAsync();
        var payment = Read(connection, book, id);
        return payment is null ? Problems.NotFound($"No payment {id} in this book.") : TypedResults.Ok(payment);
    }

    private static async Task<Ok<Page<PaymentResponse>>> ListAsync(string bookId, [AsParameters] PaymentListQuery query, BookCatalog books,
        LedgerDatabase database)
    {
        var book = await books.GetAsync(bookId);
        var limit = Math.Min(query.Limit ?? 50, 500);
        long before = IdCursor.TryDecode(query.Cursor, out var cursorId) ? cursorId : long.MaxValue;
        // Only the filters given are in the SQL, so that one party's page goes through the party's index.
        var sql = new StringBuilder(SelectSql).Append(" WHERE p.book_id = @bookId AND p.id < @before");
        if (query.Customer is not null) sql.Append(" AND c.kind = 'customer' AND p.party_id = @customer");
        if (query.Vendor is not null) sql.Append(" AND c.kind = 'vendor' AND p.party_id = @vendor");
        if (query.From is not null) sql.Append(" AND p.payment_date >= @from");
        if (query.To is not null) sql.Append(" AND p.payment_date <= @to");
        sql.Append(" ORDER BY p.id DESC LIMIT @take");
        await using var connection = await database.OpenReplicaReadAsync();
        var rows = (await connection.QueryAsync<StoredPayment>(sql.ToString(),
            new { bookId, before, customer = query.Customer, vendor = query.Vendor, from = query.From, to = query.To, take = limit + 1 })).AsList();
        var more = rows.Count > limit;
        if (more) rows.RemoveAt(rows.Count - 1);
        var items = Answers(connection, book, rows);
        return TypedResults.Ok(new Page<PaymentResponse>(items, more ? IdCursor.Encode(rows[^1].Id) : null));
    }

    public static PaymentResponse? Read(DbConnection connection, BookIdentity book, long id)
    {
        var row = connection.QuerySingleOrDefault<StoredPayment>(SelectSql + " WHERE p.book_id = @bookId AND p.id = @id", new { bookId = book.Id, id });
        return row is null ? null : Answers(connection, book, [row])[0];
    }

    /// <summary>The answers for stored payments (one page at most), in their order, with their items and allocations read for all at once.</summary>
    private static List<PaymentResponse> Answers(DbConnection connection, BookIdentity book, IReadOnlyList<StoredPayment> rows)
    {
        if (rows.Count == 0) return [];
        var items = OpenItemAllocations.ItemsOf(connection, book.Id, "payment", rows.Where(r => r.VoidedAt is null).Select(r => r.Id).ToArray());
        var allocations = OpenItemAllocations.LiveOn(connection, book.Id, items.Values.Select(i => i.Id).ToArray(), book.Digits);
        var answers = new List<PaymentResponse>(rows.Count);
        foreach (var row in rows)
        {
            long open = 0;
            List<AppliedAllocation> applied = [];
            if (row.VoidedAt is null)
            {
                var item = items[row.Id];
                var on = allocations.GetValueOrDefault(item.Id);
                open = Math.Abs(item.Amount) - (on?.Allocated ?? 0);
                applied = on?.Applied ?? [];
            }
            answers.Add(Answer(book, row, open, applied));
        }
        return answers;
    }

    /// <summary>A stored payment as the API shows it, given what of it is still open and its allocations to show.</summary>
    private static PaymentResponse Answer(BookIdentity book, StoredPayment row, long open, IReadOnlyList<AppliedAllocation> applied)
    {
        string F(long minor) => new Amount(minor).Format(book.Digits);
        var allocated = row.VoidedAt is null ? row.Amount - open : 0;
        var customer = row.Kind == "customer";
        return new PaymentResponse(row.Id, customer ? row.PartyId : null, customer ? null : row.PartyId, row.Direction, row.PaymentDate,
            F(row.Amount), row.Account, row.Reference, F(allocated), F(open), applied, row.VoidedAt is null ? "posted" : "void", row.EntryId,
            row.CreatedAt, row.VoidedAt);
    }

    /// <summary>A payment's row as stored (its party's kind joined in).</summary>
    public sealed record StoredPayment(long Id, long PartyId, string Kind, string Direction, string PaymentDate, long Amount, string Account,
        string? Reference, long EntryId, string CreatedAt, string? VoidedAt);

    private const string SelectSql = """
        SELECT p.id AS Id, p.party_id AS PartyId, c.kind AS Kind, p.direction AS Direction, p.payment_date AS PaymentDate, p.amount AS Amount,
               p.account AS Account, p.reference AS Reference, p.entry_id AS EntryId, p.created_at AS CreatedAt, p.voided_at AS VoidedAt
        FROM payments p JOIN parties c ON c.id = p.party_id AND c.book_id = p.book_id
        """;
}
