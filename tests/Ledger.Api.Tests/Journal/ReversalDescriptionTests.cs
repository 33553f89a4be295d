using System.Net;
using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Journal;

/// <summary>
/// Every journal entry has a description: POST refuses an empty one (400 on <c>description</c>). A reversal is a
/// journal entry too, so an empty <c>description</c> must either be refused the same way or fall back to the default
/// text; it must not post an entry whose description is empty.
/// </summary>
public sealed class ReversalDescriptionTests(SharedApp shared) : SharedAppTest(shared)
{
    [Fact]
    public async Task A_reversal_never_posts_an_entry_with_an_empty_description()
    {
        var book = await StandardBookAsync();
        // The same rule on a plain post, for comparison.
        var post = await Admin.PostRawAsync(EntriesUrl(book),
            """{"date":"2026-01-10","description":"","lines":[{"account":"1010","debit":"1.00"},{"account":"4000","credit":"1.00"}]}""");
        await post.AssertValidationErrorAsync("description");
        var entry = await App.PostEntryOkAsync(book, "2026-01-10", "Sale", ("1010", "100.00", null), ("4000", null, "100.00"));

        var response = await Admin.PostRawAsync($"{EntriesUrl(book)}/{entry["id"]}/reverse", """{"description":""}""");

        if (response.StatusCode == HttpStatusCode.Created)
        {
            var reversal = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.False(string.IsNullOrWhiteSpace(reversal["description"]!.GetValue<string>()),
                $"The reversal was posted with an empty description: {reversal.ToJsonString()}");
        }
        else
        {
            await response.AssertValidationErrorAsync("description");
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task A_blank_description_is_refused_on_posts_and_reversals_alike(string description)
    {
        var book = await StandardBookAsync();
        var entry = await App.PostEntryOkAsync(book, "2026-01-10", "Sale", ("1010", "100.00", null), ("4000", null, "100.00"));
        var before = await App.SnapshotAsync(book);

        var post = await Admin.PostJsonAsync(EntriesUrl(book), new
        {
            date = "2026-01-11", description, lines = new object[] { new { account = "1010", debit = "1.00" }, new { account = "4000", credit = "1.00" } },
        });
        await post.AssertValidationErrorAsync("description");
        await (await Admin.PostJsonAsync($"{EntriesUrl(book)}/{entry["id"]}/reverse", new { description })).AssertValidationErrorAsync("description");
        Assert.Equal(before, await App.SnapshotAsync(book));
    }
}
