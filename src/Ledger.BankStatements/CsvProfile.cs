namespace Ledger.BankStatements;

/// <summary>
/// Where each field of a CSV statement is. A column is named by its header text when the file has a header, or by
/// its 1-based position ("3") otherwise (a purely numeric name is also read as a position when no header matches).
/// Either <see cref="Amount"/> (signed: money in positive) or both <see cref="Debit"/> (money out) and
/// <see cref="Credit"/> (money in) are given. <see cref="Sign"/> names a column marking each row's amount as money out or
/// in ("S"/"H", "D"/"C": the amount column is then unsigned, see <see cref="CsvProfile.DebitMarks"/>); <see cref="Status"/>
/// a column whose values <see cref="CsvProfile.SkipStatuses"/> mark rows not yet booked.
/// </summary>
public sealed record CsvColumns(
    string Date,
    string? ValueDate,
    string? Amount,
    string? Debit,
    string? Credit,
    string Description,
    string? Counterparty,
    string? Iban,
    string? Reference,
    string? Balance,
    string? Sign = null,
    string? Status = null);

/// <summary>
/// A bank's CSV layout. <see cref="DateFormat"/> is a NodaTime/.NET pattern ("dd.MM.yyyy", "yyyy-MM-dd",
/// "MM/dd/yyyy"); <see cref="Encoding"/> is "utf-8", "iso-8859-1" or "windows-1252"; <see cref="SkipRows"/> lines
/// are skipped before the header (banks put account details there).
/// </summary>
public sealed record CsvProfile(
    string Delimiter,
    char DecimalSeparator,
    char? ThousandsSeparator,
    string DateFormat,
    string Encoding,
    bool HasHeader,
    int SkipRows,
    CsvColumns Columns,
    IReadOnlyList<string>? DebitMarks = null,
    IReadOnlyList<string>? SkipStatuses = null);
