namespace Ledger.BankStatements;

public static class OfxParser
{
    public static StatementFile Parse(Stream content, StatementReadOptions options) => throw new NotImplementedException("OfxParser: being written");
}
