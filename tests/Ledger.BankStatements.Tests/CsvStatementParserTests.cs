using System.Text;
using Ledger.Domain;
using NodaTime;

namespace Ledger.BankStatements.Tests;

public class CsvStatementParserTests
{
    /// <summary>A German savings bank's export: semicolons, decimal comma, "." thousands, dd.MM.yyyy, two account-info rows.</summary>
    private static readonly CsvProfile German = new(";", ',', '.', "dd.MM.yyyy", "iso-8859-1", HasHeader: true, SkipRows: 2,
        new CsvColumns(Date: "Buchungstag", ValueDate: "Valuta", Amount: "Betrag", Debit: null, Credit: null,
            Description: "Verwendungszweck", Counterparty: "Auftraggeber/Empfänger", Iban: "IBAN", Reference: null, Balance: null));

    private static readonly CsvProfile DebitCredit = new(",", '.', ',', "MM/dd/yyyy", "utf-8", HasHeader: true, SkipRows: 0,
        new CsvColumns(Date: "Date", ValueDate: null, Amount: null, Debit: "Debit", Credit: "Credit",
            Description: "Description", Counterparty: "Payee", Iban: null, Reference: "Reference", Balance: null));

    /// <summary>A US bank's export without a header (columns by position), negatives in parentheses, newest first, with a balance.</summary>
    private static readonly CsvProfile WithBalance = new(",", '.', ',', "yyyy-MM-dd", "utf-8", HasHeader: false, SkipRows: 1,
        new CsvColumns(Date: "1", ValueDate: "2", Amount: "4", Debit: null, Credit: null,
            Description: "3", Counterparty: null, Iban: null, Reference: null, Balance: "5"));

    /// <summary>Plain profile for in-memory files: "date;text;amount" with decimal comma, no skipped rows.</summary>
    private static readonly CsvProfile Simple = new(";", ',', '.', "dd.MM.yyyy", "utf-8", HasHeader: true, SkipRows: 0,
        new CsvColumns(Date: "Datum", ValueDate: null, Amount: "Betrag", Debit: null, Credit: null,
            Description: "Text", Counterparty: null, Iban: null, Reference: null, Balance: null));

    private static StatementFile Read(string fixture, CsvProfile profile, int digits = 2) =>
        Fixture.Read(fixture, StatementFormat.Csv, digits, profile);

    private static StatementFile ReadBytes(byte[] bytes, CsvProfile profile, int digits = 2)
    {
        using var stream = new MemoryStream(bytes);
        return StatementReader.Read(stream, StatementFormat.Csv, new StatementReadOptions(digits, profile));
    }

    private static StatementFile ReadText(string text, CsvProfile? profile = null, int digits = 2) =>
        ReadBytes(Encoding.UTF8.GetBytes(text), profile ?? Simple, digits);

    private static StatementFormatException Broken(string text, CsvProfile? profile = null, int digits = 2) =>
        Assert.Throws<StatementFormatException>(() => ReadText(text, profile, digits));

    private static long Amount(string cell, CsvProfile? profile = null, int digits = 2) =>
        Assert.Single(ReadText($"Datum;Text;Betrag\n01.02.2024;x;{cell}\n", profile, digits).Lines).Amount.MinorUnits;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_utf8_file_under_a_windows_1252_profile_is_read_as_utf8_and_said(bool byteOrderMark)
    {
        var profile = Simple with { Encoding = "windows-1252" };
        var text = Encoding.UTF8.GetBytes("Datum;Betrag;Text\n01.03.2026;-1,00;Jürgen Weiß\n");
        var bytes = byteOrderMark ? [0xEF, 0xBB, 0xBF, .. text] : text;
        var file = ReadBytes(bytes, profile);
        Assert.Equal("Jürgen Weiß", file.Lines.Single().Description);
        Assert.Contains(file.Warnings, w => w.Contains("read as UTF-8", StringComparison.Ordinal));
        // A real windows-1252 file stays windows-1252.
        var latin = ReadBytes(Encoding.Latin1.GetBytes("Datum;Betrag;Text\n01.03.2026;-1,00;Jürgen Weiß\n"), profile);
        Assert.Equal("Jürgen Weiß", latin.Lines.Single().Description);
        Assert.DoesNotContain(latin.Warnings, w => w.Contains("UTF-8", StringComparison.Ordinal));
    }

    [Fact]
    public void A_mark_column_signs_unsigned_amounts_and_a_status_column_skips_rows_not_yet_booked()
    {
        var profile = new CsvProfile(";", ',', '.', "dd.MM.yyyy", "utf-8", HasHeader: true, SkipRows: 0,
            new CsvColumns(Date: "Datum", ValueDate: null, Amount: "Betrag", Debit: null, Credit: null, Description: "Text",
                Counterparty: null, Iban: null, Reference: null, Balance: null, Sign: "S/H", Status: "Status"),
            DebitMarks: ["S"], SkipStatuses: ["vorgemerkt"]);
        var file = ReadText("Datum;Betrag;S/H;Text;Status\n01.03.2026;1.200,00;S;Miete;gebucht\n02.03.2026;-120,00;H;Gutschrift;gebucht\n" +
                            "03.03.2026;5,00;s;Gebuehr;VORGEMERKT\n", profile);
        Assert.Equal([-120000L, 12000L], file.Lines.Select(l => l.Amount.MinorUnits));
        Assert.Contains(file.Warnings, w => w.Contains("line 4", StringComparison.Ordinal) && w.Contains("skipped", StringComparison.Ordinal));
        // A mark column without the marks that mean money out cannot be read.
        Assert.Throws<StatementFormatException>(() => ReadText("Datum;Betrag;S/H;Text;Status\n", profile with { DebitMarks = [] }));
    }

    [Fact]
    public void Placeholders_for_no_IBAN_and_no_reference_are_read_as_none()
    {
        var profile = new CsvProfile(";", ',', '.', "dd.MM.yyyy", "utf-8", HasHeader: true, SkipRows: 0,
            new CsvColumns(Date: "Datum", ValueDate: null, Amount: "Betrag", Debit: null, Credit: null,
                Description: "Text", Counterparty: null, Iban: "IBAN", Reference: "Referenz", Balance: null));
        var lines = ReadText("Datum;Betrag;Text;IBAN;Referenz\n01.03.2026;-1,00;Fee;0000000000;NOTPROVIDED\n" +
                             "02.03.2026;-2,00;Fee;DE00000000000000000000;notprovided\n03.03.2026;-3,00;Rent;DE89 3704 0044 0532 0130 00;R-7\n", profile).Lines.ToList();
        Assert.Equal([(null, null), (null, null), ("DE89370400440532013000", "R-7")],
            lines.Select(l => (l.CounterpartyIban, l.BankReference)));
    }

    [Fact]
    public void Latin1_semicolon_file_reads_umlauts_decimal_commas_and_thousands_separators()
    {
        var file = Read("csv-semicolon-latin1.csv", German);

        Assert.Equal(StatementFormat.Csv, file.Format);
        var lines = Assert.Single(file.Sections).Lines;
        Assert.Equal([-2_340L, -123_456L, 250_000L, -8_900L, -12_000L, 100_000_001L, -4_550L], lines.Select(l => l.Amount.MinorUnits));
        Assert.Equal("Bäckerei Müller", lines[0].Counterparty);
        Assert.Equal("Brötchen Frühstück März", lines[0].Description); // runs of spaces collapse
        Assert.Equal("Großhandel Süß KG", lines[1].Counterparty);
        Assert.Equal("DE12500105170648489890", lines[1].CounterpartyIban); // spaces taken out
        Assert.Equal(new LocalDate(2024, 3, 6), lines[3].BookingDate);
        Assert.Equal(new LocalDate(2024, 3, 7), lines[3].ValueDate);
        Assert.Null(lines[3].CounterpartyIban);
        Assert.Equal("Öko-Strom; Süd", lines[4].Counterparty); // quoted field holding the delimiter
        Assert.Empty(file.Warnings);
    }

    [Fact]
    public void Locations_are_physical_lines_counting_skipped_rows_header_and_empty_rows()
    {
        var lines = Read("csv-semicolon-latin1.csv", German).Lines.ToList();

        Assert.Equal(["line 4", "line 5", "line 6", "line 8", "line 10", "line 11", "line 12"], lines.Select(l => l.Location));
    }

    [Fact]
    public void Trailing_minus_is_a_negative_amount()
    {
        var line = Read("csv-semicolon-latin1.csv", German).Lines.Last();

        Assert.Equal(new Amount(-4_550), line.Amount);
        Assert.Equal("Zahnarztpraxis Dr. Schäfer", line.Counterparty);
    }

    [Fact]
    public void Header_names_match_trimmed_and_in_any_case()
    {
        var profile = German with
        {
            Columns = German.Columns with { Description = "  VERWENDUNGSZWECK ", Amount = "betrag", Counterparty = "auftraggeber/empfänger" },
        };

        Assert.Equal(7, Read("csv-semicolon-latin1.csv", profile).Lines.Count());
    }

    [Fact]
    public void Latin1_file_read_as_utf8_is_refused_with_a_hint_at_the_encoding()
    {
        var e = Assert.Throws<StatementFormatException>(() => Read("csv-semicolon-latin1.csv", German with { Encoding = "utf-8" }));

        Assert.Equal("file", e.Location);
        Assert.Contains("encoding", e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Debit_and_credit_columns_give_money_out_negative_and_money_in_positive()
    {
        var file = Read("csv-debit-credit.csv", DebitCredit);

        var lines = file.Lines.ToList();
        Assert.Equal([-245_000L, 1_280_000L, -4_999L, 12_550L, -1_500L, -30_000L, 100_000L], lines.Select(l => l.Amount.MinorUnits));
        Assert.Equal(new LocalDate(2024, 3, 1), lines[0].BookingDate);
        Assert.Equal(lines[0].BookingDate, lines[0].ValueDate); // no value date column
        Assert.Equal("Office rent, March", lines[0].Description);
        Assert.Equal("Harbor View Properties, LLC", lines[0].Counterparty);
        Assert.Equal("CHK-1001", lines[0].BankReference);
        Assert.Equal("Software subscription \"Pro\" plan", lines[2].Description);
        Assert.Null(lines[4].BankReference);
        Assert.Equal("Consulting 2nd installment", lines[5].Description); // line break inside quotes
        Assert.Equal(["line 2", "line 3", "line 4", "line 5", "line 6", "line 7", "line 9"], lines.Select(l => l.Location));
        var section = Assert.Single(file.Sections);
        Assert.Null(section.OpeningBalance);
        Assert.Null(section.ClosingBalance);
    }

    [Fact]
    public void Utf8_byte_order_mark_does_not_spoil_the_first_header_name()
    {
        // The fixture starts with a BOM and its first column, "Date", is the date column.
        Assert.Equal(new LocalDate(2024, 3, 1), Read("csv-debit-credit.csv", DebitCredit).Lines.First().BookingDate);
    }

    [Fact]
    public void Debit_and_credit_both_filled_is_refused()
    {
        var text = "Date,Description,Payee,Reference,Debit,Credit\n03/01/2024,x,y,z,10.00,5.00\n";

        var e = Assert.Throws<StatementFormatException>(() => ReadText(text, DebitCredit));

        Assert.Equal("line 2", e.Location);
        Assert.Contains("both a debit", e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Debit_written_with_a_minus_is_still_money_out_and_a_negative_credit_is_refused()
    {
        var header = "Date,Description,Payee,Reference,Debit,Credit\n";

        Assert.Equal(-1_000, Assert.Single(ReadText(header + "03/01/2024,x,y,z,-10.00,\n", DebitCredit).Lines).Amount.MinorUnits);
        Assert.Equal("line 2", Assert.Throws<StatementFormatException>(() => ReadText(header + "03/01/2024,x,y,z,,-10.00\n", DebitCredit)).Location);
    }

    [Fact]
    public void Newest_first_file_with_balance_is_checked_in_date_order_and_gives_opening_and_closing()
    {
        var file = Read("csv-with-balance.csv", WithBalance);

        var section = Assert.Single(file.Sections);
        Assert.Equal([-8_420L, 120_000L, -65_000L, -1_200L, 30_000L], section.Lines.Select(l => l.Amount.MinorUnits)); // file order
        Assert.Equal(new Amount(456_735), section.OpeningBalance);
        Assert.Equal(new Amount(532_115), section.ClosingBalance);
        Assert.Equal(new LocalDate(2024, 3, 10), section.OpeningDate);
        Assert.Equal(new LocalDate(2024, 3, 15), section.ClosingDate);
        Assert.Equal("line 2", section.Lines[0].Location); // line 1 is the skipped title
        Assert.Equal("Card purchase - Office Depot #1123", section.Lines[0].Description);
        Assert.Equal(new LocalDate(2024, 3, 11), section.Lines[3].ValueDate);
    }

    [Fact]
    public void Oldest_first_file_with_balance_is_checked_in_file_order()
    {
        var profile = Simple with { Columns = Simple.Columns with { Balance = "Saldo" } };
        var text = "Datum;Text;Betrag;Saldo\n01.02.2024;a;100,00;1.100,00\n01.02.2024;b;-50,00;1.050,00\n02.02.2024;c;-1.000,00;50,00\n";

        var section = Assert.Single(ReadText(text, profile).Sections);

        Assert.Equal(new Amount(100_000), section.OpeningBalance);
        Assert.Equal(new Amount(5_000), section.ClosingBalance);
    }

    [Fact]
    public void Row_that_breaks_the_running_balance_is_named()
    {
        var profile = Simple with { Columns = Simple.Columns with { Balance = "Saldo" } };
        var text = "Datum;Text;Betrag;Saldo\n01.02.2024;a;100,00;1.100,00\n02.02.2024;b;-50,00;1.050,00\n03.02.2024;c;-10,00;1.000,00\n";

        var e = Broken(text, profile);

        Assert.Equal("line 4", e.Location);
        Assert.Contains("1040.00", e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_date_is_refused_at_its_line()
    {
        var e = Assert.Throws<StatementFormatException>(() => Read("csv-broken-date.csv", German with { Encoding = "utf-8", SkipRows = 0 }));

        Assert.Equal("line 3", e.Location);
        Assert.Contains("31.02.2024", e.Problem, StringComparison.Ordinal);
        Assert.Contains("dd.MM.yyyy", e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_amount_is_refused_at_its_line()
    {
        var e = Assert.Throws<StatementFormatException>(() => Read("csv-broken-amount.csv", German with { Encoding = "utf-8", SkipRows = 0 }));

        Assert.Equal("line 3", e.Location);
        Assert.Contains("1.23,45", e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_column_is_refused_naming_the_column()
    {
        var e = Assert.Throws<StatementFormatException>(() => Read("csv-missing-column.csv", German with { Encoding = "utf-8", SkipRows = 0 }));

        Assert.Equal("line 1", e.Location);
        Assert.Contains("\"Betrag\"", e.Problem, StringComparison.Ordinal);
        Assert.Contains("amount", e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Positional_column_beyond_the_row_is_refused_and_non_numeric_position_without_header_too()
    {
        var noHeader = Simple with { HasHeader = false, Columns = Simple.Columns with { Date = "1", Description = "2", Amount = "3" } };

        Assert.Equal("line 2", Broken("01.02.2024;a;1,00\n01.02.2024;b\n", noHeader).Location);
        Assert.Equal("profile.columns", Broken("01.02.2024;a;1,00\n", Simple with { HasHeader = false }).Location);
    }

    [Theory]
    [InlineData("1.234,56", 123_456)]
    [InlineData("-1.234,56", -123_456)]
    [InlineData("+12,50", 1_250)]
    [InlineData("12,50-", -1_250)]
    [InlineData("(12,50)", -1_250)]
    [InlineData("( 1.000 )", -100_000)]
    [InlineData("0,5", 50)]
    [InlineData(",75", 75)]
    [InlineData("1000000", 100_000_000)]
    [InlineData("-0,00", 0)]
    public void Amount_notations(string cell, long minorUnits) => Assert.Equal(minorUnits, Amount(cell));

    [Theory]
    [InlineData("12.50")] // "." is the thousands separator here, so this is a misplaced group
    [InlineData("1,2,3")]
    [InlineData("12,345")] // more decimals than the currency has: refused, never rounded
    [InlineData("12,50 €")]
    [InlineData("-12,50-")]
    [InlineData("1e3")]
    [InlineData("abc")]
    [InlineData("")]
    public void Bad_amounts_are_refused(string cell)
    {
        var e = Broken($"Datum;Text;Betrag\n01.02.2024;x;{cell}\n");

        Assert.Equal("line 2", e.Location);
        Assert.Contains("amount", e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Digits_follow_the_currency()
    {
        Assert.Equal(1_234, Amount("1.234", Simple with { ThousandsSeparator = '.' }, digits: 0));
        Assert.Equal(1_234_567, Amount("1.234,567", digits: 3));
        Assert.Throws<StatementFormatException>(() => Amount("1,5", digits: 0));
    }

    [Fact]
    public void Space_thousands_separator_accepts_no_break_spaces()
    {
        var profile = Simple with { ThousandsSeparator = ' ' };

        Assert.Equal(123_456_789, Amount("1 234 567,89", profile));
        Assert.Equal(123_456_789, Amount("1\u00A0234\u202F567,89", profile));
    }

    [Fact]
    public void Windows1252_reads_the_euro_sign()
    {
        var profile = Simple with { Encoding = "windows-1252" };
        var bytes = Encoding.Latin1.GetBytes("Datum;Text;Betrag\n01.02.2024;Gebühr 5 ?;-5,00\n");
        bytes[Array.IndexOf(bytes, (byte)'?')] = 0x80; // € in windows-1252

        Assert.Equal("Gebühr 5 €", Assert.Single(ReadBytes(bytes, profile).Lines).Description);
    }

    [Fact]
    public void Unknown_encoding_is_refused()
    {
        var e = Broken("Datum;Text;Betrag\n", Simple with { Encoding = "ebcdic" });

        Assert.Equal("profile.encoding", e.Location);
    }

    [Fact]
    public void Control_characters_are_stripped_and_whitespace_collapsed()
    {
        var line = Assert.Single(ReadText("Datum;Text;Betrag\n01.02.2024;\"  Miete\u0000 \u001B[31mMärz\t\t2024  \";1,00\n").Lines);

        Assert.Equal("Miete [31mMärz 2024", line.Description);
    }

    [Fact]
    public void Empty_rows_are_skipped_and_an_empty_file_with_only_a_header_has_no_lines()
    {
        Assert.Single(ReadText("Datum;Text;Betrag\n\n;;\n  ;  ; \n01.02.2024;x;1,00\n\n").Lines);
        Assert.Empty(ReadText("Datum;Text;Betrag\n").Lines);
        Assert.Equal("line 1", Broken("").Location); // header expected but missing
    }

    [Fact]
    public void Long_description_is_cut_with_a_warning()
    {
        var file = ReadText($"Datum;Text;Betrag\n01.02.2024;{new string('x', 1500)};1,00\n");

        Assert.Equal(StatementLimits.MaxTextLength, Assert.Single(file.Lines).Description.Length);
        Assert.Contains("line 2", Assert.Single(file.Warnings), StringComparison.Ordinal);
    }

    [Fact]
    public void Unclosed_quote_is_refused_and_a_stray_quote_is_a_warning()
    {
        Assert.Equal("line 3", Broken("Datum;Text;Betrag\n01.02.2024;ok;1,00\n02.02.2024;\"never closed;1,00\n03.02.2024;x;1,00\n").Location);

        var file = ReadText("Datum;Text;Betrag\n01.02.2024;Laden \"Zur Post\";1,00\n");
        Assert.Equal("Laden \"Zur Post\"", Assert.Single(file.Lines).Description);
        Assert.Contains("line 2", Assert.Single(file.Warnings), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("dd.MM.yyyy", "31.12.2023", 2023, 12, 31)]
    [InlineData("yyyy-MM-dd", "2023-12-31", 2023, 12, 31)]
    [InlineData("MM/dd/yyyy", "12/31/2023", 2023, 12, 31)]
    [InlineData("d.M.yy", "1.2.24", 2024, 2, 1)]
    public void Date_formats(string pattern, string cell, int year, int month, int day)
    {
        var line = Assert.Single(ReadText($"Datum;Text;Betrag\n{cell};x;1,00\n", Simple with { DateFormat = pattern }).Lines);

        Assert.Equal(new LocalDate(year, month, day), line.BookingDate);
    }

    [Fact]
    public void Bad_profiles_are_refused_naming_the_setting()
    {
        Assert.Equal("profile.dateFormat", Broken("x", Simple with { DateFormat = "dd.MM.yyyy hh:mm:ss" }).Location);
        Assert.Equal("profile.delimiter", Broken("x", Simple with { Delimiter = ";;" }).Location);
        Assert.Equal("profile.thousandsSeparator", Broken("x", Simple with { ThousandsSeparator = ',' }).Location);
        Assert.Equal("profile.columns", Broken("x", Simple with { Columns = Simple.Columns with { Amount = null } }).Location);
        Assert.Equal("profile.columns", Broken("x", Simple with { Columns = Simple.Columns with { Debit = "Soll" } }).Location);
    }

    [Fact]
    public void Tab_delimiter_can_be_given_as_an_escape()
    {
        var line = Assert.Single(ReadText("Datum\tText\tBetrag\n01.02.2024\tx;y\t1,00\n", Simple with { Delimiter = "\\t" }).Lines);

        Assert.Equal("x;y", line.Description);
    }

    [Fact]
    public void Fifty_thousand_rows_with_a_balance()
    {
        const int count = 50_000;
        var profile = Simple with { Columns = Simple.Columns with { Balance = "Saldo" } };
        var text = new StringBuilder("Datum;Text;Betrag;Saldo\n", count * 40);
        long balance = 0;
        long sum = 0;
        for (var i = 1; i <= count; i++)
        {
            var cents = i % 2 == 0 ? i : -i / 2;
            sum += cents;
            balance += cents;
            text.Append("01.02.2024;Zeile ").Append(i).Append(';').Append(Format(cents)).Append(';').Append(Format(balance)).Append('\n');
        }

        var section = Assert.Single(ReadText(text.ToString(), profile).Sections);

        Assert.Equal(count, section.Lines.Count);
        Assert.Equal(sum, section.Lines.Sum(l => l.Amount.MinorUnits));
        Assert.Equal(new Amount(0), section.OpeningBalance);
        Assert.Equal(new Amount(balance), section.ClosingBalance);
        Assert.Equal($"line {count + 1}", section.Lines[^1].Location);

        static string Format(long cents) => new Amount(cents).Format(2).Replace('.', ',');
    }
}
