using System.Globalization;
using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.PartyReports;

public sealed class RevenueAndTaxTests(SharedApp shared) : SharedAppTest(shared)
{
    private static string Url(string book, string route) => $"/v1/books/{book}/{route}";

    private static decimal Dec(JsonNode? node) => decimal.Parse(node.Text(), CultureInfo.InvariantCulture);

    [Fact]
    public async Task Customers_are_ranked_by_net_revenue_with_their_share_and_invoice_count()
    {
        var book = await StandardBookAsync();
        await Admin.TaxRateAsync(book, "VAT19", "19", "2100", "1400");
        var acme = await App.CreateCustomerAsync(book, "Acme");
        var beta = await App.CreateCustomerAsync(book, "Beta");
        var cyan = await App.CreateCustomerAsync(book, "Cyan");
        var delta = await App.CreateCustomerAsync(book, "Delta");
        var drafty = await App.CreateCustomerAsync(book, "Drafty");
        var gone = await App.CreateCustomerAsync(book, "Gone");
        // Acme: 100 net (+19 tax, not revenue) and 200, less a 50 credit note: 250 from two invoices.
        var acmeFirst = await Admin.DocumentAsync(book, "invoices", acme, "2026-01-10", [new Line("100.00", "VAT19")]);
        await Admin.InvoiceAsync(book, acme, "2026-01-20", "200.00");
        await Admin.DocumentAsync(book, "credit-notes", acme, "2026-01-25", [new Line("50.00")], corrects: acmeFirst);
        // Beta: 250 earned, and equipment sold on the same invoice (to an asset account), which is no revenue; ties with
        // Acme, ranked by code after it.
        await Admin.DocumentAsync(book, "invoices", beta, "2026-01-15", [new Line("250.00"), new Line("1000.00", Account: "1500")]);
        await Admin.InvoiceAsync(book, cyan, "2026-01-05", "500.00");
        await Admin.InvoiceAsync(book, cyan, "2025-12-31", "700.00");   // before the period
        var deltaOld = await Admin.InvoiceAsync(book, delta, "2025-12-15", "100.00");
        await Admin.DocumentAsync(book, "credit-notes", delta, "2026-01-30", [new Line("30.00")], corrects: deltaOld); // only a credit in the period
        await Admin.DocumentAsync(book, "invoices", drafty, "2026-01-12", [new Line("900.00")], issue: false);
        var voided = await Admin.InvoiceAsync(book, gone, "2026-01-12", "800.00");
        await Admin.VoidAsync(book, "invoices", voided);

        var report = await Admin.GetJsonAsync($"{Url(book, "reports/revenue-by-customer")}?from=2026-01-01&to=2026-01-31");
        var customers = report["customers"]!.AsArray().Select(c => c!).ToList();
        Assert.Equal(
        [
            (1, "Cyan", "500.00", "51.5", 1L),
            (2, "Acme", "250.00", "25.8", 2L),
            (3, "Beta", "250.00", "25.8", 1L),
            (4, "Delta", "-30.00", "-3.1", 0L),
        ], customers.Select(c => (c["rank"]!.GetValue<int>(), c["name"].Text(), c["revenue"].Text(), c["share"].Text(), c["invoiceCount"]!.GetValue<long>())));
        Assert.Equal(cyan, customers[0]["id"]!.GetValue<long>());
        Assert.Equal(("970.00", 4L, "EUR"), (report["total"].Text(), report["invoiceCount"]!.GetValue<long>(), report["currency"].Text()));

        // Three equal customers: each 33.3 %, which add up to 99.9, not 100.
        await Admin.InvoiceAsync(book, acme, "2026-02-01", "100.00");
        await Admin.InvoiceAsync(book, beta, "2026-02-02", "100.00");
        await Admin.InvoiceAsync(book, cyan, "2026-02-03", "100.00");
        var february = await Admin.GetJsonAsync($"{Url(book, "reports/revenue-by-customer")}?from=2026-02-01&to=2026-02-28");
        Assert.Equal(["33.3", "33.3", "33.3"], february["customers"]!.AsArray().Select(c => c!["share"].Text()));
        // Only credits: the total is negative, and a share of it means nothing.
        var credits = await Admin.GetJsonAsync($"{Url(book, "reports/revenue-by-customer")}?from=2026-01-30&to=2026-01-30");
        Assert.Equal(("-30.00", null), (credits["total"].Text(), credits["customers"]![0]!["share"]?.GetValue<string>()));
        var nothing = await Admin.GetJsonAsync($"{Url(book, "reports/revenue-by-customer")}?from=2027-01-01&to=2027-01-31");
        Assert.Equal(("0.00", 0), (nothing["total"].Text(), nothing["customers"]!.AsArray().Count));

        var csv = await (await Admin.GetAsync($"{Url(book, "reports/revenue-by-customer")}?from=2026-01-01&to=2026-01-31&format=csv")).Content.ReadAsStringAsync();
        var rows = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("rank,id,code,name,revenue,share,invoiceCount", rows[0]);
        Assert.Equal($"1,{cyan},C00003,Cyan,500.00,51.5,1", rows[1]);
        Assert.Equal(",,,total,970.00,,4", rows[^1]);

        await (await Admin.GetAsync($"{Url(book, "reports/revenue-by-customer")}?from=2026-01-32")).AssertValidationErrorAsync("from");
        await (await Admin.GetAsync($"{Url(book, "reports/revenue-by-customer")}?from=2026-02-01&to=2026-01-01")).AssertValidationErrorAsync("from");
        await (await Admin.GetAsync($"{Url(book, "reports/revenue-by-customer")}?format=pdf")).AssertValidationErrorAsync("format");
    }

    [Fact]
    public async Task The_tax_summary_per_rate_equals_the_movements_of_the_rates_tax_accounts()
    {
        var book = await StandardBookAsync();
        await App.CreateAccountsAsync(book, ("1300", "asset"), ("1310", "asset"), ("2110", "liability"));
        await Admin.TaxRateAsync(book, "VAT19", "19", "2100", "1300");
        await Admin.TaxRateAsync(book, "VAT7", "7", "2110", "1310");
        var customer = await App.CreateCustomerAsync(book);
        var vendor = await App.CreateVendorAsync(book);

        var invoice = await Admin.DocumentAsync(book, "invoices", customer, "2026-02-01",
            [new Line("100.00", "VAT19"), new Line("50.00", "VAT7"), new Line("10.00")]);
        await Admin.DocumentAsync(book, "credit-notes", customer, "2026-02-10", [new Line("20.00", "VAT19")], corrects: invoice);
        var bill = await Admin.DocumentAsync(book, "bills", vendor, "2026-02-05", [new Line("300.00", "VAT19"), new Line("40.00", "VAT7")]);
        await Admin.DocumentAsync(book, "vendor-credits", vendor, "2026-02-12", [new Line("100.00", "VAT19")], corrects: bill);
        // Voided within the period: nets to nothing. Voided after it: stays in February, its reversal lands in March.
        var voidedSoon = await Admin.DocumentAsync(book, "invoices", customer, "2026-02-15", [new Line("200.00", "VAT19")]);
        await Admin.VoidAsync(book, "invoices", voidedSoon, "2026-02-20");
        var voidedLater = await Admin.DocumentAsync(book, "invoices", customer, "2026-02-25", [new Line("100.00", "VAT7")]);
        await Admin.VoidAsync(book, "invoices", voidedLater, "2026-03-05");
        await Admin.DocumentAsync(book, "invoices", customer, "2026-02-03", [new Line("1000.00", "VAT19")], issue: false);
        await Admin.DocumentAsync(book, "invoices", customer, "2026-03-10", [new Line("100.00", "VAT19")]);

        var summary = await Admin.GetJsonAsync($"{Url(book, "reports/tax-summary")}?from=2026-02-01&to=2026-02-28");
        var rates = summary["rates"]!.AsArray().Select(r => r!).ToList();
        Assert.Equal(
        [
            ("VAT19", "80.00", "15.20", "200.00", "38.00", "-22.80"),
            ("VAT7", "150.00", "10.50", "40.00", "2.80", "7.70"),
            (null, "10.00", "0.00", "0.00", "0.00", "0.00"),
        ], rates.Select(r => (r["taxRate"]?.GetValue<string>(), r["sales"]!["net"].Text(), r["sales"]!["tax"].Text(),
            r["purchases"]!["net"].Text(), r["purchases"]!["tax"].Text(), r["netTaxDue"].Text())));
        Assert.Equal(("19", "2100", "1300"), (rates[0]["rate"].Text(), rates[0]["salesAccount"].Text(), rates[0]["purchaseAccount"].Text()));
        var totals = summary["totals"]!;
        Assert.Equal(("240.00", "25.70", "240.00", "40.80", "-15.10"), (totals["sales"]!["net"].Text(), totals["sales"]!["tax"].Text(),
            totals["purchases"]!["net"].Text(), totals["purchases"]!["tax"].Text(), totals["netTaxDue"].Text()));

        // Against the ledger, in February and in March (where the late void takes back its tax): each rate's sales tax is
        // its sales account's movement, its purchase tax its purchase account's, and the net tax due their difference.
        foreach (var (from, to) in new[] { ("2026-02-01", "2026-02-28"), ("2026-03-01", "2026-03-31"), ("2026-01-01", "2026-12-31") })
        {
            var period = await Admin.GetJsonAsync($"{Url(book, "reports/tax-summary")}?from={from}&to={to}");
            decimal due = 0;
            foreach (var rate in period["rates"]!.AsArray().Where(r => r!["taxRate"] is not null))
            {
                var salesMovement = await MovementAsync(book, rate!["salesAccount"].Text(), from, to);
                var purchaseMovement = await MovementAsync(book, rate["purchaseAccount"].Text(), from, to);
                Assert.Equal(salesMovement, Dec(rate["sales"]!["tax"]));
                Assert.Equal(purchaseMovement, Dec(rate["purchases"]!["tax"]));
                Assert.Equal(salesMovement - purchaseMovement, Dec(rate["netTaxDue"]));
                due += salesMovement - purchaseMovement;
            }
            Assert.Equal(due, Dec(period["totals"]!["netTaxDue"]));
        }
        var march = await Admin.GetJsonAsync($"{Url(book, "reports/tax-summary")}?from=2026-03-01&to=2026-03-31");
        Assert.Equal(["VAT19:19.00", "VAT7:-7.00"], march["rates"]!.AsArray().Select(r => $"{r!["taxRate"].Text()}:{r["sales"]!["tax"].Text()}"));

        var csv = await (await Admin.GetAsync($"{Url(book, "reports/tax-summary")}?from=2026-02-01&to=2026-02-28&format=csv")).Content.ReadAsStringAsync();
        var rows = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("taxRate,name,rate,salesAccount,purchaseAccount,salesNet,salesTax,purchasesNet,purchasesTax,netTaxDue", rows[0]);
        Assert.Equal("VAT19,VAT19,19,2100,1300,80.00,15.20,200.00,38.00,-22.80", rows[1]);
        Assert.Equal(",total,,,,240.00,25.70,240.00,40.80,-15.10", rows[^1]);

        await (await Admin.GetAsync($"{Url(book, "reports/tax-summary")}?to=2026-13-01")).AssertValidationErrorAsync("to");
        await (await Admin.GetAsync($"{Url(book, "reports/tax-summary")}?from=2026-03-01&to=2026-02-01")).AssertValidationErrorAsync("from");
    }

    /// <summary>An account's movement over the period on its normal side: closing less opening balance in its ledger.</summary>
    private async Task<decimal> MovementAsync(string book, string account, string from, string to)
    {
        var ledger = await Admin.GetJsonAsync($"{Url(book, $"accounts/{account}/ledger")}?from={from}&to={to}");
        return Dec(ledger["closingBalance"]) - Dec(ledger["openingBalance"]);
    }
}
