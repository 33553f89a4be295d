using Ledger.Api.Features.Audit;
using System.Globalization;
using System.Text.Json;
using Dapper;
using FluentValidation;
using Ledger.Api.Infrastructure;
using Ledger.Api.Infrastructure.Security;
using Ledger.Domain;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Ledger.Api.Features.Parties;

public sealed record CreatePartyRequest(string? Name, string? Code, string? Email, string? TaxId, string? Address,
    int? PaymentTermsDays, string? Notes);

/// <summary>Party details; each left out stays as it is.</summary>
public sealed record UpdatePartyRequest(string? Name, string? Code, string? Email, string? TaxId, string? Address,
    int? PaymentTermsDays, string? Notes, bool? Archived);

public sealed record PartyResponse(long Id, string Code, string Name, string? Email, string? TaxId, string? Address,
    int PaymentTermsDays, string? Notes, bool Archived, string CreatedAt);

/// <summary>Query of a customer or vendor list: a name or code fragment, and a page.</summary>
public sealed record PartyListQuery(
    [property: FromQuery(Name = "q")] string? Q,
    [property: FromQuery(Name = "limit")] int? Limit,
    [property: FromQuery(Name = "cursor")] string? Cursor);

public static class PartyRules
{
    public const int MaxCode = 32;
    public const int MaxName = 200;
    public const int MaxText = 1000;

    public static IRuleBuilderOptions<T, string?> IsPartyCode<T>(this IRuleBuilder<T, string?> rule) =>
        rule.MaximumLength(MaxCode).Matches("^[A-Za-z0-9][A-Za-z0-9._-]*$")
            .WithMessage("must start with a letter or digit and use only letters, digits, '.', '_' and '-'.");
}

public sealed class CreatePartyRequestValidator : AbstractValidator<CreatePartyRequest>
{
    public CreatePartyRequestValidator()
    {
        RuleFor(x => x.Name).NotEmpty().MaximumLength(PartyRules.MaxName);
        RuleFor(x => x.Code).IsPartyCode().When(x => x.Code is not null);
        RuleFor(x => x.Email).MaximumLength(320).EmailAddress().When(x => x.Email is not null);
        RuleFor(x => x.TaxId).MaximumLength(64);
        RuleFor(x => x.Address).MaximumLength(PartyRules.MaxText);
        RuleFor(x => x.Notes).MaximumLength(PartyRules.MaxText);
        RuleFor(x => x.PaymentTermsDays).InclusiveBetween(0, 3650).WithMessage("must be a number of days from 0 to 3650.");
    }
}

public sealed class UpdatePartyRequestValidator : AbstractValidator<UpdatePartyRequest>
{
    public UpdatePartyRequestValidator()
    {
        RuleFor(x => x.Name).NotEmpty().MaximumLength(PartyRules.MaxName).When(x => x.Name is not null);
        RuleFor(x => x.Code).NotEmpty().IsPartyCode().When(x => x.Code is not null);
        RuleFor(x => x.Email).MaximumLength(320).EmailAddress().When(x => x.Email is not null);
        RuleFor(x => x.TaxId).MaximumLength(64);
        RuleFor(x => x.Address).MaximumLength(PartyRules.MaxText);
        RuleFor(x => x.Notes).MaximumLength(PartyRules.MaxText);
        RuleFor(x => x.PaymentTermsDays).InclusiveBetween(0, 3650).WithMessage("must be a number of days from 0 to 3650.");
        RuleFor(x => x).Must(x => x.Name is not null || x.Code is not null || x.Email is not null || x.TaxId is not null
                                  || x.Address is not null || x.PaymentTermsDays is not null || x.Notes is not null || x.Archived is not null)
            .OverridePropertyName("body").WithMessage("Give at least one field to change.");
    }
}

public sealed class PartyListQueryValidator : AbstractValidator<PartyListQuery>
{
    public PartyListQueryValidator()
    {
        RuleFor(x => x.Q).MaximumLength(PartyRules.MaxName);
        RuleFor(x => x.Limit).GreaterThanOrEqualTo(1).WithMessage("must be at least 1.");
        RuleFor(x => x.Cursor).Must(c => c is null || PageCursor.TryDecode(c, out _)).WithMessage("is not a cursor this API returned.");
    }
}

/// <summary>
/// Customers (who owe the book: receivables) and vendors (whom the book owes: payables), one implementation for both
/// kinds. A party is never deleted, since documents and open items name it; it is archived instead.
/// </summary>
public static class PartiesEndpoints
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 500;

    public static void MapParties(this IEndpointRouteBuilder app)
    {
        Map(app, PartyKind.Customer, "customers", "Customers", "customer", "Customer");
        Map(app, PartyKind.Vendor, "vendors", "Vendors", "vendor", "Vendor");
    }

    private static void Map(IEndpointRouteBuilder app, PartyKind kind, string route, string tag, string noun, string title)
    {
        var parties = app.MapGroup($"/v1/books/{{bookId}}/{route}").RequireBookAccess().ValidateRequests().WithTags(tag);
        parties.MapPost("/", (string bookId, CreatePartyRequest request, [FromHeader(Name = Idempotency.HeaderName)] string? idempotencyKey,
                LedgerWriter writer, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json) =>
                CreateAsync(kind, bookId, request, idempotencyKey, writer, json.Value.SerializerOptions))
            .WithName($"create{title}").WithSummary($"Create a {noun}")
            .WithDescription($"Adds a {noun}: a name, and a code unique among the book's {route} ({Prefix(kind)}00001, " +
                             $"{Prefix(kind)}00002, … when left out; a code in use is 409). Payment terms default to the book's.")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        parties.MapGet("/", (string bookId, [AsParameters] PartyListQuery query, LedgerDatabase database) =>
                ListAsync(kind, bookId, query, database))
            .WithName($"list{title}s").WithSummary($"List {route}")
            .WithDescription($"The book's {route} ordered by code, a page at a time (follow nextCursor); q keeps those whose " +
                             "name or code contains it (any case).");
        parties.MapGet("/{id:long}", (string bookId, long id, LedgerDatabase database) => GetAsync(kind, bookId, id, database))
            .WithName($"get{title}").WithSummary($"Get a {noun}")
            .WithDescription($"One {noun} by id.");
        parties.MapPatch("/{id:long}", (string bookId, long id, UpdatePartyRequest request, LedgerWriter writer) =>
                UpdateAsync(kind, bookId, id, request, writer))
            .WithName($"update{title}").WithSummary($"Change or archive a {noun}")
            .WithDescription($"Changes a {noun}'s details, or archives it (an archived {noun} gets no new documents) or " +
                             "unarchives it. Fields left out stay as they are.")
            .ProducesProblem(StatusCodes.Status409Conflict);
    }

    public static string Prefix(PartyKind kind) => kind == PartyKind.Customer ? "C" : "V";

    public static string KindName(PartyKind kind) => kind == PartyKind.Customer ? "customer" : "vendor";

    private static async Task<Results<Created<PartyResponse>, StoredResponse>> CreateAsync(PartyKind kind, string bookId,
        CreatePartyRequest request, string? idempotencyKey, LedgerWriter writer, JsonSerializerOptions options)
    {
        return await writer.CreateIdempotentAsync(bookId, idempotencyKey, $"create-{KindName(kind)}", request, options,
            session => Create(session, kind, bookId, request),
            created => Location(kind, bookId, created.Id));
    }

    private static PartyResponse Create(WriteSession session, PartyKind kind, string bookId, CreatePartyRequest request)
    {
        // A generated code was checked free by NextCode; only a chosen one still needs the check.
        var code = request.Code ?? NextCode(session, bookId, kind);
        if (request.Code is not null && Exists(session, bookId, kind, code))
            throw new ConflictException($"A {KindName(kind)} with code '{code}' already exists in this book.");
        var terms = request.PaymentTermsDays ?? session.Connection.ExecuteScalar<int>(
            "SELECT payment_terms_days FROM books WHERE id = @bookId", new { bookId });
        var id = session.NextId("parties");
        var createdAt = Timestamps.Format(session.Now);
        session.Connection.Execute(InsertSql, new
        {
            id, bookId, kind = KindName(kind), code, name = request.Name, email = request.Email, taxId = request.TaxId,
            address = request.Address, terms, notes = request.Notes, createdAt,
        });
        // The answer is what was just written, not read back: on PostgreSQL a plan the server kept from when the table
        // was nearly empty answered that read through the (book, kind, code) index, over every party of the book, so
        // creating customers slowed from about 700 to 160 per second as a book's first 10,000 arrived.
        var created = new PartyResponse(id, code, request.Name!, request.Email, request.TaxId, request.Address, terms, request.Notes,
            Archived: false, createdAt);
        EventLog.AppendPayload(session, bookId, $"{KindName(kind)}.created", KindName(kind), id.ToString(CultureInfo.InvariantCulture), created);
        return created;
    }

    /// <summary>
    /// The next generated code of its kind. A code someone chose by hand may already hold the next number: it is
    /// skipped (at most a bounded number of times, since each skip moves past one code that exists).
    /// </summary>
    private static string NextCode(WriteSession session, string bookId, PartyKind kind)
    {
        var sequence = KindName(kind);
        var next = session.Connection.ExecuteScalar<long?>(
            "SELECT next_number FROM book_sequences WHERE book_id = @bookId AND kind = @sequence", new { bookId, sequence });
        if (next is null)
        {
            session.Connection.Execute(
                "INSERT INTO book_sequences (book_id, kind, prefix, next_number) VALUES (@bookId, @sequence, @prefix, 1)",
                new { bookId, sequence, prefix = Prefix(kind) });
            next = 1;
        }
        for (var attempt = 0; attempt < 10_000; attempt++, next++)
        {
            var code = Prefix(kind) + next.Value.ToString("D5", CultureInfo.InvariantCulture);
            if (Exists(session, bookId, kind, code)) continue;
            session.Connection.Execute("UPDATE book_sequences SET next_number = @next WHERE book_id = @bookId AND kind = @sequence",
                new { next = next + 1, bookId, sequence });
            return code;
        }
        throw new ConflictException($"No free generated {KindName(kind)} code near {Prefix(kind)}{next:D5}; give a code.");
    }

    private static async Task<Ok<Page<PartyResponse>>> ListAsync(PartyKind kind, string bookId, PartyListQuery query, LedgerDatabase database)
    {
        var limit = Math.Min(query.Limit ?? DefaultPageSize, MaxPageSize);
        PageCursor.TryDecode(query.Cursor, out var after);
        var sql = SelectSql + " WHERE book_id = @bookId AND kind = @kind"
                  + (query.Q is null ? "" : " AND (LOWER(name) LIKE @pattern ESCAPE '\\' OR LOWER(code) LIKE @pattern ESCAPE '\\')")
                  + (query.Cursor is null ? "" : " AND code > @after")
                  + " ORDER BY code LIMIT @take";
        await using var connection = await database.OpenReplicaReadAsync();
        var rows = (await connection.QueryAsync<PartyRow>(sql, new
        {
            bookId, kind = KindName(kind), pattern = Contains(query.Q), after, take = limit + 1,
        })).Select(r => r.ToResponse()).ToList();
        var more = rows.Count > limit;
        if (more) rows.RemoveAt(rows.Count - 1);
        return TypedResults.Ok(new Page<PartyResponse>(rows, more ? PageCursor.Encode(rows[^1].Code) : null));
    }

    private static async Task<Results<Ok<PartyResponse>, ProblemHttpResult>> GetAsync(PartyKind kind, string bookId, long id, LedgerDatabase database)
    {
        await using var connection = await database.OpenReadAsync();
        var party = Read(connection, kind, bookId, id);
        return party is null ? Problems.NotFound($"No {KindName(kind)} {id} in this book.") : TypedResults.Ok(party);
    }

    private static async Task<Ok<PartyResponse>> UpdateAsync(PartyKind kind, string bookId, long id, UpdatePartyRequest request, LedgerWriter writer)
    {
        var party = await writer.WriteBookAsync(bookId, session =>
        {
            var current = Read(session.Connection, kind, bookId, id)
                ?? throw new ProblemException(StatusCodes.Status404NotFound, "Not found", $"No {KindName(kind)} {id} in this book.");
            if (request.Code is { } code && code != current.Code && Exists(session, bookId, kind, code))
                throw new ConflictException($"A {KindName(kind)} with code '{code}' already exists in this book.");
            session.Connection.Execute(UpdateSql, new
            {
                id, bookId, name = request.Name, code = request.Code, email = request.Email, taxId = request.TaxId,
                address = request.Address, terms = request.PaymentTermsDays, notes = request.Notes,
                archived = request.Archived is null ? (int?)null : request.Archived.Value ? 1 : 0,
            });
            var changed = Read(session.Connection, kind, bookId, id)!;
            EventLog.AppendPayload(session, bookId, $"{KindName(kind)}.changed", KindName(kind), id.ToString(CultureInfo.InvariantCulture), changed);
            return changed;
        });
        return TypedResults.Ok(party);
    }

    /// <summary>The party, if the book has one of this kind with this id.</summary>
    public static PartyResponse? Read(System.Data.Common.DbConnection connection, PartyKind kind, string bookId, long id) =>
        connection.QuerySingleOrDefault<PartyRow>(SelectSql + " WHERE book_id = @bookId AND kind = @kind AND id = @id",
            new { bookId, kind = KindName(kind), id })?.ToResponse();

    private static bool Exists(WriteSession session, string bookId, PartyKind kind, string code) =>
        session.Connection.ExecuteScalar<long>("SELECT COUNT(*) FROM parties WHERE book_id = @bookId AND kind = @kind AND code = @code",
            new { bookId, kind = KindName(kind), code }) > 0;

    private static string Location(PartyKind kind, string bookId, long id) =>
        $"/v1/books/{bookId}/{(kind == PartyKind.Customer ? "customers" : "vendors")}/{id}";

    /// <summary>A LIKE pattern for "contains", any case, with the pattern characters in the text taken literally.</summary>
    private static string? Contains(string? text) => text is null ? null
        : "%" + text.ToLowerInvariant().Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";

    private const string SelectSql = """
        SELECT id AS Id, code AS Code, name AS Name, email AS Email, tax_id AS TaxId, address AS Address,
               payment_terms_days AS PaymentTermsDays, notes AS Notes, archived AS Archived, created_at AS CreatedAt
        FROM parties
        """;

    private const string InsertSql = """
        INSERT INTO parties (id, book_id, kind, code, name, email, tax_id, address, payment_terms_days, notes, archived, created_at)
        VALUES (@id, @bookId, @kind, @code, @name, @email, @taxId, @address, @terms, @notes, 0, @createdAt)
        """;

    private const string UpdateSql = """
        UPDATE parties
        SET name = COALESCE(@name, name), code = COALESCE(@code, code), email = COALESCE(@email, email),
            tax_id = COALESCE(@taxId, tax_id), address = COALESCE(@address, address),
            payment_terms_days = COALESCE(@terms, payment_terms_days), notes = COALESCE(@notes, notes),
            archived = COALESCE(@archived, archived)
        WHERE book_id = @bookId AND id = @id
        """;

    private sealed record PartyRow(long Id, string Code, string Name, string? Email, string? TaxId, string? Address,
        long PaymentTermsDays, string? Notes, long Archived, string CreatedAt)
    {
        public PartyResponse ToResponse() => new(Id, Code, Name, Email, TaxId, Address, (int)PaymentTermsDays, Notes, Archived != 0, CreatedAt);
    }
}
