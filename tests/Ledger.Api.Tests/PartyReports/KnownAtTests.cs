using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.PartyReports;

/// <summary>
/// A party's statement, revenue by customer and the tax summary as known at an instant are what they were then:
/// back-dated documents, payments and voids recorded later change today's answer, not that one.
/// </summary>
public sealed class KnownAtTests(SharedApp shared) : SharedAppTest(shared)
{
    private static string Url(string book, string route) => $"/v1/books/{book}/{route}";

    /// <summary>The report without its knownAt echo, as text: equal texts mean equal reports.</summary>
    private static string Figures(JsonNode report)
    {
        var copy = report.DeepClone().AsObject();
        copy.Remove("knownAt");
        return copy.ToJsonString();
    }

    [Fact]
    public async Task Period_reports_as_known_at_an_instant_ignore_what_was_recorded_later()
    {
        var book = await StandardBookAsync();
        await App.CreateAccountsAsync(book, ("1300", "asset"));
        await Admin.TaxRateAsync(book, "VAT19", "19", "2100", "1300");
        var customer = await App.CreateCustomerAsync(book, "Acme");
        var vendor = await App.CreateVendorAsync(book, "Initech");
        var kept = await Admin.DocumentAsync(book, "invoices", customer, "2026-02-01", [new Line("100.00", "VAT19")]);
        var voidedLater = await Admin.DocumentAsync(book, "invoices", customer, "2026-02-05", [new Line("40.00", "VAT19")]);
        await Admin.DocumentAsync(book, "bills", vendor, "2026-02-03", [new Line("30.00", "VAT19")]);
        var period = "from=2026-01-01&to=2026-02-28";
        string[] routes = [$"customers/{customer}/statement", $"vendors/{vendor}/statement", "reports/revenue-by-customer", "reports/tax-summary"];
        var then = new List<string>();
        foreach (var route in routes) then.Add(Figures(await Admin.GetJsonAsync($"{Url(book, route)}?{period}")));
        var lastEntry = (await App.AllEntriesAsync(book)).MaxBy(e => e["id"]!.GetValue<long>())!;
        var knownAt = lastEntry["createdAt"]!.GetValue<string>();

        await Task.Delay(20);
        await Admin.DocumentAsync(book, "invoices", customer, "2026-01-20", [new Line("7.00", "VAT19")]);   // back-dated
        await Admin.DocumentAsync(book, "bills", vendor, "2026-02-10", [new Line("5.00", "VAT19")]);
        await Admin.VoidAsync(book, "invoices", voidedLater, "2026-02-20");
        await Admin.PaymentAsync(book, customer, true, "2026-02-15", "50.00");
        await Admin.AllocateAsync(book, kept, await Admin.PaymentAsync(book, customer, true, "2026-02-16", "10.00"), "10.00");

        for (var i = 0; i < routes.Length; i++)
        {
            var now = Figures(await Admin.GetJsonAsync($"{Url(book, routes[i])}?{period}"));
            Assert.NotEqual(then[i], now);
            var asKnown = await Admin.GetJsonAsync($"{Url(book, routes[i])}?{period}&knownAt={Uri.EscapeDataString(knownAt)}");
            Assert.Equal(then[i], Figures(asKnown));
            Assert.Equal(DateTimeOffset.Parse(knownAt, System.Globalization.CultureInfo.InvariantCulture),
                DateTimeOffset.Parse(asKnown["knownAt"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture));
        }

        await (await Admin.GetAsync($"{Url(book, routes[0])}?knownAt=yesterday")).AssertValidationErrorAsync("knownAt");
        await (await Admin.GetAsync($"{Url(book, routes[2])}?knownAt=9999-01-01T00:00:00Z")).AssertValidationErrorAsync("knownAt");
    }
}
