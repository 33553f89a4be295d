using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;
using Newtonsoft.Json.Linq;
using Snapshooter.Xunit;

namespace Ledger.Api.Tests.Reports;

public sealed class LedgerTests(SharedApp shared) : SharedAppTest(shared)
{
    [Fact]
    public async Task Running_balance_carries_across_pages_from_opening_to_closing()
    {
        var book = await App.CreateBookAsync();
        var random = new Random(20260105);
        await App.Admin.PostEntryOkAsync(book, "2025-12-20", "Before the period", ("1010", "500.00", null), ("3000", null, "500.00"));
        // Several entries a day, posted out of date order, some paying out: pages must cut within a day too.
        for (var i = 0; i < 40; i++)
        {
            var date = $"2026-01-{random.Next(1, 29):00}";
            var amount = ReportClient.Money(random.Next(1, 100_000));
            if (random.Next(3) == 0) await App.Admin.PostEntryOkAsync(book, date, $"Payment {i}", ("6000", amount, null), ("1010", null, amount));
            else await App.Admin.PostEntryOkAsync(book, date, $"Receipt {i}", ("1010", amount, null), ("4000", null, amount));
        }
        await App.Admin.PostEntryOkAsync(book, "2026-02-02", "After the period", ("1010", "1.00", null), ("4000", null, "1.00"));

        var url = $"/v1/books/{book}/accounts/1010/ledger?from=2026-01-01&to=2026-01-31&limit=7";
        var first = await App.Admin.GetJsonOkAsync(url);
        Assert.Equal("500.00", first["openingBalance"]!.GetValue<string>());
        var balance = first["openingBalance"].Minor();
        var seen = new List<JsonNode>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = cursor is null ? first : await App.Admin.GetJsonOkAsync($"{url}&cursor={cursor}");
            Assert.Equal(first["openingBalance"]!.GetValue<string>(), page["openingBalance"]!.GetValue<string>());
            Assert.Equal(first["closingBalance"]!.GetValue<string>(), page["closingBalance"]!.GetValue<string>());
            foreach (var item in page["items"]!.AsArray())
            {
                balance += item!["debit"].Minor() - item["credit"].Minor();
                Assert.Equal(ReportClient.Money(balance), item["balance"]!.GetValue<string>());
                seen.Add(item);
            }
            cursor = page["nextCursor"]?.GetValue<string>();
            pages++;
        } while (cursor is not null);

        Assert.Equal(40, seen.Count);
        Assert.True(pages >= 6);
        Assert.Equal(first["closingBalance"].Minor(), balance);
        var order = seen.Select(i => (i!["date"]!.GetValue<string>(), i["entryId"]!.GetValue<long>())).ToList();
        Assert.Equal(order.OrderBy(o => o.Item1, StringComparer.Ordinal).ThenBy(o => o.Item2), order);

        // The closing balance is the balance sheet's.
        var sheet = await App.Admin.GetJsonOkAsync($"/v1/books/{book}/reports/balance-sheet?asOf=2026-01-31");
        var bank = sheet["assets"]!["accounts"]!.AsArray().Single(a => a!["account"]!.GetValue<string>() == "1010")!;
        Assert.Equal(first["closingBalance"]!.GetValue<string>(), bank["balance"]!.GetValue<string>());
    }

    [Fact]
    public async Task Account_ledger_shows_balances_on_the_normal_side_and_rejects_foreign_cursors()
    {
        var book = await SampleBook.CreateAsync(App, closeFiscal2025: true);
        var ledger = await App.Admin.GetJsonOkAsync($"/v1/books/{book}/accounts/4000/ledger?from=2025-01-01&to=2026-12-31");
        Assert.Equal(["1500.00", "0.00", "3000.00"], ledger["items"]!.AsArray().Select(i => i!["balance"]!.GetValue<string>()));
        Assert.True(ledger["items"]![1]!["debit"].Minor() == 1500_00); // the closing entry empties Sales
        Snapshot.Match(JToken.Parse(ledger.ToJsonString()), options => options.IgnoreAllFields("entryId"));

        var paged = await App.Admin.GetJsonOkAsync($"/v1/books/{book}/accounts/4000/ledger?from=2025-01-01&to=2026-12-31&limit=1");
        var cursor = paged["nextCursor"]!.GetValue<string>();
        await (await App.Admin.GetAsync($"/v1/books/{book}/accounts/4000/ledger?from=2026-01-01&to=2026-12-31&cursor={cursor}"))
            .AssertValidationErrorAsync("cursor");
        await (await App.Admin.GetAsync($"/v1/books/{book}/accounts/4000/ledger?cursor=nonsense")).AssertValidationErrorAsync("cursor");
        await (await App.Admin.GetAsync($"/v1/books/{book}/accounts/9999/ledger")).AssertProblemAsync(System.Net.HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task General_ledger_lists_every_account_that_moved_with_opening_lines_and_closing()
    {
        var book = await SampleBook.CreateAsync(App, closeFiscal2025: true);
        var ledger = await App.Admin.GetJsonOkAsync($"/v1/books/{book}/reports/general-ledger?from=2025-06-01&to=2026-01-31");

        var accounts = ledger["accounts"]!.AsArray();
        Assert.Equal(["1010", "1011", "2500", "3900", "4000", "4010", "6000", "6100", "6110"],
            accounts.Select(a => a!["account"]!.GetValue<string>()));
        foreach (var account in accounts)
        {
            var normalDebit = account!["type"]!.GetValue<string>() is "asset" or "expense";
            var balance = account["openingBalance"].Minor();
            foreach (var line in account["lines"]!.AsArray())
            {
                var movement = line!["debit"].Minor() - line["credit"].Minor();
                balance += normalDebit ? movement : -movement;
                Assert.Equal(ReportClient.Money(balance), line["balance"]!.GetValue<string>());
            }
            Assert.Equal(account["closingBalance"].Minor(), balance);
        }
        Snapshot.Match(JToken.Parse(ledger.ToJsonString()), options => options.IgnoreAllFields("entryId"));
    }
}
