using Dapper;
using Ledger.Api.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Ledger.Api.Features.Health;

public sealed record HealthResponse(string Status);

public static class HealthEndpoints
{
    public static void MapHealth(this IEndpointRouteBuilder app) =>
        app.MapGet("/health", GetHealth).WithTags("Health");

    /// <summary>Answers without a key; 200 only if the database answers too.</summary>
    public static async Task<Ok<HealthResponse>> GetHealth(LedgerDatabase database)
    {
        await using var connection = await database.OpenReadAsync();
        await connection.ExecuteScalarAsync<long>("SELECT 1");
        return TypedResults.Ok(new HealthResponse("ok"));
    }
}
