using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.PartyReports;

/// <summary>The account view and the statement's default period stand at today: the app's clock says 2026-04-01.</summary>
public sealed class PartyAccountTests : FakeClockAppTest
{
    private static string Url(string book, string route) => $"/v1/books/{book}/{route}";

    private static (string ThisYear, string LastYear, string Last12Months) Periods(JsonNode periods) =>
        (periods["thisYear"].Text(), periods["lastYear"].Text(), periods["last12Months"].Text());

    [Fact]
    public async Task A_customer_account_shows_revenue_by_fiscal_year_what_is_owed_and_overdue_and_how_fast_it_pays()
    {
        var book = await StandardBookAsync();
        // Fiscal years from April: this year is 2026-04-01..2027-03-31, last year 2025-04-01..2026-03-31, and the last
        // 12 months are 2025-04-02..2026-04-01.
        Assert.Equal(HttpStatusCode.OK, (await Admin.PatchJsonAsync($"/v1/books/{book}", new { fiscalYearStartMonth = 4 })).StatusCode);
        await Admin.TaxRateAsync(book, "VAT19", "19", "2100", "1400");
        var acme = await App.CreateCustomerAsync(book, "Acme");
        var other = await App.CreateCustomerAsync(book, "Other");

        var old = await Admin.InvoiceAsync(book, acme, "2025-03-15", "1000.00");                                     // no period
        await Admin.PaymentAsync(book, acme, customer: true, "2025-03-20", "1000.00", allocations: [(old, "1000.00")]); // paid over a year ago
        await Admin.DocumentAsync(book, "invoices", acme, "2025-04-01", [new Line("100.00", "VAT19")]);               // last year: 100 net, 119 owed
        var june = await Admin.InvoiceAsync(book, acme, "2025-06-01", "300.00");                                    // last year, last 12 months
        await Admin.PaymentAsync(book, acme, customer: true, "2025-06-12", "300.00", allocations: [(june, "300.00")]); // 11 days
        await Admin.DocumentAsync(book, "credit-notes", acme, "2025-07-01", [new Line("50.00")]);                    // unallocated credit
        var january = await Admin.InvoiceAsync(book, acme, "2026-01-01", "400.00");                                 // due 2026-01-31
        await Admin.PaymentAsync(book, acme, customer: true, "2026-01-31", "100.00", allocations: [(january, "100.00")]); // 30 days, 100
        // This year, not yet due: 200 earned, and 30 passed on at cost (credited to the expense it recovers): no revenue.
        await Admin.DocumentAsync(book, "invoices", acme, "2026-04-01", [new Line("200.00"), new Line("30.00", Account: "6000")]);
        var voided = await Admin.InvoiceAsync(book, acme, "2026-02-01", "80.00");
        await Admin.VoidAsync(book, "invoices", voided, "2026-02-05");
        await Admin.DocumentAsync(book, "invoices", acme, "2026-03-01", [new Line("999.00")], issue: false);
        var credit = await Admin.PaymentAsync(book, acme, customer: true, "2026-03-01", "60.00");
        var undone = await Admin.AllocateAsync(book, january, credit, "60.00");
        Assert.Equal(HttpStatusCode.OK, (await Admin.DeleteAsync(Url(book, $"allocations/{undone}"))).StatusCode);
        var voidedPayment = await Admin.PaymentAsync(book, acme, customer: true, "2026-03-15", "10.00");
        await Admin.VoidAsync(book, "payments", voidedPayment);
        var refund = await Admin.PaymentAsync(book, acme, customer: true, "2026-03-20", "5.00", direction: "out"); // a refund
        await Admin.AllocateAsync(book, refund, credit, "5.00");                                                  // of the credit
        await Admin.InvoiceAsync(book, other, "2026-01-01", "777.00");
        // Hand-posted on receivables: an opening balance (due on its own date, so overdue) and a debit dated today (not yet).
        await App.PostEntryOkAsync(book, "2025-03-31", "Opening balance", ($"1200/customer:{acme}", "70.00", null), ("3000", null, "70.00"));
        await App.PostEntryOkAsync(book, "2026-04-01", "Recharge", ($"1200/customer:{acme}", "7.00", null), ("4000", null, "7.00"));
        // A second opening balance posted by mistake and reversed: neither it nor its reversal is owed or overdue.
        var mistake = await App.PostEntryOkAsync(book, "2025-03-31", "Opening balance, twice", ($"1200/customer:{acme}", "70.00", null), ("3000", null, "70.00"));
        await (await Admin.PostRawAsync($"{Url(book, "journal-entries")}/{mistake["id"]!.GetValue<long>()}/reverse",
            """{"date":"2026-03-31","description":"Posted twice"}""")).AssertCreatedAsync();

        var account = await Admin.GetJsonAsync(Url(book, $"customers/{acme}/account"));
        Assert.Equal(("Acme", "2026-04-01", "EUR"), (account["party"]!["name"].Text(), account["asOf"].Text(), account["currency"].Text()));
        // Net of tax, credit notes deducted, issued only: this year 200; last year 100 + 300 + 400 − 50; 12 months 300 + 400 + 200 − 50.
        Assert.Equal(("200.00", "750.00", "850.00"), Periods(account["revenue"]!));
        // Owed now: 119 + 300 open of January + 230 − 50 credit note − 60 unallocated payment + 5 refunded + 70 + 7 by hand.
        Assert.Equal("621.00", account["openBalance"].Text());
        Assert.Equal("621.00", (await Admin.GetJsonAsync(Url(book, "reports/aged-receivables")))["parties"]!.AsArray()
            .Single(p => p!["id"]!.GetValue<long>() == acme)!["total"].Text());
        // Past due: 119 (due 2025-05-01) and 300 of January, which the overdue invoice list shows, and the opening balance;
        // the April invoice and today's recharge are not due yet, and neither credits nor the refund are a debt fallen due.
        Assert.Equal("489.00", account["overdueBalance"].Text());
        var overdue = await Admin.GetJsonAsync($"{Url(book, "invoices")}?customer={acme}&overdue=true");
        Assert.Equal(419.00m, overdue["items"]!.AsArray().Sum(i => decimal.Parse(i!["amountDue"].Text(), CultureInfo.InvariantCulture)));
        // The unallocated credit note of last July is a credit waiting to be used, never late.
        var creditNote = Assert.Single((await Admin.GetJsonAsync($"{Url(book, "credit-notes")}?customer={acme}"))["items"]!.AsArray())!;
        Assert.Equal(("50.00", false), (creditNote["amountDue"].Text(), creditNote["overdue"]!.GetValue<bool>()));
        Assert.Empty((await Admin.GetJsonAsync($"{Url(book, "credit-notes")}?customer={acme}&overdue=true"))["items"]!.AsArray());
        // (300 × 11 + 100 × 30) / 400 = 15.75: the void's match, the undone allocation, the refund matched with the credit it
        // paid back (no debt of the customer's) and last March's payment do not count.
        Assert.Equal(15.8m, account["averageDaysToPay"]!.GetValue<decimal>());
        Assert.Equal((5L, "2026-04-01", "2026-03-01"), (account["invoiceCount"]!.GetValue<long>(), account["lastInvoiceDate"].Text(), account["lastPaymentDate"].Text()));

        var fresh = await Admin.GetJsonAsync(Url(book, $"customers/{await App.CreateCustomerAsync(book, "New")}/account"));
        Assert.Equal(("0.00", "0.00", "0.00"), Periods(fresh["revenue"]!));
        Assert.Equal(("0.00", "0.00", 0L), (fresh["openBalance"].Text(), fresh["overdueBalance"].Text(), fresh["invoiceCount"]!.GetValue<long>()));
        Assert.Null(fresh["averageDaysToPay"]);
        Assert.Null(fresh["lastInvoiceDate"]);
        Assert.Null(fresh["lastPaymentDate"]);

        var vendor = await App.CreateVendorAsync(book);
        await (await Admin.GetAsync(Url(book, $"customers/{vendor}/account"))).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await Admin.GetAsync(Url(book, $"vendors/{acme}/account"))).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await Admin.GetAsync(Url(book, "customers/999999/account"))).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_vendor_account_shows_spend_and_what_the_book_owes_owed_positive()
    {
        var book = await StandardBookAsync();   // fiscal years are calendar years
        var vendor = await App.CreateVendorAsync(book, "Supplier");
        await Admin.BillAsync(book, vendor, "2025-03-01", "500.00");                                                 // last year; due 2025-03-31
        var october = await Admin.BillAsync(book, vendor, "2025-10-01", "1000.00");
        await Admin.PaymentAsync(book, vendor, customer: false, "2025-10-21", "1000.00", allocations: [(october, "1000.00")]); // 20 days
        await Admin.DocumentAsync(book, "vendor-credits", vendor, "2026-02-01", [new Line("100.00")]);
        await Admin.BillAsync(book, vendor, "2026-03-01", "300.00");                                                 // due 2026-03-31
        await Admin.BillAsync(book, vendor, "2026-03-02", "50.00");                                                  // due today: not overdue
        // An opening balance owed to the vendor, posted by hand (overdue), half of it paid by naming its item.
        await App.PostEntryOkAsync(book, "2025-12-31", "Opening balance", ("3000", "40.00", null), ($"2000/vendor:{vendor}", null, "40.00"));
        var opening = (await Admin.GetJsonAsync($"{Url(book, "open-items")}?vendor={vendor}&status=open"))["items"]!.AsArray()
            .Single(i => i!["sourceType"].Text() == "journal")!["id"]!.GetValue<long>();
        Assert.Equal(HttpStatusCode.Created, (await Admin.PostJsonAsync(Url(book, "payments"), new
        {
            vendor, date = "2026-01-15", amount = "15.00", account = "1010", allocations = new[] { new { item = opening, amount = "15.00" } },
        })).StatusCode);

        var account = await Admin.GetJsonAsync(Url(book, $"vendors/{vendor}/account"));
        Assert.Null(account["revenue"]);
        Assert.Equal(("250.00", "1500.00", "1250.00"), Periods(account["spend"]!));
        Assert.Equal(("775.00", "825.00"), (account["openBalance"].Text(), account["overdueBalance"].Text()));
        Assert.Equal("775.00", (await Admin.GetJsonAsync(Url(book, "reports/aged-payables")))["totals"]!["total"].Text());
        // (1000 × 20 + 15 × 15) / 1015 = 19.93: paying an opening balance counts from its own date.
        Assert.Equal(19.9m, account["averageDaysToPay"]!.GetValue<decimal>());
        Assert.Equal((4L, "2026-03-02", "2026-01-15"), (account["invoiceCount"]!.GetValue<long>(), account["lastInvoiceDate"].Text(), account["lastPaymentDate"].Text()));
    }

    [Fact]
    public async Task A_statement_without_a_period_covers_the_fiscal_year_to_date()
    {
        var book = await StandardBookAsync();
        var customer = await App.CreateCustomerAsync(book);
        await Admin.InvoiceAsync(book, customer, "2025-12-01", "40.00");
        await Admin.InvoiceAsync(book, customer, "2026-02-01", "60.00");
        await Admin.InvoiceAsync(book, customer, "2026-04-02", "1.00");   // after today
        var statement = await Admin.GetJsonAsync(Url(book, $"customers/{customer}/statement"));
        Assert.Equal(("2026-01-01", "2026-04-01"), (statement["from"].Text(), statement["to"].Text()));
        Assert.Equal(("40.00", "100.00", 1), (statement["openingBalance"].Text(), statement["closingBalance"].Text(), statement["lines"]!.AsArray().Count));
    }
}
