using Ledger.Api.Features.Audit;
using Dapper;
using FluentValidation;
using Ledger.Api.Features.Accounts;
using Ledger.Api.Infrastructure;
using Ledger.Api.Infrastructure.Security;
using Ledger.Domain;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Ledger.Api.Features.Books;

public sealed record CreateBookRequest(string? Name, string? Currency, string? Chart);

/// <summary>Book settings; each left out stays as it is.</summary>
public sealed record UpdateBookRequest(string? Name, int? FiscalYearStartMonth, string? RetainedEarningsAccount,
    string? ReceivablesAccount = null, string? PayablesAccount = null, int? PaymentTermsDays = null);

public sealed record BookResponse(
    string Id,
    string Name,
    string Currency,
    int CurrencyDigits,
    int FiscalYearStartMonth,
    string? RetainedEarningsAccount,
    string? LockDate,
    string CreatedAt,
    string? ReceivablesAccount,
    string? PayablesAccount,
    int PaymentTermsDays);

public sealed class CreateBookRequestValidator : AbstractValidator<CreateBookRequest>
{
    public CreateBookRequestValidator()
    {
        RuleFor(x => x.Name).NotEmpty().MaximumLength(200);
        RuleFor(x => x.Currency).NotEmpty()
            .Must(code => Domain.Currency.TryFromCode(code, out _))
            .WithMessage("must be an ISO 4217 currency code in capitals, such as EUR, USD or JPY.");
        RuleFor(x => x.Chart).Must(chart => chart is null or StandardChart.Name)
            .WithMessage($"must be '{StandardChart.Name}' or left out.");
    }
}

public sealed class UpdateBookRequestValidator : AbstractValidator<UpdateBookRequest>
{
    public UpdateBookRequestValidator()
    {
        RuleFor(x => x.Name).NotEmpty().MaximumLength(200).When(x => x.Name is not null);
        RuleFor(x => x.FiscalYearStartMonth).InclusiveBetween(1, 12).WithMessage("must be a month number from 1 to 12.");
        RuleFor(x => x.RetainedEarningsAccount).NotEmpty().MaximumLength(32).When(x => x.RetainedEarningsAccount is not null);
        RuleFor(x => x.ReceivablesAccount).NotEmpty().MaximumLength(32).When(x => x.ReceivablesAccount is not null);
        RuleFor(x => x.PayablesAccount).NotEmpty().MaximumLength(32).When(x => x.PayablesAccount is not null);
        RuleFor(x => x.PaymentTermsDays).InclusiveBetween(0, 3650).WithMessage("must be a number of days from 0 to 3650.");
        RuleFor(x => x).Must(x => x.Name is not null || x.FiscalYearStartMonth is not null || x.RetainedEarningsAccount is not null
                                  || x.ReceivablesAccount is not null || x.PayablesAccount is not null || x.PaymentTermsDays is not null)
            .OverridePropertyName("body")
            .WithMessage("Give at least one of name, fiscalYearStartMonth, retainedEarningsAccount, receivablesAccount, payablesAccount, paymentTermsDays.");
    }
}

public static class BooksEndpoints
{
    public static void MapBooks(this IEndpointRouteBuilder app)
    {
        var books = app.MapGroup("/v1/books").RequireBookAccess().ValidateRequests().WithTags("Books");
        books.MapPost("/", CreateBook).RequireAuthorization(LedgerPolicies.Admin).WithName("createBook").WithSummary("Create a book")
            .WithDescription("Creates a set of books in one currency (ISO 4217; amounts carry its minor units). With " +
                             "\"chart\": \"standard\" it starts with the standard chart of accounts and its retained-earnings " +
                             "account. With an Idempotency-Key a retry answers the first book again (the same key with " +
                             "another request: 422). Admin keys only.")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        books.MapGet("/", ListBooks).WithName("listBooks").WithSummary("List the books this key can see")
            .WithDescription("Every book for an admin key; the key's own book for a book key.");
        books.MapGet("/{bookId}", GetBook).WithName("getBook").WithSummary("Get a book")
            .WithDescription("The book's currency, fiscal-year start month, retained-earnings account and lock date.");
        books.MapPatch("/{bookId}", UpdateBook).WithName("updateBook").WithSummary("Change book settings")
            .WithDescription("Renames the book, sets its retained-earnings account (an open equity account) or its " +
                             "fiscal-year start month (fixed once a year has been closed: 409). Fields left out stay as they are.")
            .ProducesProblem(StatusCodes.Status409Conflict);
    }

    public static async Task<Results<Created<BookResponse>, StoredResponse>> CreateBook(CreateBookRequest request,
        [FromHeader(Name = Idempotency.HeaderName)] string? idempotencyKey, HttpContext http, LedgerWriter writer,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
    {
        // The new book's id names the group, so its first commit is stamped like every later one of the book. With an
        // Idempotency-Key the id comes from the caller's key and the Idempotency-Key: a retry names the same book, and
        // its stored answer, kept with that book as every key's is, is found under the same book's lock (in any process).
        var id = idempotencyKey is null ? Guid.CreateVersion7().ToString() : BookIdFor(http.Caller().KeyId, idempotencyKey);
        return await writer.CreateIdempotentAsync(id, idempotencyKey, "create-book", request, json.Value.SerializerOptions, session =>
        {
            // Only after the key's answer has been purged (kept 30 days): the book it made is still there.
            if (session.Connection.ExecuteScalar<long>("SELECT COUNT(*) FROM books WHERE id = @id", new { id }) != 0)
                throw new ConflictException(
                    $"The Idempotency-Key '{idempotencyKey}' created book {id} more than {Idempotency.Retention.Days} days ago, " +
                    "and its answer is no longer kept; send a new key to create another book.");
            var createdAt = Timestamps.Format(session.Now);
            session.Connection.Execute(InsertBookSql, new { id, name = request.Name, currency = request.Currency, createdAt });
            EventLog.Append(session, id, "book.created", "book", id, EventData.Of(("id", id), ("name", request.Name), ("currency", request.Currency),
                ("chart", request.Chart)));
            if (request.Chart == StandardChart.Name)
            {
                foreach (var account in StandardChart.Accounts)
                    AccountWrites.Insert(session, id, account.Code, account.Name, account.Type, parentCode: null, account.Description);
                session.Connection.Execute(SetRetainedEarningsSql, new
                {
                    id,
                    code = StandardChart.RetainedEarningsCode,
                    receivables = StandardChart.ReceivablesCode,
                    payables = StandardChart.PayablesCode,
                });
            }
            return session.Connection.QuerySingle<BookRow>(SelectBookSql + " WHERE id = @id", new { id }).ToResponse();
        }, created => $"/v1/books/{created.Id}");
    }

    /// <summary>
    /// The id of the book that <paramref name="idempotencyKey"/> creates for the API key <paramref name="callerKeyId"/>: a
    /// UUID (version 8, RFC 9562) from SHA-256 of both, so another admin key's same Idempotency-Key makes another book.
    /// </summary>
    public static string BookIdFor(string callerKeyId, string idempotencyKey)
    {
        Span<byte> hash = stackalloc byte[32];
        System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"ledger-book\n{callerKeyId}\n{idempotencyKey}"), hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80); // version 8: custom
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80); // the RFC's variant
        return new Guid(hash[..16], bigEndian: true).ToString();
    }

    public static async Task<Ok<BookResponse[]>> ListBooks(HttpContext http, LedgerDatabase database)
    {
        var caller = http.Caller();
        await using var connection = await database.OpenReadAsync();
        var rows = caller.IsAdmin
            ? await connection.QueryAsync<BookRow>(SelectBookSql + " ORDER BY created_at, id")
            : await connection.QueryAsync<BookRow>(SelectBookSql + " WHERE id = @bookId", new { bookId = caller.BookId });
        return TypedResults.Ok(rows.Select(r => r.ToResponse()).ToArray());
    }

    public static async Task<Results<Ok<BookResponse>, ProblemHttpResult>> GetBook(string bookId, LedgerDatabase database)
    {
        var book = await FindAsync(database, bookId);
        return book is null ? Problems.NotFound($"No book '{bookId}'.") : TypedResults.Ok(book);
    }

    /// <summary>
    /// Changes book settings. The retained-earnings account must be an open equity account of the book. The fiscal
    /// year's start month is fixed once a year has been closed: the closed years and the lock date were drawn on it.
    /// </summary>
    public static async Task<Ok<BookResponse>> UpdateBook(string bookId, UpdateBookRequest request, LedgerWriter writer)
    {
        // Refusals are thrown as problems (rolling the write back) and answered by the exception handler.
        var book = await writer.WriteBookAsync(bookId, session =>
        {
            var current = session.Connection.QuerySingle<BookRow>(SelectBookSql + " WHERE id = @bookId", new { bookId });
            if (request.RetainedEarningsAccount is { } code)
            {
                var account = session.Connection.QuerySingleOrDefault<AccountRow>(
                    AccountQueries.SelectAccountSql + " WHERE book_id = @bookId AND code = @code", new { bookId, code });
                if (account is null)
                    throw new ValidationFailedException("retainedEarningsAccount", $"No account '{code}' in this book.");
                if (account.AccountType != AccountType.Equity)
                    throw new ValidationFailedException("retainedEarningsAccount", $"must be an equity account; '{code}' is {account.Type}.");
                if (account.Archived != 0)
                    throw new ValidationFailedException("retainedEarningsAccount", $"Account '{code}' is archived.");
            }
            CheckControlAccount(session, bookId, "receivablesAccount", current.ReceivablesAccount, request.ReceivablesAccount, AccountType.Asset,
                other: request.PayablesAccount ?? current.PayablesAccount);
            CheckControlAccount(session, bookId, "payablesAccount", current.PayablesAccount, request.PayablesAccount, AccountType.Liability,
                other: request.ReceivablesAccount ?? current.ReceivablesAccount);
            if (request.FiscalYearStartMonth is { } month && month != current.FiscalYearStartMonth &&
                session.Connection.ExecuteScalar<long>(CountClosesSql, new { bookId }) > 0)
                throw new ConflictException(
                    "Fiscal years of this book have been closed; their start month can no longer change.");
            if (request.FiscalYearStartMonth is { } newMonth && newMonth != current.FiscalYearStartMonth)
                session.Connection.Execute(InsertFiscalYearStartChangeSql, new
                {
                    id = session.NextId("fiscal_year_start_changes"),
                    bookId,
                    recordedAt = Timestamps.Format(session.Now),
                    from = current.FiscalYearStartMonth,
                    to = newMonth,
                });
            session.Connection.Execute(UpdateBookSql, new
            {
                bookId,
                name = request.Name,
                month = request.FiscalYearStartMonth,
                code = request.RetainedEarningsAccount,
                receivables = request.ReceivablesAccount,
                payables = request.PayablesAccount,
                terms = request.PaymentTermsDays,
            });
            var changed = session.Connection.QuerySingle<BookRow>(SelectBookSql + " WHERE id = @bookId", new { bookId });
            // A change that changes nothing (the same settings sent again) is no event: the log says what changed.
            if (changed != current) EventLog.AppendPayload(session, bookId, "book.changed", "book", bookId, changed.ToResponse());
            return changed;
        });
        return TypedResults.Ok(book.ToResponse());
    }

    public static async Task<BookResponse?> FindAsync(LedgerDatabase database, string bookId)
    {
        await using var connection = await database.OpenReadAsync();
        var row = await connection.QuerySingleOrDefaultAsync<BookRow>(SelectBookSql + " WHERE id = @bookId", new { bookId });
        return row?.ToResponse();
    }

    internal const string SelectBookSql = """
        SELECT id AS Id, name AS Name, currency AS Currency, fiscal_year_start_month AS FiscalYearStartMonth,
               retained_earnings_account AS RetainedEarningsAccount, lock_date AS LockDate, created_at AS CreatedAt,
               receivables_account AS ReceivablesAccount, payables_account AS PayablesAccount, payment_terms_days AS PaymentTermsDays
        FROM books
        """;

    private const string InsertBookSql = """
        INSERT INTO books (id, name, currency, fiscal_year_start_month, next_entry_number, total_debit, created_at)
        VALUES (@id, @name, @currency, 1, 1, 0, @createdAt)
        """;

    private const string UpdateBookSql = """
        UPDATE books
        SET name = COALESCE(@name, name),
            fiscal_year_start_month = COALESCE(@month, fiscal_year_start_month),
            retained_earnings_account = COALESCE(@code, retained_earnings_account),
            receivables_account = COALESCE(@receivables, receivables_account),
            payables_account = COALESCE(@payables, payables_account),
            payment_terms_days = COALESCE(@terms, payment_terms_days)
        WHERE id = @bookId
        """;

    private const string InsertFiscalYearStartChangeSql = """
        INSERT INTO fiscal_year_start_changes (id, book_id, recorded_at, from_month, to_month)
        VALUES (@id, @bookId, @recordedAt, @from, @to)
        """;

    private const string CountClosesSql = "SELECT COUNT(*) FROM year_end_closes WHERE book_id = @bookId";

    private const string SetRetainedEarningsSql =
        "UPDATE books SET retained_earnings_account = @code, receivables_account = @receivables, payables_account = @payables WHERE id = @id";

    internal sealed record BookRow(string Id, string Name, string Currency, long FiscalYearStartMonth,
        string? RetainedEarningsAccount, string? LockDate, string CreatedAt, string? ReceivablesAccount, string? PayablesAccount,
        long PaymentTermsDays)
    {
        public BookResponse ToResponse() => new(Id, Name, Currency, Domain.Currency.FromCode(Currency).MinorDigits,
            (int)FiscalYearStartMonth, RetainedEarningsAccount, LockDate, CreatedAt, ReceivablesAccount, PayablesAccount,
            (int)PaymentTermsDays);
    }

    /// <summary>
    /// A control account is an open account of the right type, not the other control account, and changes only while
    /// neither it nor the account it replaces carries postings: every line on a control account is an open item of a
    /// customer or vendor, and the subledger must keep equalling it.
    /// </summary>
    private static void CheckControlAccount(WriteSession session, string bookId, string field, string? current, string? requested,
        AccountType type, string? other)
    {
        if (requested is null || requested == current) return;
        var account = session.Connection.QuerySingleOrDefault<AccountRow>(
            AccountQueries.SelectAccountSql + " WHERE book_id = @bookId AND code = @code", new { bookId, code = requested })
            ?? throw new ValidationFailedException(field, $"No account '{requested}' in this book.");
        if (account.AccountType != type)
            throw new ValidationFailedException(field, $"must be {Article.A(type.ToName())} account; '{requested}' is {Article.A(account.Type)} account.");
        if (account.Archived != 0) throw new ValidationFailedException(field, $"Account '{requested}' is archived.");
        if (requested == other) throw new ValidationFailedException(field, "must differ from the other control account.");
        foreach (var code in new[] { current, requested })
            if (code is not null && session.Connection.ExecuteScalar<long>(CountPostingsSql, new { bookId, code }) > 0)
                throw new ConflictException($"Account '{code}' carries postings: the {field[..^"Account".Length]} control account can change only while neither the old nor the new one has any.");
    }

    private const string CountPostingsSql = """
        SELECT COUNT(*) FROM accounts a JOIN postings p ON p.account_id = a.id AND p.book_id = a.book_id
        WHERE a.book_id = @bookId AND a.code = @code
        """;
}
