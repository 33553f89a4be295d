using System.Text;

namespace Ledger.BankStatements;

/// <summary>
/// Banks write Windows-1252, ISO-8859-15 and other code pages, and .NET Core knows them only once their provider is
/// registered. Every parser ensures it first, so an XML statement declaring one (whose reader asks for it by name)
/// reads the same whether or not a CSV in that code page was read before in the process.
/// </summary>
internal static class CodePages
{
    private static readonly bool Registered = Register();

    public static void Ensure() => _ = Registered;

    private static bool Register()
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        return true;
    }
}
