namespace Ledger.BankStatements;

public static class Mt940Parser
{
    public static StatementFile Parse(Stream content, StatementReadOptions options) => throw new NotImplementedException("Mt940Parser: being written");
}
