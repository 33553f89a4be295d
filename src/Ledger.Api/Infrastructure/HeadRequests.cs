namespace Ledger.Api.Infrastructure;

/// <summary>
/// HEAD answered as GET is, without the body. RFC 9110 (section 9.1) asks every general-purpose server to support HEAD
/// wherever it supports GET, and clients and proxies use it to check a resource's headers; minimal-API routes name GET
/// only, so HEAD came back 405. It runs as GET through the whole pipeline (keys, book scoping and rate limits included)
/// and its body, problem details too, goes nowhere.
/// </summary>
public static class HeadRequests
{
    public static IApplicationBuilder UseHeadAsGet(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await next(context);
            return;
        }
        var body = context.Response.Body;
        context.Request.Method = HttpMethods.Get;
        context.Response.Body = Stream.Null;
        try
        {
            await next(context);
        }
        finally
        {
            context.Response.Body = body;
            context.Request.Method = HttpMethods.Head;
        }
    });
}
