using System.Collections.Concurrent;
using Dapper;
using Ledger.Api.Infrastructure;
using Ledger.Domain;

namespace Ledger.Api.Features.Books;

/// <summary>A book's identity and currency. Both are fixed once the book exists, so they are cached.</summary>
public sealed record BookIdentity(string Id, Currency Currency)
{
    public int Digits => Currency.MinorDigits;
}

public sealed class BookCatalog(LedgerDatabase database)
{
    private readonly ConcurrentDictionary<string, BookIdentity> _books = new(StringComparer.Ordinal);

    public async ValueTask<BookIdentity?> FindAsync(string bookId)
    {
        if (_books.TryGetValue(bookId, out var book)) return book;
        await using var connection = await database.OpenReadAsync();
        var currency = await connection.QuerySingleOrDefaultAsync<string>("SELECT currency FROM books WHERE id = @bookId", new { bookId });
        if (currency is null) return null;
        book = new BookIdentity(bookId, Currency.FromCode(currency));
        _books[bookId] = book;
        return book;
    }

    /// <summary>Each book's chart as reports last read it (see <see cref="Accounts.ReportCharts"/>).</summary>
    public Accounts.ReportCharts Charts { get; } = new();

    /// <summary>The book of a request that already passed the book-scope filter.</summary>
    public async ValueTask<BookIdentity> GetAsync(string bookId) =>
        await FindAsync(bookId) ?? throw new ProblemException(StatusCodes.Status404NotFound, "Not found", $"No book '{bookId}'.");
}
