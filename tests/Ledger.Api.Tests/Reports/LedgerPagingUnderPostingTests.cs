using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Reports;

/// <summary>
/// The account ledger promises that the running balance carries across pages and that opening + movements = closing
/// across pages (issue 4, README "Account ledger and general ledger"). Bank imports post backdated entries all the
/// time, so a client paging through a ledger while entries are posted must still get pages that chain.
/// </summary>
public sealed class LedgerPagingUnderPostingTests(SharedApp shared) : SharedAppTest(shared)
{
    [Fact]
    public async Task Pages_fetched_while_a_backdated_entry_is_posted_still_chain_from_opening_to_closing()
    {
        var book = await App.CreateBookAsync();
        await Admin.PostEntryOkAsync(book, "2026-01-05", "Receipt 1", ("1010", "100.00", null), ("4000", null, "100.00"));
        await Admin.PostEntryOkAsync(book, "2026-01-10", "Receipt 2", ("1010", "200.00", null), ("4000", null, "200.00"));
        await Admin.PostEntryOkAsync(book, "2026-01-20", "Receipt 3", ("1010", "300.00", null), ("4000", null, "300.00"));
        await Admin.PostEntryOkAsync(book, "2026-01-25", "Receipt 4", ("1010", "400.00", null), ("4000", null, "400.00"));

        var url = $"/v1/books/{book}/accounts/1010/ledger?from=2026-01-01&to=2026-01-31&limit=2";
        var first = await Admin.GetJsonOkAsync(url);
        Assert.Equal(["100.00", "300.00"], first["items"]!.AsArray().Select(i => i!["balance"]!.GetValue<string>()));

        // A bank import posts a backdated entry dated before the cursor, inside the period, between the two fetches.
        await Admin.PostEntryOkAsync(book, "2026-01-07", "Backdated receipt", ("1010", "50.00", null), ("4000", null, "50.00"));

        var second = await Admin.GetJsonOkAsync($"{url}&cursor={first["nextCursor"]!.GetValue<string>()}");
        var items = first["items"]!.AsArray().Concat(second["items"]!.AsArray()).ToList();

        // The running balance continues from the last line of the previous page ...
        var balance = first["openingBalance"].Minor();
        foreach (var item in items)
        {
            balance += item!["debit"].Minor() - item["credit"].Minor();
            Assert.Equal(ReportClient.Money(balance), item["balance"]!.GetValue<string>());
        }
        // ... and opening + the movements served = the closing balance the last page states.
        Assert.Equal(second["closingBalance"].Minor(), first["openingBalance"].Minor() + items.Sum(i => i!["debit"].Minor() - i["credit"].Minor()));
    }
}
