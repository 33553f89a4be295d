using Dapper;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Durability;

/// <summary>
/// Every table that belongs to a book carries its book_id, filled in on every row, so a book can be the distribution
/// column of a sharded PostgreSQL (Citus) and each book's rows live together.
/// </summary>
public sealed class BookScopeTests : AppTest
{
    // Tables that belong to no single book: the books themselves, applied migrations, and on SQLite the writer's commit
    // log (one row per group commit across books; PostgreSQL's commits carry book_id since its groups write one book).
    // api_keys holds admin keys too, whose book_id is null.
    private static readonly string[] NotPerBook = TestDatabase.IsPostgres
        ? ["books", "schema_migrations", "api_keys"]
        : ["books", "schema_migrations", "api_keys", "commits"];

    [Fact]
    public async Task Every_table_of_a_book_has_a_non_null_book_id_that_matches_the_rows_it_belongs_to()
    {
        var first = await StandardBookAsync();
        var second = await StandardBookAsync("KWD");
        await App.PostEntryOkAsync(first, "2026-01-05", "capital", ("1010", "100.00", null), ("3000", null, "100.00"));
        await App.PostEntryOkAsync(first, "2026-02-05", "rent", ("6000", "40.00", null), ("1010", null, "40.00"));
        await App.PostEntryOkAsync(second, "2026-01-05", "capital", ("1010", "1.234", null), ("3000", null, "1.234"));

        await using var connection = await TestDatabase.OpenAsync(App.DatabasePath);
        var tables = (await connection.QueryAsync<string>(TestDatabase.IsPostgres
                ? "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
                : "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"))
            .Except(NotPerBook).OrderBy(t => t, StringComparer.Ordinal).ToList();
        Assert.Contains("postings", tables);
        Assert.Contains("account_period_totals", tables);
        foreach (var table in tables)
        {
            var notNull = await connection.QuerySingleOrDefaultAsync<long?>(TestDatabase.IsPostgres
                ? "SELECT CASE is_nullable WHEN 'NO' THEN 1 ELSE 0 END FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = @table AND column_name = 'book_id'"
                : "SELECT \"notnull\" FROM pragma_table_info(@table) WHERE name = 'book_id'", new { table });
            Assert.True(notNull == 1, $"Table '{table}' has no NOT NULL book_id column.");
        }

        // The new columns hold the book of the entry or account each row belongs to, for every row of both books.
        Assert.Equal(6, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM postings"));
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM postings p JOIN journal_entries e ON e.id = p.entry_id WHERE p.book_id <> e.book_id"));
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM postings p JOIN accounts a ON a.id = p.account_id WHERE p.book_id <> a.book_id"));
        Assert.Equal(6, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM account_period_totals"));
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM account_period_totals t JOIN accounts a ON a.id = t.account_id WHERE t.book_id <> a.book_id"));
        Assert.Equal(2, await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(DISTINCT book_id) FROM postings"));
    }
}
