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
        ["lineId"] = "The statement line's id.",
        ["ruleId"] = "The bank rule's id.",
        ["Idempotency-Key"] = "Any unique text up to 255 characters. A retry with the same key and body answers the first result and writes nothing; the same key with another body is 422. Keys are kept for 30 days.",
    };

    // What an {id} names, from the path segment before it.
    private static readonly Dictionary<string, string> Ids = new(StringComparer.Ordinal)
    {
        ["journal-entries"] = "The journal entry's id (not its number).",
        ["customers"] = "The customer's id.",
        ["vendors"] = "The vendor's id.",
        ["invoices"] = "The invoice's id (not its number).",
        ["credit-notes"] = "The credit note's id (not its number).",
        ["bills"] = "The bill's id (not its number).",
        ["vendor-credits"] = "The vendor credit's id (not its number).",
        ["payments"] = "The payment's id.",
        ["allocations"] = "The allocation's id.",
        ["api-keys"] = "The key's id (not its secret).",
        ["bank-accounts"] = "The bank account's id.",
        ["webhooks"] = "The webhook's id.",
    };

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var segments = (context.ApiDescription.RelativePath ?? "").Split('/');
        var owner = Array.FindIndex(segments, s => s.StartsWith("{id", StringComparison.Ordinal)) is > 0 and var at ? segments[at - 1] : null;
        foreach (var parameter in operation.Parameters?.OfType<OpenApiParameter>() ?? [])
            if (parameter.Name == "id" && parameter.Description is null && owner is not null && Ids.TryGetValue(owner, out var id))
                parameter.Description = id;
        foreach (var parameter in operation.Parameters?.OfType<OpenApiParameter>() ?? [])
            if (parameter.Name is { } name && parameter.Description is null && Descriptions.TryGetValue(name, out var description))
                parameter.Description = description;
    }
}
