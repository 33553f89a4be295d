using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Net.Http.Headers;

namespace Ledger.Api.Infrastructure;

/// <summary>
/// Headers every answer carries, whatever wrote it (an endpoint, a problem, the rate limiter): the API's answers hold
/// books, and some hold secrets shown once (a new key, a webhook's signing secret), so no cache (a browser's, a proxy's)
/// may keep them; and a JSON or CSV answer is never to be sniffed into something a browser would run. Kestrel's own
/// <c>Server</c> header is left out: it tells a caller nothing it needs.
/// </summary>
public static class ResponseHeaders
{
    public static IServiceCollection AddResponseHeaders(this IServiceCollection services) =>
        services.Configure<KestrelServerOptions>(kestrel => kestrel.AddServerHeader = false);

    public static IApplicationBuilder UseResponseHeaders(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            context.Response.OnStarting(static state =>
            {
                var headers = ((HttpResponse)state).Headers;
                // An endpoint that sets its own caching keeps it (none does today).
                if (!headers.ContainsKey(HeaderNames.CacheControl)) headers.CacheControl = "no-store";
                headers.XContentTypeOptions = "nosniff";
                return Task.CompletedTask;
            }, context.Response);
            return next(context);
        });
}
