using Ledger.Api.Features.Audit;
using System.ComponentModel;
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

namespace Ledger.Api.Features.TaxRates;

public sealed record CreateTaxRateRequest(string? Code, string? Name, string? Rate, string? SalesAccount, string? PurchaseAccount);

/// <summary>Tax rate details; each left out stays as it is.</summary>
public sealed record UpdateTaxRateRequest(string? Name, string? Rate, string? SalesAccount, string? PurchaseAccount, bool? Archived);

public sealed record TaxRateResponse(long Id, string Code, string Name, string Rate, string SalesAccount, string PurchaseAccount,
    bool Archived, string CreatedAt);

/// <summary>Query of the tax rate list: archived or active ones only, and a page.</summary>
public sealed record TaxRateListQuery(
    [property: FromQuery(Name = "archived"), Description("true: only archived tax rates; false: only active ones; all when left out.")] bool? Archived,
    [property: FromQuery(Name = "limit")] int? Limit,
    [property: FromQuery(Name = "cursor")] string? Cursor);

public static class TaxRateRules
{
    public const int MaxCode = 32;
    public const int MaxName = 200;

    public static IRuleBuilderOptions<T, string?> IsTaxRateCode<T>(this IRuleBuilder<T, string?> rule) =>
        rule.MaximumLength(MaxCode).Matches("^[A-Za-z0-9][A-Za-z0-9._-]*$")
            .WithMessage("must start with a letter or digit and use only letters, digits, '.', '_' and '-'.");

    /// <summary>A percentage as <see cref="TaxRate.TryParse"/> reads it, refused with the domain's reason.</summary>
    public static IRuleBuilderOptions<T, string?> IsTaxRate<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(text => TaxRate.TryParse(text, out _, out _))
            .WithMessage((request, text) => TaxRate.TryParse(text, out _, out var error) ? "" : error!);

    /// <summary>The rate as stored and answered: "5.50" is "5.5", "19.0" is "19".</summary>
    public static string Canonical(string text) =>
        TaxRate.TryParse(text, out var rate, out var error) ? rate.ToString() : throw new ArgumentException(error, nameof(text));
}

public sealed class CreateTaxRateRequestValidator : AbstractValidator<CreateTaxRateRequest>
{
    public CreateTaxRateRequestValidator()
    {
        RuleFor(x => x.Code).NotEmpty().IsTaxRateCode();
        RuleFor(x => x.Name).NotEmpty().MaximumLength(TaxRateRules.MaxName);
        RuleFor(x => x.Rate).Cascade(CascadeMode.Stop).NotEmpty().IsTaxRate();
        RuleFor(x => x.SalesAccount).NotEmpty().MaximumLength(32);
        RuleFor(x => x.PurchaseAccount).NotEmpty().MaximumLength(32);
    }
}

public sealed class UpdateTaxRateRequestValidator : AbstractValidator<UpdateTaxRateRequest>
{
    public UpdateTaxRateRequestValidator()
    {
        RuleFor(x => x.Name).NotEmpty().MaximumLength(TaxRateRules.MaxName).When(x => x.Name is not null);
        RuleFor(x => x.Rate).IsTaxRate().When(x => x.Rate is not null);
        RuleFor(x => x.SalesAccount).NotEmpty().MaximumLength(32).When(x => x.SalesAccount is not null);
        RuleFor(x => x.PurchaseAccount).NotEmpty().MaximumLength(32).When(x => x.PurchaseAccount is not null);
        RuleFor(x => x).Must(x => x.Name is not null || x.Rate is not null || x.SalesAccount is not null
                                  || x.PurchaseAccount is not null || x.Archived is not null)
            .OverridePropertyName("body").WithMessage("Give at least one field to change.");
    }
}

public sealed class TaxRateListQueryValidator : AbstractValidator<TaxRateListQuery>
{
    public TaxRateListQueryValidator()
    {
        RuleFor(x => x.Limit).GreaterThanOrEqualTo(1).WithMessage("must be at least 1.");
        RuleFor(x => x.Cursor).Must(c => c is null || PageCursor.TryDecode(c, out _)).WithMessage("is not a cursor this API returned.");
    }
}

/// <summary>
/// Tax rates of a book: a percentage, the liability account sales tax is owed on and the asset account purchase tax
/// is reclaimed on. Invoice and bill lines name a rate by its code. A rate is never deleted; once a document uses it,
/// its percentage and accounts never change (the documents were computed and posted with them), though it may be
/// renamed or archived.
/// </summary>
public static class TaxRatesEndpoints
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 500;

    public static void MapTaxRates(this IEndpointRouteBuilder app)
    {
        var rates = app.MapGroup("/v1/books/{bookId}/tax-rates").RequireBookAccess().ValidateRequests().WithTags("Tax rates");
        rates.MapPost("/", (string bookId, CreateTaxRateRequest request, [FromHeader(Name = Idempotency.HeaderName)] string? idempotencyKey,
                LedgerWriter writer, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json) =>
                CreateAsync(bookId, request, idempotencyKey, writer, json.Value.SerializerOptions))
            .WithName("createTaxRate").WithSummary("Create a tax rate")
            .WithDescription("Adds a tax rate: a code unique in the book (a code in use is 409), a name, the rate as a percentage " +
                             "(a decimal string from \"0\" to \"100\", at most 4 decimals, answered without trailing zeros), the " +
                             "liability account sales tax is owed on (salesAccount) and the asset account purchase tax is " +
                             "reclaimed on (purchaseAccount). Both must be open accounts of the book, and neither its receivables " +
                             "nor its payables control account.")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        rates.MapGet("/", (string bookId, [AsParameters] TaxRateListQuery query, LedgerDatabase database) => ListAsync(bookId, query, database))
            .WithName("listTaxRates").WithSummary("List tax rates")
            .WithDescription("The book's tax rates ordered by code, a page at a time (follow nextCursor); archived=true or " +
                             "archived=false keeps only archived or only active ones.");
        rates.MapGet("/{code}", (string bookId, [Description("The tax rate's code.")] string code, LedgerDatabase database) =>
                GetAsync(bookId, code, database))
            .WithName("getTaxRate").WithSummary("Get a tax rate")
            .WithDescription("One tax rate by its code.");
        rates.MapPatch("/{code}", (string bookId, [Description("The tax rate's code.")] string code, UpdateTaxRateRequest request,
                LedgerWriter writer) => UpdateAsync(bookId, code, request, writer))
            .WithName("updateTaxRate").WithSummary("Change or archive a tax rate")
            .WithDescription("Changes a tax rate's name, rate or accounts, or archives it (new documents cannot use an archived " +
                             "rate) or unarchives it. Fields left out stay as they are. Once a document uses the rate, " +
                             "its rate and accounts no longer change (409): create a new tax rate instead.")
            .ProducesProblem(StatusCodes.Status409Conflict);
    }

    private static async Task<Results<Created<TaxRateResponse>, StoredResponse>> CreateAsync(string bookId,
        CreateTaxRateRequest request, string? idempotencyKey, LedgerWriter writer, JsonSerializerOptions options)
    {
        return await writer.CreateIdempotentAsync(bookId, idempotencyKey, "create-tax-rate", request, options,
            session => Create(session, bookId, request),
            created => Location(bookId, created.Code));
    }

    private static TaxRateResponse Create(WriteSession session, string bookId, CreateTaxRateRequest request)
    {
        var code = request.Code!;
        if (Read(session.Connection, bookId, code) is not null)
            throw new ConflictException($"A tax rate with code '{code}' already exists in this book.");
        CheckAccounts(session, bookId, request.SalesAccount, request.PurchaseAccount);
        var id = session.NextId("tax_rates");
        session.Connection.Execute(InsertSql, new
        {
            id, bookId, code, name = request.Name, rate = TaxRateRules.Canonical(request.Rate!),
            salesAccount = request.SalesAccount, purchaseAccount = request.PurchaseAccount, createdAt = Timestamps.Format(session.Now),
        });
        var created = Read(session.Connection, bookId, code)!;
        EventLog.AppendPayload(session, bookId, "tax_rate.created", "tax_rate", code, created);
        return created;
    }

    private static async Task<Ok<Page<TaxRateResponse>>> ListAsync(string bookId, TaxRateListQuery query, LedgerDatabase database)
    {
        var limit = Math.Min(query.Limit ?? DefaultPageSize, MaxPageSize);
        PageCursor.TryDecode(query.Cursor, out var after);
        var sql = SelectSql + " WHERE book_id = @bookId"
                  + (query.Archived is null ? "" : " AND archived = @archived")
                  + (query.Cursor is null ? "" : " AND code > @after")
                  + " ORDER BY code LIMIT @take";
        await using var connection = await database.OpenReplicaReadAsync();
        var rows = (await connection.QueryAsync<TaxRateRow>(sql, new
        {
            bookId, archived = query.Archived is true ? 1 : 0, after, take = limit + 1,
        })).Select(r => r.ToResponse()).ToList();
        var more = rows.Count > limit;
        if (more) rows.RemoveAt(rows.Count - 1);
        return TypedResults.Ok(new Page<TaxRateResponse>(rows, more ? PageCursor.Encode(rows[^1].Code) : null));
    }

    private static async Task<Results<Ok<TaxRateResponse>, ProblemHttpResult>> GetAsync(string bookId, string code, LedgerDatabase database)
    {
        await using var connection = await database.OpenReadAsync();
        var rate = Read(connection, bookId, code);
        return rate is null ? Problems.NotFound($"No tax rate '{code}' in this book.") : TypedResults.Ok(rate);
    }

    private static async Task<Ok<TaxRateResponse>> UpdateAsync(string bookId, string code, UpdateTaxRateRequest request, LedgerWriter writer)
    {
        var updated = await writer.WriteBookAsync(bookId, session =>
        {
            var current = Read(session.Connection, bookId, code)
                ?? throw new ProblemException(StatusCodes.Status404NotFound, "Not found", $"No tax rate '{code}' in this book.");
            var rate = request.Rate is null ? null : TaxRateRules.Canonical(request.Rate);
            // Only what actually changes counts: a client may send the rate back as it read it.
            var newRate = rate is not null && rate != current.Rate ? rate : null;
            var newSales = request.SalesAccount is { } sales && sales != current.SalesAccount ? sales : null;
            var newPurchase = request.PurchaseAccount is { } purchase && purchase != current.PurchaseAccount ? purchase : null;
            if ((newRate ?? newSales ?? newPurchase) is not null && IsUsed(session, bookId, code))
                throw new ConflictException($"Tax rate '{code}' is used by documents, so its rate and accounts can no longer change " +
                                            "(its name can, and it can be archived). Create a new tax rate for new terms.");
            CheckAccounts(session, bookId, newSales, newPurchase);
            session.Connection.Execute(UpdateSql, new
            {
                bookId, code, name = request.Name, rate = newRate, salesAccount = newSales, purchaseAccount = newPurchase,
                archived = request.Archived is null ? (int?)null : request.Archived.Value ? 1 : 0,
            });
            var changed = Read(session.Connection, bookId, code)!;
            EventLog.AppendPayload(session, bookId, "tax_rate.changed", "tax_rate", code, changed);
            return changed;
        });
        return TypedResults.Ok(updated);
    }

    /// <summary>
    /// Sales tax is owed: its account is a liability. Purchase tax is reclaimable: an asset. Neither may be a control
    /// account, every line on which is a customer's or vendor's open item. Both fields are checked, and refused together.
    /// </summary>
    private static void CheckAccounts(WriteSession session, string bookId, string? salesAccount, string? purchaseAccount)
    {
        if (salesAccount is null && purchaseAccount is null) return;
        var controls = ControlAccounts.Read(session.Connection, bookId);
        var errors = new Dictionary<string, string[]>();
        foreach (var (field, code, type, purpose) in new[]
                 {
                     ("salesAccount", salesAccount, AccountType.Liability, "a liability account (sales tax is owed)"),
                     ("purchaseAccount", purchaseAccount, AccountType.Asset, "an asset account (purchase tax is reclaimable)"),
                 })
        {
            if (code is null) continue;
            var account = session.Connection.QuerySingleOrDefault<AccountState>(
                "SELECT type AS Type, archived AS Archived FROM accounts WHERE book_id = @bookId AND code = @code", new { bookId, code });
            var problem = account is null ? $"No account '{code}' in this book."
                : account.Type != type.ToName() ? $"must be {purpose}; '{code}' is {account.Type}."
                : account.Archived != 0 ? $"Account '{code}' is archived."
                : code == controls.Receivables ? $"must not be the book's receivables control account ('{code}'), whose lines are customers' open items."
                : code == controls.Payables ? $"must not be the book's payables control account ('{code}'), whose lines are vendors' open items."
                : null;
            if (problem is not null) errors[field] = [problem];
        }
        if (errors.Count > 0) throw new ValidationFailedException(errors);
    }

    /// <summary>Whether a document line of the book names the rate.</summary>
    private static bool IsUsed(WriteSession session, string bookId, string code) =>
        session.Connection.ExecuteScalar<long?>(
            "SELECT 1 FROM document_lines WHERE book_id = @bookId AND tax_rate = @code LIMIT 1", new { bookId, code }) is not null;

    /// <summary>The tax rate, if the book has one with this code.</summary>
    public static TaxRateResponse? Read(System.Data.Common.DbConnection connection, string bookId, string code) =>
        connection.QuerySingleOrDefault<TaxRateRow>(SelectSql + " WHERE book_id = @bookId AND code = @code", new { bookId, code })?.ToResponse();

    private static string Location(string bookId, string code) => $"/v1/books/{bookId}/tax-rates/{Uri.EscapeDataString(code)}";

    private const string SelectSql = """
        SELECT id AS Id, code AS Code, name AS Name, rate AS Rate, sales_account AS SalesAccount,
               purchase_account AS PurchaseAccount, archived AS Archived, created_at AS CreatedAt
        FROM tax_rates
        """;

    private const string InsertSql = """
        INSERT INTO tax_rates (id, book_id, code, name, rate, sales_account, purchase_account, archived, created_at)
        VALUES (@id, @bookId, @code, @name, @rate, @salesAccount, @purchaseAccount, 0, @createdAt)
        """;

    private const string UpdateSql = """
        UPDATE tax_rates
        SET name = COALESCE(@name, name), rate = COALESCE(@rate, rate), sales_account = COALESCE(@salesAccount, sales_account),
            purchase_account = COALESCE(@purchaseAccount, purchase_account), archived = COALESCE(@archived, archived)
        WHERE book_id = @bookId AND code = @code
        """;


    private sealed record AccountState(string Type, long Archived);

    private sealed record TaxRateRow(long Id, string Code, string Name, string Rate, string SalesAccount, string PurchaseAccount,
        long Archived, string CreatedAt)
    {
        public TaxRateResponse ToResponse() => new(Id, Code, Name, Rate, SalesAccount, PurchaseAccount, Archived != 0, CreatedAt);
    }
}
