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
        var journal = app.MapGroup("/v1/books/{bookId}/journal-entries").RequireBookAccess().WithTags("Journal");
        journal.MapPost("/", PostEntry)
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        journal.MapPost("/batch", PostBatch).WithMetadata(new RequestBodyLimit(RequestBodyLimit.BatchBytes))
            .RequireRateLimiting(BatchConcurrency.Policy).ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        journal.MapGet("/", ListEntries);
        journal.MapGet("/{id:long}", GetEntry);
        journal.MapPost("/{id:long}/reverse", ReverseEntry)
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        // Posted entries are immutable: corrections are reversals. Say so explicitly rather than 404.
        journal.MapMethods("/{id:long}", [HttpMethods.Put, HttpMethods.Patch, HttpMethods.Delete], Immutable)
            .ProducesProblem(StatusCodes.Status405MethodNotAllowed);
    }

    public static async Task<Results<Created<JournalEntryResponse>, StoredResponse, ValidationProblem, ProblemHttpResult>> PostEntry(
        string bookId,
        PostJournalEntryRequest request,
        [FromHeader(Name = Idempotency.HeaderName)] string? idempotencyKey,
        HttpRequest http,
        IValidator<PostJournalEntryRequest> validator,
        BookCatalog books,
        LedgerWriter writer,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
    {
        if (Idempotency.Problem(http) is { } keyProblem) return Problems.Validation(Idempotency.HeaderName, keyProblem);
        var book = await books.GetAsync(bookId);
        var validation = await validator.ValidateForBookAsync(request, book.Digits);
        if (!validation.IsValid) return Problems.Validation(validation.ToFieldErrors());

        var entry = request.ToEntry(book.Digits);
        return await PostIdempotentAsync(writer, bookId, idempotencyKey, "post-journal-entry", request, json.Value.SerializerOptions,
            session => JournalPoster.Post(session, book, [entry])[0],
            posted => EntryLocation(bookId, posted.Id),
            refused => PostingProblems.ForRequest(refused, bookId, _ => ""));
    }

    /// <summary>
    /// Posts up to 10,000 entries atomically: all or none, numbered consecutively in the order given.
    /// One Idempotency-Key covers the whole batch.
    /// </summary>
    public static async Task<Results<Created<JournalEntryBatchResponse>, StoredResponse, ValidationProblem, ProblemHttpResult>> PostBatch(
        string bookId,
        PostJournalEntryBatchRequest request,
        [FromHeader(Name = Idempotency.HeaderName)] string? idempotencyKey,
        HttpRequest http,
        IValidator<PostJournalEntryBatchRequest> validator,
        BookCatalog books,
        LedgerWriter writer,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
    {
        if (Idempotency.Problem(http) is { } keyProblem) return Problems.Validation(Idempotency.HeaderName, keyProblem);
        var book = await books.GetAsync(bookId);
        var validation = await validator.ValidateForBookAsync(request, book.Digits);
        if (!validation.IsValid) return Problems.Validation(validation.ToFieldErrors());

        var entries = request.Entries!.Select(e => e!.ToEntry(book.Digits)).ToArray();
        return await PostIdempotentAsync(writer, bookId, idempotencyKey, "post-journal-entry-batch", request, json.Value.SerializerOptions,
            session => new JournalEntryBatchResponse(JournalPoster.Post(session, book, entries, detailed: false)
                .Select(e => new PostedEntryReference(e.Id, e.Number)).ToArray()),
            _ => null,
            refused => PostingProblems.ForRequest(refused, bookId, i => $"entries[{i}]."));
    }

    public static async Task<Results<Ok<JournalEntryPage>, ValidationProblem, ProblemHttpResult>> ListEntries(
        string bookId, string? from, string? to, string? account, string? reference, int? limit, string? cursor,
        BookCatalog books, LedgerDatabase database)
    {
        var errors = new Dictionary<string, string[]>();
        if (from is not null && !DateText.TryParseDate(from, out _)) errors["from"] = ["must be a date written YYYY-MM-DD."];
        if (to is not null && !DateText.TryParseDate(to, out _)) errors["to"] = ["must be a date written YYYY-MM-DD."];
        if (DateText.TryParseDate(from, out var fromDate) && DateText.TryParseDate(to, out var toDate) && fromDate > toDate)
            errors["from"] = ["must be on or before to."];
        if (limit is < 1) errors["limit"] = ["must be at least 1."];
        (string, long)? after = null;
        if (cursor is not null)
        {
            if (Cursor.TryDecode(cursor, out var position)) after = position;
            else errors["cursor"] = ["is not a cursor this API returned."];
        }
        if (errors.Count > 0) return Problems.Validation(errors);

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
            after, Math.Min(limit ?? JournalQueries.DefaultPageSize, JournalQueries.MaxPageSize), book.Digits);
        return TypedResults.Ok(page);
    }

    public static async Task<Results<Ok<JournalEntryResponse>, ProblemHttpResult>> GetEntry(
        string bookId, long id, BookCatalog books, LedgerDatabase database)
    {
        var book = await books.GetAsync(bookId);
        JournalEntryResponse? entry;
        await using (var replica = await database.OpenReplicaReadAsync())
            entry = await JournalQueries.FindAsync(replica, bookId, id, book.Digits);
        // An entry the caller has just posted may not have reached the replica yet: the primary has it.
        if (entry is null && database.Engine == DatabaseEngine.Postgres)
        {
            await using var primary = await database.OpenReadAsync();
            entry = await JournalQueries.FindAsync(primary, bookId, id, book.Digits);
        }
        return entry is null ? Problems.NotFound($"No journal entry {id} in this book.") : TypedResults.Ok(entry);
    }

    public static async Task<Results<Created<JournalEntryResponse>, StoredResponse, ValidationProblem, ProblemHttpResult>> ReverseEntry(
        string bookId,
        long id,
        ReverseJournalEntryRequest? request,
        [FromHeader(Name = Idempotency.HeaderName)] string? idempotencyKey,
        HttpRequest http,
        IValidator<ReverseJournalEntryRequest> validator,
        BookCatalog books,
        LedgerDatabase database,
        LedgerWriter writer,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
    {
        request ??= new ReverseJournalEntryRequest();
        if (Idempotency.Problem(http) is { } keyProblem) return Problems.Validation(Idempotency.HeaderName, keyProblem);
        var validation = await validator.ValidateAsync(request);
        if (!validation.IsValid) return Problems.Validation(validation.ToFieldErrors());

        var book = await books.GetAsync(bookId);
        JournalEntryResponse? original;
        await using (var connection = await database.OpenReadAsync())
            original = await JournalQueries.FindAsync(connection, bookId, id, book.Digits);
        if (original is null) return Problems.NotFound($"No journal entry {id} in this book.");
        // With a key, a retry of the reversal that already happened must reach the writer to be replayed;
        // the writer refuses a genuine second reversal itself (409).
        if (original.ReversedBy is not null && idempotencyKey is null)
            return Problems.Conflict($"Journal entry {id} has already been reversed by entry {original.ReversedBy}.");
        if (original.ClosingEntry) return Problems.Conflict($"Journal entry {id} is a year-end closing entry; reopen the year instead of reversing it.");

        var originalDate = DateText.TryParseDate(original.Date, out var d) ? d : throw new InvalidOperationException("Stored entry date is unreadable.");
        var date = request.Date is null ? originalDate : DateText.TryParseDate(request.Date, out var given) ? given : originalDate;
        if (date < originalDate)
            return Problems.Validation("date", $"must be on or after the original entry's date ({original.Date}).");

        var reversal = BalancedEntry.Reversing(original.Id, date,
            request.Description ?? $"Reversal of entry {original.Number}: {original.Description}",
            original.Reference, ToPostings(original, book.Digits));
        return await PostIdempotentAsync(writer, bookId, idempotencyKey, $"reverse-journal-entry/{id}", request, json.Value.SerializerOptions,
            session => JournalPoster.Post(session, book, [reversal])[0],
            entry => EntryLocation(bookId, entry.Id),
            refused => PostingProblems.ForDerived(refused, bookId, $"The reversal of journal entry {id} (its lines with sides swapped)"));
    }

    /// <summary>
    /// Posts through the writer under an optional Idempotency-Key: 201 with the fresh answer, the stored answer on a
    /// replay, or the problem that stopped it (nothing written).
    /// </summary>
    private static async Task<Results<Created<TResponse>, StoredResponse, ValidationProblem, ProblemHttpResult>> PostIdempotentAsync<TRequest, TResponse>(
        LedgerWriter writer, string bookId, string? idempotencyKey, string operation, TRequest request, JsonSerializerOptions options,
        Func<WriteSession, TResponse> post, Func<TResponse, string?> location, Func<PostingRefusedException, Exception> problemOf)
    {
        try
        {
            var outcome = await writer.WriteIdempotentAsync(bookId, idempotencyKey,
                () => Idempotency.Fingerprint(operation, request, options),
                post,
                response => new StoredResponse(StatusCodes.Status201Created, location(response), JsonSerializer.Serialize(response, options)),
                defersGroupState: true);
            if (outcome.Replayed is { } replay) return replay;
            return TypedResults.Created(location(outcome.Fresh!), outcome.Fresh);
        }
        catch (PostingRefusedException refused)
        {
            return problemOf(refused) switch
            {
                ValidationFailedException v => v.ToResult(),
                ProblemException p => p.ToResult(),
                var other => throw other,
            };
        }
        catch (ValidationFailedException v) { return v.ToResult(); }
        catch (ProblemException p) { return p.ToResult(); }
    }

    public static ProblemHttpResult Immutable(HttpContext http)
    {
        http.Response.Headers.Allow = "GET";
        return TypedResults.Problem(statusCode: StatusCodes.Status405MethodNotAllowed, title: "Method not allowed",
            detail: "Posted journal entries are never edited or deleted. Correct them with POST .../journal-entries/{id}/reverse and a new entry.");
    }

    internal static string EntryLocation(string bookId, long id) => $"/v1/books/{bookId}/journal-entries/{id}";

    private static List<Posting> ToPostings(JournalEntryResponse entry, int digits) =>
        entry.Lines.Select(l => l.Debit is not null
            ? new Posting(l.Account, Side.Debit, Amount.Parse(l.Debit, digits).Value, l.Description)
            : new Posting(l.Account, Side.Credit, Amount.Parse(l.Credit, digits).Value, l.Description)).ToList();
}
