#if POSTGRES
using System.Net;
using Dapper;
using Ledger.Api.Tests.Support;

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
}
#endif
