using Ledger.Api.Features.Allocations;
using Ledger.Api.Features.Audit;
using System.ComponentModel;
using System.Data.Common;
using System.Globalization;
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

namespace Ledger.Api.Features.Banking;

public sealed record StatementLineMatch(string Kind, long EntryId, int Line, long? Payment, long? Rule, string MatchedAt, string MatchedBy,
    long? Reconciliation);

public sealed record StatementLineResponse(long Id, long BankAccount, long Statement, string BookingDate, string ValueDate, string Amount,
    string Description, string? Counterparty, string? CounterpartyIban, string? BankReference, bool Reversal, string Status, StatementLineMatch? Match);

public sealed record StatementLineListQuery(
    [property: FromQuery(Name = "status"), Description("unmatched, matched or ignored; all when left out.")] string? Status,
    [property: FromQuery(Name = "from"), Description("Lines booked on or after this date (YYYY-MM-DD).")] string? From,
    [property: FromQuery(Name = "to"), Description("Lines booked on or before this date (YYYY-MM-DD).")] string? To,
    [property: FromQuery(Name = "statement"), Description("Only the lines a given import added.")] long? Statement,
    [property: FromQuery(Name = "limit")] int? Limit,
    [property: FromQuery(Name = "cursor")] string? Cursor);

public sealed record PostingReference(long? EntryId, int? Line);

public sealed record DocumentPart(long? Id, AmountInput? Amount);

/// <summary>Exactly one of posting, documents or account.</summary>
public sealed record MatchStatementLineRequest(PostingReference? Posting, IReadOnlyList<DocumentPart?>? Documents, string? Account,
    string? Description, string? TaxRate);

public sealed record SuggestedDocument(long Id, string Kind, string Number, long Party, string PartyName, string OpenAmount, string? DueDate, string? Reference,
    string? VendorReference);

public sealed record SuggestedPosting(long EntryId, int Line, string Date, string Description, string Amount);

public sealed record MatchSuggestion(string Kind, int Score, IReadOnlyList<string> Reasons, SuggestedDocument? Document, SuggestedPosting? Posting);

public sealed record MatchSuggestions(long StatementLine, IReadOnlyList<MatchSuggestion> Items);

public sealed class StatementLineListQueryValidator : AbstractValidator<StatementLineListQuery>
{
    public StatementLineListQueryValidator()
    {
        RuleFor(x => x.Status).Must(s => s is "unmatched" or "matched" or "ignored").When(x => x.Status is not null)
            .WithMessage("must be unmatched, matched or ignored.");
        RuleFor(x => x.From).Must(d => DateText.TryParseDate(d, out _)).When(x => x.From is not null).WithMessage("must be a date written YYYY-MM-DD.");
        RuleFor(x => x.To).Must(d => DateText.TryParseDate(d, out _)).When(x => x.To is not null).WithMessage("must be a date written YYYY-MM-DD.");
        RuleFor(x => x.Limit).InclusiveBetween(1, 1000).WithMessage("must be from 1 to 1000.");
        RuleFor(x => x.Cursor).IsIdCursor();
    }
}

public sealed class MatchStatementLineRequestValidator : AbstractValidator<MatchStatementLineRequest>
{
    public const int MaxDocuments = 200;

    public MatchStatementLineRequestValidator()
    {
        RuleFor(x => x).Must(x => (x.Posting is not null ? 1 : 0) + (x.Documents is not null ? 1 : 0) + (x.Account is not null ? 1 : 0) == 1)
            .OverridePropertyName("body").WithMessage("Give exactly one of posting, documents or account.");
        RuleFor(x => x.Posting!.EntryId).NotNull().When(x => x.Posting is not null).OverridePropertyName("posting.entryId");
        RuleFor(x => x.Posting!.Line).NotNull().GreaterThanOrEqualTo(0).When(x => x.Posting is not null).OverridePropertyName("posting.line");
        RuleFor(x => x.Documents).NotEmpty().Must(d => d!.Count <= MaxDocuments).When(x => x.Documents is not null)
            .WithMessage($"must list 1 to {MaxDocuments} documents.");
        RuleForEach(x => x.Documents).NotNull().When(x => x.Documents is { Count: <= MaxDocuments });
        RuleForEach(x => x.Documents).ChildRules(part =>
        {
            part.RuleFor(p => p!.Id).NotNull();
            part.RuleFor(p => p!.Amount).NotNull();
        }).When(x => x.Documents is { Count: <= MaxDocuments });
        RuleFor(x => x.Account).NotEmpty().MaximumLength(32).When(x => x.Account is not null);
        RuleFor(x => x.Description).NotEmpty().MaximumLength(1000).When(x => x.Description is not null);
        RuleFor(x => x.Description).Null().When(x => x.Account is null).WithMessage("goes with account only.");
        RuleFor(x => x.TaxRate).MaximumLength(32).Null().When(x => x.Account is null).WithMessage("goes with account only.");
    }
}

/// <summary>
/// The lines of imported statements: listing them, ignoring the ones that need no entry, and matching each to the
/// books (see <see cref="StatementMatching"/>), with suggestions of what a line probably is.
/// </summary>
public static class StatementLinesEndpoints
{
    public static void MapStatementLines(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1/books/{bookId}/bank-accounts").RequireBookAccess().ValidateRequests().WithTags("Bank statements")
            .MapGet("/{id:long}/statement-lines", ListAsync).WithName("listStatementLines").WithSummary("List statement lines")
            .WithDescription("The bank account's statement lines by booking date, a page at a time (follow nextCursor); filter by status, " +
                             "date from/to and the import that added them.");

        var lines = app.MapGroup("/v1/books/{bookId}/statement-lines").RequireBookAccess().ValidateRequests().WithTags("Bank matching");
        lines.MapGet("/{lineId:long}", GetAsync).WithName("getStatementLine").WithSummary("Get a statement line")
            .WithDescription("One statement line with its match, if it has one.").WithTags("Bank statements");
        lines.MapPost("/{lineId:long}/ignore", IgnoreAsync).WithName("ignoreStatementLine").WithSummary("Ignore a statement line")
            .WithDescription("Marks an unmatched line as needing no entry (e.g. a line the bank reports twice); it no longer counts in the " +
                             "statement balance. 409 for a matched line or one dated within a closed reconciliation.")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        lines.MapDelete("/{lineId:long}/ignore", UnignoreAsync).WithName("unignoreStatementLine").WithSummary("Stop ignoring a statement line")
            .WithDescription("The line is unmatched again. 409 when it is not ignored or is dated within a closed reconciliation.")
            .ProducesProblem(StatusCodes.Status409Conflict);
        lines.MapGet("/{lineId:long}/suggestions", SuggestAsync).WithName("suggestStatementLineMatches").WithSummary("Suggest matches for a statement line")
            .WithDescription("Ranked candidates, each with a score and its reasons: open invoices (money in) or bills (money out) whose open " +
                             "amount equals the line's, whose number or reference the text names, or whose party's name or earlier IBAN " +
                             "the counterparty matches; and postings on the bank's account not yet matched, of the same amount, dated " +
                             "within 7 days.");
        lines.MapPost("/{lineId:long}/match", MatchAsync).WithName("matchStatementLine").WithSummary("Match a statement line")
            .WithDescription("Exactly one of: posting {entryId, line} (an entry already posted is this line); documents [{id, amount}] (creates " +
                             "a payment dated on the line's booking date, allocated to those invoices or bills; the amounts add up to the " +
                             "line's); account (creates an entry between the bank account and that account, optionally with a tax rate). " +
                             "A line matches once: 409 when it is matched or ignored already.")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        lines.MapDelete("/{lineId:long}/match", UnmatchAsync).WithName("unmatchStatementLine").WithSummary("Undo a statement line's match")
            .WithDescription("Reverses what the match created (a payment is voided, an entry reversed, each on its own date) and leaves the " +
                             "line unmatched. 409 when the line is in a closed reconciliation.")
            .ProducesProblem(StatusCodes.Status409Conflict);
    }

    private static async Task<Ok<Page<StatementLineResponse>>> ListAsync(string bookId, long id, [AsParameters] StatementLineListQuery query,
        BookCatalog books, LedgerDatabase database)
    {
        var book = await books.GetAsync(bookId);
        var limit = query.Limit ?? 100;
        long after = IdCursor.TryDecode(query.Cursor, out var cursorId) ? cursorId : 0;
        await using var connection = await database.OpenReplicaReadAsync();
        _ = BankAccountsEndpoints.Find(connection, bookId, id);
        // Ordered by id, which follows import order; within one import, file order.
        var rows = (await connection.QueryAsync<StoredStatementLine>(StatementMatching.SelectLineSql + """
             WHERE l.book_id = @bookId AND l.bank_account_id = @id AND l.id > @after
               AND (@status IS NULL OR l.status = @status) AND (@from IS NULL OR l.booking_date >= @from) AND (@to IS NULL OR l.booking_date <= @to)
               AND (@statement IS NULL OR l.statement_id = @statement)
             ORDER BY l.id LIMIT @take
            """, new { bookId, id, after, status = query.Status, from = query.From, to = query.To, statement = query.Statement, take = limit + 1 })).AsList();
        var more = rows.Count > limit;
        if (more) rows.RemoveAt(rows.Count - 1);
        var matches = MatchesOf(connection, bookId, rows.Where(r => r.Status == "matched").Select(r => r.Id).ToList());
        var items = rows.Select(r => ToResponse(r, matches.GetValueOrDefault(r.Id), book.Digits)).ToList();
        return TypedResults.Ok(new Page<StatementLineResponse>(items, more ? IdCursor.Encode(rows[^1].Id) : null));
    }

    private static async Task<Results<Ok<StatementLineResponse>, ProblemHttpResult>> GetAsync(string bookId, long lineId, BookCatalog books,
        LedgerDatabase database)
    {
        var book = await books.GetAsync(bookId);
        await using var connection = await database.OpenReadAsync();
        return TypedResults.Ok(Read(connection, book, lineId));
    }

    public static StatementLineResponse Read(DbConnection connection, BookIdentity book, long lineId)
    {
        var line = StatementMatching.FindLine(connection, book.Id, lineId);
        return ToResponse(line, StatementMatching.LiveMatch(connection, book.Id, lineId), book.Digits);
    }

    private static Dictionary<long, StoredMatch> MatchesOf(DbConnection connection, string bookId, IReadOnlyList<long> lineIds)
    {
        var matches = new Dictionary<long, StoredMatch>();
        foreach (var chunk in lineIds.Chunk(500))
            foreach (var match in connection.Query<StoredMatch>(StatementMatching.SelectMatchSql +
                         $" WHERE book_id = @bookId AND undone_at IS NULL AND statement_line_id IN ({string.Join(", ", chunk)})", new { bookId }))
                matches[match.StatementLineId] = match;
        return matches;
    }

    private static StatementLineResponse ToResponse(StoredStatementLine line, StoredMatch? match, int digits) =>
        new(line.Id, line.BankAccountId, line.StatementId, line.BookingDate, line.ValueDate, new Amount(line.Amount).Format(digits), line.Description,
            line.Counterparty, line.CounterpartyIban, line.BankReference, line.Reversal != 0, line.Status,
            match is null ? null : new StatementLineMatch(match.Kind, match.EntryId, (int)match.LineNo, match.PaymentId, match.RuleId,
                match.MatchedAt, match.MatchedBy, match.ReconciliationId));

    private static async Task<Results<Ok<StatementLineResponse>, StoredResponse>> IgnoreAsync(string bookId, long lineId,
        [FromHeader(Name = Idempotency.HeaderName)] string? idempotencyKey, BookCatalog books, LedgerWriter writer,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json) =>
        await SetIgnoredAsync(bookId, lineId, true, idempotencyKey, books, writer, json.Value.SerializerOptions);

    private static async Task<Results<Ok<StatementLineResponse>, StoredResponse>> UnignoreAsync(string bookId, long lineId, BookCatalog books,
        LedgerWriter writer, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json) =>
        await SetIgnoredAsync(bookId, lineId, false, null, books, writer, json.Value.SerializerOptions);

    private static async Task<Results<Ok<StatementLineResponse>, StoredResponse>> SetIgnoredAsync(string bookId, long lineId, bool ignore,
        string? idempotencyKey, BookCatalog books, LedgerWriter writer, JsonSerializerOptions options)
    {
        var book = await books.GetAsync(bookId);
        var outcome = await writer.WriteIdempotentAsync(bookId, idempotencyKey, () => Idempotency.Fingerprint($"ignore/{lineId}", lineId, options),
            session =>
            {
                var connection = session.Connection;
                var line = StatementMatching.FindLine(connection, bookId, lineId);
                if (ReconciliationEndpoints.LastClosed(connection, bookId, line.BankAccountId) is { } closed
                    && string.CompareOrdinal(line.BookingDate, closed) <= 0)
                    throw new ConflictException($"Statement line {lineId} is dated {line.BookingDate}, within the reconciliation closed as of {closed}.");
                var (from, to) = ignore ? ("unmatched", "ignored") : ("ignored", "unmatched");
                var changed = connection.Execute("UPDATE statement_lines SET status = @to WHERE book_id = @bookId AND id = @lineId AND status = @from",
                    new { to, bookId, lineId, from });
                if (changed == 0)
                    throw new ConflictException(ignore ? $"Statement line {lineId} is {line.Status}; only an unmatched line is ignored."
                        : $"Statement line {lineId} is not ignored.");
                EventLog.Append(session, bookId, ignore ? "statement_line.ignored" : "statement_line.unignored", "statement_line",
                    lineId.ToString(CultureInfo.InvariantCulture), EventData.Of(("id", lineId)));
                return Read(connection, book, lineId);
            },
            result => new StoredResponse(StatusCodes.Status200OK, null, JsonSerializer.Serialize(result, options)));
        return outcome.Replayed is { } replay ? replay : TypedResults.Ok(outcome.Fresh!);
    }

    private static async Task<Results<Created<StatementLineResponse>, StoredResponse>> MatchAsync(string bookId, long lineId,
        MatchStatementLineRequest request, [FromHeader(Name = Idempotency.HeaderName)] string? idempotencyKey, HttpContext http, BookCatalog books,
        LedgerWriter writer, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
    {
        var book = await books.GetAsync(bookId);
        var keyId = http.Caller().KeyId;
        var documents = new List<(long, long)>();
        for (var i = 0; i < (request.Documents?.Count ?? 0); i++)
        {
            var parsed = request.Documents![i]!.Amount!.Value.Parse(book.Digits);
            if (!parsed.Success) throw new ValidationFailedException($"documents[{i}].amount", parsed.Error!);
            if (!parsed.Value.IsPositive) throw new ValidationFailedException($"documents[{i}].amount", "must be greater than zero.");
            documents.Add((request.Documents[i]!.Id!.Value, parsed.Value.MinorUnits));
        }
        return await writer.CreateIdempotentAsync(bookId, idempotencyKey, $"match/{lineId}", request, json.Value.SerializerOptions,
            session =>
            {
                var line = StatementMatching.FindLine(session.Connection, bookId, lineId);
                if (request.Posting is { } posting)
                    StatementMatching.MatchPosting(session, book, line, posting.EntryId!.Value, posting.Line!.Value, keyId);
                else if (request.Documents is not null)
                    StatementMatching.MatchDocuments(session, book, line, documents, keyId);
                else
                    StatementMatching.MatchAccount(session, book, line, new AccountCoding(request.Account!, request.Description, request.TaxRate), null, keyId);
                return Read(session.Connection, book, lineId);
            },
            matched => $"/v1/books/{bookId}/statement-lines/{lineId}");
    }

    private static async Task<Ok<StatementLineResponse>> UnmatchAsync(string bookId, long lineId, HttpContext http, BookCatalog books, LedgerWriter writer)
    {
        var book = await books.GetAsync(bookId);
        var keyId = http.Caller().KeyId;
        var line = await writer.WriteBookAsync(bookId, session =>
        {
            var stored = StatementMatching.FindLine(session.Connection, bookId, lineId);
            StatementMatching.Unmatch(session, book, stored, keyId);
            return Read(session.Connection, book, lineId);
        });
        return TypedResults.Ok(line);
    }

    private static async Task<Ok<MatchSuggestions>> SuggestAsync(string bookId, long lineId, BookCatalog books, LedgerDatabase database)
    {
        var book = await books.GetAsync(bookId);
        await using var connection = await database.OpenReadAsync();
        var line = StatementMatching.FindLine(connection, bookId, lineId);
        return TypedResults.Ok(new MatchSuggestions(lineId, MatchSuggester.Suggest(connection, book, line)));
    }
}

/// <summary>Ranks what a statement line probably is. Scores add up per reason; only candidates with a reason are offered.</summary>
public static class MatchSuggester
{
    public const int MaxSuggestions = 10;
    public const int PostingWindowDays = 7;

    public static IReadOnlyList<MatchSuggestion> Suggest(DbConnection connection, BookIdentity book, StoredStatementLine line)
    {
        var suggestions = new List<MatchSuggestion>();
        var magnitude = Math.Abs(line.Amount);
        var kind = line.Amount > 0 ? "invoice" : "bill";
        var text = line.Description + " " + line.BankReference;
        var tokens = new HashSet<string>(OpenDocuments.Tokens(text), StringComparer.OrdinalIgnoreCase);
        // Parties whose earlier matched payments came from this IBAN.
        var ibanParties = line.CounterpartyIban is null ? [] : connection.Query<long>("""
            SELECT DISTINCT p.party_id FROM statement_lines l
            JOIN bank_matches m ON m.book_id = l.book_id AND m.statement_line_id = l.id AND m.undone_at IS NULL AND m.kind = 'documents'
            JOIN payments p ON p.book_id = m.book_id AND p.id = m.payment_id
            WHERE l.book_id = @bookId AND l.counterparty_iban = @iban AND l.id <> @lineId
            """, new { bookId = book.Id, iban = line.CounterpartyIban, lineId = line.Id }).ToHashSet();

        foreach (var d in connection.Query<(long Id, string Kind, string Number, long PartyId, string PartyName, string? DueDate, string? Reference, string? VendorReference, long Amount, long Allocated)>($"""
                     SELECT d.id, d.kind, d.number, d.party_id, c.name, d.due_date, d.reference, d.vendor_reference, o.amount,
                            {OpenItemAllocations.AllocatedOnItemSql}
                     FROM documents d
                     JOIN open_items o ON o.book_id = d.book_id AND o.source_type = d.kind AND o.source_id = d.id
                     JOIN parties c ON c.book_id = d.book_id AND c.id = d.party_id
                     WHERE d.book_id = @bookId AND d.status = 'issued' AND d.kind = @kind
                     """, new { bookId = book.Id, kind }))
        {
            var open = Math.Abs(d.Amount) - d.Allocated;
            if (open <= 0) continue;
            var reasons = new List<string>();
            var score = 0;
            if (open == magnitude) { score += 50; reasons.Add("The amount equals the open amount."); }
            if (tokens.Contains(d.Number) || tokens.Contains(d.Number.Replace("-", "", StringComparison.Ordinal)))
            { score += 40; reasons.Add($"The text names {d.Number}."); }
            if (d.Reference is { Length: >= 4 } reference && text.Contains(reference, StringComparison.OrdinalIgnoreCase))
            { score += 30; reasons.Add($"The text names the reference {reference}."); }
            else if (d.VendorReference is { Length: >= 4 } vendorReference && text.Contains(vendorReference, StringComparison.OrdinalIgnoreCase))
            { score += 30; reasons.Add($"The text names the vendor's reference {vendorReference}."); }
            if (line.Counterparty is { Length: >= 3 } counterparty && NamesMatch(counterparty, d.PartyName))
            { score += 20; reasons.Add($"The counterparty is {d.PartyName}."); }
            if (ibanParties.Contains(d.PartyId)) { score += 25; reasons.Add($"{line.CounterpartyIban} paid {d.PartyName} before."); }
            // The amount alone is weak evidence, but with nothing else to go on it is still what a bookkeeper would check.
            if (reasons.Count == 0) continue;
            suggestions.Add(new MatchSuggestion("document", score, reasons,
                new SuggestedDocument(d.Id, d.Kind, d.Number, d.PartyId, d.PartyName, new Amount(open).Format(book.Digits), d.DueDate, d.Reference, d.VendorReference), null));
        }

        var date = DateText.ParseStoredDate(line.BookingDate);
        foreach (var p in connection.Query<(long EntryId, long LineNo, string EntryDate, string Description, long Amount)>("""
                     SELECT p.entry_id, p.line_no, p.entry_date, e.description, p.amount FROM postings p
                     JOIN journal_entries e ON e.id = p.entry_id AND e.book_id = p.book_id
                     WHERE p.book_id = @bookId AND p.account_id = (SELECT id FROM accounts WHERE book_id = @bookId AND code = @code)
                       AND p.amount = @amount AND p.entry_date >= @from AND p.entry_date <= @to
                       AND e.reversed_by IS NULL AND e.reversal_of IS NULL
                       AND NOT EXISTS (SELECT 1 FROM bank_matches m WHERE m.book_id = p.book_id AND m.entry_id = p.entry_id AND m.line_no = p.line_no AND m.undone_at IS NULL)
                     ORDER BY p.entry_date, p.entry_id LIMIT 50
                     """, new
                 {
                     bookId = book.Id, code = line.GlAccount, amount = line.Amount,
                     from = DateText.Format(date.PlusDays(-PostingWindowDays)), to = DateText.Format(date.PlusDays(PostingWindowDays)),
                 }))
        {
            var days = Math.Abs(NodaTime.Period.Between(date, DateText.ParseStoredDate(p.EntryDate), NodaTime.PeriodUnits.Days).Days);
            suggestions.Add(new MatchSuggestion("posting", 60 - 5 * days,
                ["The amount is the same.", days == 0 ? "It is dated the same day." : $"It is dated {days} day{(days == 1 ? "" : "s")} apart."], null,
                new SuggestedPosting(p.EntryId, (int)p.LineNo, p.EntryDate, p.Description, new Amount(p.Amount).Format(book.Digits))));
        }
        return suggestions.OrderByDescending(s => s.Score).ThenBy(s => s.Document?.Id ?? s.Posting!.EntryId).Take(MaxSuggestions).ToList();
    }

    /// <summary>The bank's counterparty text and the party's name share their first significant word, or one contains the other.</summary>
    private static bool NamesMatch(string counterparty, string name)
    {
        if (counterparty.Contains(name, StringComparison.OrdinalIgnoreCase) || name.Contains(counterparty, StringComparison.OrdinalIgnoreCase)) return true;
        var first = OpenDocuments.Tokens(name).FirstOrDefault(t => t.Length >= 4);
        return first is not null && OpenDocuments.Tokens(counterparty).Any(t => t.Equals(first, StringComparison.OrdinalIgnoreCase));
    }
}
