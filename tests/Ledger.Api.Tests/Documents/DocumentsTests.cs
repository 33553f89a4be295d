using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Documents;

public sealed class DocumentsTests(SharedApp shared) : SharedAppTest(shared)
{
    private static string Url(string book, string route) => $"/v1/books/{book}/{route}";

    private static object Invoice(long customer, string date, params (string Description, string? Quantity, string UnitPrice, string Account)[] lines) => new
    {
        customer,
        date,
        lines = lines.Select(l => new { description = l.Description, quantity = l.Quantity, unitPrice = l.UnitPrice, account = l.Account }).ToArray(),
    };

    private async Task<JsonNode> IssuedInvoiceAsync(string book, long customer, string amount, string date = "2026-03-01") =>
        await (await Admin.PostJsonAsync(Url(book, "invoices"), new
        {
            customer, date, issue = true,
            lines = new[] { new { description = "Consulting", unitPrice = amount, account = "4000" } },
        })).AssertCreatedAsync();

    private static string Balance(JsonNode account) => account["balance"]!.GetValue<string>();

    [Fact]
    public async Task A_draft_posts_nothing_and_issuing_numbers_it_and_posts_one_balanced_entry()
    {
        var book = await StandardBookAsync();
        var customer = await App.CreateCustomerAsync(book, "Globex");
        var draft = await (await Admin.PostJsonAsync(Url(book, "invoices"),
            Invoice(customer, "2026-03-01", ("Hours", "2.5", "80.00", "4000"), ("Travel", null, "19.99", "4900")))).AssertCreatedAsync();
        Assert.Equal("draft", draft["status"]!.GetValue<string>());
        Assert.Null(draft["number"]);
        Assert.Equal(("200.00", "19.99"), (draft["lines"]![0]!["net"]!.GetValue<string>(), draft["lines"]![1]!["gross"]!.GetValue<string>()));
        Assert.Equal("219.99", draft["totals"]!["gross"]!.GetValue<string>());
        Assert.Empty(await App.AllEntriesAsync(book));

        var id = draft["id"]!.GetValue<long>();
        var issued = await (await Admin.PostJsonAsync($"{Url(book, "invoices")}/{id}/issue", new { })).AssertCreatedAsync();
        Assert.Equal(("INV-000001", "open", "2026-03-31"), (issued["number"]!.GetValue<string>(), issued["status"]!.GetValue<string>(), issued["dueDate"]!.GetValue<string>()));
        Assert.Equal("219.99", issued["amountDue"]!.GetValue<string>());
        var entry = await Admin.GetJsonAsync($"{EntriesUrl(book)}/{issued["journalEntryId"]}");
        Assert.Equal("invoice", entry["source"]!["type"]!.GetValue<string>());
        Assert.Equal("INV-000001", entry["source"]!["number"]!.GetValue<string>());
        Assert.Equal(customer, entry["lines"]![0]!["customer"]!.GetValue<long>());
        Assert.Equal("219.99", Balance(await App.AccountAsync(book, "1200")));
        Assert.Equal("200.00", Balance(await App.AccountAsync(book, "4000")));

        // Issued documents never change; the entry is not reversed by hand either.
        await (await Admin.PutAsJsonAsync($"{Url(book, "invoices")}/{id}", Invoice(customer, "2026-03-01", ("x", null, "1.00", "4000")))).AssertProblemAsync(HttpStatusCode.Conflict);
        await (await Admin.DeleteAsync($"{Url(book, "invoices")}/{id}")).AssertProblemAsync(HttpStatusCode.Conflict);
        await (await Admin.PostJsonAsync($"{Url(book, "invoices")}/{id}/issue", new { })).AssertProblemAsync(HttpStatusCode.Conflict);
        await (await Admin.PostRawAsync($"{EntriesUrl(book)}/{issued["journalEntryId"]}/reverse", "{}")).AssertProblemAsync(HttpStatusCode.Conflict);

        var second = await IssuedInvoiceAsync(book, customer, "10.00");
        Assert.Equal("INV-000002", second["number"]!.GetValue<string>());
    }

    [Fact]
    public async Task Drafts_are_replaced_and_deleted_and_refusals_name_their_field()
    {
        var book = await StandardBookAsync();
        var customer = await App.CreateCustomerAsync(book);
        var vendor = await App.CreateVendorAsync(book);
        var draft = await (await Admin.PostJsonAsync(Url(book, "invoices"), Invoice(customer, "2026-03-01", ("a", null, "1.00", "4000")))).AssertCreatedAsync();
        var replaced = await (await Admin.PutAsJsonAsync($"{Url(book, "invoices")}/{draft["id"]}",
            Invoice(customer, "2026-03-02", ("b", "3", "0.335", "4000")))).ReadJsonAsync();
        Assert.Equal(("2026-03-02", "1.01"), (replaced["date"]!.GetValue<string>(), replaced["totals"]!["gross"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"{Url(book, "invoices")}/{draft["id"]}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.GetAsync($"{Url(book, "invoices")}/{draft["id"]}")).StatusCode);

        await (await Admin.PostJsonAsync(Url(book, "invoices"), Invoice(vendor, "2026-03-01", ("a", null, "1.00", "4000")))).AssertValidationErrorAsync("customer");
        await (await Admin.PostJsonAsync(Url(book, "invoices"), new { vendor, date = "2026-03-01", lines = new[] { new { description = "a", unitPrice = "1", account = "4000" } } }))
            .AssertValidationErrorAsync("vendor");
        await (await Admin.PostJsonAsync(Url(book, "invoices"), Invoice(customer, "2026-03-01", ("a", null, "1.00", "9999")))).AssertValidationErrorAsync("lines[0].account");
        await (await Admin.PostJsonAsync(Url(book, "invoices"), Invoice(customer, "2026-03-01", ("a", null, "1.00", "1200")))).AssertValidationErrorAsync("lines[0].account");
        await (await Admin.PostJsonAsync(Url(book, "invoices"), Invoice(customer, "2026-03-01", ("a", "0", "1.00", "4000")))).AssertValidationErrorAsync("lines[0].quantity");
        await (await Admin.PostJsonAsync(Url(book, "invoices"), Invoice(customer, "2026-03-01", ("a", null, "-1", "4000")))).AssertValidationErrorAsync("lines[0].unitPrice");
        await (await Admin.PostJsonAsync(Url(book, "invoices"), new { customer, date = "2026-03-01", lines = new[] { new { description = "a", unitPrice = "1", account = "4000", taxRate = "NOPE" } } }))
            .AssertValidationErrorAsync("lines[0].taxRate");
        await (await Admin.PostJsonAsync(Url(book, "invoices"), new { customer, date = "2026-03-01", lines = Array.Empty<object>() })).AssertValidationErrorAsync("lines");

        Assert.Equal(HttpStatusCode.OK, (await Admin.PatchJsonAsync($"/v1/books/{book}/customers/{customer}", new { archived = true })).StatusCode);
        await (await Admin.PostJsonAsync(Url(book, "invoices"), Invoice(customer, "2026-03-01", ("a", null, "1.00", "4000")))).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Empty(await App.AllEntriesAsync(book));
    }

    [Fact]
    public async Task Payments_and_credit_notes_settle_invoices_through_allocations_that_never_exceed_what_is_open()
    {
        var book = await StandardBookAsync();
        var customer = await App.CreateCustomerAsync(book);
        var other = await App.CreateCustomerAsync(book, "Other");
        var invoice = await IssuedInvoiceAsync(book, customer, "100.00");
        var invoiceId = invoice["id"]!.GetValue<long>();

        var payment = await (await Admin.PostJsonAsync(Url(book, "payments"), new
        {
            customer, date = "2026-03-10", amount = "60.00", account = "1010",
            allocations = new[] { new { document = invoiceId, amount = "60.00" } },
        })).AssertCreatedAsync();
        Assert.Equal(("60.00", "0.00"), (payment["allocated"]!.GetValue<string>(), payment["unallocated"]!.GetValue<string>()));
        var partly = await Admin.GetJsonAsync($"{Url(book, "invoices")}/{invoiceId}");
        Assert.Equal(("partiallyPaid", "60.00", "40.00"), (partly["status"]!.GetValue<string>(), partly["amountPaid"]!.GetValue<string>(), partly["amountDue"]!.GetValue<string>()));

        // A payment of 50 with nothing allocated stays on the customer as credit; allocating more than is open is refused.
        var advance = await (await Admin.PostJsonAsync(Url(book, "payments"), new { customer, date = "2026-03-11", amount = "50.00", account = "1010" })).AssertCreatedAsync();
        var advanceId = advance["id"]!.GetValue<long>();
        Assert.Equal("50.00", advance["unallocated"]!.GetValue<string>());
        await (await Admin.PostJsonAsync(Url(book, "allocations"), new { document = invoiceId, against = advanceId, amount = "45.00" })).AssertProblemAsync(HttpStatusCode.Conflict);
        var otherInvoice = await IssuedInvoiceAsync(book, other, "10.00");
        await (await Admin.PostJsonAsync(Url(book, "allocations"), new { document = otherInvoice["id"], against = advanceId, amount = "5.00" })).AssertProblemAsync(HttpStatusCode.Conflict);
        var secondInvoice = await IssuedInvoiceAsync(book, customer, "5.00");
        await (await Admin.PostJsonAsync(Url(book, "allocations"), new { document = invoiceId, against = secondInvoice["id"], amount = "1.00" })).AssertProblemAsync(HttpStatusCode.Conflict);

        var allocation = await (await Admin.PostJsonAsync(Url(book, "allocations"), new { document = invoiceId, against = advanceId, amount = "40.00" })).AssertCreatedAsync();
        Assert.Equal("2026-03-11", allocation["date"]!.GetValue<string>());
        Assert.Equal("paid", (await Admin.GetJsonAsync($"{Url(book, "invoices")}/{invoiceId}"))["status"]!.GetValue<string>());

        // Undoing it reopens both; a credit note then settles the rest.
        var undone = await (await Admin.DeleteAsync($"{Url(book, "allocations")}/{allocation["id"]}")).ReadJsonAsync();
        Assert.NotNull(undone["undoneAt"]);
        Assert.Equal("40.00", (await Admin.GetJsonAsync($"{Url(book, "invoices")}/{invoiceId}"))["amountDue"]!.GetValue<string>());
        await (await Admin.DeleteAsync($"{Url(book, "allocations")}/{allocation["id"]}")).AssertProblemAsync(HttpStatusCode.Conflict);
        var namesABill = await (await Admin.PostJsonAsync(Url(book, "credit-notes"), new
        {
            customer, date = "2026-03-12", bill = invoiceId, issue = true,
            lines = new[] { new { description = "Discount", unitPrice = "40.00", account = "4000" } },
        })).AssertValidationErrorAsync("bill");
        Assert.Contains("A credit note corrects an invoice.", namesABill.ToJsonString());
        var credit = await (await Admin.PostJsonAsync(Url(book, "credit-notes"), new
        {
            customer, date = "2026-03-12", invoice = invoiceId, issue = true,
            lines = new[] { new { description = "Discount", unitPrice = "40.00", account = "4000" } },
        })).AssertCreatedAsync();
        Assert.Equal("CN-000001", credit["number"]!.GetValue<string>());
        await (await Admin.PostJsonAsync(Url(book, "allocations"), new { document = invoiceId, against = credit["id"], amount = "40.00" })).AssertCreatedAsync();
        Assert.Equal("paid", (await Admin.GetJsonAsync($"{Url(book, "invoices")}/{invoiceId}"))["status"]!.GetValue<string>());
        Assert.Equal("paid", (await Admin.GetJsonAsync($"{Url(book, "credit-notes")}/{credit["id"]}"))["status"]!.GetValue<string>());

        // Receivables: 100 + 10 + 5 invoiced, 60 + 50 paid, 40 credited: 115 − 150 = −35 (the customer's unused advance 50, less 15 open).
        Assert.Equal("-35.00", Balance(await App.AccountAsync(book, "1200")));
    }

    [Fact]
    public async Task Voiding_reverses_an_unallocated_document_and_leaves_nothing_open()
    {
        var book = await StandardBookAsync();
        var customer = await App.CreateCustomerAsync(book);
        var invoice = await IssuedInvoiceAsync(book, customer, "80.00");
        var id = invoice["id"]!.GetValue<long>();
        var payment = await (await Admin.PostJsonAsync(Url(book, "payments"), new
        {
            customer, date = "2026-03-05", amount = "30.00", account = "1010", allocations = new[] { new { document = id, amount = "30.00" } },
        })).AssertCreatedAsync();
        await (await Admin.PostJsonAsync($"{Url(book, "invoices")}/{id}/void", new { })).AssertProblemAsync(HttpStatusCode.Conflict);
        await (await Admin.PostJsonAsync($"{Url(book, "payments")}/{payment["id"]}/void", new { })).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal(2, (await App.AllEntriesAsync(book)).Count); // the refusals wrote nothing

        var paymentNow = await Admin.GetJsonAsync($"{Url(book, "payments")}/{payment["id"]}");
        Assert.Equal("30.00", paymentNow["allocated"]!.GetValue<string>());
        var allocation = paymentNow["allocations"]!.AsArray().Single()!;
        Assert.Equal(id, allocation["against"]!.GetValue<long>());
        await (await Admin.DeleteAsync($"{Url(book, "allocations")}/{allocation["id"]}")).ReadJsonAsync();
        await (await Admin.PostJsonAsync($"{Url(book, "invoices")}/{id}/void", new { date = "2026-02-01" })).AssertValidationErrorAsync("date");

        var voided = await (await Admin.PostJsonAsync($"{Url(book, "invoices")}/{id}/void", new { })).AssertCreatedAsync();
        Assert.Equal(("void", "0.00"), (voided["status"]!.GetValue<string>(), voided["amountDue"]!.GetValue<string>()));
        Assert.Empty(voided["allocations"]!.AsArray());
        Assert.Equal("-30.00", Balance(await App.AccountAsync(book, "1200"))); // the payment stays as the customer's credit
        Assert.Equal("0.00", Balance(await App.AccountAsync(book, "4000")));
        await (await Admin.PostJsonAsync($"{Url(book, "invoices")}/{id}/void", new { })).AssertProblemAsync(HttpStatusCode.Conflict);
        await (await Admin.PostJsonAsync(Url(book, "allocations"), new { document = id, against = payment["id"], amount = "1.00" })).AssertProblemAsync(HttpStatusCode.Conflict);

        // A payment is voided on its own date or a later one given (a cheque bounces after it was paid in), as a document is.
        var paymentDate = NodaTime.Text.LocalDatePattern.Iso.Parse(payment["date"]!.GetValue<string>()).Value;
        await (await Admin.PostJsonAsync($"{Url(book, "payments")}/{payment["id"]}/void", new { date = paymentDate.PlusDays(-1).ToString("yyyy-MM-dd", null) }))
            .AssertValidationErrorAsync("date");
        await (await Admin.PostJsonAsync($"{Url(book, "payments")}/{payment["id"]}/void", new { dated = "2026-12-01" })).AssertValidationErrorAsync("dated");
        var bounced = paymentDate.PlusDays(12).ToString("yyyy-MM-dd", null);
        var voidedPayment = await (await Admin.PostJsonAsync($"{Url(book, "payments")}/{payment["id"]}/void", new { date = bounced })).AssertCreatedAsync();
        Assert.Equal("void", voidedPayment["status"]!.GetValue<string>());
        var voidEntry = (await App.AllEntriesAsync(book)).Single(e => e!["description"]!.GetValue<string>().StartsWith("Void of payment", StringComparison.Ordinal));
        Assert.Equal(bounced, voidEntry!["date"]!.GetValue<string>());
        Assert.Equal("0.00", Balance(await App.AccountAsync(book, "1200")));
        Assert.Equal("0.00", Balance(await App.AccountAsync(book, "1010")));
        Assert.Equal(4, (await App.AllEntriesAsync(book)).Count);
        // Documents issued and voided, a payment allocated, undone and voided: the audit vouches for all of it.
        var verified = await Admin.GetJsonAsync($"/v1/books/{book}/audit/verify");
        Assert.True(verified["valid"]!.GetValue<bool>(), verified.ToJsonString());
    }

    [Fact]
    public async Task Bills_post_to_payables_and_a_vendor_reference_is_used_once_per_vendor()
    {
        var book = await StandardBookAsync();
        var vendor = await App.CreateVendorAsync(book, "Landlord");
        var bill = await (await Admin.PostJsonAsync(Url(book, "bills"), new
        {
            vendor, date = "2026-03-01", vendorReference = "R-77", issue = true,
            lines = new[] { new { description = "March rent", unitPrice = "1200.00", account = "6000" } },
        })).AssertCreatedAsync();
        Assert.Equal(("BILL-000001", "open"), (bill["number"]!.GetValue<string>(), bill["status"]!.GetValue<string>()));
        Assert.Equal("1200.00", Balance(await App.AccountAsync(book, "2000")));
        Assert.Equal("1200.00", Balance(await App.AccountAsync(book, "6000")));
        await (await Admin.PostJsonAsync(Url(book, "bills"), new
        {
            vendor, date = "2026-03-02", vendorReference = "R-77",
            lines = new[] { new { description = "Again", unitPrice = "1.00", account = "6000" } },
        })).AssertProblemAsync(HttpStatusCode.Conflict);

        var paid = await (await Admin.PostJsonAsync(Url(book, "payments"), new
        {
            vendor, date = "2026-03-15", amount = "1200.00", account = "1010", allocations = new[] { new { document = bill["id"], amount = "1200.00" } },
        })).AssertCreatedAsync();
        Assert.Equal("out", paid["direction"]!.GetValue<string>());
        Assert.Equal("paid", (await Admin.GetJsonAsync($"{Url(book, "bills")}/{bill["id"]}"))["status"]!.GetValue<string>());
        Assert.Equal("0.00", Balance(await App.AccountAsync(book, "2000")));
    }

    [Fact]
    public async Task Two_payments_racing_for_the_last_open_amount_of_one_invoice_allocate_once()
    {
        var book = await StandardBookAsync();
        var customer = await App.CreateCustomerAsync(book);
        var invoice = await IssuedInvoiceAsync(book, customer, "100.00");
        var responses = await Task.WhenAll(Enumerable.Range(0, 2).Select(i => Admin.PostJsonAsync(Url(book, "payments"), new
        {
            customer, date = "2026-03-20", amount = "100.00", account = "1010", reference = $"race {i}",
            allocations = new[] { new { document = invoice["id"], amount = "100.00" } },
        })));
        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Conflict);
        Assert.Equal("paid", (await Admin.GetJsonAsync($"{Url(book, "invoices")}/{invoice["id"]}"))["status"]!.GetValue<string>());
        // The refused payment wrote nothing: one invoice and one payment entry.
        Assert.Equal(2, (await App.AllEntriesAsync(book)).Count);
    }

    [Fact]
    public async Task Allocations_refuse_drafts_locked_dates_and_payments_refuse_accounts_that_are_not_bank_or_cash()
    {
        var book = await StandardBookAsync();
        var customer = await App.CreateCustomerAsync(book);
        var draft = await (await Admin.PostJsonAsync(Url(book, "invoices"), Invoice(customer, "2026-01-10", ("a", null, "10.00", "4000")))).AssertCreatedAsync();
        var invoice = await IssuedInvoiceAsync(book, customer, "10.00", date: "2026-01-10");
        var payment = await (await Admin.PostJsonAsync(Url(book, "payments"), new { customer, date = "2026-01-20", amount = "10.00", account = "1010" })).AssertCreatedAsync();
        await (await Admin.PostJsonAsync(Url(book, "allocations"), new { document = draft["id"], against = payment["id"], amount = "1.00" })).AssertProblemAsync(HttpStatusCode.Conflict);
        await (await Admin.PostJsonAsync(Url(book, "allocations"), new { document = 999999, against = payment["id"], amount = "1.00" })).AssertValidationErrorAsync("document");
        await (await Admin.PostJsonAsync(Url(book, "allocations"), new { document = invoice["id"], against = payment["id"], amount = "0" })).AssertValidationErrorAsync("amount");

        // Locked through 2026-01-31: an allocation dated then would change what was open in a closed period.
        Assert.Equal(HttpStatusCode.OK, (await Admin.PutAsJsonAsync($"/v1/books/{book}/lock-date", new { date = "2026-01-31" })).StatusCode);
        await (await Admin.PostJsonAsync(Url(book, "allocations"), new { document = invoice["id"], against = payment["id"], amount = "10.00" })).AssertProblemAsync(HttpStatusCode.Conflict);
        var allocated = await (await Admin.PostJsonAsync(Url(book, "allocations"), new { document = invoice["id"], against = payment["id"], amount = "10.00", date = "2026-02-01" })).AssertCreatedAsync();
        Assert.Equal("2026-02-01", allocated["date"]!.GetValue<string>());
        // Documents and payments dated in the closed period are refused like any entry.
        await (await Admin.PostJsonAsync(Url(book, "invoices"), new
        {
            customer, date = "2026-01-15", issue = true, lines = new[] { new { description = "late", unitPrice = "5.00", account = "4000" } },
        })).AssertProblemAsync(HttpStatusCode.Conflict);

        await (await Admin.PostJsonAsync(Url(book, "payments"), new { customer, date = "2026-02-20", amount = "5.00", account = "4000" })).AssertValidationErrorAsync("account");
        await (await Admin.PostJsonAsync(Url(book, "payments"), new { customer, date = "2026-02-20", amount = "5.00", account = "1200" })).AssertValidationErrorAsync("account");
        await (await Admin.PostJsonAsync(Url(book, "payments"), new { date = "2026-02-20", amount = "5.00", account = "1010" })).AssertValidationErrorAsync("customer");
    }

    [Fact]
    public async Task Lists_filter_by_party_dates_and_status_and_every_page_answers_as_the_single_reads_do()
    {
        var book = await StandardBookAsync();
        var acme = await App.CreateCustomerAsync(book, "Acme");
        var globex = await App.CreateCustomerAsync(book, "Globex");
        var ids = new Dictionary<long, (long Customer, string Date)>();
        for (var i = 0; i < 7; i++)
        {
            var customer = i % 3 == 0 ? globex : acme;
            var date = $"2026-03-{i + 1:D2}";
            ids[(await IssuedInvoiceAsync(book, customer, $"{10 + i}.00", date))["id"]!.GetValue<long>()] = (customer, date);
        }
        var draft = await (await Admin.PostJsonAsync(Url(book, "invoices"), Invoice(acme, "2026-03-04", ("Draft", null, "5.00", "4000")))).AssertCreatedAsync();
        ids[draft["id"]!.GetValue<long>()] = (acme, "2026-03-04");
        var acmeInvoices = ids.Where(i => i.Value.Customer == acme && i.Key != draft["id"]!.GetValue<long>()).Select(i => i.Key).Order().ToList();
        var payment = await (await Admin.PostJsonAsync(Url(book, "payments"), new
        {
            customer = acme, date = "2026-03-10", amount = "30.00", account = "1010",
            allocations = new[] { new { document = acmeInvoices[0], amount = "11.00" }, new { document = acmeInvoices[1], amount = "5.00" } },
        })).AssertCreatedAsync();
        await (await Admin.PostJsonAsync(Url(book, "payments"), new { customer = globex, date = "2026-03-11", amount = "1.00", account = "1010" })).AssertCreatedAsync();

        Task<List<JsonNode>> ListAsync(string route, string query) => Admin.AllPagesAsync($"{Url(book, route)}?limit=2&{query}", maxPages: 50);
        async Task SameAsSingleReads(string route, List<JsonNode> listed, IEnumerable<long> expected)
        {
            Assert.Equal(expected.OrderDescending(), listed.Select(i => i["id"]!.GetValue<long>()));
            foreach (var item in listed)
                Assert.Equal((await Admin.GetJsonAsync($"{Url(book, route)}/{item["id"]}")).ToJsonString(), item.ToJsonString());
        }

        await SameAsSingleReads("invoices", await ListAsync("invoices", $"customer={acme}"), ids.Where(i => i.Value.Customer == acme).Select(i => i.Key));
        await SameAsSingleReads("invoices", await ListAsync("invoices", "from=2026-03-03&to=2026-03-05"),
            ids.Where(i => string.CompareOrdinal(i.Value.Date, "2026-03-03") >= 0 && string.CompareOrdinal(i.Value.Date, "2026-03-05") <= 0).Select(i => i.Key));
        await SameAsSingleReads("invoices", await ListAsync("invoices", $"customer={acme}&status=paid"), [acmeInvoices[0]]);
        await SameAsSingleReads("invoices", await ListAsync("invoices", $"customer={acme}&status=partiallyPaid"), [acmeInvoices[1]]);
        await SameAsSingleReads("invoices", await ListAsync("invoices", "status=draft"), [draft["id"]!.GetValue<long>()]);
        var acmePayments = await ListAsync("payments", $"customer={acme}");
        await SameAsSingleReads("payments", acmePayments, [payment["id"]!.GetValue<long>()]);
        Assert.Equal(("16.00", "14.00", 2), (acmePayments[0]["allocated"]!.GetValue<string>(), acmePayments[0]["unallocated"]!.GetValue<string>(),
            acmePayments[0]["allocations"]!.AsArray().Count));
        Assert.Equal(2, (await ListAsync("payments", "from=2026-03-10")).Count);
        Assert.Empty(await ListAsync("payments", $"vendor={acme}"));
    }
}
