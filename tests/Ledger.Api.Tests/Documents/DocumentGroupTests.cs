using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Ledger.Api.Infrastructure;
using Ledger.Api.Tests.PartyReports;
using Ledger.Api.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Ledger.Api.Tests.Documents;

/// <summary>
/// Documents read their party, accounts, tax rates and number counter once per writer group and keep them in memory for
/// the group's later requests. These tests put changes to those rows in the middle of one group and check that the
/// documents after them see the change, and that numbers stay gapless across refusals.
/// </summary>
public sealed class DocumentGroupTests(SharedApp shared) : SharedAppTest(shared)
{
    private static string Url(string book, string route) => $"/v1/books/{book}/{route}";

    private static string InvoiceJson(long customer, string account = "4000", string? taxRate = null) => new JsonObject
    {
        ["customer"] = customer, ["date"] = "2026-04-01", ["issue"] = true,
        ["lines"] = new JsonArray(new JsonObject { ["description"] = "Work", ["unitPrice"] = "100.00", ["account"] = account, ["taxRate"] = taxRate }),
    }.ToJsonString();

    /// <summary>Sends a request and waits until the writer has queued it, so requests queue in the order they are sent.</summary>
    private static async Task<Task<HttpResponseMessage>> QueuedAsync(LedgerWriter writer, Func<Task<HttpResponseMessage>> send)
    {
        var before = writer.QueuedWrites;
        var response = send();
        for (var i = 0; i < 500 && writer.QueuedWrites == before && !response.IsCompleted; i++) await Task.Delay(10);
        Assert.False(response.IsCompleted, "The request was answered while the writer was held.");
        Assert.Equal(before + 1, writer.QueuedWrites);
        return response;
    }

    [Fact]
    public async Task Invoices_later_in_a_group_see_the_party_rate_and_number_changes_made_earlier_in_it()
    {
        var book = await StandardBookAsync();
        await Admin.TaxRateAsync(book, "VAT19", "19", "2100", "1400");
        var acme = await App.CreateCustomerAsync(book, "Acme");
        var writer = App.Services.GetRequiredService<LedgerWriter>();

        var (blocker, release) = await writer.HoldAsync();
        var invoices = Url(book, "invoices");
        var first = await QueuedAsync(writer, () => Admin.PostRawAsync(invoices, InvoiceJson(acme, taxRate: "VAT19")));
        var unknownAccount = await QueuedAsync(writer, () => Admin.PostRawAsync(invoices, InvoiceJson(acme, account: "9999")));
        var archive = await QueuedAsync(writer, () => Admin.PatchJsonAsync(Url(book, $"customers/{acme}"), new { archived = true }));
        var whileArchived = await QueuedAsync(writer, () => Admin.PostRawAsync(invoices, InvoiceJson(acme)));
        var renamed = await QueuedAsync(writer, () => Admin.PatchJsonAsync(Url(book, $"customers/{acme}"), new { archived = false, name = "Acme Ltd", paymentTermsDays = 10 }));
        var archiveRate = await QueuedAsync(writer, () => Admin.PatchJsonAsync(Url(book, "tax-rates/VAT19"), new { archived = true }));
        var archivedRate = await QueuedAsync(writer, () => Admin.PostRawAsync(invoices, InvoiceJson(acme, taxRate: "VAT19")));
        var second = await QueuedAsync(writer, () => Admin.PostRawAsync(invoices, InvoiceJson(acme)));
        release.Set();
        await blocker;

        var firstInvoice = await (await first).AssertCreatedAsync();
        Assert.Equal(("INV-000001", "119.00"), (firstInvoice["number"].Text(), firstInvoice["totals"]!["gross"].Text()));
        await (await unknownAccount).AssertValidationErrorAsync("lines[0].account");
        Assert.Equal(HttpStatusCode.OK, (await archive).StatusCode);
        await (await whileArchived).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal(HttpStatusCode.OK, (await renamed).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await archiveRate).StatusCode);
        await (await archivedRate).AssertValidationErrorAsync("lines[0].taxRate");
        // Numbers stay gapless across the refusals, and the invoice after the rename has the new name and terms.
        var secondInvoice = await (await second).AssertCreatedAsync();
        Assert.Equal(("INV-000002", "2026-04-11"), (secondInvoice["number"].Text(), secondInvoice["dueDate"].Text()));
        var entry = await Admin.GetJsonAsync(Url(book, $"journal-entries/{secondInvoice["journalEntryId"]!.GetValue<long>()}"));
        Assert.Equal("Invoice INV-000002, Acme Ltd", entry["description"].Text());

        // The counter was written back: the next group numbers on.
        var third = await (await Admin.PostRawAsync(invoices, InvoiceJson(acme))).AssertCreatedAsync();
        Assert.Equal("INV-000003", third["number"].Text());
    }

    [Fact]
    public async Task Payments_later_in_a_group_see_the_lock_date_moved_and_the_allocations_made_earlier_in_it()
    {
        var book = await StandardBookAsync();
        var acme = await App.CreateCustomerAsync(book, "Acme");
        var invoice = await Admin.InvoiceAsync(book, acme, "2026-03-01", "100.00");
        var writer = App.Services.GetRequiredService<LedgerWriter>();
        string Payment(string date, string amount) => new JsonObject
        {
            ["customer"] = acme, ["date"] = date, ["amount"] = amount, ["account"] = "1010",
            ["allocations"] = new JsonArray(new JsonObject { ["document"] = invoice, ["amount"] = amount }),
        }.ToJsonString();

        var (blocker, release) = await writer.HoldAsync();
        var payments = Url(book, "payments");
        var first = await QueuedAsync(writer, () => Admin.PostRawAsync(payments, Payment("2026-03-10", "60.00")));
        var tooMuch = await QueuedAsync(writer, () => Admin.PostRawAsync(payments, Payment("2026-03-11", "50.00")));
        var locked = await QueuedAsync(writer, () => Admin.PutAsJsonAsync(Url(book, "lock-date"), new { date = "2026-03-15" }));
        var inLocked = await QueuedAsync(writer, () => Admin.PostRawAsync(payments, Payment("2026-03-12", "40.00")));
        var rest = await QueuedAsync(writer, () => Admin.PostRawAsync(payments, Payment("2026-03-20", "40.00")));
        release.Set();
        await blocker;

        await (await first).AssertCreatedAsync();
        // Only 40.00 was left open after the first payment of the group.
        await (await tooMuch).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.True((await locked).IsSuccessStatusCode);
        // The payment dated in the period locked earlier in the group is refused (its entry, or its allocation).
        Assert.True((await inLocked).StatusCode is HttpStatusCode.Conflict or HttpStatusCode.UnprocessableEntity);
        await (await rest).AssertCreatedAsync();
        var paid = await Admin.GetJsonAsync(Url(book, $"invoices/{invoice}"));
        Assert.Equal(("paid", "0.00"), (paid["status"].Text(), paid["amountDue"].Text()));
    }
}
