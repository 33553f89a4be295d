using Ledger.Domain;
using NodaTime;

namespace Ledger.BankStatements;

/// <summary>The file formats a bank statement arrives in.</summary>
public enum StatementFormat { Csv, Ofx, Camt053, Mt940 }

/// <summary>
/// One booked line of a bank statement as the bank reported it. <see cref="Amount"/> is signed from the account
/// holder's side: money in is positive, money out negative (a reversal carries the sign of the booking it makes,
/// so an MT940 "RC" is negative and "RD" positive). <see cref="Location"/> says where in the file the line came
/// from ("line 14", "Stmt[1]/Ntry[3]/NtryDtls/TxDtls[2]") so problems and warnings can point at it.
/// </summary>
public sealed record StatementLine(
    LocalDate BookingDate,
    LocalDate ValueDate,
    Amount Amount,
    string Description,
    string? Counterparty,
    string? CounterpartyIban,
    string? BankReference,
    bool IsReversal,
    string Location);

/// <summary>
/// One statement inside a file (an MT940 or CAMT file may carry several). Balances are in minor units of the
/// account's currency and present only when the file states them; when both are there, the importer requires
/// Opening + Σ lines = Closing.
/// </summary>
public sealed record StatementSection(
    string? AccountIdentifier,
    string? Currency,
    Amount? OpeningBalance,
    LocalDate? OpeningDate,
    Amount? ClosingBalance,
    LocalDate? ClosingDate,
    IReadOnlyList<StatementLine> Lines);

/// <summary>What a parser read from one file: its sections in file order, and warnings about things it skipped.</summary>
public sealed record StatementFile(StatementFormat Format, IReadOnlyList<StatementSection> Sections, IReadOnlyList<string> Warnings)
{
    public IEnumerable<StatementLine> Lines => Sections.SelectMany(s => s.Lines);
}

/// <summary>
/// A file that cannot be read as a statement. <see cref="Location"/> names the line or element ("line 7",
/// "Document/BkToCstmrStmt/Stmt[1]/Ntry[4]/Amt"); the message says what is wrong there. Parsers throw this and
/// nothing else for bad input, so the importer can answer it as a problem and store nothing.
/// </summary>
public sealed class StatementFormatException(string location, string message)
    : Exception($"{location}: {message}")
{
    public string Location { get; } = location;
    public string Problem { get; } = message;
}

/// <summary>The limits every parser keeps, so a hostile file cannot exhaust memory or time.</summary>
public static class StatementLimits
{
    /// <summary>Largest file accepted (the endpoint answers 413 beyond it).</summary>
    public const long MaxFileBytes = 20L * 1024 * 1024;

    /// <summary>Most lines one file may hold; a 20 MB file of real statements holds far fewer.</summary>
    public const int MaxLines = 200_000;

    /// <summary>Longest text kept for a description, counterparty or reference; longer text is cut with a warning.</summary>
    public const int MaxTextLength = 1000;
}
