using Ledger.Api.Features.Audit;
using System.ComponentModel;
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

namespace Ledger.Api.Features.Banking;

public sealed record CreateBankAccountRequest(string? Name, string? Account, string? Kind, string? Iban, string? Bic, string? Currency);

/// <summary>Bank account details; each left out stays as it is. The GL account and currency never change.</summary>
public sealed record UpdateBankAccountRequest(string? Name, string? Iban, string? Bic, bool? Archived);

public sealed record BankAccountResponse(long Id, string Name, string Account, string Kind, string? Iban, string? Bic, string Currency,
    string BookBalance, bool Archived, string CreatedAt);

public sealed record BankAccountListQuery(
    [property: FromQuery(Name = "limit")] int? Limit,
    [property: FromQuery(Name = "cursor")] string? Cursor);

public static class BankAccountRules
{
    public const int MaxName = 200;

    /// <summary>An IBAN: country, check digits and up to 30 letters or digits (spaces allowed), whose ISO 7064 mod-97 check holds.</summary>
    public static bool IsIban(string? text)
    {
        if (text is null) return false;
        var iban = Normalize(text);
        if (iban.Length is < 15 or > 34 || !char.IsAsciiLetterUpper(iban[0]) || !char.IsAsciiLetterUpper(iban[1])
            || !char.IsAsciiDigit(iban[2]) || !char.IsAsciiDigit(iban[3])) return false;
        var remainder = 0;
        // Bounded by the 34 characters checked above; letters count as two digits (A = 10 … Z = 35).
        foreach (var c in iban[4..] + iban[..4])
        {
            if (char.IsAsciiDigit(c)) remainder = (remainder * 10 + (c - '0')) % 97;
            else if (char.IsAsciiLetterUpper(c)) remainder = (remainder * 100 + (c - 'A' + 10)) % 97;
            else return false;
        }
        return remainder == 1;
    }

    /// <summary>The IBAN as stored and compared: upper case without spaces.</summary>
    public static string Normalize(string iban) => iban.Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant();

    public static bool IsBic(string? text) =>
        text is { Length: 8 or 11 } && text.Take(6).All(char.IsAsciiLetterUpper) && text.Skip(6).All(char.IsAsciiLetterOrDigit);
}

public sealed class CreateBankAccountRequestValidator : AbstractValidator<CreateBankAccountRequest>
{
    public CreateBankAccountRequestValidator()
    {
        RuleFor(x => x.Name).NotEmpty().MaximumLength(BankAccountRules.MaxName);
        RuleFor(x => x.Account).NotEmpty().MaximumLength(32);
        RuleFor(x => x.Kind).NotEmpty().Must(k => k is "bank" or "cash").WithMessage("must be 'bank' or 'cash'.");
        RuleFor(x => x.Iban).Must(BankAccountRules.IsIban).When(x => x.Iban is not null).WithMessage("is not a valid IBAN (its check digits do not hold).");
        RuleFor(x => x.Bic).Must(BankAccountRules.IsBic).When(x => x.Bic is not null).WithMessage("must be a BIC of 8 or 11 characters.");
        RuleFor(x => x.Currency).Must(c => Domain.Currency.TryFromCode(c, out _)).When(x => x.Currency is not null)
            .WithMessage("must be an ISO 4217 currency code.");
    }
}

public sealed class UpdateBankAccountRequestValidator : AbstractValidator<UpdateBankAccountRequest>
{
    public UpdateBankAccountRequestValidator()
    {
        RuleFor(x => x.Name).NotEmpty().MaximumLength(BankAccountRules.MaxName).When(x => x.Name is not null);
        RuleFor(x => x.Iban).Must(i => i == "" || BankAccountRules.IsIban(i)).When(x => x.Iban is not null)
            .WithMessage("is not a valid IBAN (its check digits do not hold); send \"\" to remove it.");
        RuleFor(x => x.Bic).Must(b => b == "" || BankAccountRules.IsBic(b)).When(x => x.Bic is not null)
            .WithMessage("must be a BIC of 8 or 11 characters; send \"\" to remove it.");
        RuleFor(x => x).Must(x => x.Name is not null || x.Iban is not null || x.Bic is not null || x.Archived is not null)
            .OverridePropertyName("body").WithMessage("Give at least one field to change.");
    }
}

public sealed class BankAccountListQueryValidator : AbstractValidator<BankAccountListQuery>
{
    public BankAccountListQueryValidator()
    {
        RuleFor(x => x.Limit).GreaterThanOrEqualTo(1).WithMessage("must be at least 1.");
        RuleFor(x => x.Cursor).IsIdCursor();
    }
}

/// <summary>
/// The book's bank and cash accounts. Each is one asset account of the chart (one bank account per GL account), so its
/// book balance is that account's balance; statements are imported against it and reconciled with it.
/// </summary>
public static class BankAccountsEndpoints
{
    public static void MapBankAccounts(this IEndpointRouteBuilder app)
    {
        var accounts = app.MapGroup("/v1/books/{bookId}/bank-accounts").RequireBookAccess().ValidateRequests().WithTags("Bank accounts");
        accounts.MapPost("/", CreateAsync).WithName("createBankAccount").WithSummary("Add a bank or cash account")
            .WithDescription("Names an asset account of the chart as a bank or cash account (one per GL account: 409 for a second). " +
                             "The currency is the book's (another is 400 for now); the IBAN's check digits are verified.")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        accounts.MapGet("/", ListAsync).WithName("listBankAccounts").WithSummary("List bank and cash accounts")
            .WithDescription("In the order they were added, a page at a time (follow nextCursor), each with its book balance today.");
        accounts.MapGet("/{id:long}", GetAsync).WithName("getBankAccount").WithSummary("Get a bank or cash account")
            .WithDescription("One bank or cash account with its book balance (the GL account's balance) today.");
        accounts.MapPatch("/{id:long}", UpdateAsync).WithName("updateBankAccount").WithSummary("Change or archive a bank account")
            .WithDescription("Changes the name, IBAN or BIC (\"\" removes one), or archives it. Its GL account and currency never change.");
    }

    private static async Task<Results<Created<BankAccountResponse>, StoredResponse>> CreateAsync(string bookId, CreateBankAccountRequest request,
        [FromHeader(Name = Idempotency.HeaderName)] string? idempotencyKey, BookCatalog books, LedgerWriter writer,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
    {
        var book = await books.GetAsync(bookId);
        if (request.Currency is { } currency && !string.Equals(currency, book.Currency.Code, StringComparison.OrdinalIgnoreCase))
            throw new ValidationFailedException("currency", $"must be the book's currency ({book.Currency.Code}) for now.");
        return await writer.CreateIdempotentAsync(bookId, idempotencyKey, "create-bank-account", request, json.Value.SerializerOptions,
            session =>
            {
                var connection = session.Connection;
                var account = connection.QuerySingleOrDefault<(string Type, long Archived)?>(
                    "SELECT type, archived FROM accounts WHERE book_id = @bookId AND code = @code", new { bookId, code = request.Account });
                if (account is null) throw new ValidationFailedException("account", $"No account '{request.Account}' in this book.");
                if (account.Value.Type != "asset" || ControlAccounts.Read(connection, bookId).Contains(request.Account!))
                    throw new ValidationFailedException("account", "must be an asset account that is not a receivables or payables control account.");
                if (account.Value.Archived != 0) throw new ValidationFailedException("account", $"Account '{request.Account}' is archived.");
                if (connection.ExecuteScalar<long>("SELECT COUNT(*) FROM bank_accounts WHERE book_id = @bookId AND account = @code",
                        new { bookId, code = request.Account }) > 0)
                    throw new ConflictException($"Account '{request.Account}' already has a bank account; one bank account per GL account.");
                var id = session.NextId("bank_accounts");
                connection.Execute("""
                    INSERT INTO bank_accounts (id, book_id, name, account, kind, iban, bic, currency, archived, created_at)
                    VALUES (@id, @bookId, @name, @account, @kind, @iban, @bic, @currency, 0, @createdAt)
                    """, new
                {
                    id, bookId, name = request.Name, account = request.Account, kind = request.Kind,
                    iban = request.Iban is null ? null : BankAccountRules.Normalize(request.Iban), bic = request.Bic,
                    currency = book.Currency.Code, createdAt = Timestamps.Format(session.Now),
                });
                var created = Read(connection, book, id, session.Now.InUtc().Date)!;
                EventLog.AppendPayload(session, bookId, "bank_account.created", "bank_account", id.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    created, leaveOut: "bookBalance");
                return created;
            },
            created => $"/v1/books/{bookId}/bank-accounts/{created.Id}");
    }

    private static async Task<Ok<Page<BankAccountResponse>>> ListAsync(string bookId, [AsParameters] BankAccountListQuery query,
        BookCatalog books, LedgerDatabase database, NodaTime.IClock clock)
    {
        var book = await books.GetAsync(bookId);
        var limit = Math.Min(query.Limit ?? 50, 500);
        long after = IdCursor.TryDecode(query.Cursor, out var cursorId) ? cursorId : 0;
        await using var connection = await database.OpenReplicaReadAsync();
        var ids = (await connection.QueryAsync<long>(
            "SELECT id FROM bank_accounts WHERE book_id = @bookId AND id > @after ORDER BY id LIMIT @take",
            new { bookId, after, take = limit + 1 })).AsList();
        var more = ids.Count > limit;
        if (more) ids.RemoveAt(ids.Count - 1);
        var today = clock.GetCurrentInstant().InUtc().Date;
        var items = ids.Select(id => Read(connection, book, id, today)!).ToList();
        return TypedResults.Ok(new Page<BankAccountResponse>(items,
            more ? IdCursor.Encode(ids[^1]) : null));
    }

    private static async Task<Results<Ok<BankAccountResponse>, ProblemHttpResult>> GetAsync(string bookId, long id, BookCatalog books,
        LedgerDatabase database, NodaTime.IClock clock)
    {
        var book = await books.GetAsync(bookId);
        await using var connection = await database.OpenReadAsync();
        var account = Read(connection, book, id, clock.GetCurrentInstant().InUtc().Date);
        return account is null ? Problems.NotFound($"No bank account {id} in this book.") : TypedResults.Ok(account);
    }

    private static async Task<Ok<BankAccountResponse>> UpdateAsync(string bookId, long id, UpdateBankAccountRequest request, BookCatalog books,
        LedgerWriter writer)
    {
        var book = await books.GetAsync(bookId);
        var updated = await writer.WriteBookAsync(bookId, session =>
        {
            var connection = session.Connection;
            _ = Find(connection, bookId, id);
            connection.Execute("""
                UPDATE bank_accounts SET name = COALESCE(@name, name),
                    iban = CASE WHEN @iban IS NULL THEN iban WHEN @iban = '' THEN NULL ELSE @iban END,
                    bic = CASE WHEN @bic IS NULL THEN bic WHEN @bic = '' THEN NULL ELSE @bic END,
                    archived = COALESCE(@archived, archived)
                WHERE book_id = @bookId AND id = @id
                """, new
            {
                bookId, id, name = request.Name, iban = request.Iban is null or "" ? request.Iban : BankAccountRules.Normalize(request.Iban),
                bic = request.Bic, archived = request.Archived is null ? (long?)null : request.Archived.Value ? 1 : 0,
            });
            var changed = Read(connection, book, id, session.Now.InUtc().Date)!;
            EventLog.AppendPayload(session, bookId, "bank_account.changed", "bank_account", id.ToString(System.Globalization.CultureInfo.InvariantCulture),
                changed, leaveOut: "bookBalance");
            return changed;
        });
        return TypedResults.Ok(updated);
    }

    /// <summary>The bank account as stored, or a 404 problem.</summary>
    public static StoredBankAccount Find(DbConnection connection, string bookId, long id) =>
        connection.QuerySingleOrDefault<StoredBankAccount>(SelectSql + " WHERE book_id = @bookId AND id = @id", new { bookId, id })
        ?? throw new ProblemException(StatusCodes.Status404NotFound, "Not found", $"No bank account {id} in this book.");

    public static BankAccountResponse? Read(DbConnection connection, BookIdentity book, long id, NodaTime.LocalDate today)
    {
        var row = connection.QuerySingleOrDefault<StoredBankAccount>(SelectSql + " WHERE book_id = @bookId AND id = @id", new { bookId = book.Id, id });
        if (row is null) return null;
        var balance = BookBalance(connection, book.Id, row.Account, today);
        return new BankAccountResponse(row.Id, row.Name, row.Account, row.Kind, row.Iban, row.Bic, row.Currency,
            new Amount(balance).Format(book.Digits), row.Archived != 0, row.CreatedAt);
    }

    /// <summary>The GL account's balance (debit positive) at the end of <paramref name="asOf"/>.</summary>
    public static long BookBalance(DbConnection connection, string bookId, string accountCode, NodaTime.LocalDate asOf) =>
        connection.ExecuteScalar<long>(BookBalanceSql, new { bookId, code = accountCode, asOf = DateText.Format(asOf) });

    private const string BookBalanceSql = """
        SELECT CAST(COALESCE(SUM(p.amount), 0) AS BIGINT) FROM postings p
        WHERE p.book_id = @bookId AND p.entry_date <= @asOf
          AND p.account_id = (SELECT id FROM accounts WHERE book_id = @bookId AND code = @code)
        """;

    public const string SelectSql = """
        SELECT id AS Id, name AS Name, account AS Account, kind AS Kind, iban AS Iban, bic AS Bic, currency AS Currency,
               archived AS Archived, created_at AS CreatedAt
        FROM bank_accounts
        """;
}

public sealed record StoredBankAccount(long Id, string Name, string Account, string Kind, string? Iban, string? Bic, string Currency,
    long Archived, string CreatedAt);
