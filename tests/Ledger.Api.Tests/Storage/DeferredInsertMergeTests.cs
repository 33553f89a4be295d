using Ledger.Api.Infrastructure;

namespace Ledger.Api.Tests.Storage;

/// <summary>
/// PostgreSQL sends a group's deferred inserts as few statements as the foreign keys allow: rows join an earlier insert
/// into their table unless an insert between them is into a table they reference (which must stay before them).
/// </summary>
public sealed class DeferredInsertMergeTests
{
    // As the PostgreSQL catalog has them (postings, entries and events reference no other table there: migration 0015).
    private static readonly Dictionary<string, HashSet<string>> References = new()
    {
        ["open_items"] = ["journal_entries", "parties"],
        ["allocations"] = ["open_items"],
    };

    private static WriteSession.PendingRows Insert(string table, params long[] ids) =>
        new(table, ["id"], ids.Select(id => new object?[] { id }).ToArray());

    private static string Shape(IEnumerable<WriteSession.Deferred> statements) =>
        string.Join(" ", statements.Select(s => s is WriteSession.PendingRows rows
            ? $"{rows.Table}({string.Join(",", rows.Rows.Select(r => r[0]))})"
            : "statement"));

    [Fact]
    public void A_groups_single_posts_become_one_insert_per_table_each_row_after_what_it_references()
    {
        var pending = new WriteSession.Deferred[]
        {
            Insert("journal_entries", 1), Insert("open_items", 10, 11), Insert("events", 100), Insert("idempotency_keys", 1000),
            Insert("journal_entries", 2), Insert("open_items", 20, 21), Insert("events", 200), Insert("idempotency_keys", 2000),
        };
        Assert.Equal("journal_entries(1,2) open_items(10,11,20,21) events(100,200) idempotency_keys(1000,2000)",
            Shape(PostgresLedgerDatabase.MergeInserts(pending, References)));
    }

    [Fact]
    public void Rows_never_move_before_an_insert_into_a_table_they_reference()
    {
        // The second request creates a customer and posts to it: its open items stay after that customer's insert.
        var pending = new WriteSession.Deferred[]
        {
            Insert("journal_entries", 1), Insert("open_items", 10), Insert("parties", 7), Insert("journal_entries", 2), Insert("open_items", 20),
        };
        Assert.Equal("journal_entries(1,2) open_items(10) parties(7) open_items(20)", Shape(PostgresLedgerDatabase.MergeInserts(pending, References)));
    }

    [Fact]
    public void Inserts_of_other_columns_stay_apart_and_the_rows_keep_their_order()
    {
        var pending = new WriteSession.Deferred[]
        {
            Insert("events", 1), new WriteSession.PendingRows("events", ["id", "hash"], [[2L, "h"]]), Insert("events", 3),
        };
        Assert.Equal("events(1) events(2) events(3)", Shape(PostgresLedgerDatabase.MergeInserts(pending, References)));
        Assert.Equal("a(1,2,3) b(4)", Shape(PostgresLedgerDatabase.MergeInserts(new WriteSession.Deferred[] { Insert("a", 1, 2), Insert("b", 4), Insert("a", 3) }, References)));
    }

    [Fact]
    public void Nothing_moves_past_a_statement_the_group_sends_with_its_commit()
    {
        var pending = new WriteSession.Deferred[]
        {
            Insert("events", 1), new WriteSession.PendingStatement("UPDATE books SET x = @x", ["@x"], [[1L]], null), Insert("events", 2),
        };
        Assert.Equal("events(1) statement events(2)", Shape(PostgresLedgerDatabase.MergeInserts(pending, References)));
    }
}
