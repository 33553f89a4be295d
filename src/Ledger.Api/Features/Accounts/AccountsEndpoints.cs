using Ledger.Api.Features.Audit;
using Dapper;
using FluentValidation;
using Ledger.Api.Features.Books;
using Ledger.Api.Infrastructure;
using Ledger.Api.Infrastructure.Security;
using Ledger.Domain;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Ledger.Api.Features.Accounts;

public sealed record CreateAccountRequest(string? Code, string? Name, string? Type, string? Parent, string? Description);

public sealed record UpdateAccountRequest(string? Name, string? Description, bool? Archived);

public sealed record AccountResponse(
    string Code,
    string Name,
    string Type,
    string? Parent,
    string? Description,
    bool Archived,
    string DebitTotal,
    string CreditTotal,
    string Balance,
    string CreatedAt);

public sealed class CreateAccountRequestValidator : AbstractValidator<CreateAccountRequest>
{
    public CreateAccountRequestValidator()
    {
        RuleFor(x => x.Code).NotEmpty().MaximumLength(32)
            .Matches("^[A-Za-z0-9][A-Za-z0-9._-]*$")
            .WithMessage("must start with a letter or digit and use only letters, digits, '.', '_' and '-'.");
        RuleFor(x => x.Name).NotEmpty().MaximumLength(200);
        RuleFor(x => x.Type).NotEmpty()
            .Must(t => AccountTypes.TryParse(t, out _))
            .WithMessage($"must be one of: {string.Join(", ", AccountTypes.Names)}.");
        RuleFor(x => x.Parent).MaximumLength(32);
        RuleFor(x => x.Description).MaximumLength(1000);
    }
}

public sealed class UpdateAccountRequestValidator : AbstractValidator<UpdateAccountRequest>
{
    public UpdateAccountRequestValidator()
    {
        RuleFor(x => x.Name).NotEmpty().MaximumLength(200).When(x => x.Name is not null);
        RuleFor(x => x.Description).MaximumLength(1000);
        RuleFor(x => x).Must(x => x.Name is not null || x.Description is not null || x.Archived is not null)
            .OverridePropertyName("body")
            .WithMessage("Give at least one of name, description, archived.");
    }
}

public static class AccountsEndpoints
{
    public static void MapAccounts(this IEndpointRouteBuilder app)
    {
        var accounts = app.MapGroup("/v1/books/{bookId}/accounts").RequireBookAccess().ValidateRequests().WithTags("Accounts");
        accounts.MapPost("/", CreateAccount).WithName("createAccount").WithSummary("Create an account")
            .WithDescription("Adds an account to the book's chart of accounts: a code unique in the book, a name, a type " +
                             "(asset, liability, equity, income or expense) and optionally a parent account of the same type.")
            .ProducesProblem(StatusCodes.Status409Conflict);
        accounts.MapGet("/", ListAccounts).WithName("listAccounts").WithSummary("List the chart of accounts")
            .WithDescription("Every account of the book ordered by code, archived ones included, with debit and credit totals and balance.");
        accounts.MapGet("/{code}", GetAccount).WithName("getAccount").WithSummary("Get an account")
            .WithDescription("One account by its code, with its all-time debit and credit totals and balance.");
        accounts.MapPatch("/{code}", UpdateAccount).WithName("updateAccount").WithSummary("Rename, describe or archive an account")
            .WithDescription("Changes an account's name or description, or archives it (archived accounts keep their history " +
                             "and take no new postings) or unarchives it. Fields left out stay as they are.");
        accounts.MapDelete("/{code}", DeleteAccount).WithName("deleteAccount").WithSummary("Delete an unused account")
            .WithDescription("Deletes an account created by mistake. An account with postings or child accounts is never " +
                             "deleted (409): archive it instead. Nor is one that a setting names (409): the book's retained-earnings, " +
                             "receivables or payables account, a tax rate's sales or purchase account, a bank or cash account's " +
                             "ledger account, a bank rule's account, or an account on a draft document's lines.")
            .ProducesProblem(StatusCodes.Status409Conflict);
    }

    public static async Task<Created<AccountResponse>> CreateAccount(
        string bookId, CreateAccountRequest request, BookCatalog books, LedgerWriter writer)
    {
        var book = await books.GetAsync(bookId);
        AccountTypes.TryParse(request.Type, out var type);
        // Refusals are thrown as problems (rolling the write back) and answered by the exception handler.
        var row = await writer.WriteBookAsync(bookId, session =>
        {
            if (Exists(session, bookId, request.Code!))
                throw new ConflictException($"Account '{request.Code}' already exists in this book.");
            if (request.Parent is not null)
            {
                var parent = session.Connection.QuerySingleOrDefault<AccountRow>(
                    AccountQueries.SelectAccountSql + " WHERE book_id = @bookId AND code = @code",
                    new { bookId, code = request.Parent });
                if (parent is null)
                    throw new ValidationFailedException("parent", $"No account '{request.Parent}' in this book.");
                if (parent.Type != type.ToName())
                    throw new ValidationFailedException("parent", $"must be an account of the same type ({type.ToName()}); '{request.Parent}' is {parent.Type}.");
            }
            AccountWrites.Insert(session, bookId, request.Code!, request.Name!, type, request.Parent, request.Description);
            return session.Connection.QuerySingle<AccountRow>(
                AccountQueries.SelectAccountSql + " WHERE book_id = @bookId AND code = @code", new { bookId, code = request.Code });
        });
        var response = row.ToResponse(book.Digits);
        return TypedResults.Created($"/v1/books/{bookId}/accounts/{Uri.EscapeDataString(response.Code)}", response);
    }

    public static async Task<Ok<AccountResponse[]>> ListAccounts(string bookId, BookCatalog books, LedgerDatabase database)
    {
        var book = await books.GetAsync(bookId);
        await using var connection = await database.OpenReadAsync();
        var rows = await connection.QueryAsync<AccountRow>(
            AccountQueries.SelectAccountSql + " WHERE book_id = @bookId ORDER BY code", new { bookId });
        return TypedResults.Ok(rows.Select(r => r.ToResponse(book.Digits)).ToArray());
    }

    public static async Task<Results<Ok<AccountResponse>, ProblemHttpResult>> GetAccount(
        string bookId, string code, BookCatalog books, LedgerDatabase database)
    {
        var book = await books.GetAsync(bookId);
        var row = await AccountQueries.FindAsync(database, bookId, code);
        return row is null ? Problems.NotFound($"No account '{code}' in this book.") : TypedResults.Ok(row.ToResponse(book.Digits));
    }

    public static async Task<Ok<AccountResponse>> UpdateAccount(
        string bookId, string code, UpdateAccountRequest request, BookCatalog books, LedgerWriter writer)
    {
        var book = await books.GetAsync(bookId);
        var row = await writer.WriteBookAsync(bookId, session =>
        {
            var updated = session.Connection.Execute(UpdateAccountSql, new
            {
                bookId,
                code,
                name = request.Name,
                description = request.Description,
                archived = request.Archived is null ? (int?)null : request.Archived.Value ? 1 : 0,
            });
            if (updated == 0) throw new ProblemException(StatusCodes.Status404NotFound, "Not found", $"No account '{code}' in this book.");
            var account = session.Connection.QuerySingle<AccountRow>(
                AccountQueries.SelectAccountSql + " WHERE book_id = @bookId AND code = @code", new { bookId, code });
            AccountWrites.RecordVersion(session, bookId, account.Id);
            EventLog.Append(session, bookId, "account.changed", "account", code, EventData.Of(
                ("code", code), ("name", account.Name), ("description", account.Description), ("archived", account.Archived != 0)));
            return account;
        });
        return TypedResults.Ok(row.ToResponse(book.Digits));
    }

    /// <summary>Deletes an account created by mistake. An account with postings is history and is never deleted.</summary>
    public static async Task<NoContent> DeleteAccount(string bookId, string code, LedgerWriter writer)
    {
        await writer.WriteBookAsync(bookId, session =>
        {
            var usage = session.Connection.QuerySingleOrDefault<AccountUsage>(AccountUsageSql, new { bookId, code })
                ?? throw new ProblemException(StatusCodes.Status404NotFound, "Not found", $"No account '{code}' in this book.");
            if (usage.Postings > 0)
                throw new ConflictException($"Account '{code}' has postings and can never be deleted; archive it instead.");
            if (usage.Children > 0)
                throw new ConflictException($"Account '{code}' is the parent of other accounts; move or delete them first.");
            // Settings name accounts by code: deleting one would leave them naming nothing, and an account created
            // later with the same code (of any type) would silently take over the role.
            if (usage.IsRetainedEarnings > 0)
                throw new ConflictException($"Account '{code}' is the book's retained-earnings account.");
            if (usage.IsReceivables > 0)
                throw new ConflictException($"Account '{code}' is the book's receivables control account; set another one on the book first.");
            if (usage.IsPayables > 0)
                throw new ConflictException($"Account '{code}' is the book's payables control account; set another one on the book first.");
            if (usage.TaxRates > 0)
                throw new ConflictException($"Account '{code}' is the sales or purchase tax account of {Count(usage.TaxRates, "tax rate")}.");
            if (usage.BankAccounts > 0)
                throw new ConflictException($"Account '{code}' is the ledger account of {Count(usage.BankAccounts, "bank or cash account")}.");
            if (usage.BankRules > 0)
                throw new ConflictException($"Account '{code}' is the account of {Count(usage.BankRules, "bank rule")}; delete the rules first.");
            if (usage.DraftDocuments > 0)
                throw new ConflictException($"Account '{code}' is named on the lines of {Count(usage.DraftDocuments, "draft document")}; change or delete the drafts first.");
            AccountWrites.RecordVersion(session, bookId, usage.Id, deleted: true);
            EventLog.Append(session, bookId, "account.deleted", "account", code, EventData.Of(("code", code)));
            session.Connection.Execute("DELETE FROM accounts WHERE id = @id AND book_id = @bookId", new { id = usage.Id, bookId });
            return true;
        });
        return TypedResults.NoContent();
    }

    private static bool Exists(WriteSession session, string bookId, string code) =>
        session.Connection.ExecuteScalar<long>("SELECT COUNT(*) FROM accounts WHERE book_id = @bookId AND code = @code", new { bookId, code }) > 0;

    private const string UpdateAccountSql = """
        UPDATE accounts
        SET name = COALESCE(@name, name),
            description = COALESCE(@description, description),
            archived = COALESCE(@archived, archived)
        WHERE book_id = @bookId AND code = @code
        """;

    private const string AccountUsageSql = """
        SELECT a.id AS Id,
               (SELECT COUNT(*) FROM postings p WHERE p.account_id = a.id AND p.book_id = a.book_id) AS Postings,
               (SELECT COUNT(*) FROM accounts c WHERE c.book_id = a.book_id AND c.parent_code = a.code) AS Children,
               (SELECT COUNT(*) FROM books b WHERE b.id = a.book_id AND b.retained_earnings_account = a.code) AS IsRetainedEarnings,
               (SELECT COUNT(*) FROM books b WHERE b.id = a.book_id AND b.receivables_account = a.code) AS IsReceivables,
               (SELECT COUNT(*) FROM books b WHERE b.id = a.book_id AND b.payables_account = a.code) AS IsPayables,
               (SELECT COUNT(*) FROM tax_rates t WHERE t.book_id = a.book_id AND (t.sales_account = a.code OR t.purchase_account = a.code)) AS TaxRates,
               (SELECT COUNT(*) FROM bank_accounts k WHERE k.book_id = a.book_id AND k.account = a.code) AS BankAccounts,
               (SELECT COUNT(*) FROM bank_rules r WHERE r.book_id = a.book_id AND r.account = a.code AND r.deleted_at IS NULL) AS BankRules,
               -- Issued and void documents posted to their accounts (counted above); only a draft names one without postings.
               (SELECT COUNT(DISTINCT d.id) FROM documents d JOIN document_lines l ON l.document_id = d.id AND l.book_id = d.book_id
                WHERE d.book_id = a.book_id AND d.status = 'draft' AND l.account = a.code) AS DraftDocuments
        FROM accounts a WHERE a.book_id = @bookId AND a.code = @code
        """;

    private static string Count(long n, string what) => n == 1 ? $"1 {what}" : $"{n} {what}s";

    private sealed record AccountUsage(long Id, long Postings, long Children, long IsRetainedEarnings, long IsReceivables, long IsPayables,
        long TaxRates, long BankAccounts, long BankRules, long DraftDocuments);
}

public sealed record AccountRow(long Id, string Code, string Name, string Type, string? ParentCode, string? Description,
    long Archived, long DebitTotal, long CreditTotal, string CreatedAt)
{
    public AccountType AccountType => AccountTypes.TryParse(Type, out var t) ? t : throw new InvalidOperationException($"Unknown account type '{Type}'.");

    public AccountResponse ToResponse(int digits) => new(
        Code, Name, Type, ParentCode, Description, Archived != 0,
        new Amount(DebitTotal).Format(digits),
        new Amount(CreditTotal).Format(digits),
        new Amount(AccountType.NormalBalance(checked(DebitTotal - CreditTotal))).Format(digits),
        CreatedAt);
}

public static class AccountQueries
{
    public const string SelectAccountSql = """
        SELECT id AS Id, code AS Code, name AS Name, type AS Type, parent_code AS ParentCode, description AS Description,
               archived AS Archived, debit_total AS DebitTotal, credit_total AS CreditTotal, created_at AS CreatedAt
        FROM accounts
        """;

    public static async Task<AccountRow?> FindAsync(LedgerDatabase database, string bookId, string code)
    {
        await using var connection = await database.OpenReadAsync();
        return await connection.QuerySingleOrDefaultAsync<AccountRow>(
            SelectAccountSql + " WHERE book_id = @bookId AND code = @code", new { bookId, code });
    }

    public static async Task<IReadOnlyList<AccountRow>> ListAsync(System.Data.Common.DbConnection connection, string bookId) =>
        (await connection.QueryAsync<AccountRow>(SelectAccountSql + " WHERE book_id = @bookId ORDER BY code", new { bookId })).AsList();

    /// <summary>
    /// The chart as it stood at <paramref name="knownAt"/>: codes, names, types and parents, all that reports take from
    /// it (totals are left at zero, descriptions out).
    /// </summary>
    public static async Task<IReadOnlyList<AccountRow>> ListAsKnownAtAsync(
        System.Data.Common.DbConnection connection, string bookId, NodaTime.Instant knownAt) =>
        (await connection.QueryAsync<AccountVersion>(SelectVersionsSql, new { bookId, knownAt = Timestamps.Format(knownAt) }))
            .Select(v => new AccountRow(v.Id, v.Code, v.Name, v.Type, v.ParentCode, null, 0, 0, 0, v.RecordedAt))
            .ToList();

    private sealed record AccountVersion(long Id, string Code, string Name, string Type, string? ParentCode, string RecordedAt);

    private const string SelectVersionsSql = """
        SELECT v.account_id AS Id, v.code AS Code, v.name AS Name, v.type AS Type, v.parent_code AS ParentCode, v.recorded_at AS RecordedAt
        FROM account_versions v
        WHERE v.book_id = @bookId AND v.deleted = 0
          AND v.id = (SELECT MAX(w.id) FROM account_versions w
                      WHERE w.book_id = v.book_id AND w.account_id = v.account_id AND w.recorded_at <= @knownAt)
        ORDER BY v.code
        """;
}

public static class AccountWrites
{
    public static void Insert(WriteSession session, string bookId, string code, string name, AccountType type,
        string? parentCode, string? description)
    {
        var id = session.NextId("accounts");
        EventLog.Append(session, bookId, "account.created", "account", code, EventData.Of(
            ("code", code), ("name", name), ("type", type.ToName()), ("parent", parentCode), ("description", description)));
        session.Connection.Execute(InsertAccountSql, new
        {
            id,
            bookId,
            code,
            name,
            type = type.ToName(),
            parentCode,
            description,
            createdAt = Timestamps.Format(session.Now),
        });
        RecordVersion(session, bookId, id);
    }

    /// <summary>
    /// Records the account as it now stands (or that it is about to be deleted), so a report as known at an
    /// earlier instant still lists the chart it listed then.
    /// </summary>
    public static void RecordVersion(WriteSession session, string bookId, long accountId, bool deleted = false) =>
        session.Connection.Execute(InsertVersionSql, new
        {
            id = session.NextId("account_versions"),
            bookId,
            accountId,
            recordedAt = Timestamps.Format(session.Now),
            deleted = deleted ? 1 : 0,
        });

    private const string InsertVersionSql = """
        INSERT INTO account_versions (id, account_id, book_id, recorded_at, code, name, type, parent_code, deleted)
        SELECT @id, id, book_id, @recordedAt, code, name, type, parent_code, @deleted FROM accounts WHERE book_id = @bookId AND id = @accountId
        """;

    private const string InsertAccountSql = """
        INSERT INTO accounts (id, book_id, code, name, type, parent_code, description, archived, debit_total, credit_total, created_at)
        VALUES (@id, @bookId, @code, @name, @type, @parentCode, @description, 0, 0, 0, @createdAt)
        """;
}
