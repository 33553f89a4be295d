#if POSTGRES
using System.Net;
using Dapper;
using Ledger.Api.Features.Books;
using Ledger.Api.Features.Journal;
using Ledger.Api.Infrastructure;
using Ledger.Api.Tests.Support;
using Ledger.Domain;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Ledger.Api.Tests.Durability;

/// <summary>
/// A group whose requests the writer has already failed is never run again: when the book's row lock cannot be taken
/// (another connection holds it past the writer's lock timeout), the post is answered as not written, and it is not
/// written afterwards either, once the lock is free. (It once was: the group was retried on a new connection, which
/// took the freed lock and committed what its caller had been told was not.)
/// </summary>
[Trait("Category", "Slow")] // waits out the writer's 30 s lock timeout
public sealed class FailedGroupTests : AppTest
{
    [SkippableFact]
    public async Task A_post_refused_for_a_lock_timeout_is_not_written_when_the_lock_comes_free()
    {
        var book = await StandardBookAsync();
        await using var holder = await TestDatabase.OpenAsync(App.DatabasePath);
        await using var transaction = await holder.BeginTransactionAsync();
        await holder.ExecuteAsync("SELECT id FROM books WHERE id = @book FOR UPDATE", new { book }, transaction);

        var post = Admin.PostEntryAsync(book, "2026-03-01", "Waits for the book", ("1010", "10.00", null), ("3000", null, "10.00"));
        var response = await post.WaitAsync(TimeSpan.FromSeconds(90));
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        // The lock comes free at once: a second run of the failed group would get it now.
        await transaction.RollbackAsync();
        await Task.Delay(TimeSpan.FromSeconds(2));

        Assert.Empty(await App.AllEntriesAsync(book));
        var after = await App.PostEntryOkAsync(book, "2026-03-02", "After", ("1010", "1.00", null), ("3000", null, "1.00"));
        Assert.Equal(1, after["number"]!.GetValue<long>());
    }

    /// <summary>
    /// A group begins in the commit round trip of the group before it (LedgerWriter, PostgresLedgerDatabase.CommitAndBegin).
    /// When that start waits for a book another connection holds, the group before is still answered as soon as it has
    /// committed; when the start times out, the group before stands, and the waiting group begins again on its own.
    /// </summary>
    [SkippableFact]
    public async Task A_group_is_answered_when_it_commits_though_the_next_group_it_began_waits_for_its_book()
    {
        var first = await StandardBookAsync();
        var second = await StandardBookAsync();
        var writer = App.Services.GetRequiredService<LedgerWriter>();
        var catalog = App.Services.GetRequiredService<BookCatalog>();
        var (firstBook, secondBook) = (await catalog.GetAsync(first), await catalog.GetAsync(second));
        static BalancedEntry Entry(string description) => BalancedEntry.Create(new LocalDate(2026, 3, 1), description, null,
            [new Posting("1010", Side.Debit, new Amount(1000)), new Posting("3000", Side.Credit, new Amount(1000))]);
        await using var holder = await TestDatabase.OpenAsync(App.DatabasePath);
        var transaction = await holder.BeginTransactionAsync();
        await holder.ExecuteAsync("SELECT id FROM books WHERE id = @second FOR UPDATE", new { second }, transaction);

        // One drain, two book groups: the first begins with the held group's commit, the second with the first's.
        var (blocker, release) = await writer.HoldAsync();
        var postFirst = writer.WriteBookAsync(first, s => JournalPoster.Post(s, firstBook, [Entry("first")])[0], defersGroupState: true);
        var postSecond = writer.WriteBookAsync(second, s => JournalPoster.Post(s, secondBook, [Entry("second")])[0], defersGroupState: true);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        release.Set();
        await blocker;

        Assert.Equal(1, (await postFirst.WaitAsync(TimeSpan.FromSeconds(10))).Number);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"answered after {clock.Elapsed}");
        Assert.False(postSecond.IsCompleted);
        // Past the writer's 30 s lock timeout: the start in the first group's round trip has failed, and the second group
        // waits again on its own; freed now, the lock lets it commit.
        await Task.Delay(TimeSpan.FromSeconds(35) - clock.Elapsed);
        Assert.False(postSecond.IsCompleted);
        await transaction.RollbackAsync();
        Assert.Equal(1, (await postSecond.WaitAsync(TimeSpan.FromSeconds(30))).Number);

        Assert.Single(await App.AllEntriesAsync(first));
        Assert.Single(await App.AllEntriesAsync(second));
        Assert.True((await Admin.GetJsonAsync($"/v1/books/{second}/audit/verify"))["valid"]!.GetValue<bool>());
    }
}
#endif
