using System.Net;
using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.PartyReports;

public sealed class StatementTests(SharedApp shared) : SharedAppTest(shared)
{
    private static string Url(string book, string route) => $"/v1/books/{book}/{route}";

    private static (string Date, string Type, string? Number, string Amount, string Balance, bool Reversal) Row(JsonNode line) =>
        (line["date"].Text(), line["type"].Text(), line["number"]?.GetValue<string>(), line["amount"].Text(), line["balance"].Text(),
            line["reversal"]!.GetValue<bool>());

    private async Task<string> AgedTotalAsync(string book, string ledger, long party, string asOf)
    {
        var aging = await Admin.GetJsonAsync($"{Url(book, $"reports/aged-{ledger}")}?asOf={asOf}");
        return aging["parties"]!.AsArray().SingleOrDefault(p => p!["id"]!.GetValue<long>() == party)?["total"].Text() ?? "0.00";
    }

    [Fact]
    public async Task A_customer_statement_runs_from_the_opening_balance_through_every_line_to_what_aging_says_is_owed()
    {
        var book = await StandardBookAsync();
        var acme = await App.CreateCustomerAsync(book, "Acme");
        var globex = await App.CreateCustomerAsync(book, "Globex");
        // Owed before the period: an opening balance posted by hand.
        await App.PostEntryOkAsync(book, "2025-12-31", "Opening balance", ($"1200/customer:{acme}", "10.00", null), ("3000", null, "10.00"));
        var first = await Admin.InvoiceAsync(book, acme, "2026-01-10", "100.00");
        var second = await Admin.InvoiceAsync(book, acme, "2026-02-01", "200.00", reference: "PO-7");
        await Admin.PaymentAsync(book, acme, customer: true, "2026-02-15", "150.00", reference: "BANK-1", allocations: [(first, "100.00"), (second, "50.00")]);
        await Admin.DocumentAsync(book, "credit-notes", acme, "2026-02-20", [new Line("20.00")], corrects: second);
        var voided = await Admin.InvoiceAsync(book, acme, "2026-03-01", "50.00");
        await Admin.VoidAsync(book, "invoices", voided, "2026-03-05");
        await Admin.InvoiceAsync(book, acme, "2026-04-10", "70.00");     // after the period
        await Admin.InvoiceAsync(book, globex, "2026-02-01", "999.00");  // another customer
        await Admin.DocumentAsync(book, "invoices", acme, "2026-02-02", [new Line("5.00")], issue: false); // a draft posts nothing

        var statement = await Admin.GetJsonAsync($"{Url(book, $"customers/{acme}/statement")}?from=2026-01-01&to=2026-03-31");
        Assert.Equal(("Acme", "2026-01-01", "2026-03-31", "EUR"), (statement["party"]!["name"].Text(), statement["from"].Text(), statement["to"].Text(), statement["currency"].Text()));
        Assert.Equal("10.00", statement["openingBalance"].Text());
        var lines = statement["lines"]!.AsArray().Select(l => l!).ToList();
        Assert.Equal(
        [
            ("2026-01-10", "invoice", "INV-000001", "100.00", "110.00", false),
            ("2026-02-01", "invoice", "INV-000002", "200.00", "310.00", false),
            ("2026-02-15", "payment", null, "-150.00", "160.00", false),
            ("2026-02-20", "credit_note", "CN-000001", "-20.00", "140.00", false),
            ("2026-03-01", "invoice", "INV-000003", "50.00", "190.00", false),
            ("2026-03-05", "invoice", "INV-000003", "-50.00", "140.00", true),
        ], lines.Select(Row));
        Assert.Equal("140.00", statement["closingBalance"].Text());
        Assert.Equal(("PO-7", "2026-03-03"), (lines[1]["reference"].Text(), lines[1]["dueDate"].Text()));
        Assert.Equal(("BANK-1", second), (lines[2]["reference"].Text(), lines[1]["id"]!.GetValue<long>()));
        Assert.Null(lines[2]["dueDate"]);
        Assert.Null(lines[5]["dueDate"]);
        // The closing balance is what the customer owes at to: its total in aged receivables as of that date.
        Assert.Equal("140.00", await AgedTotalAsync(book, "receivables", acme, "2026-03-31"));

        // A later window opens with what the earlier one closed on.
        var february = await Admin.GetJsonAsync($"{Url(book, $"customers/{acme}/statement")}?from=2026-02-01&to=2026-02-28");
        Assert.Equal(("110.00", "140.00", 3), (february["openingBalance"].Text(), february["closingBalance"].Text(), february["lines"]!.AsArray().Count));
        Assert.Equal("140.00", await AgedTotalAsync(book, "receivables", acme, "2026-02-28"));
        var later = await Admin.GetJsonAsync($"{Url(book, $"customers/{acme}/statement")}?from=2026-01-01&to=2026-12-31");
        Assert.Equal("210.00", later["closingBalance"].Text());
        Assert.Equal("210.00", await AgedTotalAsync(book, "receivables", acme, "2026-12-31"));

        var csv = await Admin.GetAsync($"{Url(book, $"customers/{acme}/statement")}?from=2026-01-01&to=2026-03-31&format=csv");
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        var rows = (await csv.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("date,type,id,number,reference,description,dueDate,reversal,entryId,amount,balance", rows[0]);
        Assert.Equal("2026-01-01,,,,,Opening balance,,,,,10.00", rows[1]);
        Assert.StartsWith("2026-01-10,invoice,", rows[2]);
        Assert.Equal("2026-03-31,,,,,Closing balance,,,,,140.00", rows[^1]);
        Assert.Equal(9, rows.Length);
    }

    [Fact]
    public async Task A_vendor_statement_is_owed_positive_and_closes_on_the_aged_payables_total()
    {
        var book = await StandardBookAsync();
        var vendor = await App.CreateVendorAsync(book, "Landlord");
        var bill = await Admin.BillAsync(book, vendor, "2026-03-01", "1200.00");
        await Admin.DocumentAsync(book, "vendor-credits", vendor, "2026-03-05", [new Line("200.00")], corrects: bill);
        await Admin.PaymentAsync(book, vendor, customer: false, "2026-03-20", "500.00", allocations: [(bill, "500.00")]);

        var statement = await Admin.GetJsonAsync($"{Url(book, $"vendors/{vendor}/statement")}?from=2026-03-01&to=2026-03-31");
        Assert.Equal("0.00", statement["openingBalance"].Text());
        Assert.Equal(
        [
            ("2026-03-01", "bill", "BILL-000001", "1200.00", "1200.00", false),
            ("2026-03-05", "vendor_credit", "VC-000001", "-200.00", "1000.00", false),
            ("2026-03-20", "payment", null, "-500.00", "500.00", false),
        ], statement["lines"]!.AsArray().Select(l => Row(l!)));
        Assert.Equal("500.00", statement["closingBalance"].Text());
        Assert.Equal("500.00", await AgedTotalAsync(book, "payables", vendor, "2026-03-31"));
    }

    [Fact]
    public async Task An_unknown_party_or_one_of_the_other_kind_is_404_and_bad_query_values_are_400()
    {
        var book = await StandardBookAsync();
        var customer = await App.CreateCustomerAsync(book);
        var vendor = await App.CreateVendorAsync(book);
        await (await Admin.GetAsync(Url(book, $"customers/{vendor}/statement"))).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await Admin.GetAsync(Url(book, $"vendors/{customer}/statement"))).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await Admin.GetAsync(Url(book, "customers/999999/statement"))).AssertProblemAsync(HttpStatusCode.NotFound);
        var otherBook = await StandardBookAsync();
        await (await Admin.GetAsync(Url(otherBook, $"customers/{customer}/statement"))).AssertProblemAsync(HttpStatusCode.NotFound);

        await (await Admin.GetAsync($"{Url(book, $"customers/{customer}/statement")}?from=2026-02-30")).AssertValidationErrorAsync("from");
        await (await Admin.GetAsync($"{Url(book, $"customers/{customer}/statement")}?to=yesterday")).AssertValidationErrorAsync("to");
        await (await Admin.GetAsync($"{Url(book, $"customers/{customer}/statement")}?from=2026-03-02&to=2026-03-01")).AssertValidationErrorAsync("from");
        await (await Admin.GetAsync($"{Url(book, $"vendors/{vendor}/statement")}?format=xml")).AssertValidationErrorAsync("format");
        // A from after the default to (today) is refused too.
        await (await Admin.GetAsync($"{Url(book, $"customers/{customer}/statement")}?from=9999-12-31")).AssertValidationErrorAsync("from");

        var empty = await Admin.GetJsonAsync($"{Url(book, $"customers/{customer}/statement")}?from=2026-01-01&to=2026-01-31");
        Assert.Equal(("0.00", "0.00"), (empty["openingBalance"].Text(), empty["closingBalance"].Text()));
        Assert.Empty(empty["lines"]!.AsArray());
    }
}
