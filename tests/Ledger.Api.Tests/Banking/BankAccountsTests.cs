using System.Net;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Banking;

public sealed class BankAccountsTests(SharedApp shared) : SharedAppTest(shared)
{
    [Fact]
    public async Task A_bank_account_is_one_asset_account_of_the_chart_and_shows_its_book_balance()
    {
        var book = await StandardBookAsync();
        await App.PostEntryOkAsync(book, "2026-01-02", "Capital", ("1010", "2500.00", null), ("3000", null, "2500.00"));
        var created = await (await Admin.PostJsonAsync(BankFiles.Url(book, "bank-accounts"),
            new { name = "Main bank", account = "1010", kind = "bank", iban = "de89 3704 0044 0532 0130 00", bic = "COBADEFFXXX" })).AssertCreatedAsync();
        Assert.Equal(("DE89370400440532013000", "EUR", "2500.00", false),
            (created.Str("iban"), created.Str("currency"), created.Str("bookBalance"), created["archived"]!.GetValue<bool>()));
        var cash = await Admin.CreateBankAccountAsync(book, "1000", iban: null, kind: "cash", name: "Till");

        // One bank account per GL account; only asset accounts that are not control accounts; the book's currency.
        await (await Admin.PostJsonAsync(BankFiles.Url(book, "bank-accounts"), new { name = "Again", account = "1010", kind = "bank" }))
            .AssertProblemAsync(HttpStatusCode.Conflict);
        await (await Admin.PostJsonAsync(BankFiles.Url(book, "bank-accounts"), new { name = "Sales", account = "4000", kind = "bank" }))
            .AssertValidationErrorAsync("account");
        await (await Admin.PostJsonAsync(BankFiles.Url(book, "bank-accounts"), new { name = "AR", account = "1200", kind = "bank" }))
            .AssertValidationErrorAsync("account");
        await (await Admin.PostJsonAsync(BankFiles.Url(book, "bank-accounts"), new { name = "USD", account = "1000", kind = "bank", currency = "USD" }))
            .AssertValidationErrorAsync("currency");
        await (await Admin.PostJsonAsync(BankFiles.Url(book, "bank-accounts"), new { name = "Bad", account = "1000", kind = "bank", iban = "DE89370400440532013001" }))
            .AssertValidationErrorAsync("iban");
        await (await Admin.PostJsonAsync(BankFiles.Url(book, "bank-accounts"), new { name = "Bad", account = "1000", kind = "vault" }))
            .AssertValidationErrorAsync("kind");

        var patched = await (await Admin.PatchJsonAsync($"{BankFiles.Url(book, "bank-accounts")}/{cash}", new { name = "Petty cash", archived = true }))
            .Content.ReadAsStringAsync();
        Assert.Contains("\"Petty cash\"", patched);
        var list = await Admin.GetJsonAsync(BankFiles.Url(book, "bank-accounts"));
        Assert.Equal(2, list["items"]!.AsArray().Count);
        Assert.True(list["items"]![1]!["archived"]!.GetValue<bool>());
        await (await Admin.GetAsync($"{BankFiles.Url(book, "bank-accounts")}/999999")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Another_books_key_cannot_see_or_import_into_a_bank_account()
    {
        var book = await StandardBookAsync();
        var other = await StandardBookAsync();
        var account = await Admin.CreateBankAccountAsync(book);
        var otherKey = App.Client(await App.CreateKeyAsync(other, "read", "write"));
        await (await otherKey.GetAsync($"{BankFiles.Url(book, "bank-accounts")}/{account}")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await otherKey.ImportAsync(book, account, BankFiles.Camt(null, null, new BankLine("2026-03-02", "1.00", "x"))))
            .AssertProblemAsync(HttpStatusCode.NotFound);
        var reader = App.Client(await App.CreateKeyAsync(book, "read"));
        await (await reader.ImportAsync(book, account, BankFiles.Camt(null, null, new BankLine("2026-03-02", "1.00", "x"))))
            .AssertProblemAsync(HttpStatusCode.Forbidden);
    }
}
