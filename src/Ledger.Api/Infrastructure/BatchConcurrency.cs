using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;

namespace Ledger.Api.Infrastructure;

/// <summary>
/// Bounds how many batches are taken in at once. Each 10,000-entry batch holds 10–15 MB while it is parsed and
/// waits for the single writer, which posts one batch at a time anyway; without a bound, many clients posting at
/// once could exhaust the server's memory. Others wait their turn in a queue; beyond it they get 429 with Retry-After.
/// A batch waiting its turn has not been read: Kestrel holds at most its request buffer of it.
/// </summary>
public static class BatchConcurrency
{
    public const string Policy = "batches";

    /// <summary>ASP.NET Core names no type for 429; RFC 6585 defines the status.</summary>
    public const string TooManyRequestsType = "https://tools.ietf.org/html/rfc6585#section-4";

    /// <summary>How many batches are taken in at once, and how many more may wait their turn.</summary>
    public sealed record Limits(int Permits, int Queue);

    public static IServiceCollection AddBatchConcurrencyLimit(this IServiceCollection services, IConfiguration configuration)
    {
        var limits = new Limits(
            Math.Max(1, configuration.GetValue("Ledger:MaxConcurrentBatches", 2)),
            Math.Max(0, configuration.GetValue("Ledger:BatchQueueLimit", 32)));
        services.AddSingleton(limits);
        // Refusals are answered by the one OnRejected of the rate limiter (KeyRateLimits), which calls WriteRefusalAsync.
        return services.AddRateLimiter(options => options.AddConcurrencyLimiter(Policy, limiter =>
        {
            limiter.PermitLimit = limits.Permits;
            limiter.QueueLimit = limits.Queue;
            limiter.QueueProcessingOrder = QueueProcessingOrder.OldestFirst;
        }));
    }

    /// <summary>The 429 for a batch beyond the concurrency limit and its queue.</summary>
    public static ValueTask WriteRefusalAsync(HttpContext http)
    {
        var limits = http.RequestServices.GetRequiredService<Limits>();
        http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        http.Response.Headers.RetryAfter = "1";
        return http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = new ProblemDetails
            {
                Type = TooManyRequestsType,
                Status = StatusCodes.Status429TooManyRequests,
                Title = "Too many batches at once",
                Detail = $"At most {limits.Permits} batches are taken in at a time and {limits.Queue} more wait their turn; nothing of this one was read or written. Retry after a second.",
            },
        });
    }
}
