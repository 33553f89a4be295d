using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;

namespace Ledger.Api.Infrastructure;

/// <summary>
/// Bounds how many batches are taken in at once. Each 10,000-entry batch holds 10–15 MB while it is parsed and
/// waits for the single writer, which posts one batch at a time anyway; without a bound, many clients posting at
/// once could exhaust the server's memory. Others wait their turn in a queue; beyond it they get 429 with Retry-After.
/// </summary>
public static class BatchConcurrency
{
    public const string Policy = "batches";

    public static IServiceCollection AddBatchConcurrencyLimit(this IServiceCollection services, IConfiguration configuration)
    {
        var permits = Math.Max(1, configuration.GetValue("Ledger:MaxConcurrentBatches", 2));
        var queue = Math.Max(0, configuration.GetValue("Ledger:BatchQueueLimit", 32));
        return services.AddRateLimiter(options =>
        {
            options.AddConcurrencyLimiter(Policy, limiter =>
            {
                limiter.PermitLimit = permits;
                limiter.QueueLimit = queue;
                limiter.QueueProcessingOrder = QueueProcessingOrder.OldestFirst;
            });
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = async (context, cancellationToken) =>
            {
                var http = context.HttpContext;
                http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                http.Response.Headers.RetryAfter = "1";
                await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = http,
                    ProblemDetails = new ProblemDetails
                    {
                        Status = StatusCodes.Status429TooManyRequests,
                        Title = "Too many batches at once",
                        Detail = $"At most {permits} batches are taken in at a time and {queue} more wait their turn; nothing of this one was read or written. Retry after a second.",
                    },
                });
            };
        });
    }
}
