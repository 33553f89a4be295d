using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Documents;

/// <summary>The rounding rules through the API: per line, then summed; each rate's tax on its own account line.</summary>
public sealed class DocumentAmountsTests(SharedApp shared) : SharedAppTest(shared)
{
    private async Task<(string Book, long Customer)> BookWithRatesAsync(string currency = "EUR")
    {
        var book = await App.CreateBookAsync(currency);
        await App.CreateAccountAsync(book, "1300", "asset");
        foreach (var (code, rate) in new[] { ("VAT19", "19"), ("VAT7", "7"), ("R55", "5.5") })
            await (await Admin.PostJsonAsync($"/v1/books/{book}/tax-rates", new { code, name = code, rate, salesAccount = "2100", purchaseAccount = "1300" })).AssertCreatedAsync();
        return (book, await App.CreateCustomerAsync(book));
    }

    private static (string Net, string Tax, string Gross) Line(JsonNode line) =>
        (line["net"]!.GetValue<string>(), line["tax"]!.GetValue<string>(), line["gross"]!.GetValue<string>());

    [Fact]
    public async Task Exclusive_and_inclusive_lines_round_half_away_from_zero_and_net_plus_tax_is_gross()
    {
        var (book, customer) = await BookWithRatesAsync();
        var exclusive = await (await Admin.PostJsonAsync($"/v1/books/{book}/invoices", new
        {
            customer, date = "2026-03-01", issue = true,
            lines = new object[]
            {
                new { description = "a", quantity = "3", unitPrice = "0.335", account = "4000", taxRate = "VAT19" },   // 1.005 → 1.01; 0.1919 → 0.19
                new { description = "b", quantity = "2.5", unitPrice = "19.99", account = "4000", taxRate = "VAT7" },  // 49.975 → 49.98; 3.4986 → 3.50
                new { description = "c", quantity = "1", unitPrice = "0.10", account = "4000", taxRate = "R55" },      // 0.0055 → 0.01
                new { description = "d", quantity = "0.125", unitPrice = "7.77", account = "4900" },                   // 0.97125 → 0.97, no tax
            },
        })).AssertCreatedAsync();
        var lines = exclusive["lines"]!.AsArray();
        Assert.Equal(("1.01", "0.19", "1.20"), Line(lines[0]!));
        Assert.Equal(("49.98", "3.50", "53.48"), Line(lines[1]!));
        Assert.Equal(("0.10", "0.01", "0.11"), Line(lines[2]!));
        Assert.Equal(("0.97", "0.00", "0.97"), Line(lines[3]!));
        Assert.Equal(("52.06", "3.70", "55.76"), (exclusive["totals"]!["net"]!.GetValue<string>(), exclusive["totals"]!["tax"]!.GetValue<string>(), exclusive["totals"]!["gross"]!.GetValue<string>()));

        // Inclusive 19 % on gross 0.01 … 0.20: the tax is round(gross × 19 / 119), the net what is left.
        var inclusive = await (await Admin.PostJsonAsync($"/v1/books/{book}/invoices", new
        {
            customer, date = "2026-03-01", amountsAre = "inclusive",
            lines = Enumerable.Range(1, 20).Select(cents => new { description = $"{cents} cents", unitPrice = $"0.{cents:D2}", account = "4000", taxRate = "VAT19" }).ToArray(),
        })).AssertCreatedAsync();
        foreach (var (line, cents) in inclusive["lines"]!.AsArray().Select((l, i) => (l!, i + 1)))
        {
            var expectedTax = (2 * cents * 19 + 119) / 238; // half away from zero, in whole cents
            Assert.Equal(($"0.{cents - expectedTax:D2}", $"0.{expectedTax:D2}", $"0.{cents:D2}"), Line(line));
        }

        // The entry: one tax line per rate, each on the rate's sales account, and the gross on receivables with the customer.
        var entry = await Admin.GetJsonAsync($"{EntriesUrl(book)}/{exclusive["journalEntryId"]}");
        var entryLines = entry["lines"]!.AsArray();
        Assert.Equal(("1200", "55.76", customer), (entryLines[0]!["account"]!.GetValue<string>(), entryLines[0]!["debit"]!.GetValue<string>(), entryLines[0]!["customer"]!.GetValue<long>()));
        Assert.Equal(["0.01", "0.19", "3.50"], entryLines.Where(l => l!["account"]!.GetValue<string>() == "2100").Select(l => l!["credit"]!.GetValue<string>()).Order());
    }

    [Fact]
    public async Task The_answer_of_a_create_that_issues_is_what_a_get_answers_afterwards()
    {
        var (book, customer) = await BookWithRatesAsync();
        var vendor = await App.CreateVendorAsync(book);
        async Task AssertSameAnswerAsync(HttpResponseMessage created)
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var posted = await created.Content.ReadAsStringAsync();
            Assert.Contains("\"status\":\"open\"", posted);
            var read = await Admin.GetAsync(created.Headers.Location);
            Assert.Equal(posted, await read.Content.ReadAsStringAsync());
        }

        // Two tax rates, a reference, the due date from the payment terms (long past: overdue).
        await AssertSameAnswerAsync(await Admin.PostJsonAsync($"/v1/books/{book}/invoices", new
        {
            customer, date = "2026-03-01", reference = "PO-7", issue = true,
            lines = new object[]
            {
                new { description = "a", quantity = "3", unitPrice = "0.335", account = "4000", taxRate = "VAT19" },
                new { description = "b", quantity = "2.5", unitPrice = "19.99", account = "4000", taxRate = "VAT7" },
                new { description = "c", quantity = "1", unitPrice = "5.00", account = "4900" },
            },
        }, "invoice-1"));
        // Inclusive amounts on a bill with the vendor's reference and a due date still to come.
        await AssertSameAnswerAsync(await Admin.PostJsonAsync($"/v1/books/{book}/bills", new
        {
            vendor, date = "2026-03-02", dueDate = "2099-12-31", vendorReference = "V-1", amountsAre = "inclusive", issue = true,
            lines = new object[]
            {
                new { description = "x", quantity = "2", unitPrice = "11.90", account = "6100", taxRate = "VAT19" },
                new { description = "y", quantity = "1", unitPrice = "10.70", account = "6300", taxRate = "VAT7" },
            },
        }, "bill-1"));
        // A draft issued later, and one replaced and issued in the same call.
        var draft = await (await Admin.PostJsonAsync($"/v1/books/{book}/invoices", new
        {
            customer, date = "2026-03-03", lines = new[] { new { description = "d", unitPrice = "7.00", account = "4000", taxRate = "R55" } },
        })).AssertCreatedAsync();
        await AssertSameAnswerAsync(await Admin.PostJsonAsync($"/v1/books/{book}/invoices/{draft["id"]}/issue", new { }, "issue-1"));
        var replaced = await (await Admin.PostJsonAsync($"/v1/books/{book}/invoices", new
        {
            customer, date = "2026-03-04", lines = new[] { new { description = "e", unitPrice = "8.00", account = "4000" } },
        })).AssertCreatedAsync();
        var put = await Admin.PutAsJsonAsync($"/v1/books/{book}/invoices/{replaced["id"]}", new
        {
            customer, date = "2026-03-05", dueDate = "2099-01-01", issue = true,
            lines = new[] { new { description = "f", unitPrice = "9.00", account = "4000", taxRate = "VAT7" } },
        });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var answered = await put.Content.ReadAsStringAsync();
        Assert.Equal(answered, await (await Admin.GetAsync($"/v1/books/{book}/invoices/{replaced["id"]}")).Content.ReadAsStringAsync());

        var verified = await Admin.GetJsonAsync($"/v1/books/{book}/audit/verify");
        Assert.True(verified["valid"]!.GetValue<bool>(), verified.ToJsonString());
    }

    [Fact]
    public async Task Yen_and_dinar_documents_round_to_their_own_minor_units()
    {
        var (yen, customer) = await BookWithRatesAsync("JPY");
        var jpy = await (await Admin.PostJsonAsync($"/v1/books/{yen}/invoices", new
        {
            customer, date = "2026-03-01", amountsAre = "inclusive",
            lines = new[] { new { description = "x", quantity = "3", unitPrice = "333", account = "4000", taxRate = "VAT7" } },
        })).AssertCreatedAsync();
        Assert.Equal(("934", "65", "999"), Line(jpy["lines"]![0]!)); // 999 × 7 / 107 = 65.35 → 65

        var (dinar, kuwaiti) = await BookWithRatesAsync("KWD");
        var kwd = await (await Admin.PostJsonAsync($"/v1/books/{dinar}/invoices", new
        {
            customer = kuwaiti, date = "2026-03-01",
            lines = new[] { new { description = "x", quantity = "3", unitPrice = "1.2345", account = "4000", taxRate = "R55" } },
        })).AssertCreatedAsync();
        Assert.Equal(("3.704", "0.204", "3.908"), Line(kwd["lines"]![0]!)); // 3.7035 → 3.704; 0.20372 → 0.204

        var huge = await Admin.PostJsonAsync($"/v1/books/{yen}/invoices", new
        {
            customer, date = "2026-03-01",
            lines = new[] { new { description = "x", quantity = "999999999999", unitPrice = "999999999999999", account = "4000", taxRate = (string?)null } },
        });
        await huge.AssertValidationErrorAsync("lines[0].unitPrice");
    }
}
