using System.Net;
using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Documents;

public sealed class AgingTests(SharedApp shared) : SharedAppTest(shared)
{
    private static string Url(string book, string route) => $"/v1/books/{book}/{route}";

    private async Task<long> InvoiceAsync(string book, long customer, string date, string amount, string? dueDate = null) =>
        (await (await Admin.PostJsonAsync(Url(book, "invoices"), new
        {
            customer, date, dueDate, issue = true,
            lines = new[] { new { description = "Work", unitPrice = amount, account = "4000" } },
        })).AssertCreatedAsync())["id"]!.GetValue<long>();

    private static string Column(JsonNode party, string column) => party["columns"]![column]!.GetValue<string>();

    [Fact]
    public async Task Receivables_are_aged_by_due_date_into_buckets_and_tie_out_to_the_control_account()
    {
        var book = await StandardBookAsync();
        var acme = await App.CreateCustomerAsync(book, "Acme");
        var globex = await App.CreateCustomerAsync(book, "Globex");
        await InvoiceAsync(book, acme, "2026-01-01", "100.00", dueDate: "2026-01-31");   // 120 days before 2026-05-31: older
        await InvoiceAsync(book, acme, "2026-04-01", "200.00", dueDate: "2026-05-01");   // 30 days: 1-30
        var partly = await InvoiceAsync(book, globex, "2026-03-01", "300.00", dueDate: "2026-03-31"); // 61 days: 61-90
        await InvoiceAsync(book, globex, "2026-05-20", "50.00", dueDate: "2026-06-19");   // not due: current
        await (await Admin.PostJsonAsync(Url(book, "payments"), new
        {
            customer = globex, date = "2026-04-15", amount = "120.00", account = "1010",
            allocations = new[] { new { document = partly, amount = "100.00" } },     // 20.00 left as credit, dated 2026-04-15: 46 days
        })).AssertCreatedAsync();
        // An opening balance posted by hand is an open item too (due on its date).
        await App.PostEntryOkAsync(book, "2025-12-31", "Opening", ($"1200/customer:{acme}", "10.00", null), ("3000", null, "10.00"));

        var aging = await Admin.GetJsonAsync($"{Url(book, "reports/aged-receivables")}?asOf=2026-05-31");
        var parties = aging["parties"]!.AsArray();
        Assert.Equal(["Acme", "Globex"], parties.Select(p => p!["name"]!.GetValue<string>()));
        Assert.Equal(("0.00", "200.00", "0.00", "0.00", "110.00", "310.00"),
            (Column(parties[0]!, "current"), Column(parties[0]!, "1-30"), Column(parties[0]!, "31-60"), Column(parties[0]!, "61-90"), Column(parties[0]!, "older"), parties[0]!["total"]!.GetValue<string>()));
        Assert.Equal(("50.00", "0.00", "-20.00", "200.00", "0.00", "230.00"),
            (Column(parties[1]!, "current"), Column(parties[1]!, "1-30"), Column(parties[1]!, "31-60"), Column(parties[1]!, "61-90"), Column(parties[1]!, "older"), parties[1]!["total"]!.GetValue<string>()));
        Assert.Equal("540.00", aging["totals"]!["total"]!.GetValue<string>());
        Assert.Equal(("1200", "540.00", "0.00"), (aging["controlAccount"]!["account"]!.GetValue<string>(), aging["controlAccount"]!["balance"]!.GetValue<string>(), aging["difference"]!.GetValue<string>()));
        Assert.Equal("540.00", (await App.AccountAsync(book, "1200"))["balance"]!.GetValue<string>());

        // As of an earlier date, later documents and the payment are not there yet; basis=documentDate ages from the date.
        var earlier = await Admin.GetJsonAsync($"{Url(book, "reports/aged-receivables")}?asOf=2026-04-10&basis=documentDate&buckets=45");
        Assert.Equal(["current", "1-45", "older"], earlier["totals"]!["columns"]!.AsObject().Select(c => c.Key));
        Assert.Equal(("610.00", "0.00"), (earlier["totals"]!["total"]!.GetValue<string>(), earlier["difference"]!.GetValue<string>()));

        var detail = await Admin.GetJsonAsync($"{Url(book, "reports/aged-receivables")}?asOf=2026-05-31&detail=true");
        var credit = detail["items"]!.AsArray().Single(i => i!["sourceType"]!.GetValue<string>() == "payment")!;
        Assert.Equal(("-20.00", "-120.00", 46, "31-60"), (credit["open"]!.GetValue<string>(), credit["amount"]!.GetValue<string>(), credit["daysOverdue"]!.GetValue<int>(), credit["column"]!.GetValue<string>()));
        Assert.Equal(6, detail["items"]!.AsArray().Count); // Acme: opening, two invoices; Globex: two invoices, the credit

        var csv = await Admin.GetAsync($"{Url(book, "reports/aged-receivables")}?asOf=2026-05-31&format=csv");
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("code,name,current,1-30,31-60,61-90,older,total", await csv.Content.ReadAsStringAsync());
        await (await Admin.GetAsync($"{Url(book, "reports/aged-receivables")}?buckets=60,30")).AssertValidationErrorAsync("buckets");
        await (await Admin.GetAsync($"{Url(book, "reports/aged-receivables")}?basis=later")).AssertValidationErrorAsync("basis");
    }

    [Fact]
    public async Task Undone_allocations_and_later_allocations_do_not_change_what_was_open_as_known_then()
    {
        var book = await StandardBookAsync();
        var customer = await App.CreateCustomerAsync(book);
        var invoice = await InvoiceAsync(book, customer, "2026-02-01", "100.00", dueDate: "2026-03-03");
        var payment = (await (await Admin.PostJsonAsync(Url(book, "payments"), new { customer, date = "2026-03-10", amount = "100.00", account = "1010" })).AssertCreatedAsync())["id"]!;
        // Unallocated, the payment is a credit aged by its own date (21 days), beside the invoice 28 days overdue.
        var before = await Admin.GetJsonAsync($"{Url(book, "reports/aged-receivables")}?asOf=2026-03-31&detail=true");
        Assert.Equal(["100.00", "-100.00"], before["items"]!.AsArray().Select(i => i!["open"]!.GetValue<string>()));
        Assert.All(before["items"]!.AsArray(), i => Assert.Equal("1-30", i!["column"]!.GetValue<string>()));

        var allocation = await (await Admin.PostJsonAsync(Url(book, "allocations"), new { document = invoice, against = payment, amount = "100.00" })).AssertCreatedAsync();
        Assert.Equal("2026-03-10", allocation["date"]!.GetValue<string>());
        // Back-dated aging before the allocation's date still shows both items open.
        var backdated = await Admin.GetJsonAsync($"{Url(book, "reports/aged-receivables")}?asOf=2026-03-09");
        Assert.Equal("100.00", backdated["totals"]!["total"]!.GetValue<string>());
        var settled = await Admin.GetJsonAsync($"{Url(book, "reports/aged-receivables")}?asOf=2026-03-31");
        Assert.Empty(settled["parties"]!.AsArray());
        Assert.Equal(("0.00", "0.00"), (settled["totals"]!["total"]!.GetValue<string>(), settled["difference"]!.GetValue<string>()));
        var recordedAt = allocation["recordedAt"]!.GetValue<string>();

        await Task.Delay(20);
        var undone = await (await Admin.DeleteAsync($"{Url(book, "allocations")}/{allocation["id"]}")).ReadJsonAsync();
        Assert.Equal(2, (await Admin.GetJsonAsync($"{Url(book, "reports/aged-receivables")}?asOf=2026-03-31&detail=true"))["items"]!.AsArray().Count);
        // As known when the allocation was recorded (before it was undone), the report is what it was then.
        var asKnown = await Admin.GetJsonAsync($"{Url(book, "reports/aged-receivables")}?asOf=2026-03-31&knownAt={Uri.EscapeDataString(recordedAt)}");
        Assert.Empty(asKnown["parties"]!.AsArray());
        Assert.NotNull(undone["undoneAt"]);

        await (await Admin.PostJsonAsync(Url(book, "allocations"), new { document = invoice, against = payment, amount = "1.00", date = "2026-02-15" }))
            .AssertValidationErrorAsync("date");
    }

    [Fact]
    public async Task Payables_are_shown_owed_positive_and_tie_out_to_the_payables_account()
    {
        var book = await StandardBookAsync();
        var vendor = await App.CreateVendorAsync(book, "Landlord");
        await (await Admin.PostJsonAsync(Url(book, "bills"), new
        {
            vendor, date = "2026-03-01", dueDate = "2026-03-15", issue = true,
            lines = new[] { new { description = "Rent", unitPrice = "1200.00", account = "6000" } },
        })).AssertCreatedAsync();
        await (await Admin.PostJsonAsync(Url(book, "payments"), new { vendor, date = "2026-03-20", amount = "200.00", account = "1010" })).AssertCreatedAsync();
        var aging = await Admin.GetJsonAsync($"{Url(book, "reports/aged-payables")}?asOf=2026-03-31");
        var party = aging["parties"]![0]!;
        // The bill is 16 days overdue; the advance, aged by its own date, 11 days old: both in 1-30.
        Assert.Equal(("1000.00", "0.00", "1000.00"), (Column(party, "1-30"), Column(party, "current"), party["total"]!.GetValue<string>()));
        var detail = await Admin.GetJsonAsync($"{Url(book, "reports/aged-payables")}?asOf=2026-03-31&detail=true");
        Assert.Equal(["1200.00", "-200.00"], detail["items"]!.AsArray().Select(i => i!["open"]!.GetValue<string>()));
        Assert.Equal(("2000", "1000.00", "0.00"), (aging["controlAccount"]!["account"]!.GetValue<string>(), aging["controlAccount"]!["balance"]!.GetValue<string>(), aging["difference"]!.GetValue<string>()));
    }
}
