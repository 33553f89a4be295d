using System.Diagnostics;
using System.Text;
using Xunit.Abstractions;
using Ledger.Domain;
using NodaTime;

namespace Ledger.BankStatements.Tests;

/// <summary>
/// OFX 1.x (SGML) and 2.x (XML) statements. The fixtures, written by hand with invented names and accounts:
/// <list type="bullet">
/// <item><c>ofx-1x-sgml.ofx</c>: the "OFXHEADER:100" header, leaf tags left open, CRLF line ends; a credit and
/// debits; the same NAME twice with different FITIDs; "&amp;amp;" in a NAME; a decimal comma ("-12,50"); an empty
/// and a missing MEMO (the description falls back to NAME); DTPOSTED with time and zone and a DTUSER (value date);
/// a BANKACCTTO with an IBAN written in groups; LEDGERBAL beside an AVAILBAL that must be ignored.</item>
/// <item><c>ofx-2x.ofx</c>: XML with <c>&lt;?OFX ...?&gt;</c>, a bank STMTRS and a credit-card CCSTMTRS (two
/// sections), entities (named and numeric), CDATA, a raw UTF-8 "é", a PAYEE aggregate instead of NAME, "+1200.50",
/// an empty closed <c>&lt;MEMO&gt;&lt;/MEMO&gt;</c> and a negative ledger balance.</item>
/// <item><c>ofx-broken-amount.ofx</c> (TRNAMT "12.3x"), <c>ofx-broken-date.ofx</c> (DTPOSTED 20251399),
/// <c>ofx-truncated.ofx</c> (cut inside a NAME): each refused with the line and element path.</item>
/// </list>
/// Everything else (encodings, control characters, limits, malformed structure) is built in memory below.
/// </summary>
public sealed class OfxParserTests(ITestOutputHelper output)
{
    private static StatementFile Read(string name, int digits = 2) => Fixture.Read(name, StatementFormat.Ofx, digits);

    private static StatementFile ReadText(string text, int digits = 2) => ReadBytes(Encoding.UTF8.GetBytes(text), digits);

    private static StatementFile ReadBytes(byte[] bytes, int digits = 2)
    {
        using var stream = new MemoryStream(bytes);
        return OfxParser.Parse(stream, new StatementReadOptions(digits));
    }

    private static StatementFormatException Refused(string text, int digits = 2) =>
        Assert.Throws<StatementFormatException>(() => ReadText(text, digits));

    private const string SgmlHeader = "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\nCHARSET:1252\nCOMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n";

    /// <summary>A minimal SGML file around the given STMTTRN elements.</summary>
    private static string Sgml(string transactions, string currency = "EUR") =>
        SgmlHeader + "<OFX>\n<BANKMSGSRSV1>\n<STMTTRNRS>\n<TRNUID>1\n<STMTRS>\n<CURDEF>" + currency + "\n<BANKACCTFROM>\n<BANKID>1\n<ACCTID>99\n<ACCTTYPE>CHECKING\n</BANKACCTFROM>\n<BANKTRANLIST>\n"
        + transactions + "</BANKTRANLIST>\n</STMTRS>\n</STMTTRNRS>\n</BANKMSGSRSV1>\n</OFX>\n";

    private static string Trn(string amount = "-1.00", string date = "20251201", string fitId = "F1", string? name = "Shop", string? memo = null) =>
        "<STMTTRN>\n<TRNTYPE>DEBIT\n<DTPOSTED>" + date + "\n<TRNAMT>" + amount + "\n<FITID>" + fitId + "\n"
        + (name is null ? "" : "<NAME>" + name + "\n") + (memo is null ? "" : "<MEMO>" + memo + "\n") + "</STMTTRN>\n";

    [Fact]
    public void A_correction_takes_back_the_transaction_it_names_a_delete_is_no_transaction_and_a_replace_takes_its_place()
    {
        static string Correction(string action, string target, string fitId, string amount) =>
            "<STMTTRN>\n<TRNTYPE>DEBIT\n<DTPOSTED>20251202\n<TRNAMT>" + amount + "\n<FITID>" + fitId + "\n<CORRECTFITID>" + target +
            "\n<CORRECTACTION>" + action + "\n<NAME>Fee\n</STMTTRN>\n";
        var file = ReadText(Sgml(Trn("-7.50", fitId: "F1") + Trn("-3.00", fitId: "F2") + Correction("DELETE", "F1", "F3", "-7.50")
                                 + Correction("REPLACE", "F2", "F4", "-2.00") + Correction("DELETE", "F9", "F5", "-1.00")));
        Assert.Equal([("F4", -200L)], file.Lines.Select(l => (l.BankReference!, l.Amount.MinorUnits)));
        // A correction of a transaction not in the file cannot be applied here: it says so.
        Assert.Contains(file.Warnings, w => w.Contains("FITID \"F9\"", StringComparison.Ordinal));
    }

    [Fact]
    public void The_value_date_is_when_the_funds_are_available_and_dtuser_only_without_it()
    {
        var withAvail = Sgml("<STMTTRN>\n<TRNTYPE>DEBIT\n<DTPOSTED>20260504\n<DTUSER>20260503\n<DTAVAIL>20260506\n<TRNAMT>-1.00\n<FITID>A\n</STMTTRN>\n"
                             + "<STMTTRN>\n<TRNTYPE>DEBIT\n<DTPOSTED>20260504\n<DTUSER>20260503\n<TRNAMT>-1.00\n<FITID>B\n</STMTTRN>\n");
        var lines = ReadText(withAvail).Lines.ToList();
        Assert.Equal((new LocalDate(2026, 5, 6), new LocalDate(2026, 5, 3)), (lines[0].ValueDate, lines[1].ValueDate));
    }

    [Theory]
    [InlineData("2,500")]
    [InlineData("-1,000")]
    public void A_comma_before_three_digits_is_refused_as_ambiguous_not_read_as_cents(string amount)
    {
        var e = Refused(Sgml(Trn(amount)));
        Assert.Contains("ambiguous", e.Message);
        Assert.Contains("TRNAMT", e.Location);
        // Two digits after the comma are a decimal comma, as some banks write.
        Assert.Equal(-1250, ReadText(Sgml(Trn("-12,50"))).Lines.Single().Amount.MinorUnits);
    }

    [Fact]
    public void Sgml_fixture_has_crlf_line_ends_so_the_quirk_is_really_exercised()
    {
        var bytes = File.ReadAllBytes(Fixture.PathOf("ofx-1x-sgml.ofx"));
        Assert.Contains("<TRNAMT>-12,50\r\n", Encoding.ASCII.GetString(bytes));
    }

    [Fact]
    public void Sgml_statement_reads_account_currency_closing_balance_and_every_transaction()
    {
        var file = Read("ofx-1x-sgml.ofx");

        Assert.Equal(StatementFormat.Ofx, file.Format);
        var section = Assert.Single(file.Sections);
        Assert.Equal("1234567890", section.AccountIdentifier);
        Assert.Equal("EUR", section.Currency);
        Assert.Null(section.OpeningBalance); // OFX states none
        Assert.Null(section.OpeningDate);
        Assert.Equal(new Amount(513376), section.ClosingBalance); // LEDGERBAL, not AVAILBAL
        Assert.Equal(new LocalDate(2025, 12, 31), section.ClosingDate);
        Assert.Equal(5, section.Lines.Count);
        Assert.Empty(file.Warnings);
    }

    [Fact]
    public void Sgml_credit_is_positive_with_dtuser_as_value_date_and_memo_as_description()
    {
        var line = Read("ofx-1x-sgml.ofx").Lines.First();

        Assert.Equal(new Amount(250000), line.Amount);
        Assert.Equal(new LocalDate(2025, 12, 1), line.BookingDate); // "20251201100000.000[+1:CET]"
        Assert.Equal(new LocalDate(2025, 11, 30), line.ValueDate);  // DTUSER
        Assert.Equal("Invoice 2025-114 payment", line.Description);  // whitespace run collapsed
        Assert.Equal("Nordwind Handel GmbH", line.Counterparty);
        Assert.Equal("20251201-0001", line.BankReference);
        Assert.False(line.IsReversal);
        Assert.Contains("STMTTRN[1]", line.Location);
        Assert.StartsWith("line ", line.Location);
    }

    [Fact]
    public void Sgml_debit_is_negative_value_date_defaults_to_posted_and_entities_are_decoded()
    {
        var line = Read("ofx-1x-sgml.ofx").Lines.ElementAt(1);

        Assert.Equal(new Amount(-8999), line.Amount);
        Assert.Equal(line.BookingDate, line.ValueDate);
        Assert.Equal("Kaskade Strom & Gas", line.Counterparty);
        Assert.Equal("Electricity November", line.Description);
    }

    [Fact]
    public void Sgml_same_name_twice_with_different_fitids_gives_two_lines_and_missing_or_empty_memo_falls_back_to_name()
    {
        var lines = Read("ofx-1x-sgml.ofx").Lines.Where(l => l.Counterparty == "Cafe Blauer Anker").ToList();

        Assert.Equal(2, lines.Count);
        Assert.Equal(["20251210-0003", "20251217-0004"], lines.Select(l => l.BankReference));
        Assert.Equal(new Amount(-1250), lines[0].Amount); // "-12,50": a decimal comma
        Assert.Equal(new Amount(-1475), lines[1].Amount);
        Assert.All(lines, l => Assert.Equal("Cafe Blauer Anker", l.Description)); // empty <MEMO>, then none at all
    }

    [Fact]
    public void Sgml_bankacctto_iban_becomes_the_counterparty_iban_without_spaces_and_a_memo_after_it_is_still_read()
    {
        var line = Read("ofx-1x-sgml.ofx").Lines.Last();

        Assert.Equal("DE71200505504400117722", line.CounterpartyIban);
        Assert.Equal("Office rent December", line.Description);
        Assert.Equal("Hafenkontor Vermietung", line.Counterparty);
        Assert.Equal(new Amount(-75000), line.Amount);
    }

    [Fact]
    public void Xml_file_with_a_bank_and_a_credit_card_statement_gives_two_sections()
    {
        var file = Read("ofx-2x.ofx");

        Assert.Equal(2, file.Sections.Count);
        var bank = file.Sections[0];
        Assert.Equal("GB33WHRF40127612345678", bank.AccountIdentifier);
        Assert.Equal("GBP", bank.Currency);
        Assert.Equal(new Amount(315850), bank.ClosingBalance);
        Assert.Equal(new LocalDate(2026, 1, 4), bank.ClosingDate);
        Assert.Equal(2, bank.Lines.Count);

        var card = file.Sections[1];
        Assert.Equal("4929000000006781", card.AccountIdentifier);
        Assert.Equal(new Amount(-31207), card.ClosingBalance);
        Assert.Equal([new Amount(-1840), new Amount(25000)], card.Lines.Select(l => l.Amount));
        Assert.Equal("Payment received - thank you", card.Lines[1].Description); // <MEMO></MEMO>
        Assert.Contains("CCSTMTRS[1]", card.Lines[0].Location);
        Assert.Empty(file.Warnings);
    }

    [Fact]
    public void Xml_entities_cdata_utf8_payee_and_plus_sign_are_read()
    {
        var lines = Read("ofx-2x.ofx").Sections[0].Lines;

        Assert.Equal("Broadband <January> ref #5521", lines[0].Description);
        Assert.Equal(new LocalDate(2026, 1, 2), lines[0].BookingDate);
        Assert.Equal(new LocalDate(2026, 1, 1), lines[0].ValueDate);
        Assert.Equal(new Amount(120050), lines[1].Amount);
        Assert.Equal("Chloé Durand Design", lines[1].Counterparty); // PAYEE/NAME
        Assert.Equal("Invoice #88 & #89", lines[1].Description);   // CDATA
        Assert.Null(lines[1].CounterpartyIban);
    }

    [Fact]
    public void Broken_amount_names_the_line_and_element()
    {
        var e = Assert.Throws<StatementFormatException>(() => Read("ofx-broken-amount.ofx"));

        Assert.Contains("12.3x", e.Problem);
        Assert.Contains("STMTRS[1]/BANKTRANLIST/STMTTRN[2]/TRNAMT", e.Location);
        Assert.StartsWith("line 53 ", e.Location);
    }

    [Fact]
    public void Broken_date_names_the_line_and_element()
    {
        var e = Assert.Throws<StatementFormatException>(() => Read("ofx-broken-date.ofx"));

        Assert.Contains("20251399", e.Problem);
        Assert.Contains("STMTTRN[2]/DTPOSTED", e.Location);
    }

    [Fact]
    public void Truncated_file_is_refused_as_cut_off()
    {
        var e = Assert.Throws<StatementFormatException>(() => Read("ofx-truncated.ofx"));

        Assert.Contains("cut off", e.Problem);
        Assert.Contains("STMTTRN", e.Problem);
    }

    [Fact]
    public void Header_on_one_line_and_body_without_any_line_break_are_read()
    {
        var text = "OFXHEADER:100 DATA:OFXSGML VERSION:102 SECURITY:NONE ENCODING:USASCII CHARSET:1252 COMPRESSION:NONE OLDFILEUID:NONE NEWFILEUID:NONE "
                   + Sgml(Trn("-5.00") + Trn("7", fitId: "F2"))[SgmlHeader.Length..].Replace("\n", "");
        var file = ReadText(text);

        Assert.Equal([new Amount(-500), new Amount(700)], file.Lines.Select(l => l.Amount));
        Assert.Equal("99", file.Sections[0].AccountIdentifier);
    }

    [Fact]
    public void File_without_header_that_begins_at_ofx_is_read()
    {
        var file = ReadText(Sgml(Trn())[SgmlHeader.Length..]);

        Assert.Single(file.Lines);
    }

    [Fact]
    public void Utf8_bom_and_lower_case_tags_are_accepted()
    {
        var text = Sgml(Trn()).Replace("<STMTTRN>", "<stmttrn>").Replace("</STMTTRN>", "</stmttrn>");
        var file = ReadBytes([0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(text)]);

        Assert.Single(file.Lines);
    }

    [Fact]
    public void Windows1252_bytes_and_utf8_bytes_under_charset_1252_both_read_correctly()
    {
        var cp1252 = Encoding.Latin1.GetBytes(Sgml(Trn(name: "Müller Bäckerei")));
        var utf8 = Encoding.UTF8.GetBytes(Sgml(Trn(name: "Müller Bäckerei")));

        Assert.Equal("Müller Bäckerei", ReadBytes(cp1252).Lines.Single().Counterparty);
        Assert.Equal("Müller Bäckerei", ReadBytes(utf8).Lines.Single().Counterparty);
    }

    [Fact]
    public void Control_characters_are_stripped_and_whitespace_collapsed()
    {
        var file = ReadText(Sgml(Trn(name: "ACME\u0000 Corp", memo: "Pay\u001b[31m   ment\tfor  \u0007order")));
        var line = file.Lines.Single();

        Assert.Equal("ACME Corp", line.Counterparty);
        Assert.Equal("Pay[31m ment for order", line.Description);
    }

    [Fact]
    public void Text_longer_than_the_limit_is_cut_with_a_warning()
    {
        var file = ReadText(Sgml(Trn(memo: new string('x', 5000))));

        Assert.Equal(StatementLimits.MaxTextLength, file.Lines.Single().Description.Length);
        Assert.Contains(file.Warnings, w => w.Contains("MEMO") && w.Contains("STMTTRN[1]/MEMO"));
    }

    [Fact]
    public void Duplicate_fitid_in_one_statement_is_kept_with_a_warning()
    {
        var file = ReadText(Sgml(Trn(fitId: "SAME") + Trn(fitId: "SAME")));

        Assert.Equal(2, file.Lines.Count());
        Assert.Contains(file.Warnings, w => w.Contains("SAME"));
    }

    [Theory]
    [InlineData(".50", 50)]
    [InlineData("-.50", -50)]
    [InlineData("+3", 300)]
    [InlineData("-1250,5", -125050)]
    [InlineData("10.500", 1050)] // a trailing zero beyond the currency's digits changes nothing
    public void Amount_spellings_banks_use_are_read_exactly(string text, long minorUnits)
    {
        Assert.Equal(new Amount(minorUnits), ReadText(Sgml(Trn(text))).Lines.Single().Amount);
    }

    [Theory]
    [InlineData("12.345")]    // more digits than the currency has: never rounded
    [InlineData("1.234,56")]  // thousands separator
    [InlineData("1,234.56")]
    [InlineData("1e3")]
    [InlineData("")]
    [InlineData("99999999999999999999")]
    public void Amounts_that_are_not_exact_plain_decimals_are_refused(string text)
    {
        var e = Refused(Sgml(Trn(text)));

        Assert.Contains("TRNAMT", e.Message); // the element's path, or "has no TRNAMT" when it is empty
    }

    [Fact]
    public void Zero_digit_currency_refuses_decimals()
    {
        Assert.Equal(new Amount(-1500), ReadText(Sgml(Trn("-1500"), "JPY"), digits: 0).Lines.Single().Amount);
        Refused(Sgml(Trn("-1500.50"), "JPY"), digits: 0);
    }

    [Theory]
    [InlineData("2025120")]
    [InlineData("20250230")]
    [InlineData("2025-12-01")]
    public void Dates_that_are_not_yyyymmdd_are_refused(string date)
    {
        var e = Refused(Sgml(Trn(date: date)));

        Assert.Contains("DTPOSTED", e.Location);
    }

    [Fact]
    public void Transaction_without_amount_or_date_is_refused()
    {
        Assert.Contains("TRNAMT", Refused(Sgml("<STMTTRN>\n<DTPOSTED>20251201\n<FITID>1\n</STMTTRN>\n")).Problem);
        Assert.Contains("DTPOSTED", Refused(Sgml("<STMTTRN>\n<TRNAMT>1.00\n<FITID>1\n</STMTTRN>\n")).Problem);
    }

    [Fact]
    public void Empty_transaction_is_refused_for_its_missing_date()
    {
        var e = Refused(Sgml("<STMTTRN></STMTTRN>\n" + Trn()));

        Assert.Contains("STMTTRN[1]", e.Location);
        Assert.Contains("DTPOSTED", e.Problem);
    }

    [Fact]
    public void Missing_end_of_transaction_is_refused_where_the_next_one_begins()
    {
        var e = Refused(Sgml(Trn().Replace("</STMTTRN>\n", "") + Trn(fitId: "F2")));

        Assert.Contains("STMTTRN[1]", e.Problem);
        Assert.Contains("</STMTTRN>", e.Problem);
    }

    [Fact]
    public void End_tag_that_closes_nothing_open_is_refused()
    {
        var e = Refused(Sgml(Trn()).Replace("</BANKTRANLIST>", "</BANKTRANLIST>\n</FOO>"));

        Assert.Contains("</FOO>", e.Problem);
    }

    [Fact]
    public void File_without_statement_is_refused()
    {
        var e = Refused(SgmlHeader + "<OFX>\n<SIGNONMSGSRSV1>\n<SONRS>\n<STATUS>\n<CODE>15500\n<SEVERITY>ERROR\n</STATUS>\n</SONRS>\n</SIGNONMSGSRSV1>\n</OFX>\n");

        Assert.Contains("no bank statement", e.Problem);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Date;Amount;Text\n2025-12-01;-1,00;Shop\n")]
    [InlineData("{1:F01ABCDEFGHXXX0000000000}{4:\n:20:X\n-}")]
    [InlineData("<?xml version=\"1.0\"?><Document><BkToCstmrStmt/></Document>")]
    [InlineData("OFXHEADER:100\nDATA:OFXSGML\n")]
    public void Something_else_than_ofx_is_refused(string text)
    {
        var e = Refused(text);

        Assert.StartsWith("line ", e.Location);
    }

    [Fact]
    public void Bad_currency_code_is_refused()
    {
        Assert.Contains("CURDEF", Refused(Sgml(Trn(), "EURO")).Problem);
    }

    [Fact]
    public void Fifty_thousand_transactions_are_read_quickly()
    {
        var text = BigFile(50_000);
        var watch = Stopwatch.StartNew();
        var file = ReadText(text);

        Assert.Equal(50_000, file.Lines.Count());
        output.WriteLine($"50,000 lines parsed in {watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public void More_transactions_than_the_limit_are_refused()
    {
        // The same check as at StatementLimits.MaxLines, with a limit a test reaches without 200,001 lines.
        using var atLimit = new MemoryStream(Encoding.UTF8.GetBytes(BigFile(100)));
        Assert.Equal(100, OfxParser.Parse(atLimit, new StatementReadOptions(2), maxLines: 100).Lines.Count());

        using var beyond = new MemoryStream(Encoding.UTF8.GetBytes(BigFile(101)));
        var e = Assert.Throws<StatementFormatException>(() => OfxParser.Parse(beyond, new StatementReadOptions(2), maxLines: 100));
        Assert.Contains("more than 100", e.Problem);
    }

    [Theory]
    [InlineData("ofx-1x-sgml.ofx", "ofx-2x.ofx")]
    public void Every_cut_and_corruption_of_a_fixture_is_read_or_refused_with_a_statement_format_exception(params string[] names)
    {
        foreach (var name in names)
        {
            var bytes = File.ReadAllBytes(Fixture.PathOf(name));
            for (var length = 0; length < bytes.Length; length += 3)
                ReadOrRefuse(bytes[..length]);
            var random = new Random(940);
            for (var round = 0; round < 200; round++)
            {
                var copy = (byte[])bytes.Clone();
                for (var flips = random.Next(1, 4); flips > 0; flips--)
                    copy[random.Next(copy.Length)] = (byte)random.Next(256);
                ReadOrRefuse(copy);
            }
        }

        static void ReadOrRefuse(byte[] bytes)
        {
            try
            {
                using var stream = new MemoryStream(bytes);
                OfxParser.Parse(stream, new StatementReadOptions(2));
            }
            catch (StatementFormatException)
            {
            }
        }
    }

    private static string BigFile(int count)
    {
        var sb = new StringBuilder(count * 60);
        for (var i = 0; i < count; i++)
            sb.Append("<STMTTRN><DTPOSTED>20251201<TRNAMT>-1.25<FITID>").Append(i).Append("</STMTTRN>\n");
        return Sgml(sb.ToString());
    }
}
