using Dapper;
using Ledger.Api.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Ledger.Api.Features.Health;

public sealed record HealthResponse(string Status);

public static class HealthEndpoints
{
    public static void MapHealth(this IEndpointRouteBuilder app) =>
        app.MapGet("/health", GetHealth).WithTags("Health").WithName("getHealth").WithSummary("Health check")
            .WithDescription("Answers 200 when the API and its database answer; needs no key. For load balancers and monitors.");

    /// <summary>Answers without a key; 200 only if the database answers too.</summary>
    public static async Task<Ok<HealthResponse>> GetHealth(LedgerDatabase database)
    {
        await using var connection = await database.OpenReadAsync();
        await connection.ExecuteScalarAsync<long>("SELECT 1");
        return TypedResults.Ok(new HealthResponse("ok"));
    }
}
