using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Banking;

public sealed class StatementImportTests(SharedApp shared) : SharedAppTest(shared)
{
    private async Task<(string Book, long Account)> BankAsync()
    {
        var book = await StandardBookAsync();
        return (book, await Admin.CreateBankAccountAsync(book));
    }

    private static readonly BankLine[] March =
    [
        new("2026-03-02", "1200.00", "Payment INV 17", "BANKREF-1", "Globex", BankFiles.OtherIban),
        new("2026-03-03", "-12.50", "Account fee"),
        new("2026-03-04", "-300.00", "Rent March", "BANKREF-2", "Landlord Ltd"),
    ];

    [Fact]
    public async Task The_same_file_again_imports_nothing_and_changes_nothing()
    {
        var (book, account) = await BankAsync();
        var file = BankFiles.Camt("1000.00", BankFiles.Sum("1000.00", March), March);
        var first = await Admin.ImportOkAsync(book, account, file);
        Assert.Equal(("camt053", 3, 0, "1000.00", "1887.50"),
            (first.Str("format"), first["imported"]!.GetValue<int>(), first["duplicates"]!.GetValue<int>(), first.Str("openingBalance"), first.Str("closingBalance")));
        Assert.All(first["lines"]!.AsArray(), l => Assert.Equal(("new", "unmatched"), (l.Str("import"), l.Str("status"))));
        Assert.Equal("-12.50", first["lines"]![1].Str("amount"));

        // Sent as curl --data-binary sends it (a form content type): the file's bytes say what it is, not the header.
        var asForm = await Admin.ImportAsync(book, account, file, mediaType: "application/x-www-form-urlencoded");
        Assert.Equal(HttpStatusCode.OK, asForm.StatusCode);
        var again = await Admin.ImportOkAsync(book, account, file, expected: HttpStatusCode.OK);
        Assert.Equal((first["statementId"]!.GetValue<long>(), 0, 3), (again["statementId"]!.GetValue<long>(), again["imported"]!.GetValue<int>(), again["duplicates"]!.GetValue<int>()));
        Assert.Equal(first["lines"]!.AsArray().Select(l => l!["id"]!.GetValue<long>()), again["lines"]!.AsArray().Select(l => l!["id"]!.GetValue<long>()));
        Assert.Equal(3, (await Admin.LinesAsync(book, account)).Count);
        Assert.Single((await Admin.GetJsonAsync($"{BankFiles.Url(book, "bank-accounts")}/{account}/statements")).AsArray());
    }

    [Fact]
    public async Task An_overlapping_file_imports_only_its_new_lines()
    {
        var (book, account) = await BankAsync();
        await Admin.ImportOkAsync(book, account, BankFiles.Camt(null, null, March));
        BankLine[] overlap = [March[1], March[2], new("2026-03-05", "-40.00", "Fuel", "BANKREF-3")];
        var second = await Admin.ImportOkAsync(book, account, BankFiles.Camt(null, null, overlap));
        Assert.Equal((1, 2), (second["imported"]!.GetValue<int>(), second["duplicates"]!.GetValue<int>()));
        Assert.Equal(["duplicate", "duplicate", "new"], second["lines"]!.AsArray().Select(l => l.Str("import")));
        Assert.Equal(4, (await Admin.LinesAsync(book, account)).Count);
    }

    [Fact]
    public async Task Two_genuine_identical_lines_in_one_file_both_import_and_a_reused_bank_id_with_another_amount_is_another_line()
    {
        var (book, account) = await BankAsync();
        BankLine coffee = new("2026-03-06", "-3.20", "Coffee shop", null, "Cafe");
        BankLine reused = new("2026-03-07", "-50.00", "Card", "REF-SAME");
        BankLine reusedOtherAmount = new("2026-03-07", "-51.00", "Card", "REF-SAME");
        var result = await Admin.ImportOkAsync(book, account, BankFiles.Camt(null, null, coffee, coffee, reused, reusedOtherAmount));
        Assert.Equal((4, 0), (result["imported"]!.GetValue<int>(), result["duplicates"]!.GetValue<int>()));

        // A later file with one of the coffees (and something new) finds it among the two, and the two stay two.
        var later = await Admin.ImportOkAsync(book, account, BankFiles.Camt(null, null, coffee, new BankLine("2026-03-08", "5.00", "Refund")));
        Assert.Equal(["duplicate", "new"], later["lines"]!.AsArray().Select(l => l.Str("import")));
        // Three identical coffees where two were known: the third is new.
        var third = await Admin.ImportOkAsync(book, account, BankFiles.Camt(null, null, coffee, coffee, coffee));
        Assert.Equal(["duplicate", "duplicate", "new"], third["lines"]!.AsArray().Select(l => l.Str("import")));
        Assert.Equal(3, (await Admin.LinesAsync(book, account)).Count(l => l.Str("description") == "Coffee shop"));
    }

    [Fact]
    public async Task A_file_whose_lines_do_not_reach_its_closing_balance_is_refused_with_the_difference_and_nothing_is_stored()
    {
        var (book, account) = await BankAsync();
        var response = await Admin.ImportAsync(book, account, BankFiles.Camt("1000.00", "1900.00", March));
        var problem = await response.AssertProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal("12.50", problem.Str("difference"));
        Assert.Empty(await Admin.LinesAsync(book, account));
        Assert.Empty((await Admin.GetJsonAsync($"{BankFiles.Url(book, "bank-accounts")}/{account}/statements")).AsArray());
    }

    [Fact]
    public async Task An_opening_balance_that_differs_from_the_previous_closing_balance_is_a_warning()
    {
        var (book, account) = await BankAsync();
        await Admin.ImportOkAsync(book, account, BankFiles.Camt("1000.00", BankFiles.Sum("1000.00", March), March));
        BankLine[] april = [new("2026-04-02", "10.00", "Interest", "APR-1")];
        var continuing = await Admin.ImportOkAsync(book, account, BankFiles.Camt("1887.50", "1897.50", april));
        Assert.Empty(continuing["warnings"]!.AsArray());
        BankLine[] may = [new("2026-05-02", "10.00", "Interest", "MAY-1")];
        var gap = await Admin.ImportOkAsync(book, account, BankFiles.Camt("2000.00", "2010.00", may));
        Assert.Contains(gap["warnings"]!.AsArray(), w => w!.GetValue<string>().Contains("1897.50"));
    }

    [Fact]
    public async Task A_file_of_another_account_is_refused_one_of_several_takes_its_own_and_a_gap_between_statements_is_a_warning()
    {
        var (book, account) = await BankAsync();
        static string Statement(string account, string opening, string line, string closing, string reference) =>
            $":20:{reference}\n:25:{account}\n:28C:1/1\n:60F:C2603{opening}\n:61:{line}NTRFNONREF//{reference}\n:86:Transfer\n:62F:C2603{closing}\n-\n";
        async Task<HttpResponseMessage> ImportMt940Async(string text) =>
            await Admin.ImportAsync(book, account, text, "?format=mt940", mediaType: "text/plain");
        var before = await App.SnapshotAsync(book);

        // This account written the German domestic way (bank code/account number) is the IBAN's; another one is not.
        var other = await ImportMt940Async(Statement("37040044/0532013099", "01EUR100,00", "2603020302D10,00", "02EUR90,00", "A1"));
        Assert.Contains("bank code 37040044, account 0532013099", (await other.AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).ToJsonString());
        Assert.Equal(before, await App.SnapshotAsync(book));
        // Two accounts in one file: this account's statement is taken (named the domestic way), the other's left out.
        var several = await (await ImportMt940Async(Statement("37040044/0532013000", "01EUR100,00", "2603020302D10,00", "02EUR90,00", "B1")
                                                  + Statement("DE12500105170648489890", "01EUR5,00", "2603020302D1,00", "02EUR4,00", "B2"))).AssertCreatedAsync();
        Assert.Equal(("1", "B1"), (several["imported"]!.ToJsonString(), several["lines"]![0].Str("bankReference")));
        Assert.Contains(several["warnings"]!.AsArray(), w => w!.GetValue<string>().Contains("DE12500105170648489890", StringComparison.Ordinal)
                                                             && w.GetValue<string>().Contains("left out", StringComparison.Ordinal));

        // Two days of this account whose second opens where the first did not close: imported, with a warning.
        var gap = await ImportMt940Async(Statement("37040044/0532013000", "01EUR100,00", "2603020302D10,00", "02EUR90,00", "C1")
                                       + Statement("DE89370400440532013000", "03EUR80,00", "2603040304D5,00", "04EUR75,00", "C2"));
        var imported = await gap.AssertCreatedAsync();
        Assert.Equal(2, imported["imported"]!.GetValue<int>());
        Assert.Contains(imported["warnings"]!.AsArray(), w => w!.GetValue<string>().Contains("opens at 80.00, not at the 90.00", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_transaction_imported_again_in_another_shape_is_said_when_the_lines_no_longer_reach_the_files_closing_balance()
    {
        var (book, account) = await BankAsync();
        var first = await Admin.ImportOkAsync(book, account, BankFiles.Camt("100.00", "60.00",
            new BankLine("2026-03-02", "-40.00", "Batch of two transfers", "BATCH-7")));
        Assert.DoesNotContain(first["warnings"]!.AsArray(), w => w!.GetValue<string>().Contains("reach", StringComparison.Ordinal));
        // The same day from another export: the batch as its two parts, under references of their own (no duplicates).
        var again = await Admin.ImportOkAsync(book, account, BankFiles.Camt("100.00", "60.00",
            new BankLine("2026-03-02", "-25.00", "Transfer 1", "BATCH-7/1"), new BankLine("2026-03-02", "-15.00", "Transfer 2", "BATCH-7/2")));
        Assert.Equal(2, again["imported"]!.GetValue<int>());
        Assert.Contains(again["warnings"]!.AsArray(), w => w!.GetValue<string>().Contains("reach 20.00 by 2026-03-02, but the file closes at 60.00", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_dry_run_marks_each_line_new_or_duplicate_and_stores_nothing()
    {
        var (book, account) = await BankAsync();
        await Admin.ImportOkAsync(book, account, BankFiles.Camt(null, null, March[0]));
        var preview = await Admin.ImportOkAsync(book, account, BankFiles.Camt(null, null, March), "?dryRun=true", HttpStatusCode.OK);
        Assert.True(preview["dryRun"]!.GetValue<bool>());
        Assert.Null(preview["statementId"]);
        Assert.Equal(["duplicate", "new", "new"], preview["lines"]!.AsArray().Select(l => l.Str("import")));
        Assert.Single(await Admin.LinesAsync(book, account));
    }

    [Fact]
    public async Task A_broken_file_of_each_format_is_a_problem_naming_where_and_stores_nothing()
    {
        var (book, account) = await BankAsync();
        var camt = BankFiles.Camt(null, null, March).Replace("1200.00", "12.00.1");
        var broken = new (string Content, string Query)[]
        {
            (camt, ""),
            (BankFiles.Camt(null, null, March)[..200], "?format=camt053"),
            ("OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\n\n<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>EUR<BANKTRANLIST><STMTTRN><TRNTYPE>DEBIT<DTPOSTED>2026XX01<TRNAMT>-1.00<FITID>1</STMTTRN></BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>", ""),
            (":20:STMT\n:25:DE89370400440532013000\n:28C:1/1\n:60F:C260301EUR100,00\n:61:2603020302D1x,00NTRFNONREF\n:62F:C260302EUR99,00\n-", ""),
        };
        foreach (var (content, query) in broken)
        {
            var response = await Admin.ImportAsync(book, account, content, query);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity, body);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.NotNull(JsonNode.Parse(body)!["location"]);
        }
        var csvProfile = await CsvProfileAsync(book, account);
        var csv = Encoding.Latin1.GetBytes("Konto;X\n\nDatum;Buchungstext;Betrag;Empfänger\n02.03.2026;Fee;-1,00;Bank\n31.02.2026;Bad date;-2,00;Bank\n");
        await (await Admin.ImportBytesAsync(book, account, csv, $"?profile={csvProfile}")).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Empty(await Admin.LinesAsync(book, account));
        // Not a statement at all, without a profile: the format is asked for.
        await (await Admin.ImportAsync(book, account, "hello")).AssertValidationErrorAsync("format");
        await (await Admin.ImportAsync(book, account, "")).AssertValidationErrorAsync("body");
    }

    [Fact]
    public async Task A_file_for_another_account_or_currency_is_refused()
    {
        var (book, account) = await BankAsync();
        var otherIban = BankFiles.Camt(null, null, March).Replace(BankFiles.Iban, BankFiles.OtherIban);
        await (await Admin.ImportAsync(book, account, otherIban)).AssertProblemAsync(HttpStatusCode.UnprocessableEntity);
        var usd = BankFiles.Camt(null, null, March).Replace("EUR", "USD");
        await (await Admin.ImportAsync(book, account, usd)).AssertProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Empty(await Admin.LinesAsync(book, account));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_file_over_20_MB_is_413()
    {
        var (book, account) = await BankAsync();
        var big = new byte[20 * 1024 * 1024 + 1];
        await (await Admin.ImportBytesAsync(book, account, big, "?format=camt053")).AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task An_idempotency_key_replays_the_import_answer()
    {
        var (book, account) = await BankAsync();
        var file = BankFiles.Camt(null, null, March);
        var first = await Admin.ImportAsync(book, account, file, idempotencyKey: "import-1");
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var replay = await Admin.ImportAsync(book, account, file, idempotencyKey: "import-1");
        Assert.Equal(HttpStatusCode.Created, replay.StatusCode);
        Assert.True(replay.Headers.Contains("Idempotency-Replayed"));
        Assert.Equal(await first.Content.ReadAsStringAsync(), await replay.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_csv_profile_reads_semicolons_decimal_commas_latin1_and_debit_credit_columns()
    {
        var (book, account) = await BankAsync();
        var german = await CsvProfileAsync(book, account);
        var latin1 = Encoding.Latin1.GetBytes("Konto;DE89370400440532013000\n\nDatum;Buchungstext;Betrag;Empfänger\n" +
                                              "02.03.2026;Gebühr März;-1.234,56;Bank\n03.03.2026;Überweisung;2.000,00;Müller GmbH\n");
        var imported = await (await Admin.ImportBytesAsync(book, account, latin1, $"?profile={german}&format=csv")).AssertCreatedAsync();
        Assert.Equal(["-1234.56", "2000.00"], imported["lines"]!.AsArray().Select(l => l.Str("amount")));
        Assert.Equal(("Gebühr März", "Müller GmbH"), (imported["lines"]![0].Str("description"), imported["lines"]![1].Str("counterparty")));

        var debitCredit = await (await Admin.PostJsonAsync($"{BankFiles.Url(book, "bank-accounts")}/{account}/csv-profiles", new
        {
            name = "us", delimiter = ",", decimalSeparator = ".", dateFormat = "MM/dd/yyyy", encoding = "utf-8", hasHeader = true,
            columns = new { date = "Date", description = "Description", debit = "Debit", credit = "Credit" },
        })).AssertCreatedAsync();
        var us = Encoding.UTF8.GetBytes("Date,Description,Debit,Credit\n03/10/2026,\"Wire, incoming\",,500.00\n03/11/2026,Check 101,75.25,\n");
        var usLines = await (await Admin.ImportBytesAsync(book, account, us, $"?profile={debitCredit.Id()}")).AssertCreatedAsync();
        Assert.Equal(["500.00", "-75.25"], usLines["lines"]!.AsArray().Select(l => l.Str("amount")));
        Assert.Equal("Wire, incoming", usLines["lines"]![0].Str("description"));

        var profiles = await Admin.GetJsonAsync($"{BankFiles.Url(book, "bank-accounts")}/{account}/csv-profiles");
        Assert.Equal(2, profiles.AsArray().Count);
        await (await Admin.PostJsonAsync($"{BankFiles.Url(book, "bank-accounts")}/{account}/csv-profiles", new
        {
            name = "bad", delimiter = ";", decimalSeparator = ",", dateFormat = "dd.MM.yyyy", encoding = "ebcdic", hasHeader = true,
            columns = new { date = "Datum", description = "Text", amount = "Betrag", debit = "Soll" },
        })).AssertValidationErrorOnAnyAsync("encoding", "columns.amount", "columns.credit");
    }

    [Fact]
    public async Task A_csv_profile_reads_a_debit_credit_mark_column_and_skips_rows_not_yet_booked()
    {
        var (book, account) = await BankAsync();
        var url = $"{BankFiles.Url(book, "bank-accounts")}/{account}/csv-profiles";
        // A mark column without the marks that mean money out says what is missing; so does a status column without statuses.
        await (await Admin.PostJsonAsync(url, new
        {
            name = "vb", delimiter = ";", decimalSeparator = ",", thousandsSeparator = ".", dateFormat = "dd.MM.yyyy", encoding = "utf-8",
            hasHeader = true, columns = new { date = "Buchungstag", description = "Vorgang", amount = "Umsatz", sign = "S/H", status = "Status" },
        })).AssertValidationErrorOnAnyAsync("debitMarks", "skipStatuses");
        var profile = await (await Admin.PostJsonAsync(url, new
        {
            name = "vb", delimiter = ";", decimalSeparator = ",", thousandsSeparator = ".", dateFormat = "dd.MM.yyyy", encoding = "utf-8",
            hasHeader = true, columns = new { date = "Buchungstag", description = "Vorgang", amount = "Umsatz", sign = "S/H", status = "Status" },
            debitMarks = new[] { "S" }, skipStatuses = new[] { "Umsatz vorgemerkt" },
        })).AssertCreatedAsync();
        Assert.Equal(["S"], profile["debitMarks"]!.AsArray().Select(m => m!.GetValue<string>()));
        var file = Encoding.UTF8.GetBytes("Buchungstag;Vorgang;Umsatz;S/H;Status\n" +
                                          "02.03.2026;Miete;1.200,00;S;Umsatz gebucht\n03.03.2026;Gutschrift;120,00;H;Umsatz gebucht\n" +
                                          "04.03.2026;Kartenzahlung;23,47;S;Umsatz vorgemerkt\n");
        var imported = await (await Admin.ImportBytesAsync(book, account, file, $"?profile={profile.Id()}")).AssertCreatedAsync();
        Assert.Equal(["-1200.00", "120.00"], imported["lines"]!.AsArray().Select(l => l.Str("amount")));
        Assert.Contains(imported["warnings"]!.AsArray(), w => w!.GetValue<string>().Contains("Umsatz vorgemerkt", StringComparison.Ordinal));
    }

    private async Task<string> CsvProfileAsync(string book, long account)
    {
        var name = "de-" + Guid.NewGuid().ToString("N")[..6];
        await (await Admin.PostJsonAsync($"{BankFiles.Url(book, "bank-accounts")}/{account}/csv-profiles", new
        {
            name, delimiter = ";", decimalSeparator = ",", thousandsSeparator = ".", dateFormat = "dd.MM.yyyy", encoding = "iso-8859-1",
            hasHeader = true, skipRows = 2, columns = new { date = "Datum", description = "Buchungstext", amount = "Betrag", counterparty = "Empfänger" },
        })).AssertCreatedAsync();
        return name;
    }
}
