using System.Globalization;
using System.Threading.RateLimiting;
using Ledger.Api.Infrastructure.Security;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;

namespace Ledger.Api.Infrastructure;

/// <summary>The three kinds of API key, each with rate limits of its own (<c>Ledger:RateLimits:{class}</c>).</summary>
public enum KeyClass
{
    Admin,
    BookWrite,
    BookRead,
}

/// <summary>
/// One key class's limits: a token bucket for reads (GET, HEAD) and another for writes (every other method), per key.
/// A rate of 0 means no limit. <see cref="Burst"/> is each bucket's size: how many requests a key may send at once
/// after a quiet spell, before the per-second rate applies.
/// </summary>
public sealed record KeyClassLimits(double ReadsPerSecond, double WritesPerSecond, int? Burst)
{
    public double PerSecond(bool write) => write ? WritesPerSecond : ReadsPerSecond;

    /// <summary>The bucket size for reads or writes: <see cref="Burst"/>, or twice the per-second rate when not set.</summary>
    public int BucketSize(bool write) => Burst ?? (int)Math.Min(int.MaxValue, Math.Max(1, Math.Ceiling(2 * PerSecond(write))));
}

/// <summary>The limits of every key class, read from <c>Ledger:RateLimits</c>.</summary>
public sealed class KeyRateLimitSettings
{
    public const string Section = "Ledger:RateLimits";

    /// <summary>
    /// Admin keys are the operator's own (and what creates books and revokes keys), so they are not limited unless
    /// configured; book keys, which scripts and front ends use, get limits far above what one client normally needs.
    /// </summary>
    public static readonly IReadOnlyDictionary<KeyClass, KeyClassLimits> Defaults = new Dictionary<KeyClass, KeyClassLimits>
    {
        [KeyClass.Admin] = new(0, 0, null),
        [KeyClass.BookWrite] = new(1000, 500, null),
        [KeyClass.BookRead] = new(1000, 500, null),
    };

    private readonly Dictionary<KeyClass, KeyClassLimits> _limits;

    public KeyRateLimitSettings(IConfiguration configuration)
    {
        _limits = [];
        foreach (var (keyClass, defaults) in Defaults)
        {
            var section = configuration.GetSection($"{Section}:{keyClass}");
            var limits = new KeyClassLimits(
                Rate(section, nameof(KeyClassLimits.ReadsPerSecond), defaults.ReadsPerSecond),
                Rate(section, nameof(KeyClassLimits.WritesPerSecond), defaults.WritesPerSecond),
                section[nameof(KeyClassLimits.Burst)] is { Length: > 0 } burst ? BurstOf(section, burst) : defaults.Burst);
            _limits[keyClass] = limits;
        }
    }

    public KeyClassLimits this[KeyClass keyClass] => _limits[keyClass];

    private static double Rate(IConfigurationSection section, string name, double fallback)
    {
        if (section[name] is not { Length: > 0 } text) return fallback;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var rate) || rate < 0 || !double.IsFinite(rate))
            throw new InvalidOperationException($"{section.Path}:{name} must be a number of requests per second, 0 or more (0: no limit); it is '{text}'.");
        return rate;
    }

    private static int BurstOf(IConfigurationSection section, string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var burst) && burst >= 1
            ? burst
            : throw new InvalidOperationException($"{section.Path}:Burst must be a whole number of requests, 1 or more; it is '{text}'.");
}

/// <summary>
/// Per-key rate limits: every request made with an API key takes a token from that key's bucket for reads (GET, HEAD)
/// or for writes (every other method), sized and refilled by the key's class (<see cref="KeyRateLimitSettings"/>).
/// Requests without a key are not limited here (they get 401 anyway), nor is <c>/health</c>. It runs after
/// authorization, so a key only spends tokens on requests it may make; a refused one is answered 429 problem+json
/// with <c>Retry-After</c> in seconds, before its body is read.
/// </summary>
public sealed class KeyRateLimiter : PartitionedRateLimiter<HttpContext>
{
    private readonly KeyRateLimitSettings _settings;
    private readonly PartitionedRateLimiter<HttpContext> _buckets;

    public KeyRateLimiter(KeyRateLimitSettings settings)
    {
        _settings = settings;
        _buckets = PartitionedRateLimiter.Create<HttpContext, Bucket>(Partition);
    }

    /// <summary>What a refused request was over: set on the request so the rejection answer can name it.</summary>
    public sealed record Refusal(KeyClass KeyClass, bool Write, KeyClassLimits Limits);

    private readonly record struct Bucket(string KeyId, KeyClass KeyClass, bool Write);

    public static KeyClass ClassOf(Caller caller) =>
        caller.IsAdmin ? KeyClass.Admin : caller.CanWrite ? KeyClass.BookWrite : KeyClass.BookRead;

    public static bool IsWrite(HttpRequest request) => !HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method);

    private RateLimitPartition<Bucket> Partition(HttpContext http)
    {
        if (http.User.ToCaller() is not { } caller) return RateLimitPartition.GetNoLimiter(default(Bucket));
        var bucket = new Bucket(caller.KeyId, ClassOf(caller), IsWrite(http.Request));
        var limits = _settings[bucket.KeyClass];
        var rate = limits.PerSecond(bucket.Write);
        if (rate <= 0) return RateLimitPartition.GetNoLimiter(bucket);
        // Refilled continuously at the rate (the partitioned limiter tops every bucket up ten times a second, in
        // proportion to the time passed), so a key that keeps to its rate is never refused.
        var tokensPerPeriod = (int)Math.Max(1, Math.Ceiling(rate / 10));
        return RateLimitPartition.GetTokenBucketLimiter(bucket, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = limits.BucketSize(bucket.Write),
            TokensPerPeriod = tokensPerPeriod,
            ReplenishmentPeriod = TimeSpan.FromSeconds(tokensPerPeriod / rate),
            QueueLimit = 0,
            AutoReplenishment = false,
        });
    }

    public override RateLimiterStatistics? GetStatistics(HttpContext resource) => _buckets.GetStatistics(resource);

    protected override RateLimitLease AttemptAcquireCore(HttpContext resource, int permitCount) =>
        Noted(resource, _buckets.AttemptAcquire(resource, permitCount));

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(HttpContext resource, int permitCount, CancellationToken cancellationToken) =>
        Noted(resource, await _buckets.AcquireAsync(resource, permitCount, cancellationToken));

    private RateLimitLease Noted(HttpContext http, RateLimitLease lease)
    {
        if (!lease.IsAcquired && http.User.ToCaller() is { } caller)
        {
            var keyClass = ClassOf(caller);
            http.Features.Set(new Refusal(keyClass, IsWrite(http.Request), _settings[keyClass]));
        }
        return lease;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _buckets.Dispose();
        base.Dispose(disposing);
    }

    protected override ValueTask DisposeAsyncCore() => _buckets.DisposeAsync();
}

public static class KeyRateLimits
{
    public static IServiceCollection AddKeyRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var settings = new KeyRateLimitSettings(configuration); // read now: a bad setting stops the start, not a request
        services.AddSingleton(settings);
        // A singleton, so the container disposes it (and its timer) with the app.
        services.AddSingleton<KeyRateLimiter>();
        services.AddOptions<RateLimiterOptions>().Configure<KeyRateLimiter>((options, limiter) =>
        {
            options.GlobalLimiter = limiter;
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = (context, _) => context.HttpContext.Features.Get<KeyRateLimiter.Refusal>() is { } refusal
                ? WriteRefusalAsync(context.HttpContext, context.Lease, refusal)
                : BatchConcurrency.WriteRefusalAsync(context.HttpContext);
        });
        return services;
    }

    private static ValueTask WriteRefusalAsync(HttpContext http, RateLimitLease lease, KeyRateLimiter.Refusal refusal)
    {
        var seconds = lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter)
            ? (long)Math.Max(1, Math.Ceiling(retryAfter.TotalSeconds))
            : 1;
        var what = refusal.Write ? "writes" : "reads";
        var limits = refusal.Limits;
        var keyClass = JsonName(refusal.KeyClass);
        http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        var problem = new ProblemDetails
        {
            Type = BatchConcurrency.TooManyRequestsType,
            Status = StatusCodes.Status429TooManyRequests,
            Title = "Too many requests",
            Detail = $"This key is over its rate limit for {what}: {Describe(refusal.KeyClass)} may make {Rate(limits.PerSecond(refusal.Write))} {what} " +
                     $"per second, in bursts of up to {limits.BucketSize(refusal.Write)}. Nothing was read or written; retry after {seconds} s.",
        };
        problem.Extensions["limit"] = what;
        problem.Extensions["keyClass"] = keyClass;
        return http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = problem,
        });
    }

    private static string Rate(double perSecond) => perSecond.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>The class as the answer's <c>keyClass</c> names it: admin, bookWrite, bookRead.</summary>
    public static string JsonName(KeyClass keyClass) => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(keyClass.ToString());

    private static string Describe(KeyClass keyClass) => keyClass switch
    {
        KeyClass.Admin => "admin keys",
        KeyClass.BookWrite => "book keys with the write scope",
        _ => "read-only book keys",
    };
}
