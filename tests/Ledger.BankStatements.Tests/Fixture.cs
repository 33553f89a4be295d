namespace Ledger.BankStatements.Tests;

/// <summary>Opens a statement file from Fixtures/ (copied beside the test assembly).</summary>
internal static class Fixture
{
    public static string PathOf(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);
    public static Stream Open(string name) => File.OpenRead(PathOf(name));
    public static StatementFile Read(string name, StatementFormat format, int digits = 2, CsvProfile? profile = null)
    {
        using var stream = Open(name);
        return StatementReader.Read(stream, format, new StatementReadOptions(digits, profile));
    }
}
