using System.Text.Json;
using Dapper;
using FluentValidation;
using Ledger.Api.Features.Accounts;
using Ledger.Api.Features.Books;
using Ledger.Api.Infrastructure;
using Ledger.Api.Infrastructure.Security;
using Ledger.Domain;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Ledger.Api.Features.Journal;

public static class JournalEndpoints
{
    public static void MapJournal(this IEndpointRouteBuilder app)
    {
        var journal = app.MapGroup("/v1/books/{bookId}/journal-entries").RequireBookAccess().ValidateRequests().WithTags("Journal");
        journal.MapPost("/", PostEntry).WithName("postJournalEntry").WithSummary("Post a journal entry")
            .WithDescription("Posts one balanced entry: at least two lines, each a debit or a credit in the book's currency, " +
                             "debits equal to credits. It is numbered gaplessly in the book and never edited afterwards. " +
                             "With an Idempotency-Key, a retry with the same body answers the first result (201 with the same " +
                             "entry) and posts nothing; the same key with another body is 422.")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        journal.MapPost("/batch", PostBatch).WithName("postJournalEntryBatch").WithSummary("Post up to 10,000 journal entries at once")
            .WithDescription("Posts every entry or none, numbered consecutively in the order given; one Idempotency-Key covers " +
                             "the whole batch. Errors name the entry (entries[3].lines[1].debit). Batches beyond the " +
                             "server's concurrency limit and queue get 429.")
            .WithMetadata(new RequestBodyLimit(RequestBodyLimit.BatchBytes))
            .RequireRateLimiting(BatchConcurrency.Policy).ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        journal.MapGet("/", ListEntries).WithName("listJournalEntries").WithSummary("List journal entries")
            .WithDescription("Entries ordered by date and number, a page at a time (follow nextCursor), optionally only " +
                             "those between two dates, touching one account, or with one reference.");
        journal.MapGet("/{id:long}", GetEntry).WithName("getJournalEntry").WithSummary("Get a journal entry")
            .WithDescription("One entry with its lines, and the entry that reversed it, if any.");
        journal.MapPost("/{id:long}/reverse", ReverseEntry).WithName("reverseJournalEntry").WithSummary("Reverse a journal entry")
            .WithDescription("Posts the entry's reversal (its lines with sides swapped), dated the original's date or a later " +
                             "one, and links the two. An entry is reversed at most once (409); a year-end closing entry " +
                             "is never reversed (409).")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        // Posted entries are immutable: corrections are reversals. Say so explicitly rather than 404.
        journal.MapPut("/{id:long}", Immutable).WithName("replaceJournalEntry").WithSummary("Not allowed: posted entries are immutable")
            .WithDescription(ImmutableDescription).ProducesProblem(StatusCodes.Status405MethodNotAllowed);
        journal.MapPatch("/{id:long}", Immutable).WithName("updateJournalEntry").WithSummary("Not allowed: posted entries are immutable")
            .WithDescription(ImmutableDescription).ProducesProblem(StatusCodes.Status405MethodNotAllowed);
        journal.MapDelete("/{id:long}", Immutable).WithName("deleteJournalEntry").WithSummary("Not allowed: posted entries are immutable")
            .WithDescription(ImmutableDescription).ProducesProblem(StatusCodes.Status405MethodNotAllowed);
    }

    public static async Task<Results<Created<JournalEntryResponse>, StoredResponse>> PostEntry(
        string bookId,
        PostJournalEntryRequest request,
        [FromHeader(Name = Idempotency.HeaderName)] string? idempotencyKey,
        BookCatalog books,
        LedgerWriter writer,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
    {
        var book = await books.GetAsync(bookId);
        var entry = request.ToEntry(book.Digits);
        return await PostIdempotentAsync(writer, bookId, idempotencyKey, "post-journal-entry", request, json.Value.SerializerOptions,
            session => JournalPoster.Post(session, book, [entry])[0],
            posted => EntryLocation(bookId, posted.Id),
            refused => PostingProblems.ForRequest(refused, bookId, _ => ""),
            hints: AccountsOf([entry]));
    }

    /// <summary>
    /// Posts up to 10,000 entries atomically: all or none, numbered consecutively in the order given.
    /// One Idempotency-Key covers the whole batch.
    /// </summary>
    public static async Task<Results<Created<JournalEntryBatchResponse>, StoredResponse>> PostBatch(
        string bookId,
        PostJournalEntryBatchRequest request,
        [FromHeader(Name = Idempotency.HeaderName)] string? idempotencyKey,
        BookCatalog books,
        LedgerWriter writer,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
    {
        var book = await books.GetAsync(bookId);
        var entries = request.Entries!.Select(e => e!.ToEntry(book.Digits)).ToArray();
        return await PostIdempotentAsync(writer, bookId, idempotencyKey, "post-journal-entry-batch", request, json.Value.SerializerOptions,
            session => new JournalEntryBatchResponse(JournalPoster.Post(session, book, entries, detailed: false)
                .Select(e => new PostedEntryReference(e.Id, e.Number)).ToArray()),
            _ => null,
            refused => PostingProblems.ForRequest(refused, bookId, i => $"entries[{i}]."),
            fingerprintInWriter: true, hints: AccountsOf(entries));
    }

    /// <summary>
    /// The accounts the entries post to, hinted to the writer so that their group reads them as it begins, with every
    /// other request's; none for a request naming more than <see cref="MaxHintedAccounts"/> (it reads the chart itself).
    /// </summary>
    private static WriteHints? AccountsOf(IReadOnlyList<BalancedEntry> entries)
    {
        var codes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in entries)
            foreach (var line in entry.Lines)
                if (codes.Add(line.AccountCode) && codes.Count > MaxHintedAccounts) return null;
        return new WriteHints(AccountCodes: codes);
    }

    private const int MaxHintedAccounts = 256;

    public static async Task<Results<Ok<JournalEntryPage>, ProblemHttpResult>> ListEntries(
        string bookId, [AsParameters] JournalEntryListQuery query, BookCatalog books, LedgerDatabase database)
    {
        var (from, to, account, reference) = (query.From, query.To, query.Account, query.Reference);
        (string, long)? after = Cursor.TryDecode(query.Cursor, out var position) ? position : null;
        var book = await books.GetAsync(bookId);
        await using var connection = await database.OpenReplicaReadAsync();
        long? accountId = null;
        if (account is not null)
        {
            accountId = await connection.QuerySingleOrDefaultAsync<long?>(
                "SELECT id FROM accounts WHERE book_id = @bookId AND code = @account", new { bookId, account });
            if (accountId is null) return Problems.NotFound($"No account '{account}' in this book.");
        }
        var page = await JournalQueries.PageAsync(connection, bookId, new JournalQueries.EntryFilter(from, to, accountId, reference),
            after, Math.Min(query.Limit ?? JournalQueries.DefaultPageSize, JournalQueries.MaxPageSize), book.Digits);
        return TypedResults.Ok(page);
    }

    public static async Task<Results<Ok<JournalEntryResponse>, ProblemHttpResult>> GetEntry(
        string bookId, long id, BookCatalog books, LedgerDatabase database)
    {
        var book = await books.GetAsync(bookId);
        // From the primary, as every read of one thing by id: an entry the caller has just posted, or just reversed, may
        // not have reached a replica yet, and one that has can still lack its reversedBy there.
        await using var connection = await database.OpenReadAsync();
        var entry = await JournalQueries.FindAsync(connection, bookId, id, book.Digits);
        return entry is null ? Problems.NotFound($"No journal entry {id} in this book.") : TypedResults.Ok(entry);
    }

    public static async Task<Results<Created<JournalEntryResponse>, StoredResponse>> ReverseEntry(
        string bookId,
        long id,
        ReverseJournalEntryRequest? request,
        [FromHeader(Name = Idempotency.HeaderName)] string? idempotencyKey,
        BookCatalog books,
        LedgerDatabase database,
        LedgerWriter writer,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
    {
        request ??= new ReverseJournalEntryRequest();
        var book = await books.GetAsync(bookId);
        JournalEntryResponse? original;
        await using (var connection = await database.OpenReadAsync())
            original = await JournalQueries.FindAsync(connection, bookId, id, book.Digits);
        if (original is null) throw new ProblemException(StatusCodes.Status404NotFound, "Not found", $"No journal entry {id} in this book.");
        // With a key, a retry of the reversal that already happened must reach the writer to be replayed;
        // the writer refuses a genuine second reversal itself (409).
        if (original.ReversedBy is not null && idempotencyKey is null)
            throw new ConflictException($"Journal entry {id} has already been reversed by entry {original.ReversedBy}.");
        if (original.ClosingEntry) throw new ConflictException($"Journal entry {id} is a year-end closing entry; reopen the year instead of reversing it.");
        // A document's or payment's entry changes only with it: voiding it posts the reversal and marks it void.
        if (original.Source is { Type: "statement_line" } line)
            throw new ConflictException($"Journal entry {id} was posted by matching statement line {line.Id}; undo that match (DELETE …/statement-lines/{line.Id}/match) instead of reversing its entry.");
        if (original.Source is { } source)
            throw new ConflictException($"Journal entry {id} was posted by {source.Type.Replace('_', ' ')} {source.Number ?? source.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)}; void that instead of reversing its entry.");

        var originalDate = DateText.ParseStoredDate(original.Date);
        var date = request.Date is null ? originalDate : DateText.TryParseDate(request.Date, out var given) ? given : originalDate;
        if (date < originalDate)
            throw new ValidationFailedException("date", $"must be on or after the original entry's date ({original.Date}).");

        var reversal = BalancedEntry.Reversing(original.Id, date,
            request.Description ?? $"Reversal of entry {original.Number}: {original.Description}",
            original.Reference, ToPostings(original, book.Digits));
        return await PostIdempotentAsync(writer, bookId, idempotencyKey, $"reverse-journal-entry/{id}", request, json.Value.SerializerOptions,
            session =>
            {
                // An entry a statement line is matched to is the bank's record in the books: undone on its own date, it goes
                // with the match. Reversed on a later date, it is money that went back (a returned direct debit): the line
                // that took it back is matched to the reversal.
                if (date <= originalDate)
                    Banking.StatementMatching.RefuseWhileMatched(session.Connection, bookId, id, $"Journal entry {id}");
                return JournalPoster.Post(session, book, [reversal])[0];
            },
            entry => EntryLocation(bookId, entry.Id),
            refused => PostingProblems.ForDerived(refused, bookId, $"The reversal of journal entry {id} (its lines with sides swapped)"));
    }

    /// <summary>
    /// Posts through the writer under an optional Idempotency-Key: 201 with the fresh answer, or the stored answer on a
    /// replay. A refusal (nothing written) leaves as the problem exception <paramref name="problemOf"/> makes of it,
    /// which the exception handler answers; only here is it known which request paths the refusal's lines have.
    /// </summary>
    private static async Task<Results<Created<TResponse>, StoredResponse>> PostIdempotentAsync<TRequest, TResponse>(
        LedgerWriter writer, string bookId, string? idempotencyKey, string operation, TRequest request, JsonSerializerOptions options,
        Func<WriteSession, TResponse> post, Func<TResponse, string?> location, Func<PostingRefusedException, Exception> problemOf,
        bool fingerprintInWriter = false, WriteHints? hints = null)
    {
        try
        {
            return await writer.CreateIdempotentAsync(bookId, idempotencyKey, operation, request, options, post, location,
                defersGroupState: true, hints: hints, fingerprintInWriter: fingerprintInWriter);
        }
        catch (PostingRefusedException refused)
        {
            throw problemOf(refused);
        }
    }

    private const string ImmutableDescription =
        "Posted journal entries are never edited or deleted: always 405. Correct an entry with " +
        "POST …/journal-entries/{id}/reverse and post the right one.";

    /// <summary>PUT, PATCH and DELETE on a posted entry: 405, whatever the entry (the id is declared for the document).</summary>
    public static ProblemHttpResult Immutable(HttpContext http, string bookId, long id)
    {
        http.Response.Headers.Allow = "GET";
        return TypedResults.Problem(statusCode: StatusCodes.Status405MethodNotAllowed, title: "Method not allowed",
            detail: "Posted journal entries are never edited or deleted. Correct them with POST .../journal-entries/{id}/reverse and a new entry.");
    }

    internal static string EntryLocation(string bookId, long id) => $"/v1/books/{bookId}/journal-entries/{id}";

    private static List<Posting> ToPostings(JournalEntryResponse entry, int digits) =>
        entry.Lines.Select(l => l.Debit is not null
            ? new Posting(l.Account, Side.Debit, Amount.Parse(l.Debit, digits).Value, l.Description, PartyOf(l))
            : new Posting(l.Account, Side.Credit, Amount.Parse(l.Credit, digits).Value, l.Description, PartyOf(l))).ToList();

    private static PartyRef? PartyOf(JournalLineResponse line) =>
        line.Customer is { } customer ? new PartyRef(PartyKind.Customer, customer)
        : line.Vendor is { } vendor ? new PartyRef(PartyKind.Vendor, vendor) : null;
}
