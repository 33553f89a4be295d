using System.Diagnostics;
using System.Text;
using Xunit.Abstractions;
using Ledger.Domain;
using NodaTime;

namespace Ledger.BankStatements.Tests;

/// <summary>
/// SWIFT MT940 statements. The fixtures, written by hand with invented names and accounts (CRLF line ends):
/// <list type="bullet">
/// <item><c>mt940-new-year.sta</c>: two statements in one file across New Year whose balances tie. Statement 1
/// (value dates 251231): an entry date 0102 that belongs to 2026; a structured <c>:86:</c> wrapped at 65
/// characters mid-word, with ?00, ?20–?22 (a full 27-character ?21 that continues in ?22 without a space), ?30,
/// ?31 (an IBAN in groups) and ?32/?33; a free-text <c>:86:</c>; an RD reversal; a line whose references are both
/// NONREF and whose <c>:86:</c> has no EREF+; a customer reference with no bank reference; <c>:64:</c> (ignored).
/// Statement 2 (value dates 260102): an entry date 1231 that belongs to 2025; EREF+ taken as the reference when
/// both references are NONREF; a supplementary-details line under <c>:61:</c>; a free-text <c>:86:</c> over three
/// lines; ?60 purpose text; <c>:65:</c> (ignored).</item>
/// <item><c>mt940-swift-blocks.sta</c>: two messages wrapped in <c>{1:}{2:}{3:}{4:</c> … <c>-}{5:}</c>, a debit
/// (negative) opening balance, funds codes ("CR", "DR": not reversals), an amount without decimals ("1000,"), a
/// Norwegian IBAN in ?31, an F-type transaction code.</item>
/// <item><c>mt940-unbalanced.sta</c>: reads fine (the importer, not the parser, checks opening + lines = closing);
/// the test shows it does not tie.</item>
/// <item><c>mt940-broken-amount.sta</c> ("1.250,00"), <c>mt940-broken-date.sta</c> (value date 251332),
/// <c>mt940-61-before-60.sta</c> and <c>mt940-truncated.sta</c> (no <c>:62F:</c>): each refused with its line.</item>
/// </list>
/// Everything else (RC, encodings, control characters, limits, malformed structure) is built in memory below.
/// </summary>
public sealed class Mt940ParserTests(ITestOutputHelper output)
{
    private static StatementFile Read(string name, int digits = 2) => Fixture.Read(name, StatementFormat.Mt940, digits);

    private static StatementFile ReadText(string text, int digits = 2) => ReadBytes(Encoding.UTF8.GetBytes(text), digits);

    private static StatementFile ReadBytes(byte[] bytes, int digits = 2)
    {
        using var stream = new MemoryStream(bytes);
        return Mt940Parser.Parse(stream, new StatementReadOptions(digits));
    }

    private static StatementFormatException Refused(string text) => Assert.Throws<StatementFormatException>(() => ReadText(text));

    /// <summary>One statement around the given :61:/:86: lines; the closing balance is not checked by the parser.</summary>
    private static string Statement(string lines, string opening = "C251230EUR100,00", string closing = "C251231EUR100,00") =>
        ":20:REF\r\n:25:DE12500105170648489890\r\n:28C:1/1\r\n:60F:" + opening + "\r\n" + lines + ":62F:" + closing + "\r\n";

    private static void AssertTies(StatementSection section) =>
        Assert.Equal(section.ClosingBalance, section.Lines.Aggregate(section.OpeningBalance!.Value, (sum, l) => sum + l.Amount));

    [Fact]
    public void New_year_file_has_two_statements_whose_balances_tie()
    {
        var file = Read("mt940-new-year.sta");

        Assert.Equal(StatementFormat.Mt940, file.Format);
        Assert.Equal(2, file.Sections.Count);
        Assert.All(file.Sections, AssertTies);
        Assert.All(file.Sections, s => Assert.Equal("DE12500105170648489890", s.AccountIdentifier));
        Assert.All(file.Sections, s => Assert.Equal("EUR", s.Currency));
        Assert.Equal(new Amount(842015), file.Sections[0].OpeningBalance);
        Assert.Equal(new LocalDate(2025, 12, 30), file.Sections[0].OpeningDate);
        Assert.Equal(new Amount(1060625), file.Sections[0].ClosingBalance);
        Assert.Equal(new LocalDate(2025, 12, 31), file.Sections[0].ClosingDate);
        Assert.Equal(new Amount(1169085), file.Sections[1].ClosingBalance);
        Assert.Equal([4, 3], file.Sections.Select(s => s.Lines.Count));
        Assert.Empty(file.Warnings);
    }

    [Fact]
    public void Entry_date_year_is_the_one_closest_to_the_value_date_in_both_directions()
    {
        var file = Read("mt940-new-year.sta");
        var rent = file.Sections[0].Lines[1];
        var insurance = file.Sections[1].Lines[0];

        Assert.Equal(new LocalDate(2025, 12, 31), rent.ValueDate);
        Assert.Equal(new LocalDate(2026, 1, 2), rent.BookingDate);       // 251231 + 0102
        Assert.Equal(new LocalDate(2026, 1, 2), insurance.ValueDate);
        Assert.Equal(new LocalDate(2025, 12, 31), insurance.BookingDate); // 260102 + 1231
        Assert.Equal(file.Sections[1].Lines[1].ValueDate, file.Sections[1].Lines[1].BookingDate); // no entry date
    }

    [Fact]
    public void Structured_information_gives_description_counterparty_and_iban()
    {
        var line = Read("mt940-new-year.sta").Sections[0].Lines[0];

        Assert.Equal(new Amount(-125000), line.Amount);
        // ?21 is a full 27 characters, so ?22 continues its word ("Bue" + "romoebel"); ?10 and ?30 are not text.
        Assert.Equal("SEPA-UEBERWEISUNG EREF+RE-2025-0815 SVWZ+Rechnung 2025-0815 Bueromoebel", line.Description);
        Assert.Equal("Bueromoebel Lindner GmbH & Co. KG", line.Counterparty); // ?32 + ?33
        Assert.Equal("DE27200505501234567890", line.CounterpartyIban);      // ?31 without its spaces
        Assert.Equal("BK251231A001", line.BankReference);
        Assert.False(line.IsReversal);
        Assert.Equal("line 5", line.Location);
    }

    [Fact]
    public void Free_text_information_is_the_description_and_the_customer_reference_stands_in_for_a_missing_bank_reference()
    {
        var line = Read("mt940-new-year.sta").Sections[0].Lines[1];

        Assert.Equal(new Amount(340000), line.Amount);
        Assert.Equal("Miete Januar 2026 Objekt Hafenstrasse 12", line.Description);
        Assert.Null(line.Counterparty);
        Assert.Null(line.CounterpartyIban);
        Assert.Equal("MIETE-JAN26", line.BankReference);
    }

    [Fact]
    public void Reversal_of_debit_is_positive_and_marked()
    {
        var line = Read("mt940-new-year.sta").Sections[0].Lines[2];

        Assert.Equal(new Amount(4590), line.Amount);
        Assert.True(line.IsReversal);
        Assert.Equal("RUECKLASTSCHRIFT EREF+LS-2025-12-7781 SVWZ+Abschlag Dezember", line.Description);
        Assert.Equal("Stadtwerke Musterstadt", line.Counterparty);
        Assert.Equal("BK251231A003", line.BankReference); // the bank's reference wins over EREF+
    }

    [Fact]
    public void Both_references_nonref_and_no_eref_gives_no_reference()
    {
        var line = Read("mt940-new-year.sta").Sections[0].Lines[3];

        Assert.Null(line.BankReference);
        Assert.Equal("ENTGELT Kontofuehrung Dezember 2025", line.Description);
    }

    [Fact]
    public void Eref_stands_in_when_both_references_are_nonref_and_a_full_purpose_line_continues_without_a_space()
    {
        var line = Read("mt940-new-year.sta").Sections[1].Lines[0];

        Assert.Equal("VERS-2026-000417", line.BankReference);
        Assert.Equal("SEPA-BASISLASTSCHRIFT EREF+VERS-2026-000417 MREF+M-88213 CRED+DE98ZZZ09999999999 SVWZ+Versicherungsbeitrag Januar 2026", line.Description);
        Assert.Equal("Hanse Versicherung AG", line.Counterparty);
        Assert.Equal("DE61370400440987654321", line.CounterpartyIban);
    }

    [Fact]
    public void Multi_line_free_text_is_joined_and_the_supplementary_line_does_not_replace_it()
    {
        var line = Read("mt940-new-year.sta").Sections[1].Lines[1];

        Assert.Equal("Zahlung Kunde 4471 fuer die Rechnungen 2025-0901 und 2025-0902, vielen Dank fuer Ihren Auftrag", line.Description);
        Assert.Equal("BK260102B002", line.BankReference);
        Assert.Equal(new Amount(148000), line.Amount);
    }

    [Fact]
    public void Purpose_lines_60_to_63_join_the_description()
    {
        var line = Read("mt940-new-year.sta").Sections[1].Lines[2];

        Assert.Equal("KARTENZAHLUNG Tankstelle Nord 2026-01-02 12:41 Karte 2 Tankbeleg 004711", line.Description);
        Assert.Equal("TANKSTELLE NORD GMBH", line.Counterparty);
    }

    [Fact]
    public void Swift_blocks_are_unwrapped_and_each_message_is_a_statement()
    {
        var file = Read("mt940-swift-blocks.sta");

        Assert.Equal(2, file.Sections.Count);
        Assert.All(file.Sections, AssertTies);
        Assert.Equal("HAFBDEHH/0012345678", file.Sections[0].AccountIdentifier);
        Assert.Equal(new Amount(-15025), file.Sections[0].OpeningBalance); // D: a debit balance
        Assert.Equal(new Amount(69976), file.Sections[1].ClosingBalance);
        Assert.Empty(file.Warnings);
    }

    [Fact]
    public void Funds_code_after_the_mark_is_not_a_reversal_and_an_amount_may_end_at_its_comma()
    {
        var lines = Read("mt940-swift-blocks.sta").Sections[0].Lines;

        Assert.Equal(new Amount(100000), lines[0].Amount); // "CR1000,"
        Assert.False(lines[0].IsReversal);
        Assert.Equal("Fjord Analytics AS", lines[0].Counterparty);
        Assert.Equal("NO9386011117947", lines[0].CounterpartyIban);
        Assert.Equal(new Amount(-15000), lines[1].Amount); // "DR150,00"
        Assert.False(lines[1].IsReversal);
        Assert.Equal("BK260105C002", lines[1].BankReference);
        Assert.Equal("Scheck 000318", lines[1].Description);
    }

    [Fact]
    public void Unbalanced_statement_is_read_and_left_to_the_importer()
    {
        var section = Assert.Single(Read("mt940-unbalanced.sta").Sections);

        var sum = section.Lines.Aggregate(section.OpeningBalance!.Value, (s, l) => s + l.Amount);
        Assert.NotEqual(section.ClosingBalance, sum);
    }

    [Fact]
    public void Broken_amount_is_refused_with_its_line()
    {
        var e = Assert.Throws<StatementFormatException>(() => Read("mt940-broken-amount.sta"));

        Assert.Equal("line 7", e.Location);
        Assert.Contains("1.250,00", e.Problem);
    }

    [Fact]
    public void Broken_date_is_refused_with_its_line()
    {
        var e = Assert.Throws<StatementFormatException>(() => Read("mt940-broken-date.sta"));

        Assert.Equal("line 7", e.Location);
        Assert.Contains("251332", e.Problem);
    }

    [Fact]
    public void Statement_line_before_the_opening_balance_is_refused()
    {
        var e = Assert.Throws<StatementFormatException>(() => Read("mt940-61-before-60.sta"));

        Assert.Equal("line 4", e.Location);
        Assert.Contains(":60F:", e.Problem);
    }

    [Fact]
    public void Truncated_file_is_refused_as_cut_off()
    {
        var e = Assert.Throws<StatementFormatException>(() => Read("mt940-truncated.sta"));

        Assert.Contains(":62F:", e.Problem);
        Assert.Contains("cut off", e.Problem);
    }

    [Fact]
    public void Swift_message_without_its_closing_dash_brace_is_refused_as_cut_off()
    {
        var e = Refused("{1:F01HAFBDEHHAXXX0000000000}{2:O940N}{4:\r\n" + Statement(""));

        Assert.Contains("cut off", e.Problem);
    }

    [Fact]
    public void A_purpose_subfield_of_exactly_27_characters_ends_where_the_next_keyword_begins()
    {
        // "EREF+ZV1234567890123456789X" fills ?20 to its 27 characters; ?21 starts a keyword of its own, not a run-on.
        var line = ReadText(Statement(":61:2512311231D10,00NDDTNONREF\r\n:86:105?00SEPA-LASTSCHRIFT?20EREF+ZV1234567890123456789X?21MREF+M-77?22SVWZ+Strom\r\n"))
            .Lines.Single();
        Assert.Equal("ZV1234567890123456789X", line.BankReference);
        Assert.Contains("ZV1234567890123456789X MREF+M-77", line.Description);
    }

    [Fact]
    public void Reversal_of_credit_is_negative_and_marked()
    {
        var line = ReadText(Statement(":61:2512311231RC25,00NRTINONREF//BK1\r\n:86:Storno Gutschrift\r\n")).Lines.Single();

        Assert.Equal(new Amount(-2500), line.Amount);
        Assert.True(line.IsReversal);
    }

    [Fact]
    public void Supplementary_details_describe_a_line_without_information()
    {
        var line = ReadText(Statement(":61:251231D10,00NTRFNONREF//BK1\r\nGebuehr Dezember\r\n")).Lines.Single();

        Assert.Equal("Gebuehr Dezember", line.Description);
    }

    [Fact]
    public void Line_without_any_text_is_described_by_its_transaction_type()
    {
        Assert.Equal("NCHG", ReadText(Statement(":61:251231D10,00NCHGNONREF\r\n")).Lines.Single().Description);
    }

    [Fact]
    public void Entry_date_29_february_finds_the_leap_year()
    {
        var line = ReadText(Statement(":61:2403010229D1,00NTRFNONREF\r\n")).Lines.Single();

        Assert.Equal(new LocalDate(2024, 2, 29), line.BookingDate);
    }

    [Theory]
    [InlineData(":61:2512311332D1,00NTRFNONREF\r\n", "entry date")]
    [InlineData(":61:251231X1,00NTRFNONREF\r\n", "mark")]
    [InlineData(":61:251231D1,00XTRFNONREF\r\n", "transaction type")]
    [InlineData(":61:251231D100NTRFNONREF\r\n", "decimal comma")]
    [InlineData(":61:251231DNTRFNONREF\r\n", "amount")]
    [InlineData(":61:251231D1,234NTRFNONREF\r\n", "decimal places")]
    [InlineData(":61:251231D99999999999999999,00NTRFNONREF\r\n", "too large")]
    [InlineData(":61:2512\r\n", "value date")]
    public void Malformed_statement_lines_are_refused_with_their_line(string line, string problem)
    {
        var e = Refused(Statement(line));

        Assert.Equal("line 5", e.Location);
        Assert.Contains(problem, e.Problem);
    }

    [Theory]
    [InlineData(":20:REF\r\n:25:X\r\n:60F:C251230EUR100,00\r\n:62F:C251231USD100,00\r\n", "USD")]
    [InlineData(":20:REF\r\n:25:X\r\n:60F:C251230EUR100,00\r\n:60F:C251230EUR100,00\r\n:62F:C251231EUR100,00\r\n", "second opening")]
    [InlineData(":20:REF\r\n:25:X\r\n:60F:X251230EUR100,00\r\n:62F:C251231EUR100,00\r\n", "C or D")]
    [InlineData(":20:REF\r\n:25:X\r\n:60F:C251230EUR100,00\r\n:20:REF2\r\n:60F:C251230EUR100,00\r\n:62F:C251231EUR100,00\r\n", ":62F:")]
    [InlineData(":20:REF\r\n:25:X\r\n:60F:C251230EUR100,00\r\n:62F:C251231EUR100,00\r\n:61:251231D1,00NTRFNONREF\r\n", "after the closing")]
    [InlineData(":25:X\r\n:20:REF\r\n", ":20:")]
    [InlineData("Buchungstag;Betrag\r\n01.12.2025;-1,00\r\n", "MT940")]
    [InlineData("", "no MT940 statement")]
    public void Malformed_statements_are_refused(string text, string problem)
    {
        Assert.Contains(problem, Refused(text).Problem);
    }

    [Fact]
    public void Windows1252_umlauts_and_cr_only_line_ends_are_read()
    {
        var text = Statement(":61:251231D1,00NTRFNONREF\r\n:86:166?00GUTSCHRIFT?20Bäckerei Müller?32Jürgen Weiß\r\n").Replace("\r\n", "\r");
        var line = ReadBytes(Encoding.Latin1.GetBytes(text)).Lines.Single();

        Assert.Equal("GUTSCHRIFT Bäckerei Müller", line.Description);
        Assert.Equal("Jürgen Weiß", line.Counterparty);
    }

    [Fact]
    public void Control_characters_are_stripped_and_whitespace_collapsed()
    {
        var line = ReadText(Statement(":61:251231D1,00NTRFNONREF\r\n:86:Miete\u0000 \u001b  Januar\t2026\r\n")).Lines.Single();

        Assert.Equal("Miete Januar 2026", line.Description);
    }

    [Fact]
    public void Description_longer_than_the_limit_is_cut_with_a_warning()
    {
        var info = string.Concat(Enumerable.Repeat(new string('x', 60) + "\r\n", 40));
        var file = ReadText(Statement(":61:251231D1,00NTRFNONREF\r\n:86:" + info));

        Assert.Equal(StatementLimits.MaxTextLength, file.Lines.Single().Description.Length);
        Assert.Contains(file.Warnings, w => w.StartsWith("line 5:") && w.Contains("description"));
    }

    [Fact]
    public void Unknown_fields_are_ignored_with_one_warning()
    {
        var file = ReadText(Statement(":61:251231D1,00NTRFNONREF\r\n:34F:EUR0,\r\n:34F:EUR0,\r\n"));

        Assert.Single(file.Lines);
        Assert.Single(file.Warnings, w => w.Contains(":34F:"));
    }

    [Fact]
    public void Dash_line_between_bare_statements_ends_each()
    {
        var file = ReadText(Statement("") + "-\r\n" + Statement(""));

        Assert.Equal(2, file.Sections.Count);
    }

    [Fact]
    public void Fifty_thousand_lines_are_all_read_and_tie_out()
    {
        var text = BigFile(50_000);
        var watch = Stopwatch.StartNew();
        var file = ReadText(text);

        Assert.Equal(50_000, file.Lines.Count());
        AssertTies(file.Sections.Single());
        output.WriteLine($"50,000 lines parsed in {watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public void More_lines_than_the_limit_are_refused()
    {
        // The same check as at StatementLimits.MaxLines, with a limit a test reaches without 200,001 lines.
        using var atLimit = new MemoryStream(Encoding.UTF8.GetBytes(BigFile(100)));
        Assert.Equal(100, Mt940Parser.Parse(atLimit, new StatementReadOptions(2), maxLines: 100).Lines.Count());

        using var beyond = new MemoryStream(Encoding.UTF8.GetBytes(BigFile(101)));
        var e = Assert.Throws<StatementFormatException>(() => Mt940Parser.Parse(beyond, new StatementReadOptions(2), maxLines: 100));
        Assert.Contains("more than 100", e.Problem);
    }

    [Theory]
    [InlineData("mt940-new-year.sta", "mt940-swift-blocks.sta")]
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
                Mt940Parser.Parse(stream, new StatementReadOptions(2));
            }
            catch (StatementFormatException)
            {
            }
        }
    }

    private static string BigFile(int count)
    {
        var sb = new StringBuilder(count * 70);
        for (var i = 0; i < count; i++)
            sb.Append(":61:2512311231D1,25NTRFNONREF//B").Append(i).Append("\r\n:86:166?00GUTSCHRIFT?20Zeile ").Append(i).Append("\r\n");
        var closing = 100_000_00L - 125L * count;
        return Statement(sb.ToString(), "C251230EUR100000,00", (closing < 0 ? "D" : "C") + "251231EUR" + new Amount(Math.Abs(closing)).Format(2).Replace('.', ','));
    }
}
