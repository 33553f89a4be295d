using System.Net;
using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Parties;

public sealed class PartiesTests(SharedApp shared) : SharedAppTest(shared)
{
    private static string CustomersUrl(string book) => $"/v1/books/{book}/customers";

    private static string VendorsUrl(string book) => $"/v1/books/{book}/vendors";

    [Fact]
    public async Task Codes_are_generated_per_kind_skip_codes_taken_by_hand_and_a_duplicate_is_409()
    {
        var book = await StandardBookAsync();
        var first = await (await Admin.PostJsonAsync(CustomersUrl(book), new { name = "Acme" })).AssertCreatedAsync();
        Assert.Equal("C00001", first["code"]!.GetValue<string>());
        Assert.Equal(30, first["paymentTermsDays"]!.GetValue<int>());
        await (await Admin.PostJsonAsync(CustomersUrl(book), new { name = "Taken by hand", code = "C00002" })).AssertCreatedAsync();
        var third = await (await Admin.PostJsonAsync(CustomersUrl(book), new { name = "Globex", paymentTermsDays = 14 })).AssertCreatedAsync();
        Assert.Equal("C00003", third["code"]!.GetValue<string>());
        Assert.Equal(14, third["paymentTermsDays"]!.GetValue<int>());
        var vendor = await (await Admin.PostJsonAsync(VendorsUrl(book), new { name = "Supplier" })).AssertCreatedAsync();
        Assert.Equal("V00001", vendor["code"]!.GetValue<string>());

        await (await Admin.PostJsonAsync(CustomersUrl(book), new { name = "Again", code = "C00001" })).AssertProblemAsync(HttpStatusCode.Conflict);
        // Codes are unique per kind: a vendor may share a customer's code.
        await (await Admin.PostJsonAsync(VendorsUrl(book), new { name = "Same code", code = "C00001" })).AssertCreatedAsync();
        await (await Admin.PostJsonAsync(CustomersUrl(book), new { code = "X" })).AssertValidationErrorAsync("name");
        await (await Admin.PostJsonAsync(CustomersUrl(book), new { name = "Bad", email = "not-an-email" })).AssertValidationErrorAsync("email");
    }

    [Fact]
    public async Task The_answer_to_a_create_is_the_party_as_stored()
    {
        // The answer is built from what was written, not read back: it must be what a read returns, byte for byte.
        var book = await StandardBookAsync();
        foreach (var (url, body) in new (string, object)[]
        {
            (CustomersUrl(book), new { name = "Ünïcode & Co", email = "ap@example.com", taxId = "DE123", address = "Main St 1\nBerlin", notes = "tab\there" }),
            (CustomersUrl(book), new { name = "Chosen", code = "K-1", paymentTermsDays = 0 }),
            (VendorsUrl(book), new { name = "Supplier", paymentTermsDays = 45 }),
        })
        {
            var created = await Admin.PostJsonAsync(url, body);
            var answer = await created.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var read = await Admin.GetAsync(created.Headers.Location!.ToString());
            Assert.Equal(await read.Content.ReadAsStringAsync(), answer);
        }
    }

    [Fact]
    public async Task Lists_filter_by_name_or_code_in_any_case_and_page_by_code()
    {
        var book = await StandardBookAsync();
        foreach (var name in new[] { "Alpha GmbH", "Beta AG", "alphabet soup", "Gamma 100% Ltd" })
            await (await Admin.PostJsonAsync(CustomersUrl(book), new { name })).AssertCreatedAsync();
        var alpha = await Admin.GetJsonAsync($"{CustomersUrl(book)}?q=ALPHA");
        Assert.Equal(["Alpha GmbH", "alphabet soup"], alpha["items"]!.AsArray().Select(i => i!["name"]!.GetValue<string>()));
        // Pattern characters in q are taken literally.
        var percent = await Admin.GetJsonAsync($"{CustomersUrl(book)}?q={Uri.EscapeDataString("100%")}");
        Assert.Single(percent["items"]!.AsArray());
        Assert.All((await Admin.GetJsonAsync($"{CustomersUrl(book)}?q=%25"))["items"]!.AsArray(), i => Assert.Contains('%', i!["name"]!.GetValue<string>()));

        var codes = new List<string>();
        string? cursor = null;
        do
        {
            var page = await Admin.GetJsonAsync($"{CustomersUrl(book)}?limit=3" + (cursor is null ? "" : $"&cursor={cursor}"));
            codes.AddRange(page["items"]!.AsArray().Select(i => i!["code"]!.GetValue<string>()));
            cursor = page["nextCursor"]?.GetValue<string>();
        } while (cursor is not null);
        Assert.Equal(["C00001", "C00002", "C00003", "C00004"], codes);
        await (await Admin.GetAsync($"{CustomersUrl(book)}?cursor=%%%")).AssertValidationErrorAsync("cursor");
        Assert.Empty((await Admin.GetJsonAsync(VendorsUrl(book)))["items"]!.AsArray());
    }

    [Fact]
    public async Task A_party_is_changed_or_archived_and_is_only_found_as_its_own_kind()
    {
        var book = await StandardBookAsync();
        var customer = await App.CreateCustomerAsync(book, "Acme");
        var changed = await (await Admin.PatchJsonAsync($"{CustomersUrl(book)}/{customer}", new { email = "ap@acme.example", archived = true })).ReadJsonAsync();
        Assert.Equal("ap@acme.example", changed["email"]!.GetValue<string>());
        Assert.True(changed["archived"]!.GetValue<bool>());
        Assert.Equal("Acme", (await Admin.GetJsonAsync($"{CustomersUrl(book)}/{customer}"))["name"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.GetAsync($"{VendorsUrl(book)}/{customer}")).StatusCode);
        var other = await StandardBookAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.GetAsync($"{CustomersUrl(other)}/{customer}")).StatusCode);
        await (await Admin.PatchJsonAsync($"{CustomersUrl(book)}/{customer}", new { })).AssertValidationErrorAsync("body");
    }

    [Fact]
    public async Task A_line_on_a_control_account_names_its_party_and_no_other_line_names_one()
    {
        var book = await StandardBookAsync();
        var customer = await App.CreateCustomerAsync(book);
        var vendor = await App.CreateVendorAsync(book);

        await (await Admin.PostEntryAsync(book, "2026-01-05", "No customer", ("1200", "10.00", null), ("4000", null, "10.00")))
            .AssertValidationErrorAsync("lines[0].customer");
        await (await Admin.PostEntryAsync(book, "2026-01-05", "No vendor", ("6000", "10.00", null), ("2000", null, "10.00")))
            .AssertValidationErrorAsync("lines[1].vendor");
        await (await Admin.PostEntryAsync(book, "2026-01-05", "Customer on sales", ("1200/customer:" + customer, "10.00", null), ("4000/customer:" + customer, null, "10.00")))
            .AssertValidationErrorAsync("lines[1].customer");
        await (await Admin.PostEntryAsync(book, "2026-01-05", "Vendor on receivables", ("1200/vendor:" + vendor, "10.00", null), ("4000", null, "10.00")))
            .AssertValidationErrorAsync("lines[0].vendor");
        await (await Admin.PostEntryAsync(book, "2026-01-05", "Customer as vendor", ("6000", "10.00", null), ("2000/vendor:" + customer, null, "10.00")))
            .AssertValidationErrorAsync("lines[1].vendor");
        await (await Admin.PostEntryAsync(book, "2026-01-05", "Unknown", ("1200/customer:999999", "10.00", null), ("4000", null, "10.00")))
            .AssertValidationErrorAsync("lines[0].customer");
        Assert.Empty(await App.AllEntriesAsync(book));

        // Opening balances and write-offs by hand are open items like any document's.
        var opening = await App.PostEntryOkAsync(book, "2026-01-01", "Opening balance", ("1200/customer:" + customer, "250.00", null), ("3000", null, "250.00"));
        Assert.Equal(customer, opening["lines"]![0]!["customer"]!.GetValue<long>());
        Assert.Null(opening["lines"]![1]!["customer"]);
        var read = await Admin.GetJsonAsync($"{EntriesUrl(book)}/{opening["id"]}");
        Assert.Equal(customer, read["lines"]![0]!["customer"]!.GetValue<long>());
        // The reversal names the same customer on its swapped line.
        var reversal = await (await Admin.PostRawAsync($"{EntriesUrl(book)}/{opening["id"]}/reverse", "{}")).AssertCreatedAsync();
        Assert.Equal(customer, reversal["lines"]![0]!["customer"]!.GetValue<long>());
        Assert.Equal("250.00", reversal["lines"]![0]!["credit"]!.GetValue<string>());
    }

    [Fact]
    public async Task Control_accounts_are_set_by_the_standard_chart_and_change_only_while_unused()
    {
        var book = await StandardBookAsync();
        var settings = await Admin.GetJsonAsync($"/v1/books/{book}");
        Assert.Equal("1200", settings["receivablesAccount"]!.GetValue<string>());
        Assert.Equal("2000", settings["payablesAccount"]!.GetValue<string>());
        await App.CreateAccountAsync(book, "1210", "asset");
        await (await Admin.PatchJsonAsync($"/v1/books/{book}", new { receivablesAccount = "4000" })).AssertValidationErrorAsync("receivablesAccount");
        await (await Admin.PatchJsonAsync($"/v1/books/{book}", new { payablesAccount = "1210" })).AssertValidationErrorAsync("payablesAccount");
        var moved = await (await Admin.PatchJsonAsync($"/v1/books/{book}", new { receivablesAccount = "1210" })).ReadJsonAsync();
        Assert.Equal("1210", moved["receivablesAccount"]!.GetValue<string>());
        // 1200 is an ordinary account again; 1210 takes only lines with a customer.
        await App.PostEntryOkAsync(book, "2026-01-05", "Plain", ("1200", "5.00", null), ("4000", null, "5.00"));
        var customer = await App.CreateCustomerAsync(book);
        await App.PostEntryOkAsync(book, "2026-01-05", "Owed", ("1210/customer:" + customer, "5.00", null), ("4000", null, "5.00"));
        var refused = await Admin.PatchJsonAsync($"/v1/books/{book}", new { receivablesAccount = "1200" });
        await refused.AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal("1210", (await Admin.GetJsonAsync($"/v1/books/{book}"))["receivablesAccount"]!.GetValue<string>());
    }
}
