using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Ledger.Api.Infrastructure.OpenApi;

/// <summary>
/// What each route, query and header parameter means. The same names mean the same thing on every operation, so they
/// are described once here rather than on each endpoint.
/// </summary>
public sealed class ParameterDescriptionsFilter : IOperationFilter
{
    private static readonly Dictionary<string, string> Descriptions = new(StringComparer.Ordinal)
    {
        ["bookId"] = "The book's id, as returned when it was created.",
        ["code"] = "The account's code in the book's chart of accounts.",
        ["id"] = "The journal entry's id (not its number).",
        ["asOf"] = "The date the report stands at, YYYY-MM-DD; today (UTC) when left out.",
        ["knownAt"] = "Answer as the books stood at this instant (ISO-8601 UTC, e.g. 2026-04-05T00:00:00Z): entries recorded later are left out, so the same question always gets the same answer. Not later than now.",
        ["format"] = "json (default) or csv; Accept: text/csv does the same.",
        ["from"] = "First date of the period, YYYY-MM-DD (inclusive).",
        ["to"] = "Last date of the period, YYYY-MM-DD (inclusive).",
        ["compareFrom"] = "First date of a comparison period, given with compareTo.",
        ["compareTo"] = "Last date of a comparison period, given with compareFrom.",
        ["columns"] = "month: one column per calendar month of the period.",
        ["account"] = "Only entries with a line on this account (its code).",
        ["reference"] = "Only entries with exactly this reference.",
        ["limit"] = "Largest page wanted (at least 1; the server caps it).",
        ["cursor"] = "The nextCursor of the previous page, to read the next one.",
        ["Idempotency-Key"] = "Any unique text up to 255 characters. A retry with the same key and body answers the first result and writes nothing; the same key with another body is 422. Keys are kept for 30 days.",
    };

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        foreach (var parameter in operation.Parameters?.OfType<OpenApiParameter>() ?? [])
            if (parameter.Name is { } name && parameter.Description is null && Descriptions.TryGetValue(name, out var description))
                parameter.Description = description;
    }
}
