using Dapper;
using FluentValidation;
using Ledger.Api.Features.Accounts;
using Ledger.Api.Infrastructure;
using Ledger.Domain;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Ledger.Api.Features.Books;

public sealed record CreateBookRequest(string? Name, string? Currency, string? Chart);

public sealed record BookResponse(
    string Id,
    string Name,
    string Currency,
    int CurrencyDigits,
    int FiscalYearStartMonth,
    string? RetainedEarningsAccount,
    string? LockDate,
    string CreatedAt);

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

public static class BooksEndpoints
{
    public static void MapBooks(this IEndpointRouteBuilder app)
    {
        var books = app.MapGroup("/v1/books").RequireApiKey().WithTags("Books");
        books.MapPost("/", CreateBook).RequireAdmin();
        books.MapGet("/", ListBooks);
        books.MapGet("/{bookId}", GetBook);
    }

    public static async Task<Results<Created<BookResponse>, ValidationProblem>> CreateBook(
        CreateBookRequest request, IValidator<CreateBookRequest> validator, LedgerWriter writer)
    {
        var validation = await validator.ValidateAsync(request);
        if (!validation.IsValid) return Problems.Validation(validation.ToFieldErrors());

        var book = await writer.WriteAsync(session =>
        {
            var id = Guid.CreateVersion7().ToString();
            var createdAt = Timestamps.Format(session.Now);
            session.Connection.Execute(InsertBookSql, new { id, name = request.Name, currency = request.Currency, createdAt });
            if (request.Chart == StandardChart.Name)
            {
                foreach (var account in StandardChart.Accounts)
                    AccountWrites.Insert(session, id, account.Code, account.Name, account.Type, parentCode: null, account.Description);
                session.Connection.Execute(SetRetainedEarningsSql, new { id, code = StandardChart.RetainedEarningsCode });
            }
            return session.Connection.QuerySingle<BookRow>(SelectBookSql + " WHERE id = @id", new { id });
        });
        var response = book.ToResponse();
        return TypedResults.Created($"/v1/books/{response.Id}", response);
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

    public static async Task<BookResponse?> FindAsync(LedgerDatabase database, string bookId)
    {
        await using var connection = await database.OpenReadAsync();
        var row = await connection.QuerySingleOrDefaultAsync<BookRow>(SelectBookSql + " WHERE id = @bookId", new { bookId });
        return row?.ToResponse();
    }

    internal const string SelectBookSql = """
        SELECT id AS Id, name AS Name, currency AS Currency, fiscal_year_start_month AS FiscalYearStartMonth,
               retained_earnings_account AS RetainedEarningsAccount, lock_date AS LockDate, created_at AS CreatedAt
        FROM books
        """;

    private const string InsertBookSql = """
        INSERT INTO books (id, name, currency, fiscal_year_start_month, next_entry_number, total_debit, created_at)
        VALUES (@id, @name, @currency, 1, 1, 0, @createdAt)
        """;

    private const string SetRetainedEarningsSql = "UPDATE books SET retained_earnings_account = @code WHERE id = @id";

    internal sealed record BookRow(string Id, string Name, string Currency, long FiscalYearStartMonth,
        string? RetainedEarningsAccount, string? LockDate, string CreatedAt)
    {
        public BookResponse ToResponse() => new(Id, Name, Currency, Domain.Currency.FromCode(Currency).MinorDigits,
            (int)FiscalYearStartMonth, RetainedEarningsAccount, LockDate, CreatedAt);
    }
}
