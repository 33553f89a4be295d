namespace Ledger.BankStatements;

public static class Camt053Parser
{
    public static StatementFile Parse(Stream content, StatementReadOptions options) => throw new NotImplementedException("Camt053Parser: being written");
}
