using Ledger.Api.Infrastructure.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Ledger.Api.Infrastructure.OpenApi;

/// <summary>
/// Completes each operation from what the endpoint is: the error statuses it can answer, each as a problem
/// (400 with field errors, the rest as plain problems), the API-key requirement where a policy applies, and CSV
/// answers typed as text. Statuses an endpoint declares itself (409, 422, 405) are kept; the rest follow from
/// its policy, route, parameters and body, so a new endpoint is documented by the same rules as every other one.
/// Every operation that takes a key may answer 429 (the key's rate limit), with Retry-After.
/// </summary>
public sealed class ProblemResponsesFilter : IOperationFilter
{
    private static readonly Dictionary<int, string> Descriptions = new()
    {
        [400] = "The request is not valid: `errors` names each rejected field by its JSON path. Nothing was written.",
        [401] = "No API key, or an unknown or revoked one.",
        [403] = "The key may not do this (a read key that changes something, a book key doing what only an admin key may).",
        [404] = "Not found, or a book the key may not see (never data, not even whether it exists).",
        [405] = "Not allowed on this resource.",
        [409] = "Conflicts with the book's state (nothing was written).",
        [413] = "The request body is larger than this operation accepts.",
        [415] = "The body is not JSON (send Content-Type: application/json).",
        [422] = "The Idempotency-Key was used before with a different request.",
        [429] = "Too many requests: the key is over its rate limit for reads or writes (see the README's Rate limits), or, for " +
                "batches, the server is taking in as many as it queues. Nothing was read or written; retry after the seconds in Retry-After.",
        [500] = "The server failed; nothing was written. The failure has been logged.",
        [503] = "The database connection was lost while the write committed: it may or may not be recorded. Retry with the same Idempotency-Key.",
    };

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var api = context.ApiDescription;
        var metadata = api.ActionDescriptor.EndpointMetadata;
        var policies = metadata.OfType<IAuthorizeData>().Select(a => a.Policy).ToHashSet();
        var method = api.HttpMethod ?? "GET";
        var path = api.RelativePath ?? "";
        var hasBody = api.ParameterDescriptions.Any(p => p.Source == BindingSource.Body);
        var hasInput = hasBody || api.ParameterDescriptions.Any(p => p.Source == BindingSource.Query || p.Source == BindingSource.Header);
        operation.Responses ??= new OpenApiResponses();
        var onlyRefuses = operation.Responses.ContainsKey("405"); // PUT/PATCH/DELETE on a posted entry

        var statuses = new List<int>();
        if (hasInput && !onlyRefuses) statuses.Add(400);
        if (policies.Count > 0) statuses.Add(401);
        if (policies.Contains(LedgerPolicies.BookWrite) || policies.Contains(LedgerPolicies.Admin)) statuses.Add(403);
        if (path.Contains('{')) statuses.Add(404);
        if (hasBody) statuses.AddRange([413, 415]);
        if (policies.Count > 0) statuses.Add(429);
        statuses.Add(500);
        if (!HttpMethods.IsGet(method) && !onlyRefuses && policies.Count > 0) statuses.Add(503);

        foreach (var status in statuses)
            if (!operation.Responses.ContainsKey(status.ToString()))
                operation.Responses[status.ToString()] = new OpenApiResponse();
        foreach (var (code, response) in operation.Responses)
        {
            if (!int.TryParse(code, out var status) || status < 400 || response is not OpenApiResponse answer) continue;
            answer.Description = Descriptions.GetValueOrDefault(status, answer.Description ?? "A problem.");
            var schema = context.SchemaGenerator.GenerateSchema(
                status == 400 ? typeof(HttpValidationProblemDetails) : typeof(ProblemDetails), context.SchemaRepository);
            answer.Content = new Dictionary<string, OpenApiMediaType> { ["application/problem+json"] = new() { Schema = schema } };
            if (status == 429)
                answer.Headers = new Dictionary<string, IOpenApiHeader>
                {
                    ["Retry-After"] = new OpenApiHeader
                    {
                        Description = "Seconds to wait before retrying.",
                        Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "1" },
                    },
                };
        }

        foreach (var response in operation.Responses.Values.OfType<OpenApiResponse>())
            if (response.Content?.TryGetValue("text/csv", out var csv) == true)
                csv.Schema = new OpenApiSchema
                {
                    Type = JsonSchemaType.String,
                    Description = "CSV (RFC 4180, UTF-8): a header row, then the report's rows; amounts as in JSON.",
                };

        // Every /v1 operation needs the key; the others (health) say explicitly that they need none.
        operation.Security = policies.Count > 0
            ? [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(LedgerOpenApi.SecuritySchemeName, context.Document)] = [] }]
            : [new OpenApiSecurityRequirement()];
    }
}
