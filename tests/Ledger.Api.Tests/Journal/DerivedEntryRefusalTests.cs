using System.Net;
using System.Net.Http.Json;
using Ledger.Api.Tests.Reports;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Journal;

/// <summary>
/// Reversals and closing entries are built by the server: a line of theirs that the book refuses (an archived
/// account, the book's 64-bit total) is a 409 that explains itself and writes nothing, never a 400 on
/// <c>lines[i]</c>, a field these requests do not have.
/// </summary>
public sealed class DerivedEntryRefusalTests(SharedApp shared) : SharedAppTest(shared)
{
    private const string Max = "92233720368547758.07"; // long.MaxValue cents

    [Fact]
    public async Task Reversing_an_entry_that_used_up_the_books_64_bit_total_is_a_conflict_that_writes_nothing()
    {
        var book = await StandardBookAsync();
        var entry = await App.PostEntryOkAsync(book, "2025-06-13", "Typo: far too large", ("1010", Max, null), ("3000", null, Max));
        var before = await App.SnapshotAsync(book);

        var response = await Admin.PostRawAsync($"{EntriesUrl(book)}/{entry["id"]}/reverse", "{}");

        var problem = await response.AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains("64-bit", problem["detail"]!.GetValue<string>());
        Assert.Null(problem["errors"]);
        Assert.Equal(before, await App.SnapshotAsync(book));
    }

    [Fact]
    public async Task Closing_a_year_whose_closing_entry_would_pass_the_books_64_bit_total_is_a_conflict_that_writes_nothing()
    {
        var book = await StandardBookAsync();
        await App.PostEntryOkAsync(book, "2025-06-13", "Record year", ("1010", Max, null), ("4000", null, Max));
        var before = await App.SnapshotAsync(book);

        var response = await Admin.PostJsonAsync($"/v1/books/{book}/year-end-close", new { fiscalYearEnd = "2025-12-31" });

        var problem = await response.AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains("closing entry", problem["detail"]!.GetValue<string>());
        Assert.Contains("64-bit", problem["detail"]!.GetValue<string>());
        Assert.Equal(before, await App.SnapshotAsync(book));
        Assert.Null((await App.Admin.GetJsonOkAsync($"/v1/books/{book}/lock-date"))["lockDate"]);
    }

    [Fact]
    public async Task Reversing_an_entry_on_an_account_archived_since_is_a_conflict_naming_the_account()
    {
        var book = await StandardBookAsync();
        var entry = await App.PostEntryOkAsync(book, "2026-01-10", "Rent", ("6000", "100.00", null), ("1010", null, "100.00"));
        Assert.Equal(HttpStatusCode.OK, (await Admin.PatchAsJsonAsync($"{AccountsUrl(book)}/6000", new { archived = true })).StatusCode);
        var before = await App.SnapshotAsync(book);

        var response = await Admin.PostRawAsync($"{EntriesUrl(book)}/{entry["id"]}/reverse", "{}");

        var problem = await response.AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains("'6000' is archived", problem["detail"]!.GetValue<string>());
        Assert.Equal(before, await App.SnapshotAsync(book));
    }
}
