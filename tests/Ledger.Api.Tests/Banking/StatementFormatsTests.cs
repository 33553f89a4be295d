using System.Net;
using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Banking;

/// <summary>
/// Each fixture of tests/Ledger.BankStatements.Tests/Fixtures through the API: recognised, imported, and the same file
/// again imports nothing. The parsers' own tests check every field; these check that a real file of each format gets
/// through the importer (balances tie, format recognised, lines stored) and that a broken one stores nothing.
/// </summary>
public sealed class StatementFormatsTests(SharedApp shared) : SharedAppTest(shared)
{
    private static byte[] Fixture(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", name));

    private async Task<(string Book, long Account)> BankAsync(string currency = "EUR", string? iban = null)
    {
        var book = await StandardBookAsync(currency);
        return (book, await Admin.CreateBankAccountAsync(book, iban: iban));
    }

    // Two fixtures hold statements of two accounts (a second account's CAMT statement; an OFX bank statement beside a
    // credit card's): the CAMT one is read by a bank account that names its IBAN, and the import takes that account's
    // statements only; the OFX one, whose sample account number is no valid IBAN, is refused (below).
    [Theory]
    [InlineData("camt053-001-02.xml", "camt053", "EUR", null)]
    [InlineData("camt053-001-08.xml", "camt053", "EUR", "DE02100100100006820101")]
    [InlineData("ofx-1x-sgml.ofx", "ofx", "EUR", null)]
    [InlineData("mt940-new-year.sta", "mt940", "EUR", null)]
    [InlineData("mt940-swift-blocks.sta", "mt940", "EUR", null)]
    public async Task A_fixture_is_recognised_imported_and_not_imported_twice(string fixture, string format, string currency, string? iban)
    {
        var (book, account) = await BankAsync(currency, iban);
        var bytes = Fixture(fixture);
        var first = await (await Admin.ImportBytesAsync(book, account, bytes)).AssertCreatedAsync();
        Assert.Equal(format, first.Str("format"));
        var lines = first["lines"]!.AsArray();
        Assert.NotEmpty(lines);
        Assert.Equal(lines.Count, first["imported"]!.GetValue<int>());
        Assert.Equal(lines.Count, (await Admin.LinesAsync(book, account)).Count);
        if (iban is not null)
            Assert.Contains(first["warnings"]!.AsArray(), w => w!.GetValue<string>().Contains("left out", StringComparison.Ordinal));

        var again = await Admin.ImportBytesAsync(book, account, bytes);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(0, (await again.ReadJsonAsync())["imported"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_file_with_a_bank_and_a_card_statement_is_refused_when_the_bank_account_cannot_tell_its_own()
    {
        var (book, account) = await BankAsync("GBP");
        var before = await App.SnapshotAsync(book);
        var refused = await (await Admin.ImportBytesAsync(book, account, Fixture("ofx-2x.ofx"))).AssertProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Contains("statements of 2 accounts", refused.ToJsonString());
        Assert.Equal(before, await App.SnapshotAsync(book));
    }

    [Fact]
    public async Task A_camt_batch_entry_becomes_one_line_per_transaction_and_a_reversal_is_marked()
    {
        var (book, account) = await BankAsync();
        var result = await (await Admin.ImportBytesAsync(book, account, Fixture("camt053-001-02.xml"))).AssertCreatedAsync();
        var lines = result["lines"]!.AsArray();
        // Three parts of one batch entry share the entry's reference, each made unique, so each is its own line.
        var batch = lines.Where(l => l!["bankReference"]?.GetValue<string>() is { } r && r.Contains('/')).ToList();
        Assert.True(batch.Count >= 3, result.ToJsonString());
        Assert.Equal(batch.Count, batch.Select(l => l.Str("bankReference")).Distinct().Count());
        Assert.Contains(lines, l => l!["reversal"]!.GetValue<bool>());
        Assert.Contains(result["warnings"]!.AsArray(), w => w!.GetValue<string>().Contains("PDNG", StringComparison.OrdinalIgnoreCase)
                                                            || w.GetValue<string>().Contains("pending", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task An_mt940_file_across_new_year_gets_the_entry_dates_right_and_marks_its_reversal()
    {
        var (book, account) = await BankAsync();
        var result = await (await Admin.ImportBytesAsync(book, account, Fixture("mt940-new-year.sta"))).AssertCreatedAsync();
        var lines = result["lines"]!.AsArray();
        Assert.Contains(lines, l => l.Str("bookingDate").StartsWith("2026-01") && l.Str("valueDate").StartsWith("2025-12"));
        Assert.Contains(lines, l => l!["reversal"]!.GetValue<bool>());
        Assert.All(lines, l => Assert.True(Math.Abs(DateOnly.Parse(l.Str("bookingDate")).DayNumber - DateOnly.Parse(l.Str("valueDate")).DayNumber) < 10));
    }

    [Fact]
    public async Task The_csv_fixtures_import_through_their_profiles()
    {
        var (book, account) = await BankAsync();
        await (await Admin.PostJsonAsync($"{BankFiles.Url(book, "bank-accounts")}/{account}/csv-profiles", new
        {
            name = "sparkasse", delimiter = ";", decimalSeparator = ",", thousandsSeparator = ".", dateFormat = "dd.MM.yyyy", encoding = "iso-8859-1",
            hasHeader = true, skipRows = 2,
            columns = new { date = "Buchungstag", valueDate = "Valuta", amount = "Betrag", description = "Verwendungszweck", counterparty = "Auftraggeber/Empfänger", iban = "IBAN" },
        })).AssertCreatedAsync();
        var german = await (await Admin.ImportBytesAsync(book, account, Fixture("csv-semicolon-latin1.csv"), "?profile=sparkasse")).AssertCreatedAsync();
        Assert.Equal("csv", german.Str("format"));
        Assert.Contains(german["lines"]!.AsArray(), l => l.Str("counterparty") == "Bäckerei Müller" && l.Str("amount") == "-23.40");
        Assert.Contains(german["lines"]!.AsArray(), l => l.Str("amount") == "-1234.56");

        await (await Admin.PostJsonAsync($"{BankFiles.Url(book, "bank-accounts")}/{account}/csv-profiles", new
        {
            name = "us", delimiter = ",", decimalSeparator = ".", thousandsSeparator = ",", dateFormat = "MM/dd/yyyy", encoding = "utf-8", hasHeader = true,
            columns = new { date = "Date", debit = "Debit", credit = "Credit", description = "Description", counterparty = "Payee", reference = "Reference" },
        })).AssertCreatedAsync();
        var us = await (await Admin.ImportBytesAsync(book, account, Fixture("csv-debit-credit.csv"), "?profile=us")).AssertCreatedAsync();
        Assert.Contains(us["lines"]!.AsArray(), l => l.Str("amount") == "-2450.00" && l.Str("description") == "Office rent, March");
        Assert.Contains(us["lines"]!.AsArray(), l => l.Str("amount") == "12800.00" && l.Str("bankReference") == "INV-3307");
    }

    [Theory]
    [InlineData("camt053-broken-amount.xml", "")]
    [InlineData("camt053-broken-xml.xml", "?format=camt053")]
    [InlineData("camt053-batch-mismatch.xml", "")]
    [InlineData("ofx-broken-amount.ofx", "")]
    [InlineData("ofx-broken-date.ofx", "")]
    [InlineData("ofx-truncated.ofx", "")]
    [InlineData("mt940-broken-amount.sta", "")]
    [InlineData("mt940-broken-date.sta", "")]
    [InlineData("mt940-61-before-60.sta", "")]
    [InlineData("mt940-truncated.sta", "")]
    [InlineData("mt940-unbalanced.sta", "")]
    public async Task A_broken_fixture_is_a_problem_and_stores_nothing(string fixture, string query)
    {
        var (book, account) = await BankAsync();
        var response = await Admin.ImportBytesAsync(book, account, Fixture(fixture), query);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(body)!;
        Assert.True(problem["location"] is not null || problem["difference"] is not null || problem["errors"] is not null, body);
        Assert.Empty(await Admin.LinesAsync(book, account));
        Assert.Empty((await Admin.GetJsonAsync($"{BankFiles.Url(book, "bank-accounts")}/{account}/statements")).AsArray());
    }
}
