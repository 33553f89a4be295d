using System.Text;
using Ledger.Domain;
using NodaTime;

namespace Ledger.BankStatements.Tests;

public class Camt053ParserTests
{
    private static StatementFile Read(string fixture) => Fixture.Read(fixture, StatementFormat.Camt053);

    private static StatementFile ReadText(string xml, int digits = 2)
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(xml));
        return Camt053Parser.Parse(stream, new StatementReadOptions(digits));
    }

    private static StatementFormatException Broken(string xml) => Assert.Throws<StatementFormatException>(() => ReadText(xml));

    private static long Sum(IEnumerable<StatementLine> lines) => lines.Sum(l => l.Amount.MinorUnits);

    /// <summary>A minimal statement around <paramref name="entries"/> (one Stmt, EUR account).</summary>
    private static string Wrap(string entries, string version = "02") => $"""
        <?xml version="1.0" encoding="UTF-8"?>
        <Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}">
          <BkToCstmrStmt>
            <GrpHdr><MsgId>T</MsgId><CreDtTm>2024-01-01T00:00:00</CreDtTm></GrpHdr>
            <Stmt>
              <Id>T-1</Id>
              <Acct><Id><IBAN>DE02120300000000202051</IBAN></Id><Ccy>EUR</Ccy></Acct>
              {entries}
            </Stmt>
          </BkToCstmrStmt>
        </Document>
        """;

    private const string Credit100 = """
        <Ntry><Amt Ccy="EUR">100.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2024-01-02</Dt></BookgDt></Ntry>
        """;

    [Fact]
    public void A_page_closing_with_an_interim_booked_balance_has_it_as_the_balance_its_lines_must_reach()
    {
        static string Balance(string code, string amount) =>
            $"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2024-01-02</Dt></Dt></Bal>";
        var page = ReadText(Wrap(Balance("OPBD", "1000.00") + Balance("ITBD", "900.00") + Credit100.Replace("CRDT", "DBIT")));
        var section = Assert.Single(page.Sections);
        Assert.Equal((100000L, 90000L), (section.OpeningBalance!.Value.MinorUnits, section.ClosingBalance!.Value.MinorUnits));
        // A closing balance (CLBD) wins over an interim one.
        var last = ReadText(Wrap(Balance("OPBD", "1000.00") + Balance("ITBD", "950.00") + Balance("CLBD", "900.00") + Credit100.Replace("CRDT", "DBIT")));
        Assert.Equal(90000L, Assert.Single(last.Sections).ClosingBalance!.Value.MinorUnits);
    }

    [Theory]
    [InlineData("windows-1252")]
    [InlineData("ISO-8859-15")]
    public void A_file_in_a_windows_code_page_reads_through_the_reader_whatever_was_read_before(string encoding)
    {
        // The declaration names the code page; the bytes are Latin-1 (ü is 0xFC in all three).
        var xml = Wrap("""
            <Ntry><Amt Ccy="EUR">5.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2024-01-02</Dt></BookgDt>
              <AddtlNtryInf>Gebühr Müller</AddtlNtryInf></Ntry>
            """).Replace("encoding=\"UTF-8\"", $"encoding=\"{encoding}\"");
        using var stream = new MemoryStream(Encoding.Latin1.GetBytes(xml));
        var file = StatementReader.Read(stream, StatementFormat.Camt053, new StatementReadOptions(2));
        Assert.Equal("Gebühr Müller", Assert.Single(file.Lines).Description);
    }

    [Fact]
    public void Version_02_reads_account_balances_and_every_booked_line()
    {
        var file = Read("camt053-001-02.xml");

        Assert.Equal(StatementFormat.Camt053, file.Format);
        var section = Assert.Single(file.Sections);
        Assert.Equal("DE02120300000000202051", section.AccountIdentifier);
        Assert.Equal("EUR", section.Currency);
        Assert.Equal(new Amount(1_000_000), section.OpeningBalance);
        Assert.Equal(new LocalDate(2024, 3, 1), section.OpeningDate);
        Assert.Equal(new Amount(643_750), section.ClosingBalance);
        Assert.Equal(new LocalDate(2024, 3, 7), section.ClosingDate);
        // 1 credit + 3 batch parts + direct debit + its reversal + fee; the pending entry is not among them.
        Assert.Equal(7, section.Lines.Count);
    }

    [Fact]
    public void Version_02_opening_plus_booked_lines_ties_to_closing_without_the_pending_entry()
    {
        var section = Read("camt053-001-02.xml").Sections[0];

        Assert.Equal(section.ClosingBalance!.Value.MinorUnits, section.OpeningBalance!.Value.MinorUnits + Sum(section.Lines));
    }

    [Fact]
    public void Pending_entry_is_skipped_with_a_warning_naming_it()
    {
        var file = Read("camt053-001-02.xml");

        Assert.DoesNotContain(file.Lines, l => l.Description.Contains("Anzahlung", StringComparison.Ordinal));
        var warning = Assert.Single(file.Warnings);
        Assert.Contains("Stmt[1]/Ntry[5]", warning, StringComparison.Ordinal);
        Assert.Contains("PDNG", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void Single_credit_takes_debtor_iban_joined_unstructured_remittance_and_entry_reference()
    {
        var line = Read("camt053-001-02.xml").Sections[0].Lines[0];

        Assert.Equal(new LocalDate(2024, 3, 4), line.BookingDate);
        Assert.Equal(new LocalDate(2024, 3, 4), line.ValueDate);
        Assert.Equal(new Amount(125_000), line.Amount);
        Assert.Equal("Kellermann Bau GmbH", line.Counterparty);
        Assert.Equal("DE75512108001245126199", line.CounterpartyIban);
        Assert.Equal("Rechnung 2024-0117 Kundennr. 4711", line.Description);
        Assert.Equal("2024030400001", line.BankReference);
        Assert.False(line.IsReversal);
        Assert.Equal("Document/BkToCstmrStmt/Stmt[1]/Ntry[1]", line.Location);
    }

    [Fact]
    public void Batch_entry_with_amount_details_becomes_one_line_per_transaction_with_unique_references()
    {
        var lines = Read("camt053-001-02.xml").Sections[0].Lines.Skip(1).Take(3).ToList();

        Assert.Equal([-150_000L, -180_000L, -150_000L], lines.Select(l => l.Amount.MinorUnits));
        Assert.Equal(["Jana Beispiel", "Björn Testmann", "Aylin Probe"], lines.Select(l => l.Counterparty));
        Assert.Equal("DE44500105175407324931", lines[0].CounterpartyIban);
        // The entry's AcctSvcrRef is shared, so each part adds its EndToEndId — or its position when that is NOTPROVIDED.
        Assert.Equal(["2024030500007/LOHN-2024-03-001", "2024030500007/LOHN-2024-03-002", "2024030500007/3"],
            lines.Select(l => l.BankReference));
        Assert.Equal("Document/BkToCstmrStmt/Stmt[1]/Ntry[2]/NtryDtls/TxDtls[2]", lines[1].Location);
        Assert.All(lines, l => Assert.Equal("Gehalt März 2024", l.Description)); // the line break inside Ustrd collapses too
    }

    [Fact]
    public void Date_time_booking_date_takes_its_date_part_and_structured_reference_is_the_description()
    {
        var line = Read("camt053-001-02.xml").Sections[0].Lines[4];

        Assert.Equal(new LocalDate(2024, 3, 6), line.BookingDate);
        Assert.Equal(new Amount(-8_990), line.Amount);
        Assert.Equal("RF18539007547034", line.Description);
        Assert.Equal("Stadtwerke Musterstadt", line.Counterparty);
        Assert.Equal("DE27100777770209299700", line.CounterpartyIban);
        Assert.Equal("2024030600012", line.BankReference);
    }

    [Fact]
    public void Reversal_keeps_the_sign_of_its_indicator_and_names_the_original_counterparty()
    {
        var line = Read("camt053-001-02.xml").Sections[0].Lines[5];

        Assert.True(line.IsReversal);
        Assert.Equal(new Amount(8_990), line.Amount); // CRDT: money comes back in
        Assert.Equal(new LocalDate(2024, 3, 7), line.BookingDate);
        Assert.Equal(new LocalDate(2024, 3, 6), line.ValueDate);
        Assert.Equal("Stadtwerke Musterstadt", line.Counterparty); // the creditor of the debit it undoes, not ourselves
        Assert.Equal("RUECKBUCHUNG LASTSCHRIFT SWM-2024-03-778812", line.Description);
    }

    [Fact]
    public void Entry_without_details_uses_additional_entry_information_and_booking_date_as_value_date()
    {
        var line = Read("camt053-001-02.xml").Sections[0].Lines[6];

        Assert.Equal(new Amount(-1_250), line.Amount);
        Assert.Equal("Kontoführung Februar 2024", line.Description); // tab and space runs collapse to one space
        Assert.Equal(line.BookingDate, line.ValueDate);
        Assert.Null(line.BankReference);
        Assert.Null(line.Counterparty);
    }

    [Fact]
    public void Version_08_reads_two_statements_as_two_sections()
    {
        var file = Read("camt053-001-08.xml");

        Assert.Equal(2, file.Sections.Count);
        var first = file.Sections[0];
        Assert.Equal("DE02100100100006820101", first.AccountIdentifier);
        Assert.Equal(new Amount(234_567), first.OpeningBalance); // PRCD stands in for OPBD
        Assert.Equal(new LocalDate(2024, 4, 30), first.OpeningDate);
        Assert.Equal(new LocalDate(2024, 5, 6), first.ClosingDate); // from Dt/DtTm
        Assert.Equal(first.ClosingBalance!.Value.MinorUnits, first.OpeningBalance!.Value.MinorUnits + Sum(first.Lines));

        var second = file.Sections[1];
        Assert.Equal("4711-0815-00", second.AccountIdentifier); // Othr/Id
        Assert.Equal(new Amount(-15_000), second.OpeningBalance); // DBIT balance is negative
        Assert.Equal(new Amount(5_000), second.ClosingBalance);
        Assert.Equal(second.ClosingBalance!.Value.MinorUnits, second.OpeningBalance!.Value.MinorUnits + Sum(second.Lines));
        Assert.Equal("Document/BkToCstmrStmt/Stmt[2]/Ntry[1]", Assert.Single(second.Lines).Location);
    }

    [Fact]
    public void Version_08_batch_parts_use_their_own_amount_and_indicator()
    {
        var lines = Read("camt053-001-08.xml").Sections[0].Lines.Take(3).ToList();

        Assert.Equal([60_000L, 40_000L, -1_500L], lines.Select(l => l.Amount.MinorUnits)); // sales in, card fee out
        Assert.Equal("Payfair Acquiring B.V.", lines[0].Counterparty); // Dbtr/Pty/Nm for a credit
        Assert.Equal("Payfair Acquiring B.V.", lines[2].Counterparty); // Cdtr/Pty/Nm for the debit part
        Assert.Equal("NL91ABNA0417164300", lines[2].CounterpartyIban);
        Assert.Equal(["K-20240502-118/POS-0502-A", "K-20240502-118/POS-0502-B", "FEE-20240502"], lines.Select(l => l.BankReference));
        Assert.Equal("Disagio Kartenzahlungen", lines[2].Description);
        Assert.All(lines, l => Assert.Equal(new LocalDate(2024, 5, 3), l.ValueDate));
    }

    [Fact]
    public void Version_08_skips_info_entry_and_uses_end_to_end_id_when_the_bank_gives_no_reference()
    {
        var file = Read("camt053-001-08.xml");
        var rent = file.Sections[0].Lines[3];

        Assert.Equal(new Amount(-240_000), rent.Amount);
        Assert.Equal(new LocalDate(2024, 5, 3), rent.BookingDate);
        Assert.Equal("Immobilien Hofmann KG", rent.Counterparty);
        Assert.Equal("MIETE-2024-05", rent.BankReference);
        var warning = Assert.Single(file.Warnings);
        Assert.Contains("Stmt[1]/Ntry[3]", warning, StringComparison.Ordinal);
        Assert.Contains("INFO", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void Repeated_entry_details_each_become_a_line()
    {
        var lines = Read("camt053-001-08.xml").Sections[0].Lines.Skip(4).ToList();

        Assert.Equal([10_000L, 20_000L], lines.Select(l => l.Amount.MinorUnits));
        Assert.Equal(["Gasthof zur Linde", "Vereinsheim Nord e.V."], lines.Select(l => l.Counterparty));
        Assert.Equal(["K-20240506-004/1", "K-20240506-004/2"], lines.Select(l => l.BankReference));
        Assert.Equal("Document/BkToCstmrStmt/Stmt[1]/Ntry[4]/NtryDtls[2]/TxDtls[1]", lines[1].Location);
    }

    [Fact]
    public void Broken_amount_names_the_entry_amount()
    {
        var e = Assert.Throws<StatementFormatException>(() => Read("camt053-broken-amount.xml"));

        Assert.Equal("Document/BkToCstmrStmt/Stmt[1]/Ntry[2]/Amt", e.Location);
        Assert.Contains("12.3.4", e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Unclosed_tag_is_reported_with_its_line()
    {
        var e = Assert.Throws<StatementFormatException>(() => Read("camt053-broken-xml.xml"));

        Assert.Matches(@"^line \d+$", e.Location);
        Assert.Contains("not well-formed XML", e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Batch_whose_parts_do_not_add_up_is_refused_at_the_entry()
    {
        var e = Assert.Throws<StatementFormatException>(() => Read("camt053-batch-mismatch.xml"));

        Assert.Equal("Document/BkToCstmrStmt/Stmt[1]/Ntry[2]", e.Location);
        Assert.Contains("-950.00", e.Problem, StringComparison.Ordinal);
        Assert.Contains("-900.00", e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Batch_without_per_transaction_amounts_is_one_line()
    {
        var file = ReadText(Wrap("""
            <Ntry><Amt Ccy="EUR">30.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2024-01-02</Dt></BookgDt>
              <AcctSvcrRef>B-1</AcctSvcrRef>
              <NtryDtls><Btch><NbOfTxs>2</NbOfTxs></Btch>
                <TxDtls><Refs><EndToEndId>E1</EndToEndId></Refs></TxDtls>
                <TxDtls><Refs><EndToEndId>E2</EndToEndId></Refs></TxDtls>
              </NtryDtls>
            </Ntry>
            """));

        var line = Assert.Single(file.Lines);
        Assert.Equal(new Amount(-3_000), line.Amount);
        Assert.Equal("B-1", line.BankReference);
        Assert.Equal("Batch of 2 transactions", line.Description);
        Assert.Empty(file.Warnings);
    }

    [Fact]
    public void Namespace_does_not_matter_elements_are_read_by_local_name()
    {
        var xml = Wrap(Credit100).Replace(" xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"", "", StringComparison.Ordinal)
            .Replace("<Document>", "<c:Document xmlns:c=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.06\">", StringComparison.Ordinal)
            .Replace("</Document>", "</c:Document>", StringComparison.Ordinal);

        Assert.Equal(10_000, Assert.Single(ReadText(xml).Lines).Amount.MinorUnits);
    }

    [Fact]
    public void Document_type_declarations_are_refused_so_no_external_entity_is_ever_read()
    {
        var xml = """
            <?xml version="1.0"?>
            <!DOCTYPE Document [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
            <Document><BkToCstmrStmt><Stmt><Ntry><AddtlNtryInf>&xxe;</AddtlNtryInf></Ntry></Stmt></BkToCstmrStmt></Document>
            """;

        var e = Broken(xml);
        Assert.Contains("<!DOCTYPE>", e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Other_camt_messages_and_other_xml_are_refused()
    {
        Assert.Contains("camt.052", Broken("<Document><BkToCstmrAcctRpt/></Document>").Problem, StringComparison.Ordinal);
        Assert.Equal("OFX", Broken("<OFX><SIGNONMSGSRSV1/></OFX>").Location);
        Assert.Equal("Document", Broken("<Document><Other/></Document>").Location);
        Assert.Equal("Document/BkToCstmrStmt", Broken("<Document><BkToCstmrStmt><GrpHdr/></BkToCstmrStmt></Document>").Location);
    }

    [Theory]
    [InlineData("<CdtDbtInd>CRDT</CdtDbtInd>", "<CdtDbtInd>CREDIT</CdtDbtInd>", "Ntry[1]/CdtDbtInd")]
    [InlineData("<Dt>2024-01-02</Dt>", "<Dt>02.01.2024</Dt>", "Ntry[1]/BookgDt/Dt")]
    [InlineData("<Amt Ccy=\"EUR\">100.00</Amt>", "<Amt Ccy=\"EUR\">100.005</Amt>", "Ntry[1]/Amt")]
    [InlineData("<Amt Ccy=\"EUR\">100.00</Amt>", "<Amt Ccy=\"EUR\">-100.00</Amt>", "Ntry[1]/Amt")]
    [InlineData("<Amt Ccy=\"EUR\">100.00</Amt>", "<Amt Ccy=\"USD\">100.00</Amt>", "Ntry[1]/Amt")]
    [InlineData("<BookgDt><Dt>2024-01-02</Dt></BookgDt>", "", "Ntry[1]")]
    public void Bad_entry_values_are_refused_at_their_element(string good, string bad, string where)
    {
        var e = Broken(Wrap(Credit100.Replace(good, bad, StringComparison.Ordinal)));

        Assert.Equal("Document/BkToCstmrStmt/Stmt[1]/" + where, e.Location);
    }

    [Fact]
    public void Long_texts_are_cut_with_a_warning()
    {
        var longText = new string('x', StatementLimits.MaxTextLength + 50);
        var file = ReadText(Wrap(Credit100.Replace("</Ntry>", $"<AddtlNtryInf>{longText}</AddtlNtryInf></Ntry>", StringComparison.Ordinal)));

        Assert.Equal(StatementLimits.MaxTextLength, Assert.Single(file.Lines).Description.Length);
        Assert.Contains("cut", Assert.Single(file.Warnings), StringComparison.Ordinal);
    }

    [Fact]
    public void Warnings_are_bounded_and_the_rest_counted()
    {
        var pending = string.Concat(Enumerable.Repeat(
            """<Ntry><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>PDNG</Cd></Sts></Ntry>""", 250));

        var file = ReadText(Wrap(pending + Credit100, "08"));

        Assert.Single(file.Lines);
        Assert.Equal(201, file.Warnings.Count);
        Assert.Contains("50 more warnings", file.Warnings[^1], StringComparison.Ordinal);
    }

    [Fact]
    public void Fifty_thousand_entries_stream_through()
    {
        const int count = 50_000;
        var xml = new StringBuilder(count * 200);
        xml.Append("""
            <?xml version="1.0" encoding="UTF-8"?>
            <Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>
            <GrpHdr><MsgId>BIG</MsgId><CreDtTm>2024-01-01T00:00:00</CreDtTm></GrpHdr>
            <Stmt><Id>BIG-1</Id><Acct><Id><IBAN>DE02120300000000202051</IBAN></Id><Ccy>EUR</Ccy></Acct>
            """);
        long expected = 0;
        for (var i = 1; i <= count; i++)
        {
            var cents = i * 7 % 100_000 + 1;
            var credit = i % 3 != 0;
            expected += credit ? cents : -cents;
            xml.Append("<Ntry><Amt Ccy=\"EUR\">").Append(cents / 100).Append('.').Append((cents % 100).ToString("00", System.Globalization.CultureInfo.InvariantCulture))
                .Append("</Amt><CdtDbtInd>").Append(credit ? "CRDT" : "DBIT")
                .Append("</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2024-01-02</Dt></BookgDt><AcctSvcrRef>R").Append(i)
                .Append("</AcctSvcrRef><AddtlNtryInf>Rechnung ").Append(i).Append("</AddtlNtryInf></Ntry>\n");
        }
        xml.Append("</Stmt></BkToCstmrStmt></Document>");

        var file = ReadText(xml.ToString());

        var lines = file.Sections[0].Lines;
        Assert.Equal(count, lines.Count);
        Assert.Equal(expected, Sum(lines));
        Assert.Equal("R50000", lines[^1].BankReference);
        Assert.Equal("Rechnung 50000", lines[^1].Description);
        Assert.Equal("Document/BkToCstmrStmt/Stmt[1]/Ntry[50000]", lines[^1].Location);
    }
}
