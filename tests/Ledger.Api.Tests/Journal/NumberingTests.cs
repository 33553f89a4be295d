using System.Net;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Journal;

public sealed class NumberingTests(SharedApp shared) : SharedAppTest(shared)
{
    [Fact]
    public async Task Entries_are_numbered_1_2_3_per_book_and_books_number_independently()
    {
        var a = await StandardBookAsync();
        var b = await StandardBookAsync("JPY");
        var numbersA = new List<long>();
        var numbersB = new List<long>();
        for (var i = 0; i < 6; i++)
        {
            numbersA.Add((await App.PostEntryOkAsync(a, "2026-01-05", $"A{i}", ("1010", "1", null), ("4000", null, "1")))["number"]!.GetValue<long>());
            if (i % 2 == 0)
                numbersB.Add((await App.PostEntryOkAsync(b, "2026-01-05", $"B{i}", ("1010", "1", null), ("4000", null, "1")))["number"]!.GetValue<long>());
        }
        Assert.Equal([1, 2, 3, 4, 5, 6], numbersA);
        Assert.Equal([1, 2, 3], numbersB);
    }

    [Fact]
    public async Task Numbers_follow_posting_order_not_entry_dates()
    {
        var book = await StandardBookAsync();
        var dates = new[] { "2026-05-01", "2025-01-01", "2026-12-31", "2026-05-01", "2024-02-29" };
        var numbers = new List<long>();
        foreach (var date in dates)
            numbers.Add((await App.PostEntryOkAsync(book, date, date, ("1010", "1", null), ("4000", null, "1")))["number"]!.GetValue<long>());
        Assert.Equal([1, 2, 3, 4, 5], numbers);
    }

    [Fact]
    public async Task Refused_posts_leave_no_gap_in_the_numbering()
    {
        var book = await StandardBookAsync();
        // Entry ids count across every book of the (shared) app, so the first entry of this book is not id 1.
        var first = (await App.PostEntryOkAsync(book, "2026-01-05", "first", ("1010", "1", null), ("4000", null, "1")))["id"]!.GetValue<long>();
        // Refused by the validator, by the account check inside the writer, and as a double reversal.
        await (await Admin.PostEntryAsync(book, "2026-01-05", "unbalanced", ("1010", "1", null), ("4000", null, "2")))
            .AssertValidationErrorAsync("lines");
        await (await Admin.PostEntryAsync(book, "2026-01-05", "unknown account", ("1010", "1", null), ("4999", null, "1")))
            .AssertValidationErrorAsync("lines[1].account");
        await (await Admin.PostRawAsync($"{EntriesUrl(book)}/{first}/reverse", "{}")).AssertCreatedAsync();
        await (await Admin.PostRawAsync($"{EntriesUrl(book)}/{first}/reverse", "{}")).AssertProblemAsync(HttpStatusCode.Conflict);
        var next = await App.PostEntryOkAsync(book, "2026-01-05", "next", ("1010", "1", null), ("4000", null, "1"));
        Assert.Equal(3, next["number"]!.GetValue<long>());
        Assert.Equal([1, 2, 3], (await App.AllEntriesAsync(book)).Select(e => e["number"]!.GetValue<long>()).Order());
    }

    [Fact]
    public async Task Concurrent_posts_get_distinct_gapless_numbers()
    {
        var a = await StandardBookAsync();
        var b = await StandardBookAsync();
        var posts = Enumerable.Range(0, 40).Select(i =>
            Admin.PostEntryAsync(i % 4 == 0 ? b : a, $"2026-02-{1 + i % 28:00}", $"concurrent {i}", ("1010", $"{i + 1}.00", null), ("4000", null, $"{i + 1}.00")));
        var responses = await Task.WhenAll(posts);
        var entries = new List<(bool InB, long Number)>();
        for (var i = 0; i < responses.Length; i++)
            entries.Add((i % 4 == 0, (await responses[i].AssertCreatedAsync())["number"]!.GetValue<long>()));

        Assert.Equal(Enumerable.Range(1, 30).Select(n => (long)n), entries.Where(e => !e.InB).Select(e => e.Number).Order());
        Assert.Equal(Enumerable.Range(1, 10).Select(n => (long)n), entries.Where(e => e.InB).Select(e => e.Number).Order());

        // Sum of 1..40 where i % 4 != 0 (book A): every post counted once.
        var expectedA = Enumerable.Range(0, 40).Where(i => i % 4 != 0).Sum(i => i + 1);
        Assert.Equal($"{expectedA}.00", (await App.AccountAsync(a, "1010"))["balance"]!.GetValue<string>());
    }

    [Fact]
    public async Task Concurrent_good_and_bad_posts_write_only_the_good_ones_and_number_them_gaplessly()
    {
        var book = await StandardBookAsync();
        var posts = Enumerable.Range(0, 30).Select(i => i % 3 == 0
            // Bad inside the writer (unknown account), in the same commit group as good ones.
            ? Admin.PostEntryAsync(book, "2026-03-10", $"bad {i}", ("1010", "1000.00", null), ("nope", null, "1000.00"))
            : Admin.PostEntryAsync(book, "2026-03-10", $"good {i}", ("1010", $"{i}.00", null), ("4000", null, $"{i}.00")));
        var responses = await Task.WhenAll(posts);

        var numbers = new List<long>();
        for (var i = 0; i < responses.Length; i++)
        {
            if (i % 3 == 0) await responses[i].AssertValidationErrorAsync("lines[1].account");
            else numbers.Add((await responses[i].AssertCreatedAsync())["number"]!.GetValue<long>());
        }
        Assert.Equal(Enumerable.Range(1, 20).Select(n => (long)n), numbers.Order());

        var expected = Enumerable.Range(0, 30).Where(i => i % 3 != 0).Sum();
        var bank = await App.AccountAsync(book, "1010");
        Assert.Equal($"{expected}.00", bank["debitTotal"]!.GetValue<string>());
        var tb = await App.TrialBalanceAsync(book, "2026-03-10");
        Assert.Equal($"{expected}.00", tb["totals"]!["debit"]!.GetValue<string>());
        Assert.Equal(20, (await App.AllEntriesAsync(book)).Count);
    }
}
