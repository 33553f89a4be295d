using System.Text;

namespace Ledger.BankStatements.Tests;

public class StatementFormatDetectorTests
{
    private static StatementFormat? Detect(string text) => StatementFormatDetector.Detect(Encoding.UTF8.GetBytes(text));

    [Theory]
    [InlineData("OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\n\r\n<OFX>\r\n<SIGNONMSGSRSV1>")]
    [InlineData("\r\n\r\n  OFXHEADER:100\r\nDATA:OFXSGML")]
    [InlineData("<OFX>\n<SIGNONMSGSRSV1>")]
    [InlineData("<ofx><signonmsgsrsv1>")]
    [InlineData("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<?OFX OFXHEADER=\"200\" VERSION=\"220\" SECURITY=\"NONE\"?>\n<OFX>")]
    [InlineData("<?xml version=\"1.0\"?>\n<!-- exported by Example Bank -->\n<OFX>\n<BANKMSGSRSV1>")]
    [InlineData("<?OFX OFXHEADER=\"200\" VERSION=\"211\"?><OFX>")]
    public void Ofx(string head) => Assert.Equal(StatementFormat.Ofx, Detect(head));

    [Theory]
    [InlineData("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\">")]
    [InlineData("<?xml version=\"1.0\"?><Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\"><BkToCstmrStmt>")]
    [InlineData("<Document><BkToCstmrStmt><GrpHdr>")]
    [InlineData("<?xml version=\"1.0\"?>\n<ns:Document xmlns:ns=\"urn:example\">\n<ns:BkToCstmrStmt>")]
    public void Camt053(string head) => Assert.Equal(StatementFormat.Camt053, Detect(head));

    [Theory]
    [InlineData("{1:F01EXAMPLEBANKXXX0000000000}{2:O9401200240301EXAMPLEBANKXXX00000000002403011200N}{4:\r\n:20:STMT")]
    [InlineData(":20:STARTUMSE\r\n:25:12030000/0000202051\r\n:28C:00042/001")]
    [InlineData("\r\n  \r\n:20:940S240301\r\n:25:DE02120300000000202051")]
    public void Mt940(string head) => Assert.Equal(StatementFormat.Mt940, Detect(head));

    [Theory]
    [InlineData("Buchungstag;Valuta;Verwendungszweck;Betrag\n01.03.2024;01.03.2024;Miete;-500,00")]
    [InlineData("Date,Description,Amount\n03/01/2024,Rent,-500.00")]
    [InlineData("")]
    [InlineData("   \r\n\t")]
    [InlineData("<?xml version=\"1.0\"?><Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.09\"><CstmrCdtTrfInitn>")]
    [InlineData("<html><body>Session expired</body></html>")]
    [InlineData("<OFXISH>not really</OFXISH>")]
    [InlineData("20:not quite mt940")]
    public void Anything_else_is_unknown(string head) => Assert.Null(Detect(head));

    [Fact]
    public void Utf8_byte_order_mark_is_skipped()
    {
        var bom = new byte[] { 0xEF, 0xBB, 0xBF };

        Assert.Equal(StatementFormat.Ofx, StatementFormatDetector.Detect([.. bom, .. "OFXHEADER:100"u8]));
        Assert.Equal(StatementFormat.Camt053, StatementFormatDetector.Detect([.. bom, .. "<?xml version=\"1.0\"?><Document><BkToCstmrStmt>"u8]));
        Assert.Equal(StatementFormat.Mt940, StatementFormatDetector.Detect([.. bom, .. "\r\n:20:X"u8]));
    }

    [Fact]
    public void Utf16_text_is_unknown_even_when_it_would_be_a_statement()
    {
        Assert.Null(StatementFormatDetector.Detect(Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes("OFXHEADER:100")).ToArray()));
        Assert.Null(StatementFormatDetector.Detect(Encoding.BigEndianUnicode.GetBytes("<Document><BkToCstmrStmt>")));
    }

    [Fact]
    public void Garbage_is_unknown()
    {
        var random = new Random(20240301);
        for (var i = 0; i < 50; i++)
        {
            var bytes = new byte[random.Next(0, 5000)];
            random.NextBytes(bytes);
            if (bytes.Length > 0 && bytes[0] is (byte)'<' or (byte)'O' or (byte)'{' or (byte)':') bytes[0] = 0xFF;

            Assert.Null(StatementFormatDetector.Detect(bytes));
        }
        Assert.Null(StatementFormatDetector.Detect([0x00, 0x01, 0x1B, 0x7F, 0xFF]));
        Assert.Null(StatementFormatDetector.Detect("PK\u0003\u0004 zip"u8)); // an .xlsx export
        Assert.Null(StatementFormatDetector.Detect("%PDF-1.7"u8));
    }

    [Fact]
    public void Only_the_first_four_kilobytes_count()
    {
        var late = "<?xml version=\"1.0\"?><Document><!--" + new string('x', 5000) + "--><BkToCstmrStmt>";

        Assert.Null(Detect(late));
        Assert.Equal(StatementFormat.Camt053, Detect("<?xml version=\"1.0\"?><Document><!--" + new string('x', 3000) + "--><BkToCstmrStmt>"));
    }

    [Fact]
    public void Camt_fixtures_are_camt_and_csv_fixtures_unknown()
    {
        // The other formats' fixtures belong to their own parsers' tests.
        var names = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Fixtures")).Select(Path.GetFileName).OfType<string>().ToList();
        Assert.Contains("camt053-001-02.xml", names);
        Assert.Contains("csv-debit-credit.csv", names);
        foreach (var name in names)
        {
            var head = File.ReadAllBytes(Fixture.PathOf(name));
            if (name.StartsWith("camt053-", StringComparison.Ordinal)) Assert.Equal(StatementFormat.Camt053, StatementFormatDetector.Detect(head));
            if (name.StartsWith("csv-", StringComparison.Ordinal)) Assert.Null(StatementFormatDetector.Detect(head));
        }
    }
}
