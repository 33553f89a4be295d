using System.Globalization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Ledger.Api.Infrastructure;

/// <summary>
/// The limits on a request's target (path and query) and headers, answered as problem+json (414, 431). Kestrel refuses
/// requests beyond its own limits itself, before any application code runs, with an empty body that nothing can
/// change; so Kestrel's limits are set well above these (<see cref="KestrelRequestLineBytes"/>,
/// <see cref="KestrelHeaderBytes"/>), and requests between the two are refused here, with a body saying why. Only
/// requests beyond Kestrel's limits still get its empty answer (see the README, Errors).
/// </summary>
public static class RequestHeadLimits
{
    /// <summary>The longest request target (path and query, as sent) accepted: Kestrel's default request line.</summary>
    public const int MaxTargetBytes = 8 * 1024;

    /// <summary>The largest total of header names and values accepted: Kestrel's default.</summary>
    public const int MaxHeaderBytes = 32 * 1024;

    /// <summary>Where Kestrel itself refuses with 414 and an empty body.</summary>
    public const int KestrelRequestLineBytes = 32 * 1024;

    /// <summary>Where Kestrel itself refuses with 431 and an empty body.</summary>
    public const int KestrelHeaderBytes = 64 * 1024;

    public static IServiceCollection AddRequestHeadLimits(this IServiceCollection services) =>
        // Raised, never lowered: an operator's larger Kestrel:Limits still apply.
        services.Configure<KestrelServerOptions>(kestrel =>
        {
            kestrel.Limits.MaxRequestLineSize = Math.Max(kestrel.Limits.MaxRequestLineSize, KestrelRequestLineBytes);
            kestrel.Limits.MaxRequestHeadersTotalSize = Math.Max(kestrel.Limits.MaxRequestHeadersTotalSize, KestrelHeaderBytes);
        });

    public static IApplicationBuilder UseRequestHeadLimits(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } raw
                ? raw.Length
                : context.Request.Path.Value?.Length + context.Request.QueryString.Value?.Length ?? 0;
            if (target > MaxTargetBytes)
                return RefuseAsync(context, StatusCodes.Status414UriTooLong, "https://tools.ietf.org/html/rfc9110#section-15.5.15", "URI too long",
                    $"The request target (path and query) is {Bytes(target)} bytes; at most {Bytes(MaxTargetBytes)} are accepted.");
            long headers = 0;
            foreach (var (name, values) in context.Request.Headers)
                foreach (var value in values)
                    headers += name.Length + (value?.Length ?? 0) + 4; // "name: value\r\n"
            if (headers > MaxHeaderBytes)
                return RefuseAsync(context, StatusCodes.Status431RequestHeaderFieldsTooLarge, "https://tools.ietf.org/html/rfc6585#section-5",
                    "Request headers too large", $"The request's headers come to {Bytes(headers)} bytes; at most {Bytes(MaxHeaderBytes)} are accepted.");
            return next(context);
        });

    private static Task RefuseAsync(HttpContext context, int status, string type, string title, string detail)
    {
        context.Response.StatusCode = status;
        return context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new Microsoft.AspNetCore.Mvc.ProblemDetails { Type = type, Status = status, Title = title, Detail = detail },
        }).AsTask();
    }

    private static string Bytes(long count) => count.ToString("N0", CultureInfo.InvariantCulture);
}
