using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;

namespace Ledger.Api.Infrastructure;

/// <summary>
/// The largest request body an endpoint accepts. Endpoints without this metadata take <see cref="DefaultBytes"/>.
/// A larger body is answered 413 problem+json before it is read (by Content-Length) or as soon as reading passes
/// the limit (chunked bodies).
/// </summary>
public sealed record RequestBodyLimit(long Bytes) : IRequestSizeLimitMetadata
{
    public const long DefaultBytes = 1024 * 1024;
    public const long BatchBytes = 32L * 1024 * 1024;

    long? IRequestSizeLimitMetadata.MaxRequestBodySize => Bytes;

    public static IApplicationBuilder UseRequestBodyLimits(IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            var limit = context.GetEndpoint()?.Metadata.GetMetadata<RequestBodyLimit>()?.Bytes ?? DefaultBytes;
            if (context.Request.ContentLength > limit)
                throw new BadHttpRequestException($"The request body is larger than {limit} bytes.", StatusCodes.Status413PayloadTooLarge);
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
                feature.MaxRequestBodySize = limit;
            await next(context);
        });
}
