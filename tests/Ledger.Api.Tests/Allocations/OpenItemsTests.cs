using System.Net;
using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Allocations;

/// <summary>
/// What a hand-posted journal line puts on a control account with a party (an opening balance, a write-off) is an open
/// item like any document's: listed with its id, allocated by that id against a payment or another such line, undone,
/// and counted as settled in aging and the party's balance, with the subledger still equal to the control account.
/// </summary>
public sealed class OpenItemsTests(SharedApp shared) : SharedAppTest(shared)
{
    private static string Url(string book, string route) => $"/v1/books/{book}/{route}";

    private static string Text(JsonNode node, string field) => node[field]!.GetValue<string>();

    private Task<List<JsonNode>> ItemsAsync(string book, string query) =>
        Admin.AllPagesAsync($"{Url(book, "open-items")}?{query}&limit=2", maxPages: 100);

    private async Task<JsonNode> AgingAsync(string book, string ledger, string asOf) =>
        await Admin.GetJsonAsync($"{Url(book, $"reports/aged-{ledger}")}?asOf={asOf}&detail=true");

    [Fact]
    public async Task An_opening_balance_posted_by_hand_is_settled_by_a_payment_and_a_write_off_through_its_item()
    {
        var book = await StandardBookAsync();
        var acme = await App.CreateCustomerAsync(book, "Acme");
        var opening = await App.PostEntryOkAsync(book, "2025-12-31", "Opening balances",
            ($"1200/customer:{acme}", "100.00", null), ("3000", null, "100.00"));

        var listed = Assert.Single(await ItemsAsync(book, $"customer={acme}"));
        Assert.Equal(("receivables", "journal", "100.00", "0.00", "100.00", "2025-12-31"),
            (Text(listed, "ledger"), Text(listed, "sourceType"), Text(listed, "amount"), Text(listed, "allocated"), Text(listed, "open"), Text(listed, "date")));
        Assert.Null(listed["sourceId"]);
        Assert.Equal((opening["id"]!.GetValue<long>(), 0, acme), (listed["journalEntryId"]!.GetValue<long>(), listed["line"]!.GetValue<int>(), listed["customer"]!.GetValue<long>()));
        var openingItem = listed["id"]!.GetValue<long>();

        // A payment settles part of it, named by the item's id.
        var payment = await (await Admin.PostJsonAsync(Url(book, "payments"), new
        {
            customer = acme, date = "2026-01-10", amount = "60.00", account = "1010",
            allocations = new[] { new { item = openingItem, amount = "60.00" } },
        })).AssertCreatedAsync();
        Assert.Equal(("60.00", "0.00"), (Text(payment, "allocated"), Text(payment, "unallocated")));
        var applied = Assert.Single(payment["allocations"]!.AsArray())!;
        Assert.Null(applied["against"]);
        Assert.Equal(openingItem, applied["againstItem"]!.GetValue<long>());

        // The rest is written off by hand; the two journal items are matched with each other.
        var writeOff = await App.PostEntryOkAsync(book, "2026-02-28", "Write-off Acme", ("6900", "40.00", null), ($"1200/customer:{acme}", null, "40.00"));
        var writeOffItem = Assert.Single(await ItemsAsync(book, $"journalEntry={writeOff["id"]}"))!;
        Assert.Equal(("-40.00", "-40.00"), (Text(writeOffItem, "amount"), Text(writeOffItem, "open")));
        var made = await Admin.PostJsonAsync(Url(book, "allocations"), new
        {
            documentItem = openingItem, againstItem = writeOffItem["id"], amount = "40.00",
        });
        var allocation = await made.AssertCreatedAsync();
        // Its Location answers with what the 201 did.
        Assert.True(JsonNode.DeepEquals(allocation, await Admin.GetJsonAsync(made.Headers.Location!.ToString())));
        Assert.Null(allocation["document"]);
        Assert.Null(allocation["against"]);
        Assert.Equal((openingItem, writeOffItem["id"]!.GetValue<long>(), "2026-02-28"),
            (allocation["documentItem"]!.GetValue<long>(), allocation["againstItem"]!.GetValue<long>(), Text(allocation, "date")));

        Assert.Empty(await ItemsAsync(book, $"customer={acme}&status=open"));
        var settled = await ItemsAsync(book, $"customer={acme}&status=settled");
        Assert.Equal(3, settled.Count);
        Assert.All(settled, i => Assert.Equal("0.00", Text(i!, "open")));
        var aging = await AgingAsync(book, "receivables", "2026-03-31");
        Assert.Empty(aging["items"]!.AsArray());
        Assert.Equal(("0.00", "0.00"), (Text(aging["totals"]!, "total"), Text(aging, "difference")));
        // As of a date before the write-off, its allocation does not count yet: the opening's 40.00 is open then.
        var before = await AgingAsync(book, "receivables", "2026-01-31");
        var open = Assert.Single(before["items"]!.AsArray())!;
        Assert.Equal((openingItem, "40.00"), (open["item"]!.GetValue<long>(), Text(open, "open")));
        Assert.Equal("0.00", Text(before, "difference"));

        // Undone, both are open again by its amount.
        await (await Admin.DeleteAsync($"{Url(book, "allocations")}/{allocation["id"]}")).ReadJsonAsync();
        var reopened = await ItemsAsync(book, $"customer={acme}&status=open");
        Assert.Equal(["40.00", "-40.00"], reopened.Select(i => Text(i!, "open")));
        var account = await Admin.GetJsonAsync($"{Url(book, "customers")}/{acme}/account");
        Assert.Equal("0.00", Text(account, "openBalance"));
    }

    [Fact]
    public async Task The_answer_to_a_payment_is_the_payment_as_stored()
    {
        // Payments answer from what the request wrote, not read back: the answer must be what a read returns, byte for byte,
        // with allocations named by document and by item, partial and in full, and without any.
        var book = await StandardBookAsync();
        var acme = await App.CreateCustomerAsync(book, "Acme");
        await App.PostEntryOkAsync(book, "2025-12-31", "Opening balances", ($"1200/customer:{acme}", "100.00", null), ("3000", null, "100.00"));
        var openingItem = Assert.Single(await ItemsAsync(book, $"customer={acme}"))["id"]!.GetValue<long>();
        var invoice = await (await Admin.PostJsonAsync(Url(book, "invoices"), new
        {
            customer = acme, date = "2026-01-05", issue = true,
            lines = new[] { new { description = "Consulting", unitPrice = "250.00", account = "4000" } },
        })).AssertCreatedAsync();
        var supplier = await App.CreateVendorAsync(book, "Supplier");
        foreach (var body in new object[]
        {
            new
            {
                customer = acme, date = "2026-01-20", amount = "300.00", account = "1010", reference = "Bank 17",
                allocations = new object[] { new { document = invoice["id"], amount = "250.00" }, new { item = openingItem, amount = "30.00" } },
            },
            new { customer = acme, date = "2026-01-21", amount = "5.00", account = "1010" },
            new { vendor = supplier, date = "2026-01-22", amount = "12.34", account = "1010" },
        })
        {
            var created = await Admin.PostJsonAsync(Url(book, "payments"), body);
            var answer = await created.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var read = await Admin.GetAsync(created.Headers.Location!.ToString());
            Assert.Equal(await read.Content.ReadAsStringAsync(), answer);
        }
    }

    [Fact]
    public async Task A_vendor_opening_balance_is_owed_positive_and_paid_through_its_item()
    {
        var book = await StandardBookAsync();
        var vendor = await App.CreateVendorAsync(book, "Initech");
        await App.PostEntryOkAsync(book, "2025-12-31", "Opening balances", ("3000", "250.00", null), ($"2000/vendor:{vendor}", null, "250.00"));
        var item = Assert.Single(await ItemsAsync(book, $"vendor={vendor}"))!;
        Assert.Equal(("payables", "250.00", "250.00"), (Text(item, "ledger"), Text(item, "amount"), Text(item, "open")));
        Assert.Equal(vendor, item["vendor"]!.GetValue<long>());
        Assert.Null(item["customer"]);

        var payment = await (await Admin.PostJsonAsync(Url(book, "payments"), new
        {
            vendor, date = "2026-01-15", amount = "250.00", account = "1010",
            allocations = new[] { new { item = item["id"], amount = "250.00" } },
        })).AssertCreatedAsync();
        Assert.Equal("250.00", Text(payment, "allocated"));
        Assert.Equal("0.00", Text(Assert.Single(await ItemsAsync(book, $"vendor={vendor}&status=settled&journalEntry={item["journalEntryId"]}"))!, "open"));
        var aging = await AgingAsync(book, "payables", "2026-01-31");
        Assert.Equal(("0.00", "0.00"), (Text(aging["totals"]!, "total"), Text(aging, "difference")));
        Assert.Equal("0.00", Text(await App.AccountAsync(book, "2000"), "balance"));
    }

    [Fact]
    public async Task A_document_named_by_its_item_answers_as_named_by_its_id_and_refusals_change_nothing()
    {
        var book = await StandardBookAsync();
        var acme = await App.CreateCustomerAsync(book, "Acme");
        var globex = await App.CreateCustomerAsync(book, "Globex");
        var invoice = await (await Admin.PostJsonAsync(Url(book, "invoices"), new
        {
            customer = acme, date = "2026-03-01", issue = true,
            lines = new[] { new { description = "Consulting", unitPrice = "80.00", account = "4000" } },
        })).AssertCreatedAsync();
        var invoiceItem = Assert.Single(await ItemsAsync(book, $"customer={acme}"))!;
        Assert.Equal(("invoice", invoice["id"]!.GetValue<long>(), "INV-000001", invoice["journalEntryId"]!.GetValue<long>()),
            (Text(invoiceItem, "sourceType"), invoiceItem["sourceId"]!.GetValue<long>(), Text(invoiceItem, "number"), invoiceItem["journalEntryId"]!.GetValue<long>()));
        var credit = await App.PostEntryOkAsync(book, "2026-03-05", "Goodwill credit", ("4900", "30.00", null), ($"1200/customer:{acme}", null, "30.00"));
        var creditItem = Assert.Single(await ItemsAsync(book, $"journalEntry={credit["id"]}"))!["id"]!.GetValue<long>();
        var globexOpening = await App.PostEntryOkAsync(book, "2026-03-05", "Opening", ($"1200/customer:{globex}", "5.00", null), ("3000", null, "5.00"));
        var globexItem = Assert.Single(await ItemsAsync(book, $"journalEntry={globexOpening["id"]}"))!["id"]!.GetValue<long>();
        var before = await App.SnapshotAsync(book);

        async Task Refused(object body, HttpStatusCode status, string? field = null)
        {
            var response = await Admin.PostJsonAsync(Url(book, "allocations"), body);
            if (field is null) await response.AssertProblemAsync(status); else await response.AssertValidationErrorAsync(field);
        }
        await Refused(new { documentItem = invoiceItem["id"], document = invoice["id"], againstItem = creditItem, amount = "1.00" }, HttpStatusCode.BadRequest, "documentItem");
        await Refused(new { againstItem = creditItem, amount = "1.00" }, HttpStatusCode.BadRequest, "document");
        await Refused(new { document = invoice["id"], amount = "1.00" }, HttpStatusCode.BadRequest, "against");
        await Refused(new { document = invoice["id"], againstItem = 999_999_999, amount = "1.00" }, HttpStatusCode.BadRequest, "againstItem");
        await Refused(new { document = invoice["id"], againstItem = invoiceItem["id"], amount = "1.00" }, HttpStatusCode.BadRequest, "againstItem");
        await Refused(new { documentItem = creditItem, againstItem = creditItem, amount = "1.00" }, HttpStatusCode.BadRequest, "againstItem");
        await Refused(new { document = invoice["id"], againstItem = creditItem, amount = "30.01" }, HttpStatusCode.Conflict);
        await Refused(new { documentItem = globexItem, againstItem = creditItem, amount = "1.00" }, HttpStatusCode.Conflict);
        await Refused(new { documentItem = invoiceItem["id"], againstItem = globexItem, amount = "1.00" }, HttpStatusCode.Conflict); // another party
        await (await Admin.PostJsonAsync(Url(book, "payments"), new
        {
            customer = acme, date = "2026-03-06", amount = "1.00", account = "1010",
            allocations = new object[] { new { item = creditItem, document = invoice["id"], amount = "1.00" } },
        })).AssertValidationErrorAsync("allocations[0].item");
        Assert.Equal(before, await App.SnapshotAsync(book));

        var allocation = await (await Admin.PostJsonAsync(Url(book, "allocations"), new
        {
            documentItem = invoiceItem["id"], againstItem = creditItem, amount = "30.00",
        })).AssertCreatedAsync();
        Assert.Equal((invoice["id"]!.GetValue<long>(), invoiceItem["id"]!.GetValue<long>(), creditItem),
            (allocation["document"]!.GetValue<long>(), allocation["documentItem"]!.GetValue<long>(), allocation["againstItem"]!.GetValue<long>()));
        var now = await Admin.GetJsonAsync($"{Url(book, "invoices")}/{invoice["id"]}");
        Assert.Equal(("50.00", "partiallyPaid"), (Text(now, "amountDue"), Text(now, "status")));
        var applied = Assert.Single(now["allocations"]!.AsArray())!;
        Assert.Null(applied["against"]);
        Assert.Equal(creditItem, applied["againstItem"]!.GetValue<long>());

        // A void document's items are matched with each other already: neither is allocated again.
        await (await Admin.DeleteAsync($"{Url(book, "allocations")}/{allocation["id"]}")).ReadJsonAsync();
        await (await Admin.PostJsonAsync($"{Url(book, "invoices")}/{invoice["id"]}/void", new { })).AssertCreatedAsync();
        var voided = await ItemsAsync(book, $"customer={acme}&status=settled");
        Assert.Equal(2, voided.Count);
        foreach (var item in voided)
            await Refused(new { documentItem = item!["id"], againstItem = creditItem, amount = "1.00" }, HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task The_list_refuses_what_it_cannot_answer()
    {
        var book = await StandardBookAsync();
        await (await Admin.GetAsync($"{Url(book, "open-items")}?status=overdue")).AssertValidationErrorAsync("status");
        await (await Admin.GetAsync($"{Url(book, "open-items")}?customer=1&vendor=2")).AssertValidationErrorAsync("vendor");
        await (await Admin.GetAsync($"{Url(book, "open-items")}?cursor=nope")).AssertValidationErrorAsync("cursor");
        await (await Admin.GetAsync($"{Url(book, "open-items")}?limit=0")).AssertValidationErrorAsync("limit");
        Assert.Empty((await Admin.GetJsonAsync(Url(book, "open-items")))["items"]!.AsArray());
    }
}
