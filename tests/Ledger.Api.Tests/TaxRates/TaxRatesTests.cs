using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Ledger.Api.Infrastructure;
using Ledger.Api.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Ledger.Api.Tests.TaxRates;

public sealed class TaxRatesTests(SharedApp shared) : SharedAppTest(shared)
{
    private static string RatesUrl(string book) => $"/v1/books/{book}/tax-rates";

    /// <summary>
    /// A standard book with an asset account for purchase tax (1300); 2100 Sales Tax Payable is in the chart already.
    /// The control accounts are 1200 (receivables, an asset) and 2000 (payables, a liability).
    /// </summary>
    private async Task<string> TaxBookAsync()
    {
        var book = await StandardBookAsync();
        await App.CreateAccountAsync(book, "1300", "asset");
        return book;
    }

    private static object Rate(string code, string rate, string sales = "2100", string purchase = "1300", string? name = null) =>
        new { code, name = name ?? $"Tax {rate} %", rate, salesAccount = sales, purchaseAccount = purchase };

    /// <summary>PATCHes and asserts 200, showing the problem if it was refused.</summary>
    private async Task<JsonNode> PatchOkAsync(string url, object body)
    {
        var response = await Admin.PatchJsonAsync(url, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"PATCH {url}: expected 200, got {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!;
    }

    private async Task<JsonNode> CreateAsync(string book, string code, string rate) =>
        await (await Admin.PostJsonAsync(RatesUrl(book), Rate(code, rate))).AssertCreatedAsync();

    [Fact]
    public async Task A_rate_is_created_and_answered_in_its_canonical_text()
    {
        var book = await TaxBookAsync();
        var response = await Admin.PostJsonAsync(RatesUrl(book), Rate("VAT19", "19", name: "VAT standard"));
        var created = await response.AssertCreatedAsync();
        Assert.EndsWith($"/v1/books/{book}/tax-rates/VAT19", response.Headers.Location!.ToString());
        Assert.Equal("VAT19", created["code"]!.GetValue<string>());
        Assert.Equal("VAT standard", created["name"]!.GetValue<string>());
        Assert.Equal("19", created["rate"]!.GetValue<string>());
        Assert.Equal("2100", created["salesAccount"]!.GetValue<string>());
        Assert.Equal("1300", created["purchaseAccount"]!.GetValue<string>());
        Assert.False(created["archived"]!.GetValue<bool>());
        Assert.True(created["id"]!.GetValue<long>() > 0);
        Assert.False(string.IsNullOrEmpty(created["createdAt"]!.GetValue<string>()));
        Assert.Equal(created.ToJsonString(), (await Admin.GetJsonAsync(response.Headers.Location!.ToString())).ToJsonString());

        foreach (var (code, written, canonical) in new[]
                 {
                     ("VAT7", "7", "7"), ("RED", "5.5", "5.5"), ("RED2", "5.50", "5.5"), ("ZERO", "0", "0"),
                     ("ZERO2", "0.000", "0"), ("FULL", "100", "100"), ("FINE", "2.1234", "2.1234"), ("LEAD", "007.50", "7.5"),
                 })
        {
            Assert.Equal(canonical, (await CreateAsync(book, code, written))["rate"]!.GetValue<string>());
            Assert.Equal(canonical, (await Admin.GetJsonAsync($"{RatesUrl(book)}/{code}"))["rate"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task A_rate_that_is_not_a_percentage_of_at_most_four_decimals_is_400_on_rate()
    {
        var book = await TaxBookAsync();
        foreach (var rate in new[] { "", "-1", "100.01", "101", "5.12345", "19%", "1e1", " 19", "19.", ".5", "abc" })
            await (await Admin.PostJsonAsync(RatesUrl(book), Rate("X", rate))).AssertValidationErrorAsync("rate");
        await (await Admin.PostJsonAsync(RatesUrl(book), new { code = "X", name = "No rate", salesAccount = "2100", purchaseAccount = "1300" }))
            .AssertValidationErrorAsync("rate");
        Assert.Empty((await Admin.GetJsonAsync(RatesUrl(book)))["items"]!.AsArray());
    }

    [Fact]
    public async Task Code_name_and_both_accounts_are_required_and_the_code_is_url_safe()
    {
        var book = await TaxBookAsync();
        var missing = await (await Admin.PostJsonAsync(RatesUrl(book), new { rate = "19" })).AssertValidationErrorAsync("code");
        foreach (var field in new[] { "name", "salesAccount", "purchaseAccount" })
            Assert.True(missing["errors"]!.AsObject().ContainsKey(field), $"no error on {field}: {missing.ToJsonString()}");
        await (await Admin.PostJsonAsync(RatesUrl(book), Rate("VAT 19", "19"))).AssertValidationErrorAsync("code");
        await (await Admin.PostJsonAsync(RatesUrl(book), Rate("VAT/19", "19"))).AssertValidationErrorAsync("code");
        await (await Admin.PostJsonAsync(RatesUrl(book), Rate(new string('A', 33), "19"))).AssertValidationErrorAsync("code");
        await (await Admin.PostRawAsync(RatesUrl(book), """{"code":"X","name":"X","rate":"19","salesAccount":"2100","purchaseAccount":"1300","extra":1}"""))
            .AssertValidationErrorAsync("extra");
    }

    [Fact]
    public async Task The_sales_account_is_an_open_liability_and_the_purchase_account_an_open_asset_and_neither_a_control_account()
    {
        var book = await TaxBookAsync();
        await App.CreateAccountsAsync(book, ("2110", "liability"), ("1310", "asset"));
        await PatchOkAsync($"/v1/books/{book}/accounts/2110", new { archived = true });
        await PatchOkAsync($"/v1/books/{book}/accounts/1310", new { archived = true });

        foreach (var (sales, purchase, field) in new[]
                 {
                     ("9999", "1300", "salesAccount"),      // no such account
                     ("1010", "1300", "salesAccount"),      // an asset
                     ("4000", "1300", "salesAccount"),      // income
                     ("2110", "1300", "salesAccount"),      // archived
                     ("2000", "1300", "salesAccount"),      // the payables control account
                     ("2100", "9999", "purchaseAccount"),
                     ("2100", "2100", "purchaseAccount"),   // a liability
                     ("2100", "6000", "purchaseAccount"),   // an expense
                     ("2100", "1310", "purchaseAccount"),   // archived
                     ("2100", "1200", "purchaseAccount"),   // the receivables control account
                 })
        {
            var problem = await (await Admin.PostJsonAsync(RatesUrl(book), Rate("X", "19", sales, purchase))).AssertValidationErrorAsync(field);
            Assert.Single(problem["errors"]!.AsObject());
        }
        // Both wrong: both named in one answer.
        var both = await (await Admin.PostJsonAsync(RatesUrl(book), Rate("X", "19", "1200", "2000"))).AssertValidationErrorAsync("salesAccount");
        Assert.True(both["errors"]!.AsObject().ContainsKey("purchaseAccount"));
        Assert.Contains("control account", (await (await Admin.PostJsonAsync(RatesUrl(book), Rate("X", "19", "2000", "1300")))
            .AssertValidationErrorAsync("salesAccount"))["errors"]!["salesAccount"]![0]!.GetValue<string>());
        Assert.Empty((await Admin.GetJsonAsync(RatesUrl(book)))["items"]!.AsArray());

        // The control accounts are the book's, whatever their codes: once receivables move to 1210, 1200 is an ordinary asset.
        await App.CreateAccountAsync(book, "1210", "asset");
        await PatchOkAsync($"/v1/books/{book}", new { receivablesAccount = "1210" });
        await (await Admin.PostJsonAsync(RatesUrl(book), Rate("X", "19", "2100", "1210"))).AssertValidationErrorAsync("purchaseAccount");
        await CreateAsync(book, "X", "19");
        Assert.Equal("1200", (await (await Admin.PostJsonAsync(RatesUrl(book), Rate("Y", "7", "2100", "1200"))).AssertCreatedAsync())["purchaseAccount"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_code_in_use_is_409_and_codes_are_per_book()
    {
        var book = await TaxBookAsync();
        await CreateAsync(book, "VAT19", "19");
        var conflict = await (await Admin.PostJsonAsync(RatesUrl(book), Rate("VAT19", "7"))).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains("VAT19", conflict["detail"]!.GetValue<string>());
        Assert.Equal("19", (await Admin.GetJsonAsync($"{RatesUrl(book)}/VAT19"))["rate"]!.GetValue<string>());
        // Codes compare exactly: another case is another code.
        await CreateAsync(book, "vat19", "19");
        var other = await TaxBookAsync();
        await CreateAsync(other, "VAT19", "7");
        Assert.Equal("19", (await Admin.GetJsonAsync($"{RatesUrl(book)}/VAT19"))["rate"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_idempotency_key_creates_once_and_answers_the_same_again()
    {
        var book = await TaxBookAsync();
        var first = await Admin.PostJsonAsync(RatesUrl(book), Rate("VAT19", "19.00"), idempotencyKey: "tax-1");
        var created = await first.AssertCreatedAsync();
        var again = await Admin.PostJsonAsync(RatesUrl(book), Rate("VAT19", "19.00"), idempotencyKey: "tax-1");
        Assert.Equal(created.ToJsonString(), (await again.AssertCreatedAsync()).ToJsonString());
        Assert.True(again.Headers.TryGetValues("Idempotency-Replayed", out var replayed) && replayed.Contains("true"));
        Assert.Equal(first.Headers.Location, again.Headers.Location);
        await (await Admin.PostJsonAsync(RatesUrl(book), Rate("VAT19", "19"), idempotencyKey: "tax-1"))
            .AssertProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Single((await Admin.GetJsonAsync(RatesUrl(book)))["items"]!.AsArray());
    }

    [Fact]
    public async Task The_list_pages_by_code_and_filters_archived_or_active_rates()
    {
        var book = await TaxBookAsync();
        foreach (var code in new[] { "VAT7", "EXEMPT", "VAT19", "RED5", "ZERO" }) await CreateAsync(book, code, "5");
        await PatchOkAsync($"{RatesUrl(book)}/RED5", new { archived = true });
        await PatchOkAsync($"{RatesUrl(book)}/ZERO", new { archived = true });

        Assert.Equal(["EXEMPT", "RED5", "VAT19", "VAT7", "ZERO"], await AllCodesAsync(book, ""));
        Assert.Equal(["EXEMPT", "RED5", "VAT19", "VAT7", "ZERO"], await AllCodesAsync(book, "&limit=2"));
        Assert.Equal(["RED5", "ZERO"], await AllCodesAsync(book, "&archived=true&limit=1"));
        Assert.Equal(["EXEMPT", "VAT19", "VAT7"], await AllCodesAsync(book, "&archived=false&limit=2"));

        var first = await Admin.GetJsonAsync($"{RatesUrl(book)}?limit=5");
        Assert.Null(first["nextCursor"]);
        Assert.Empty((await Admin.GetJsonAsync(RatesUrl(await TaxBookAsync())))["items"]!.AsArray());
        await (await Admin.GetAsync($"{RatesUrl(book)}?cursor=%%%")).AssertValidationErrorAsync("cursor");
        await (await Admin.GetAsync($"{RatesUrl(book)}?limit=0")).AssertValidationErrorAsync("limit");
        await (await Admin.GetAsync($"{RatesUrl(book)}?archived=maybe")).AssertValidationErrorAsync("archived");
    }

    private async Task<List<string>> AllCodesAsync(string book, string query)
    {
        var codes = new List<string>();
        string? cursor = null;
        for (var pages = 0; pages < 100; pages++)
        {
            var page = await Admin.GetJsonAsync($"{RatesUrl(book)}?x=1{query}" + (cursor is null ? "" : $"&cursor={cursor}"));
            codes.AddRange(page["items"]!.AsArray().Select(i => i!["code"]!.GetValue<string>()));
            cursor = page["nextCursor"]?.GetValue<string>();
            if (cursor is null) return codes;
        }
        throw new InvalidOperationException("The tax rate list does not end.");
    }

    [Fact]
    public async Task A_read_key_lists_and_reads_rates_but_changes_none_and_another_books_key_sees_none()
    {
        var book = await TaxBookAsync();
        await CreateAsync(book, "VAT19", "19");
        var reader = App.Client(await App.CreateKeyAsync(book, "read"));
        Assert.Single((await reader.GetJsonAsync(RatesUrl(book)))["items"]!.AsArray());
        Assert.Equal("19", (await reader.GetJsonAsync($"{RatesUrl(book)}/VAT19"))["rate"]!.GetValue<string>());
        await (await reader.PostJsonAsync(RatesUrl(book), Rate("VAT7", "7"))).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await reader.PatchJsonAsync($"{RatesUrl(book)}/VAT19", new { archived = true })).AssertProblemAsync(HttpStatusCode.Forbidden);

        var other = await TaxBookAsync();
        var stranger = App.Client(await App.CreateKeyAsync(other, "read", "write"));
        await (await stranger.GetAsync($"{RatesUrl(book)}/VAT19")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await stranger.PostJsonAsync(RatesUrl(book), Rate("VAT7", "7"))).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await App.Client(null).GetAsync(RatesUrl(book))).AssertProblemAsync(HttpStatusCode.Unauthorized);
        var unchanged = await Admin.GetJsonAsync(RatesUrl(book));
        Assert.False(Assert.Single(unchanged["items"]!.AsArray())!["archived"]!.GetValue<bool>());
    }

    [Fact]
    public async Task An_unknown_code_is_404_and_a_rate_is_found_only_in_its_own_book()
    {
        var book = await TaxBookAsync();
        await CreateAsync(book, "VAT19", "19");
        await (await Admin.GetAsync($"{RatesUrl(book)}/NOPE")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await Admin.PatchJsonAsync($"{RatesUrl(book)}/NOPE", new { name = "x" })).AssertProblemAsync(HttpStatusCode.NotFound);
        var other = await TaxBookAsync();
        await (await Admin.GetAsync($"{RatesUrl(other)}/VAT19")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await Admin.PatchJsonAsync($"{RatesUrl(other)}/VAT19", new { name = "x" })).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task An_unused_rate_can_change_anything_and_is_archived_and_unarchived()
    {
        var book = await TaxBookAsync();
        await App.CreateAccountsAsync(book, ("2110", "liability"), ("1310", "asset"));
        var created = await CreateAsync(book, "VAT16", "16");
        var changed = await PatchOkAsync($"{RatesUrl(book)}/VAT16",
            new { name = "VAT back to 19", rate = "19.00", salesAccount = "2110", purchaseAccount = "1310" });
        Assert.Equal("VAT back to 19", changed["name"]!.GetValue<string>());
        Assert.Equal("19", changed["rate"]!.GetValue<string>());
        Assert.Equal("2110", changed["salesAccount"]!.GetValue<string>());
        Assert.Equal("1310", changed["purchaseAccount"]!.GetValue<string>());
        Assert.Equal(created["id"]!.GetValue<long>(), changed["id"]!.GetValue<long>());
        Assert.Equal(created["createdAt"]!.GetValue<string>(), changed["createdAt"]!.GetValue<string>());
        Assert.Equal(changed.ToJsonString(), (await Admin.GetJsonAsync($"{RatesUrl(book)}/VAT16")).ToJsonString());

        // A changed account is checked as on create; nothing changes when one field is refused.
        await (await Admin.PatchJsonAsync($"{RatesUrl(book)}/VAT16", new { name = "Again", salesAccount = "1300" })).AssertValidationErrorAsync("salesAccount");
        await (await Admin.PatchJsonAsync($"{RatesUrl(book)}/VAT16", new { purchaseAccount = "1200" })).AssertValidationErrorAsync("purchaseAccount");
        await (await Admin.PatchJsonAsync($"{RatesUrl(book)}/VAT16", new { rate = "120" })).AssertValidationErrorAsync("rate");
        await (await Admin.PatchJsonAsync($"{RatesUrl(book)}/VAT16", new { name = "" })).AssertValidationErrorAsync("name");
        await (await Admin.PatchJsonAsync($"{RatesUrl(book)}/VAT16", new { })).AssertValidationErrorAsync("body");
        await (await Admin.PatchJsonAsync($"{RatesUrl(book)}/VAT16", new { code = "VAT19" })).AssertValidationErrorAsync("code");
        Assert.Equal(changed.ToJsonString(), (await Admin.GetJsonAsync($"{RatesUrl(book)}/VAT16")).ToJsonString());

        var archived = await PatchOkAsync($"{RatesUrl(book)}/VAT16", new { archived = true });
        Assert.True(archived["archived"]!.GetValue<bool>());
        Assert.Equal("19", archived["rate"]!.GetValue<string>());
        Assert.True((await Admin.GetJsonAsync($"{RatesUrl(book)}/VAT16"))["archived"]!.GetValue<bool>());
        var unarchived = await PatchOkAsync($"{RatesUrl(book)}/VAT16", new { archived = false });
        Assert.False(unarchived["archived"]!.GetValue<bool>());
    }

    /// <summary>
    /// No document can be made over HTTP yet (invoices and bills come later), so the test writes a draft invoice with a
    /// line naming the rate through the API's own writer, as the writer tests write rows directly.
    /// </summary>
    [Fact]
    public async Task A_rate_used_by_a_document_keeps_its_rate_and_accounts_but_can_be_renamed_and_archived()
    {
        var book = await TaxBookAsync();
        await App.CreateAccountsAsync(book, ("2110", "liability"), ("1310", "asset"));
        await CreateAsync(book, "VAT19", "19");
        await CreateAsync(book, "VAT7", "7");
        var customer = await App.CreateCustomerAsync(book);
        await InsertDocumentLineAsync(book, customer, "VAT19");
        // A line of another book naming the same code uses only that book's rate.
        var other = await TaxBookAsync();
        await InsertDocumentLineAsync(other, await App.CreateCustomerAsync(other), "VAT7");

        foreach (var change in new object[] { new { rate = "20" }, new { salesAccount = "2110" }, new { purchaseAccount = "1310" },
                     new { name = "Renamed", rate = "7" } })
        {
            var conflict = await (await Admin.PatchJsonAsync($"{RatesUrl(book)}/VAT19", change)).AssertProblemAsync(HttpStatusCode.Conflict);
            Assert.Contains("used by documents", conflict["detail"]!.GetValue<string>());
        }
        var unchanged = await Admin.GetJsonAsync($"{RatesUrl(book)}/VAT19");
        Assert.Equal("19", unchanged["rate"]!.GetValue<string>());
        Assert.Equal("Tax 19 %", unchanged["name"]!.GetValue<string>());
        Assert.Equal("2100", unchanged["salesAccount"]!.GetValue<string>());
        Assert.Equal("1300", unchanged["purchaseAccount"]!.GetValue<string>());

        // The same terms sent back (in any spelling of the rate) change nothing, and are not refused.
        var renamed = await PatchOkAsync($"{RatesUrl(book)}/VAT19",
            new { name = "VAT standard", rate = "19.00", salesAccount = "2100", purchaseAccount = "1300" });
        Assert.Equal("VAT standard", renamed["name"]!.GetValue<string>());
        Assert.Equal("19", renamed["rate"]!.GetValue<string>());
        var archived = await PatchOkAsync($"{RatesUrl(book)}/VAT19", new { archived = true });
        Assert.True(archived["archived"]!.GetValue<bool>());
        Assert.False((await PatchOkAsync($"{RatesUrl(book)}/VAT19", new { archived = false }))["archived"]!.GetValue<bool>());

        // VAT7 of this book is unused, whatever another book's documents name.
        Assert.Equal("8", (await PatchOkAsync($"{RatesUrl(book)}/VAT7", new { rate = "8" }))["rate"]!.GetValue<string>());
    }

    private async Task InsertDocumentLineAsync(string book, long customer, string taxRate)
    {
        var writer = App.Services.GetRequiredService<LedgerWriter>();
        await writer.WriteBookAsync(book, session =>
        {
            var id = session.NextId("documents");
            session.Connection.Execute("""
                INSERT INTO documents (id, book_id, kind, party_id, status, document_date, amounts_are, net, tax, gross, created_at)
                VALUES (@id, @book, 'invoice', @customer, 'draft', '2026-01-05', 'exclusive', 10000, 1900, 11900, '2026-01-05T09:00:00Z')
                """, new { id, book, customer });
            session.Connection.Execute("""
                INSERT INTO document_lines (document_id, line_no, book_id, description, quantity, unit_price, account, tax_rate, net, tax, gross)
                VALUES (@id, 0, @book, 'Consulting', '1', '100.00', '4000', @taxRate, 10000, 1900, 11900)
                """, new { id, book, taxRate });
            return id;
        });
    }
}
