namespace Ledger.BankStatements;

/// <summary>How to read one file: the currency's decimal digits (amounts with more are refused, never rounded) and,
/// for CSV, the mapping profile.</summary>
public sealed record StatementReadOptions(int Digits, CsvProfile? CsvProfile = null);

/// <summary>Reads a statement file in a known format, or recognises the format from its first bytes.</summary>
public static class StatementReader
{
    /// <summary>Parses <paramref name="content"/> as <paramref name="format"/>; throws <see cref="StatementFormatException"/> for bad input.</summary>
    public static StatementFile Read(Stream content, StatementFormat format, StatementReadOptions options)
    {
        CodePages.Ensure();
        return Read(format, content, options);
    }

    private static StatementFile Read(StatementFormat format, Stream content, StatementReadOptions options) => format switch
    {
        StatementFormat.Camt053 => Camt053Parser.Parse(content, options),
        StatementFormat.Ofx => OfxParser.Parse(content, options),
        StatementFormat.Mt940 => Mt940Parser.Parse(content, options),
        StatementFormat.Csv => CsvStatementParser.Parse(content, options.CsvProfile
            ?? throw new StatementFormatException("file", "A CSV statement needs a mapping profile (?profile=)."), options),
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    /// <summary>The format the first bytes of a file show, or null when they could be CSV or anything else.</summary>
    public static StatementFormat? Detect(ReadOnlySpan<byte> head) => StatementFormatDetector.Detect(head);
}
