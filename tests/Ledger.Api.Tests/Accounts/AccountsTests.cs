using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Ledger.Api.Tests.Banking;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Accounts;

public sealed class AccountsTests(SharedApp shared) : SharedAppTest(shared)
{
    private Task<string> EmptyBookAsync(string currency = "EUR") => App.CreateBookAsync(currency, chart: null);

    [Theory]
    [InlineData("asset")]
    [InlineData("liability")]
    [InlineData("equity")]
    [InlineData("income")]
    [InlineData("expense")]
    public async Task An_account_of_each_type_is_created_with_zero_totals(string type)
    {
        var book = await EmptyBookAsync();
        var response = await Admin.PostAsJsonAsync(AccountsUrl(book), new { code = "A-1.x_2", name = "My account", type, description = "notes" });
        var account = await response.AssertCreatedAsync();
        Assert.Equal("A-1.x_2", account["code"]!.GetValue<string>());
        Assert.Equal("My account", account["name"]!.GetValue<string>());
        Assert.Equal(type, account["type"]!.GetValue<string>());
        Assert.Equal("notes", account["description"]!.GetValue<string>());
        Assert.False(account["archived"]!.GetValue<bool>());
        Assert.Equal("0.00", account["debitTotal"]!.GetValue<string>());
        Assert.Equal("0.00", account["creditTotal"]!.GetValue<string>());
        Assert.Equal("0.00", account["balance"]!.GetValue<string>());
        Assert.EndsWith($"/v1/books/{book}/accounts/A-1.x_2", response.Headers.Location!.ToString());

        var fetched = await App.AccountAsync(book, "A-1.x_2");
        Assert.True(JsonNode.DeepEquals(account, fetched), $"{account.ToJsonString()} vs {fetched.ToJsonString()}");
    }

    [Theory]
    [InlineData("""{"code":"","name":"x","type":"asset"}""", "code")]
    [InlineData("""{"name":"x","type":"asset"}""", "code")]
    [InlineData("""{"code":"a b","name":"x","type":"asset"}""", "code")]
    [InlineData("""{"code":"a/b","name":"x","type":"asset"}""", "code")]
    [InlineData("""{"code":"-1","name":"x","type":"asset"}""", "code")]
    [InlineData("""{"code":"1","name":"","type":"asset"}""", "name")]
    [InlineData("""{"code":"1","name":"x","type":"Asset"}""", "type")]
    [InlineData("""{"code":"1","name":"x","type":"revenue"}""", "type")]
    [InlineData("""{"code":"1","name":"x"}""", "type")]
    [InlineData("""{"code":"1","name":"x","type":"asset","parent":"nope"}""", "parent")]
    public async Task Invalid_accounts_are_400_naming_the_field(string body, string field)
    {
        var book = await EmptyBookAsync();
        await (await Admin.PostRawAsync(AccountsUrl(book), body)).AssertValidationErrorAsync(field);
        Assert.Empty((await Admin.GetJsonAsync(AccountsUrl(book))).AsArray());
    }

    [Fact]
    public async Task A_code_longer_than_32_characters_is_refused()
    {
        var book = await EmptyBookAsync();
        await (await Admin.PostAsJsonAsync(AccountsUrl(book), new { code = new string('1', 33), name = "x", type = "asset" }))
            .AssertValidationErrorAsync("code");
        await (await Admin.PostAsJsonAsync(AccountsUrl(book), new { code = new string('1', 32), name = "x", type = "asset" })).AssertCreatedAsync();
    }

    [Fact]
    public async Task Unknown_properties_are_400()
    {
        var book = await EmptyBookAsync();
        await (await Admin.PostRawAsync(AccountsUrl(book), """{"code":"1","name":"x","type":"asset","balance":"1000000.00"}"""))
            .AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Empty((await Admin.GetJsonAsync(AccountsUrl(book))).AsArray());
    }

    [Fact]
    public async Task A_duplicate_code_is_409_and_the_same_code_is_fine_in_another_book()
    {
        var book = await EmptyBookAsync();
        var other = await EmptyBookAsync();
        await App.CreateAccountAsync(book, "1000", "asset");
        await (await Admin.PostAsJsonAsync(AccountsUrl(book), new { code = "1000", name = "Again", type = "expense" }))
            .AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal("Account 1000", (await App.AccountAsync(book, "1000"))["name"]!.GetValue<string>());
        await App.CreateAccountAsync(other, "1000", "liability");
    }

    [Fact]
    public async Task A_parent_must_exist_and_be_of_the_same_type()
    {
        var book = await EmptyBookAsync();
        await App.CreateAccountAsync(book, "1000", "asset");
        var child = await (await Admin.PostAsJsonAsync(AccountsUrl(book), new { code = "1001", name = "Till", type = "asset", parent = "1000" }))
            .AssertCreatedAsync();
        Assert.Equal("1000", child["parent"]!.GetValue<string>());
        await (await Admin.PostAsJsonAsync(AccountsUrl(book), new { code = "6001", name = "Wrong", type = "expense", parent = "1000" }))
            .AssertValidationErrorAsync("parent");
        // A parent with children cannot be deleted.
        await (await Admin.DeleteAsync($"{AccountsUrl(book)}/1000")).AssertProblemAsync(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Accounts_are_listed_with_their_totals_and_balances_on_the_normal_side()
    {
        var book = await EmptyBookAsync();
        await App.CreateAccountsAsync(book, ("1000", "asset"), ("2000", "liability"), ("3000", "equity"), ("4000", "income"), ("5000", "expense"));
        await App.PostEntryOkAsync(book, "2026-01-01", "capital", ("1000", "1000.00", null), ("3000", null, "1000.00"));
        await App.PostEntryOkAsync(book, "2026-01-02", "loan", ("1000", "500.00", null), ("2000", null, "500.00"));
        await App.PostEntryOkAsync(book, "2026-01-03", "sale", ("1000", "250.25", null), ("4000", null, "250.25"));
        await App.PostEntryOkAsync(book, "2026-01-04", "costs", ("5000", "100.10", null), ("1000", null, "100.10"));
        await App.PostEntryOkAsync(book, "2026-01-05", "refund", ("4000", "0.25", null), ("1000", null, "0.25"));
        await App.PostEntryOkAsync(book, "2026-01-06", "repay", ("2000", "600.00", null), ("1000", null, "600.00"));

        var expected = new Dictionary<string, (string Debit, string Credit, string Balance)>
        {
            ["1000"] = ("1750.25", "700.35", "1049.90"),
            ["2000"] = ("600.00", "500.00", "-100.00"), // a liability overpaid shows a negative balance
            ["3000"] = ("0.00", "1000.00", "1000.00"),
            ["4000"] = ("0.25", "250.25", "250.00"),
            ["5000"] = ("100.10", "0.00", "100.10"),
        };
        var list = (await Admin.GetJsonAsync(AccountsUrl(book))).AsArray();
        Assert.Equal(expected.Keys.Order(), list.Select(a => a!["code"]!.GetValue<string>()).Order());
        foreach (var account in list)
        {
            var (debit, credit, balance) = expected[account!["code"]!.GetValue<string>()];
            Assert.Equal(debit, account["debitTotal"]!.GetValue<string>());
            Assert.Equal(credit, account["creditTotal"]!.GetValue<string>());
            Assert.Equal(balance, account["balance"]!.GetValue<string>());
            var single = await App.AccountAsync(book, account["code"]!.GetValue<string>());
            Assert.True(JsonNode.DeepEquals(account, single));
        }
    }

    [Theory]
    [InlineData("JPY", "1500", "0")]
    [InlineData("KWD", "1.005", "0.000")]
    public async Task Totals_use_the_book_currency_digits(string currency, string amount, string zero)
    {
        var book = await EmptyBookAsync(currency);
        await App.CreateAccountsAsync(book, ("1000", "asset"), ("4000", "income"));
        await App.PostEntryOkAsync(book, "2026-01-01", "sale", ("1000", amount, null), ("4000", null, amount));
        var cash = await App.AccountAsync(book, "1000");
        Assert.Equal(amount, cash["debitTotal"]!.GetValue<string>());
        Assert.Equal(zero, cash["creditTotal"]!.GetValue<string>());
        Assert.Equal(amount, (await App.AccountAsync(book, "4000"))["balance"]!.GetValue<string>());
    }

    [Fact]
    public async Task Patch_renames_and_describes_without_touching_anything_else()
    {
        var book = await StandardBookAsync();
        await App.PostEntryOkAsync(book, "2026-01-01", "sale", ("1010", "10.00", null), ("4000", null, "10.00"));
        var before = await App.AccountAsync(book, "1010");

        var renamed = await Admin.PatchJsonAsync($"{AccountsUrl(book)}/1010", new { name = "Main bank" });
        Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
        var after = await renamed.ReadJsonAsync();
        Assert.Equal("Main bank", after["name"]!.GetValue<string>());
        Assert.Equal(before["description"]!.GetValue<string>(), after["description"]!.GetValue<string>());

        var described = await (await Admin.PatchJsonAsync($"{AccountsUrl(book)}/1010", new { description = "At the big bank" })).ReadJsonAsync();
        Assert.Equal("Main bank", described["name"]!.GetValue<string>());
        Assert.Equal("At the big bank", described["description"]!.GetValue<string>());

        foreach (var field in new[] { "code", "type", "debitTotal", "creditTotal", "balance", "archived", "createdAt" })
            Assert.True(JsonNode.DeepEquals(before[field], described[field]), field);
        Assert.True(JsonNode.DeepEquals(described, await App.AccountAsync(book, "1010")));
    }

    [Theory]
    [InlineData("{}", "body")]
    [InlineData("""{"name":""}""", "name")]
    public async Task Invalid_patches_are_400(string body, string field)
    {
        var book = await StandardBookAsync();
        await (await Admin.SendRawAsync(HttpMethod.Patch, $"{AccountsUrl(book)}/1010", body)).AssertValidationErrorAsync(field);
    }

    [Fact]
    public async Task Patch_cannot_change_the_type_or_code()
    {
        var book = await StandardBookAsync();
        await (await Admin.SendRawAsync(HttpMethod.Patch, $"{AccountsUrl(book)}/1010", """{"type":"expense"}"""))
            .AssertProblemAsync(HttpStatusCode.BadRequest);
        await (await Admin.SendRawAsync(HttpMethod.Patch, $"{AccountsUrl(book)}/1010", """{"code":"1011"}"""))
            .AssertProblemAsync(HttpStatusCode.BadRequest);
        var bank = await App.AccountAsync(book, "1010");
        Assert.Equal("asset", bank["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_archived_account_keeps_its_history_and_takes_no_new_postings_until_unarchived()
    {
        var book = await StandardBookAsync();
        await App.PostEntryOkAsync(book, "2026-01-01", "sale", ("1010", "10.00", null), ("4000", null, "10.00"));
        var archived = await (await Admin.PatchJsonAsync($"{AccountsUrl(book)}/4000", new { archived = true })).ReadJsonAsync();
        Assert.True(archived["archived"]!.GetValue<bool>());
        Assert.Equal("10.00", archived["balance"]!.GetValue<string>());

        var before = await App.SnapshotAsync(book);
        await (await Admin.PostEntryAsync(book, "2026-01-02", "sale", ("1010", "5.00", null), ("4000", null, "5.00")))
            .AssertValidationErrorAsync("lines[1].account");
        Assert.Equal(before, await App.SnapshotAsync(book));

        // Still listed, still in the trial balance.
        Assert.Contains((await Admin.GetJsonAsync(AccountsUrl(book))).AsArray(), a => a!["code"]!.GetValue<string>() == "4000");
        Assert.Contains((await App.TrialBalanceAsync(book, "2026-01-31"))["lines"]!.AsArray(), l => l!["account"]!.GetValue<string>() == "4000");

        var reopened = await (await Admin.PatchJsonAsync($"{AccountsUrl(book)}/4000", new { archived = false })).ReadJsonAsync();
        Assert.False(reopened["archived"]!.GetValue<bool>());
        var entry = await App.PostEntryOkAsync(book, "2026-01-02", "sale", ("1010", "5.00", null), ("4000", null, "5.00"));
        Assert.Equal(2, entry["number"]!.GetValue<long>());
    }

    [Fact]
    public async Task An_account_with_postings_is_never_deleted_and_one_without_can_be()
    {
        var book = await StandardBookAsync();
        // Entry ids count across every book of the (shared) app, so the first entry of this book is not id 1.
        var sale = (await App.PostEntryOkAsync(book, "2026-01-01", "sale", ("1010", "10.00", null), ("4000", null, "10.00")))["id"]!.GetValue<long>();
        await App.PostEntryOkAsync(book, "2026-01-03", "second sale", ("1010", "2.00", null), ("4000", null, "2.00"));

        var before = await App.SnapshotAsync(book);
        await (await Admin.DeleteAsync($"{AccountsUrl(book)}/1010")).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal(before, await App.SnapshotAsync(book));

        // Even when the postings net to zero.
        await (await Admin.PostRawAsync($"{EntriesUrl(book)}/{sale}/reverse", "{}")).AssertCreatedAsync();
        await (await Admin.DeleteAsync($"{AccountsUrl(book)}/4000")).AssertProblemAsync(HttpStatusCode.Conflict);

        var deleted = await Admin.DeleteAsync($"{AccountsUrl(book)}/6300");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await (await Admin.GetAsync($"{AccountsUrl(book)}/6300")).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.DoesNotContain((await Admin.GetJsonAsync(AccountsUrl(book))).AsArray(), a => a!["code"]!.GetValue<string>() == "6300");
        await (await Admin.PostEntryAsync(book, "2026-01-02", "x", ("6300", "1", null), ("1010", null, "1")))
            .AssertValidationErrorAsync("lines[0].account");
        // The code can be used again.
        await App.CreateAccountAsync(book, "6300", "expense");
    }

    [Fact]
    public async Task An_account_a_setting_names_is_not_deleted_until_nothing_names_it()
    {
        var book = await StandardBookAsync();
        await App.CreateAccountAsync(book, "2110", "liability");
        await App.CreateAccountAsync(book, "1310", "asset");
        await App.CreateAccountAsync(book, "1020", "asset");
        await App.CreateAccountAsync(book, "6910", "expense");
        await App.CreateAccountAsync(book, "4100", "income");
        await (await Admin.PostJsonAsync($"/v1/books/{book}/tax-rates", new { code = "V", name = "V", rate = "19", salesAccount = "2110", purchaseAccount = "1310" }))
            .AssertCreatedAsync();
        await Admin.CreateBankAccountAsync(book, account: "1020");
        var rule = (await (await Admin.PostJsonAsync($"/v1/books/{book}/bank-rules", new
        {
            name = "Fees", priority = 10, conditions = new[] { new { field = "description", op = "contains", value = "fee" } }, action = new { account = "6910" },
        })).AssertCreatedAsync())["id"]!.GetValue<long>();
        var customer = await App.CreateCustomerAsync(book);
        var draft = (await (await Admin.PostJsonAsync($"/v1/books/{book}/invoices", new
        {
            customer, date = "2026-03-01", lines = new[] { new { description = "Hours", unitPrice = "10.00", account = "4100" } },
        })).AssertCreatedAsync())["id"]!.GetValue<long>();

        // Without postings, each of these could be deleted before; a new account with the code (of any type) would then
        // have taken over the role silently.
        var before = await App.SnapshotAsync(book);
        foreach (var code in new[] { "1200", "2000", "2110", "1310", "1020", "6910", "4100" })
        {
            var problem = await (await Admin.DeleteAsync($"{AccountsUrl(book)}/{code}")).AssertProblemAsync(HttpStatusCode.Conflict);
            Assert.Contains($"'{code}'", problem["detail"]!.GetValue<string>());
        }
        Assert.Equal(before, await App.SnapshotAsync(book));
        Assert.Equal(19 + 5, (await Admin.GetJsonAsync(AccountsUrl(book))).AsArray().Count);

        // Once nothing names them, they go.
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"/v1/books/{book}/bank-rules/{rule}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"/v1/books/{book}/invoices/{draft}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"{AccountsUrl(book)}/6910")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"{AccountsUrl(book)}/4100")).StatusCode);
    }

    [Fact]
    public async Task Unknown_accounts_in_the_url_are_404()
    {
        var book = await StandardBookAsync();
        await (await Admin.GetAsync($"{AccountsUrl(book)}/9999")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await Admin.PatchJsonAsync($"{AccountsUrl(book)}/9999", new { name = "x" })).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await Admin.DeleteAsync($"{AccountsUrl(book)}/9999")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await Admin.GetAsync($"{AccountsUrl(book)}/1010%20")).AssertProblemAsync(HttpStatusCode.NotFound);
    }
}
