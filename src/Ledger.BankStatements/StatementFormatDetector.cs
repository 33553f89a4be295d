namespace Ledger.BankStatements;

public static class StatementFormatDetector
{
    public static StatementFormat? Detect(ReadOnlySpan<byte> head) => throw new NotImplementedException("StatementFormatDetector: being written");
}
