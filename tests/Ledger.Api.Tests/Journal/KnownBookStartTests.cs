#if POSTGRES
using System.Data.Common;
using System.Text.Json.Nodes;
using Dapper;
using Ledger.Api.Features.Books;
using Ledger.Api.Features.Journal;
using Ledger.Api.Infrastructure;
using Ledger.Api.Tests.Reports;
using Ledger.Api.Tests.Support;
using Ledger.Domain;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using NodaTime;

namespace Ledger.Api.Tests.Journal;

/// <summary>
/// On PostgreSQL a book's group may start from what its process knew of the book after its own last group there (the
/// book's row, the accounts, the last event, ids drawn under the lock) and send its begin, rows and COMMIT in one round
/// trip (LedgerWriter, KnownBookStart). It must never post from what another process has since changed: the proof
/// made under the lock fails, and the group runs again from what is stored.
/// </summary>
public sealed class KnownBookStartTests(SharedApp shared) : SharedAppTest(shared)
{
    private static readonly WriteHints Hints = new(AccountCodes: ["1010", "3000"]);

    private static BalancedEntry Entry(string date, long minor = 1000) => BalancedEntry.Create(LocalDate.FromDateTime(DateTime.Parse(date)),
        "known start", null, [new Posting("1010", Side.Debit, new Amount(minor)), new Posting("3000", Side.Credit, new Amount(minor))]);

    private async Task<(string Book, BookIdentity Identity)> BookAsync()
    {
        var book = await StandardBookAsync();
        return (book, await App.Services.GetRequiredService<BookCatalog>().GetAsync(book));
    }

    private static Task<JournalEntryResponse> Post(LedgerWriter writer, string book, BookIdentity identity, string date, long minor = 1000) =>
        writer.WriteBookAsync(book, s => JournalPoster.Post(s, identity, [Entry(date, minor)])[0], defersGroupState: true, hints: Hints);

    private static string State(LedgerWriter writer, long committedKnownBefore) =>
        $"known starts committed {writer.KnownStartsCommitted} (before: {committedKnownBefore}), failed {writer.KnownStartsFailed}, groups {writer.GroupsCommitted}";

    /// <summary>A writer of another API process: its own connection and its own knowledge of books, on the same database.</summary>
    private LedgerWriter OtherProcessWriter() =>
        new(App.Services.GetRequiredService<LedgerDatabase>(), new RecordingClock(SystemClock.Instance), SystemClock.Instance,
            NullLogger<LedgerWriter>.Instance);

    [SkippableFact]
    public async Task A_book_another_process_changed_since_is_read_again_before_anything_is_posted_from_what_was_known()
    {
        var (book, identity) = await BookAsync();
        var writer = App.Services.GetRequiredService<LedgerWriter>();
        using var other = OtherProcessWriter();
        try
        {
            await Post(writer, book, identity, "2026-03-01"); // read as it began; leaves the book known
            var committedKnown = writer.KnownStartsCommitted;
            await Post(writer, book, identity, "2026-03-02", 2000);
            Assert.True(committedKnown + 1 == writer.KnownStartsCommitted, State(writer, committedKnown)); // the round trip that began a group was saved

            // Another process locks March. What this process knew of the book says nothing is locked: posting from it
            // would take an entry into a locked period.
            await other.WriteBookAsync(book, s => s.Connection.Execute("UPDATE books SET lock_date = '2026-03-31' WHERE id = @book", new { book }));
            var failed = writer.KnownStartsFailed;
            var refusal = await Assert.ThrowsAsync<PostingRefusedException>(() => Post(writer, book, identity, "2026-03-03"));
            Assert.Equal(PostingRefusalKind.DateLocked, refusal.Refusals.Single().Kind);
            Assert.Equal(failed + 1, writer.KnownStartsFailed);

            // Both processes post, in turns: numbers, totals and the event chain follow every entry, whoever posted it.
            for (var i = 0; i < 6; i++)
            {
                await Post(writer, book, identity, "2026-04-01", 100 + i);
                await Post(writer, book, identity, "2026-04-02", 1000 + i);
                await Post(other, book, identity, "2026-04-03", 10_000 + i);
            }
            Assert.True(writer.KnownStartsFailed >= failed + 2, $"{writer.KnownStartsFailed} known starts failed");
        }
        finally
        {
            await other.StopAsync(CancellationToken.None);
        }

        await AssertBookTiesOutAsync(book, entries: 2 + 18);
    }

    [SkippableFact]
    public async Task A_group_that_reads_what_was_not_known_begins_then_and_proves_the_book_unchanged_first()
    {
        var (book, identity) = await BookAsync();
        var writer = App.Services.GetRequiredService<LedgerWriter>();
        using var other = OtherProcessWriter();
        // No hints: a post to an account the known start does not hold reads it, and that read begins the group.
        Task<JournalEntryResponse> PostUnhinted(string debit, string credit, string date) =>
            writer.WriteBookAsync(book, s => JournalPoster.Post(s, identity, [BalancedEntry.Create(LocalDate.FromDateTime(DateTime.Parse(date)),
                "unhinted", null, [new Posting(debit, Side.Debit, new Amount(500)), new Posting(credit, Side.Credit, new Amount(500))])])[0],
                defersGroupState: true);
        try
        {
            await Post(writer, book, identity, "2026-05-01"); // leaves 1010 and 3000 known
            var committedKnown = writer.KnownStartsCommitted;
            Assert.Equal(2, (await PostUnhinted("6000", "1010", "2026-05-02")).Number);
            Assert.True(committedKnown + 1 == writer.KnownStartsCommitted, State(writer, committedKnown));

            // Another process locks June; this one's next group starts from a book with no lock date, and its first
            // read (account 1000, not known) begins it: the proof made then must send it back to what is stored.
            await other.WriteBookAsync(book, s => s.Connection.Execute("UPDATE books SET lock_date = '2026-06-30' WHERE id = @book", new { book }));
            var failed = writer.KnownStartsFailed;
            var refusal = await Assert.ThrowsAsync<PostingRefusedException>(() => PostUnhinted("1000", "4000", "2026-06-02"));
            Assert.Equal(PostingRefusalKind.DateLocked, refusal.Refusals.Single().Kind);
            Assert.Equal(failed + 1, writer.KnownStartsFailed);
        }
        finally
        {
            await other.StopAsync(CancellationToken.None);
        }

        await AssertBookTiesOutAsync(book, entries: 2);
    }

    [SkippableFact]
    public async Task A_key_stored_before_is_answered_from_its_row_though_the_group_took_it_for_new()
    {
        var book = await StandardBookAsync();
        var writer = App.Services.GetRequiredService<LedgerWriter>();
        const string Body = """{"date":"2026-06-15","description":"Rent June","lines":[{"account":"6000","debit":"1200.00"},{"account":"1010","credit":"1200.00"}]}""";
        var url = $"/v1/books/{book}/journal-entries";

        var original = await (await Admin.PostRawAsync(url, Body, "rent-2026-06")).AssertCreatedAsync();
        await AssertReplayedAfterOneRunAgainAsync(writer, url, Body, "rent-2026-06", original); // stored already: the INSERT failed

        // Not a change by another process: the book's next group starts from what was known again.
        var committedKnown = writer.KnownStartsCommitted;
        var next = await (await Admin.PostRawAsync(url, Body.Replace("June", "July"), "rent-2026-07")).AssertCreatedAsync();
        Assert.Equal(2, next["number"]!.GetValue<long>());
        Assert.Equal(committedKnown + 1, writer.KnownStartsCommitted);
        await AssertBookTiesOutAsync(book, entries: 2);
    }

    /// <summary>
    /// A retry whose request would now be refused (its date has since been locked) is answered from its key's stored
    /// row, not refused: a group that took its keys for new stores no key row for a refused request, so nothing in it
    /// would have failed to say the key was stored.
    /// </summary>
    [SkippableFact]
    public async Task A_retry_now_refused_is_answered_from_its_stored_key_though_the_group_took_it_for_new()
    {
        var book = await StandardBookAsync();
        var writer = App.Services.GetRequiredService<LedgerWriter>();
        const string March = """{"date":"2026-03-10","description":"Rent March","lines":[{"account":"6000","debit":"900.00"},{"account":"1010","credit":"900.00"}]}""";
        var url = $"/v1/books/{book}/journal-entries";
        var original = await (await Admin.PostRawAsync(url, March, "rent-2026-03")).AssertCreatedAsync();
        var locked = await Admin.PutJsonAsync($"/v1/books/{book}/lock-date", new { date = "2026-03-31" });
        Assert.True(locked.IsSuccessStatusCode, await locked.Content.ReadAsStringAsync());
        // A later post makes the book known again, lock date and all.
        await (await Admin.PostRawAsync(url, March.Replace("2026-03-10", "2026-04-10").Replace("March", "April"), "rent-2026-04")).AssertCreatedAsync();

        await AssertReplayedAfterOneRunAgainAsync(writer, url, March, "rent-2026-03", original);
        await AssertBookTiesOutAsync(book, entries: 2);
    }

    /// <summary>
    /// Posts <paramref name="body"/> again under <paramref name="key"/>: answered with <paramref name="original"/>, marked
    /// replayed, after its group, started from what was known, ran once more as a plain group.
    /// </summary>
    private async Task AssertReplayedAfterOneRunAgainAsync(LedgerWriter writer, string url, string body, string key, JsonNode original)
    {
        var failed = writer.KnownStartsFailed;
        var again = await Admin.PostRawAsync(url, body, key);
        Assert.True(JsonNode.DeepEquals(original, await again.AssertCreatedAsync()));
        Assert.True(again.Headers.Contains("Idempotency-Replayed"));
        Assert.Equal(failed + 1, writer.KnownStartsFailed);
    }

    /// <summary>
    /// Numbers gapless and in id order, every account's running totals equal to its postings, the book's debit total to
    /// theirs, the event chain intact.
    /// </summary>
    private async Task AssertBookTiesOutAsync(string book, int entries)
    {
        await using var connection = await TestDatabase.OpenAsync(App.DatabasePath);
        var numbers = (await connection.QueryAsync<long>("SELECT number FROM journal_entries WHERE book_id = @book ORDER BY id", new { book })).ToList();
        Assert.Equal(Enumerable.Range(1, entries).Select(n => (long)n), numbers);
        var accounts = await connection.QueryAsync<(string Code, long Debit, long Credit, long Posted, long PostedDebit)>("""
            SELECT a.code, a.debit_total, a.credit_total, COALESCE(SUM(p.amount), 0)::bigint,
                   COALESCE(SUM(CASE WHEN p.amount > 0 THEN p.amount ELSE 0 END), 0)::bigint
            FROM accounts a LEFT JOIN postings p ON p.account_id = a.id WHERE a.book_id = @book GROUP BY a.id, a.code
            """, new { book });
        foreach (var account in accounts)
        {
            Assert.True(account.Debit - account.Credit == account.Posted, $"{account.Code}: totals {account.Debit}/{account.Credit}, postings {account.Posted}");
            Assert.True(account.Debit == account.PostedDebit, $"{account.Code}: debit total {account.Debit}, debits posted {account.PostedDebit}");
        }
        var (next, totalDebit) = await connection.QuerySingleAsync<(long, long)>("SELECT next_entry_number, total_debit FROM books WHERE id = @book", new { book });
        Assert.Equal(entries + 1, next);
        Assert.Equal(accounts.Sum(a => a.PostedDebit), totalDebit);
        Assert.True((await Admin.GetJsonAsync($"/v1/books/{book}/audit/verify"))["valid"]!.GetValue<bool>());
    }
}
#endif
