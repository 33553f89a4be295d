using System.Net;
using Dapper;
using Ledger.Api.Features.Accounts;
using Ledger.Api.Features.Books;
using Ledger.Api.Features.Journal;
using Ledger.Api.Infrastructure;
using Ledger.Api.Tests.Reports;
using Ledger.Api.Tests.Support;
using Ledger.Domain;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Ledger.Api.Tests.Journal;

/// <summary>
/// What one group of the writer may and may not carry from one request to the next (found by review of the
/// PostgreSQL writer): a chart read early in a group, a refusal that depended on a neighbour, text PostgreSQL refuses.
/// </summary>
public sealed class WriterGroupTests(SharedApp shared) : SharedAppTest(shared)
{
    private static BalancedEntry Entry(string debitAccount, string description = "review") =>
        BalancedEntry.Create(new LocalDate(2026, 4, 1), description, null,
            [new Posting(debitAccount, Side.Debit, new Amount(100)), new Posting("4000", Side.Credit, new Amount(100))]);

    [Fact]
    public async Task An_account_archived_after_a_refused_post_read_the_chart_takes_no_posting_later_in_the_group()
    {
        var book = await App.CreateBookAsync();
        await App.CreateAccountAsync(book, "X", "asset");
        var writer = App.Services.GetRequiredService<LedgerWriter>();
        var identity = await App.Services.GetRequiredService<BookCatalog>().GetAsync(book);

        var (blocker, release) = await writer.HoldAsync();
        var refused = writer.WriteBookAsync(book, s => JournalPoster.Post(s, identity, [Entry("NO-SUCH")]), defersGroupState: true);
        var archive = writer.WriteBookAsync(book, s =>
            s.Connection.Execute("UPDATE accounts SET archived = 1 WHERE book_id = @book AND code = 'X'", new { book }));
        var post = writer.WriteBookAsync(book, s => JournalPoster.Post(s, identity, [Entry("X")]), defersGroupState: true);
        var fillers = Enumerable.Range(0, 8).Select(_ => writer.WriteBookAsync(book, _ => true)).ToArray();
        release.Set();
        await blocker;

        await Assert.ThrowsAsync<PostingRefusedException>(() => refused);
        Assert.Equal(1, await archive);
        await Task.WhenAll(fillers);
        var refusal = await Assert.ThrowsAsync<PostingRefusedException>(() => post);
        Assert.Equal(PostingRefusalKind.ArchivedAccount, refusal.Refusals.Single().Kind);
    }

    /// <summary>
    /// On PostgreSQL a group reads the accounts its requests hint, and its book's row, as it begins (SQLite reads them as
    /// the requests run). What a request that does not defer changes in the group (an account added, archived, reopened)
    /// must then be seen by the posts after it, though the group read those accounts before it ran.
    /// </summary>
    [Fact]
    public async Task Accounts_a_group_read_as_it_began_are_read_again_after_a_request_in_it_changes_the_chart()
    {
        var book = await App.CreateBookAsync();
        await App.CreateAccountAsync(book, "X", "asset");
        await App.CreateAccountAsync(book, "Y", "asset");
        var writer = App.Services.GetRequiredService<LedgerWriter>();
        await writer.WriteBookAsync(book, s => s.Connection.Execute("UPDATE accounts SET archived = 1 WHERE book_id = @book AND code = 'Y'", new { book }));
        var identity = await App.Services.GetRequiredService<BookCatalog>().GetAsync(book);
        var hints = new WriteHints(AccountCodes: ["X", "Y", "NEW", "4000"]);
        Task<JournalEntryResponse> Post(string code) =>
            writer.WriteBookAsync(book, s => JournalPoster.Post(s, identity, [Entry(code, code)])[0], defersGroupState: true, hints: hints);

        // A group refusing what it read as it began: Y archived, NEW not in the book.
        var (blocker, release) = await writer.HoldAsync();
        var archivedY = Post("Y");
        var unknownNew = Post("NEW");
        release.Set();
        await blocker;
        Assert.Equal(PostingRefusalKind.ArchivedAccount, (await Assert.ThrowsAsync<PostingRefusedException>(() => archivedY)).Refusals.Single().Kind);
        Assert.Equal(PostingRefusalKind.UnknownAccount, (await Assert.ThrowsAsync<PostingRefusedException>(() => unknownNew)).Refusals.Single().Kind);

        // A group whose chart changes after a post used what it read as it began (no refusal in between, which would
        // drop every read): NEW added, X archived, Y reopened.
        (blocker, release) = await writer.HoldAsync();
        var first = Post("X");
        var changes = writer.WriteBookAsync(book, s =>
        {
            AccountWrites.Insert(s, book, "NEW", "Added in the group", AccountType.Asset, null, null);
            s.Connection.Execute("UPDATE accounts SET archived = 1 WHERE book_id = @book AND code = 'X'", new { book });
            s.Connection.Execute("UPDATE accounts SET archived = 0 WHERE book_id = @book AND code = 'Y'", new { book });
            return true;
        });
        var addedNew = Post("NEW");
        var reopenedY = Post("Y");
        // A hint that is wrong costs a read, never a wrong answer: this post names an account its hint does not.
        var unhinted = writer.WriteBookAsync(book, s => JournalPoster.Post(s, identity, [Entry("1010", "unhinted")])[0],
            defersGroupState: true, hints: new WriteHints(AccountCodes: ["X"]));
        var archivedX = Post("X");
        var fillers = Enumerable.Range(0, 8).Select(_ => writer.WriteBookAsync(book, _ => true)).ToArray();
        release.Set();
        await blocker;
        await Task.WhenAll(fillers);

        Assert.Equal(1, (await first).Number);
        Assert.True(await changes);
        Assert.Equal(2, (await addedNew).Number);
        Assert.Equal(3, (await reopenedY).Number);
        Assert.Equal(4, (await unhinted).Number);
        Assert.Equal(PostingRefusalKind.ArchivedAccount, (await Assert.ThrowsAsync<PostingRefusedException>(() => archivedX)).Refusals.Single().Kind);

        // The totals the group kept in memory were the ones read after each change: every account's equals its postings.
        await using var connection = await TestDatabase.OpenAsync(App.DatabasePath);
        var mismatched = await connection.QueryAsync<string>("""
            SELECT a.code FROM accounts a
            WHERE a.book_id = @book AND a.debit_total - a.credit_total <>
                  COALESCE((SELECT SUM(p.amount) FROM postings p WHERE p.book_id = a.book_id AND p.account_id = a.id), 0)
            """, new { book });
        Assert.Empty(mismatched);
        Assert.Equal((5L, 400L), await connection.QuerySingleAsync<(long, long)>(
            "SELECT next_entry_number, total_debit FROM books WHERE id = @book", new { book }));
    }

    [Fact]
    public async Task A_request_that_rolls_back_after_reading_its_own_totals_leaves_no_stale_book_for_the_rest_of_the_group()
    {
        var book = await App.CreateBookAsync();
        var writer = App.Services.GetRequiredService<LedgerWriter>();
        var identity = await App.Services.GetRequiredService<BookCatalog>().GetAsync(book);

        var (blocker, release) = await writer.HoldAsync();
        // Work that does not defer writes its totals out as it posts; reading the book after that reads its own write,
        // which its rollback then undoes.
        var rolledBack = writer.WriteBookAsync<bool>(book, s =>
        {
            JournalPoster.Post(s, identity, [Entry("1010", "rolled back")]);
            _ = JournalPoster.BookOf(s, book);
            throw new InvalidOperationException("refused after posting");
        });
        var kept = writer.WriteBookAsync(book, s => JournalPoster.Post(s, identity, [Entry("1010", "kept")])[0], defersGroupState: true);
        release.Set();
        await blocker;

        await Assert.ThrowsAnyAsync<Exception>(() => rolledBack);
        Assert.Equal(1, (await kept).Number);
        await using var connection = await TestDatabase.OpenAsync(App.DatabasePath);
        Assert.Equal((2L, 100L), await connection.QuerySingleAsync<(long, long)>(
            "SELECT next_entry_number, total_debit FROM books WHERE id = @book", new { book }));
    }

    [Fact]
    public async Task A_NUL_character_in_any_text_is_400_on_its_field_on_both_engines()
    {
        var book = await App.CreateBookAsync();
        var response = await Admin.PostEntryAsync(book, "2026-04-01", "a\u0000b", ("1010", "1.00", null), ("4000", null, "1.00"));
        await response.AssertValidationErrorAsync("description");
        var line = await Admin.PostEntryAsync(book, "2026-04-01", "ok", ("10\u000010", "1.00", null), ("4000", null, "1.00"));
        await line.AssertValidationErrorAsync("lines[0].account");
        Assert.Empty(await App.AllEntriesAsync(book));
        // Outside a body (paths refuse NUL before routing): a query value is never a server error either.
        Assert.NotEqual(HttpStatusCode.InternalServerError, (await Admin.GetAsync($"/v1/books/{book}/journal-entries?reference=a%00b")).StatusCode);
    }

#if POSTGRES
    [Fact]
    public async Task A_writer_connection_the_server_dropped_while_idle_is_replaced_without_failing_the_next_post()
    {
        var book = await App.CreateBookAsync();
        await App.PostEntryOkAsync(book, "2026-04-01", "before", ("1010", "1.00", null), ("4000", null, "1.00"));
        // As a server restart, a failover or an idle timeout would: end the writer's session on the server.
        await using (var admin = await TestDatabase.OpenAsync(App.DatabasePath))
            Assert.Equal(1, await admin.ExecuteScalarAsync<long>(
                "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'ledger-writer' AND datname = current_database()) t"));
        await App.PostEntryOkAsync(book, "2026-04-02", "after", ("1010", "2.00", null), ("4000", null, "2.00"));
        Assert.Equal(2, (await App.AllEntriesAsync(book)).Count);
    }

    [Fact]
    public async Task A_key_refused_because_a_neighbour_stored_it_is_judged_again_when_the_neighbours_rows_are_refused_at_commit()
    {
        var book = await App.CreateBookAsync();
        var otherBook = await App.CreateBookAsync();
        var writer = App.Services.GetRequiredService<LedgerWriter>();
        var identity = await App.Services.GetRequiredService<BookCatalog>().GetAsync(book);
        var otherIdentity = await App.Services.GetRequiredService<BookCatalog>().GetAsync(otherBook);

        // The first request's rows reach the server only with the commit, which refuses them (PostgreSQL's text holds
        // no NUL; the API refuses it earlier, this goes round that). The second was told its key K was taken by the first.
        var (blocker, release) = await writer.HoldAsync();
        var first = writer.WriteIdempotentAsync(book, "K", () => "fingerprint-1",
            s => JournalPoster.Post(s, identity, [Entry("1010", "bad\u0000text")])[0], _ => new StoredResponse(201, null, "{}"), defersGroupState: true);
        var second = writer.WriteIdempotentAsync(book, "K", () => "fingerprint-2",
            s => JournalPoster.Post(s, identity, [Entry("1010")])[0], _ => new StoredResponse(201, null, "{}"), defersGroupState: true);
        // Another book's group, which PostgreSQL begins in the round trip of the commit refused above: it must not begin
        // there (the refusal leaves the transaction aborted), and begins on its own after the careful run.
        var other = writer.WriteBookAsync(otherBook, s => JournalPoster.Post(s, otherIdentity, [Entry("1010", "other")])[0], defersGroupState: true);
        release.Set();
        await blocker;

        await Assert.ThrowsAnyAsync<Exception>(() => first); // never committed: K was not stored
        Assert.NotNull((await second).Fresh);                // so K is free: this posts, not 422
        Assert.Single(await App.AllEntriesAsync(book));
        Assert.Equal(1, (await other).Number);
        Assert.Single(await App.AllEntriesAsync(otherBook));
    }

    [Fact]
    public async Task A_batch_whose_background_copy_the_server_refuses_fails_alone_and_the_writer_goes_on()
    {
        var book = await App.CreateBookAsync();
        var writer = App.Services.GetRequiredService<LedgerWriter>();
        var identity = await App.Services.GetRequiredService<BookCatalog>().GetAsync(book);

        // A batch's rows are copied a chunk (256, 768, then 2,048 entries) at a time while the writer builds the next, at
        // most six copies ahead. A row the server refuses (NUL in text, as above) fails its copy in the background: in the
        // first chunk, found when the writer must wait for room to start a later copy; in a middle one, when the request
        // ends with its copies still under way; in the last, while the writer waits for it. Either way the batch fails
        // whole, with the server's own refusal, and its neighbour in the group posts. A batch whose last rows are too few to
        // copy (3,077 = 256 + 768 + 2,048 + 5: they wait to be sent with the request's next statement) fails the same way:
        // those rows are dropped with the request, not sent into the transaction the failed copy aborted. A batch that is
        // the group's last request has its copies waited for only once the group's totals are gathered, just before
        // COMMIT: a bad row in its last chunk is met there and sends the group round carefully (one in its first chunk is
        // met while the batch still runs), and the neighbour before it posts either way.
        var neighbours = new List<long>();
        foreach (var (count, bad, batchLast) in new[]
                 { (7000, 10, false), (7000, 2500, false), (7000, 6900, false), (3077, 10, false), (7000, 10, true), (7000, 6900, true) })
        {
            var entries = Enumerable.Range(0, count).Select(i => Entry("1010", i == bad ? "bad\u0000text" : $"entry {i}")).ToList();
            var (blocker, release) = await writer.HoldAsync();
            Task<JournalEntryResponse>? before = batchLast
                ? writer.WriteBookAsync(book, s => JournalPoster.Post(s, identity, [Entry("1010", "neighbour")])[0], defersGroupState: true)
                : null;
            var batch = writer.WriteBookAsync(book, s => JournalPoster.Post(s, identity, entries, detailed: false).Count, defersGroupState: true);
            var neighbour = before ?? writer.WriteBookAsync(book, s => JournalPoster.Post(s, identity, [Entry("1010", "neighbour")])[0], defersGroupState: true);
            release.Set();
            await blocker;
            var refused = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => batch);
            Assert.Equal("22021", refused.SqlState); // invalid byte sequence: the row's NUL, not two operations at once
            neighbours.Add((await neighbour).Number);
        }
        await App.PostEntryOkAsync(book, "2026-04-02", "after", ("1010", "2.00", null), ("4000", null, "2.00"));

        var all = await App.AllEntriesAsync(book);
        Assert.Equal([1L, 2L, 3L, 4L, 5L, 6L], neighbours);
        Assert.Equal([1L, 2L, 3L, 4L, 5L, 6L, 7L], all.Select(e => e["number"]!.GetValue<long>()).Order());
        Assert.Equal("8.00", (await Admin.GetJsonOkAsync($"/v1/books/{book}/accounts/1010"))["debitTotal"]!.GetValue<string>());
        Assert.True((await Admin.GetJsonOkAsync($"/v1/books/{book}/audit/verify"))["valid"]!.GetValue<bool>());
    }
#endif

    [Fact]
    public async Task A_request_that_fails_after_writing_fails_alone_and_leaves_its_key_free()
    {
        var book = await App.CreateBookAsync();
        var writer = App.Services.GetRequiredService<LedgerWriter>();
        var identity = await App.Services.GetRequiredService<BookCatalog>().GetAsync(book);

        // The first request stores key K and then fails after writing (its entry reverses a missing entry); the second
        // reuses K with another body. K was never stored, so the second must post, not be told the key is taken.
        var (blocker, release) = await writer.HoldAsync();
        var first = writer.WriteIdempotentAsync(book, "K", () => "fingerprint-1", s =>
        {
            JournalPoster.Post(s, identity, [Entry("1010")]);
            s.Command("UPDATE books SET name = name WHERE id = @id").Bind("@id", book).ExecuteNonQuery();
            throw new InvalidOperationException("fails after writing");
#pragma warning disable CS0162 // unreachable: the lambda's type needs a result
            return 0;
#pragma warning restore CS0162
        }, _ => new StoredResponse(201, null, "{}"), defersGroupState: true);
        var second = writer.WriteIdempotentAsync(book, "K", () => "fingerprint-2",
            s => JournalPoster.Post(s, identity, [Entry("1010")])[0], _ => new StoredResponse(201, null, "{}"), defersGroupState: true);
        release.Set();
        await blocker;

        await Assert.ThrowsAnyAsync<Exception>(() => first);
        var outcome = await second;
        Assert.NotNull(outcome.Fresh);
        Assert.Single(await App.AllEntriesAsync(book));
    }
}
