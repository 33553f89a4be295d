namespace Ledger.BankStatements;

public static class CsvStatementParser
{
    public static StatementFile Parse(Stream content, CsvProfile profile, StatementReadOptions options) => throw new NotImplementedException("CsvStatementParser: being written");
}
