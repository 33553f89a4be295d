using System.Text;
using Microsoft.Net.Http.Headers;

namespace Ledger.Api.Features.Reports;

/// <summary>
/// A report as CSV (RFC 4180): a header row of the JSON field names, one row per report line, CRLF line ends,
/// UTF-8 without a byte-order mark, amounts as the same plain decimal strings the JSON carries.
/// </summary>
public sealed class CsvTable(params string[] header)
{
    private readonly StringBuilder _text = new StringBuilder().AppendRow(header);

    public CsvTable Row(params string?[] fields)
    {
        if (fields.Length != header.Length)
            throw new ArgumentException($"A row has {header.Length} fields; got {fields.Length}.", nameof(fields));
        _text.AppendRow(fields);
        return this;
    }

    public override string ToString() => _text.ToString();
}

internal static class CsvRows
{
    public static StringBuilder AppendRow(this StringBuilder text, IReadOnlyList<string?> fields)
    {
        for (var i = 0; i < fields.Count; i++)
        {
            if (i > 0) text.Append(',');
            var field = Inert(fields[i] ?? "");
            // Quote only when needed, doubling embedded quotes: the RFC 4180 rule every spreadsheet reads back.
            if (field.AsSpan().IndexOfAny(",\"\r\n") >= 0) text.Append('"').Append(field.Replace("\"", "\"\"")).Append('"');
            else text.Append(field);
        }
        return text.Append("\r\n");
    }

    /// <summary>
    /// Descriptions and names arrive from bank imports and other people's systems; a spreadsheet would run one
    /// starting with =, +, -, @ or a control character as a formula. Such text gets a leading apostrophe (the OWASP
    /// advice), which spreadsheets show as text. Plain numbers, negative amounts included, stay numbers.
    /// </summary>
    internal static string Inert(string field) =>
        field.Length > 0 && (field[0] is '=' or '+' or '-' or '@' or '\t' or '\r' or '\n') && !IsPlainNumber(field) ? "'" + field : field;

    private static bool IsPlainNumber(string field)
    {
        var digits = field.AsSpan(field[0] == '-' ? 1 : 0);
        var point = digits.IndexOf('.');
        var whole = point < 0 ? digits : digits[..point];
        var fraction = point < 0 ? [] : digits[(point + 1)..];
        return whole.Length > 0 && !whole.ContainsAnyExceptInRange('0', '9')
            && (point < 0 || (fraction.Length > 0 && !fraction.ContainsAnyExceptInRange('0', '9')));
    }
}

/// <summary>Answers a report as a CSV download. Extra headers carry what JSON keeps in the body (a next-page cursor).</summary>
public sealed class CsvResult(string fileName, CsvTable table, IReadOnlyDictionary<string, string>? headers = null) : IResult
{
    public const string MediaType = "text/csv";

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = $"{MediaType}; charset=utf-8; header=present";
        response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileName = fileName }.ToString();
        foreach (var (name, value) in headers ?? new Dictionary<string, string>()) response.Headers[name] = value;
        await response.WriteAsync(table.ToString(), Encoding.UTF8);
    }
}

/// <summary>JSON or CSV: <c>?format=</c> wins, else <c>Accept: text/csv</c> asks for CSV, else JSON.</summary>
public static class ReportFormat
{
    public static bool WantsCsv(HttpRequest request, string? format)
    {
        if (format is not null) return format == "csv";
        if (!MediaTypeHeaderValue.TryParseList(request.Headers.Accept, out var accepted)) return false;
        double Quality(string mediaType) => accepted
            .Where(a => a.MediaType.Equals(mediaType, StringComparison.OrdinalIgnoreCase))
            .Select(a => a.Quality ?? 1.0).DefaultIfEmpty(0).Max();
        var csv = Quality(CsvResult.MediaType);
        return csv > 0 && csv >= Quality("application/json");
    }

    /// <summary>
    /// Documents a report's 200 as JSON or CSV. Declared on the route, as one entry with both media types: the
    /// API explorer keeps only one declaration per status code.
    /// </summary>
    public static RouteHandlerBuilder ProducesJsonOrCsv<TResponse>(this RouteHandlerBuilder route) =>
        route.Produces<TResponse>(StatusCodes.Status200OK, "application/json", CsvResult.MediaType);
}
