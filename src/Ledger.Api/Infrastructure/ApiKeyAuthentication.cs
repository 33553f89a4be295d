using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Ledger.Api.Features.Books;

namespace Ledger.Api.Infrastructure;

/// <summary>Who is calling: an admin key (every book) or a key scoped to one book, read-only or read-write.</summary>
public sealed record Caller(string KeyId, bool IsAdmin, string? BookId, bool CanWrite)
{
    public bool CanSee(string bookId) => IsAdmin || string.Equals(BookId, bookId, StringComparison.Ordinal);
}

/// <summary>
/// Finds the caller behind a presented key. Only SHA-256 hashes of keys are stored: keys are 256 random bits,
/// so a fast unsalted hash is as strong as a slow one here and keeps authentication off the hot path.
/// </summary>
public sealed class ApiKeyStore(LedgerDatabase database)
{
    private const string KeyPrefix = "ldg_";
    /// <summary>How long a process that shares its database with others trusts a key it has looked up.</summary>
    public const int SharedCacheMilliseconds = 5_000;

    private readonly ConcurrentDictionary<string, (Caller Caller, long ExpiresAt)> _known = new(StringComparer.Ordinal);
    private string? _configuredAdminHash;
    private long _generation;

    public void UseConfiguredAdminKey(string key) => _configuredAdminHash = Hash(key);

    public static string NewSecret() => KeyPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    public static string DisplayPrefix(string key) => key[..Math.Min(key.Length, 10)];

    public Caller? Find(string presentedKey)
    {
        var hash = Hash(presentedKey);
        if (_configuredAdminHash is not null &&
            CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(hash), Encoding.ASCII.GetBytes(_configuredAdminHash)))
            return new Caller("configured-admin", IsAdmin: true, BookId: null, CanWrite: true);
        if (_known.TryGetValue(hash, out var cached))
        {
            if (Environment.TickCount64 < cached.ExpiresAt) return cached.Caller;
            _known.TryRemove(hash, out _);
        }

        var generation = Interlocked.Read(ref _generation);
        using var connection = database.OpenRead();
        var row = connection.QuerySingleOrDefault<KeyRow>(FindKeySql, new { hash });
        if (row is null) return null; // unknown keys are not cached: a flood of bad keys must not grow memory
        var caller = new Caller(row.Id, row.IsAdmin != 0, row.BookId, row.CanWrite != 0);
        // A lookup that raced a revocation may have read the key as still valid: answer it, but do not cache it.
        // With several API processes a key revoked through another one must be refused soon here too: cached callers
        // expire. SQLite has one process, whose revocation clears the cache at once (Forget).
        _known[hash] = (caller, database.SingleWriterProcess ? long.MaxValue : Environment.TickCount64 + SharedCacheMilliseconds);
        if (Interlocked.Read(ref _generation) != generation) _known.TryRemove(hash, out _);
        return caller;
    }

    /// <summary>Drops cached callers so a revoked key is refused on its very next request.</summary>
    public void Forget()
    {
        Interlocked.Increment(ref _generation);
        _known.Clear();
    }

    private const string FindKeySql = """
        SELECT id AS Id, is_admin AS IsAdmin, book_id AS BookId, can_write AS CanWrite
        FROM api_keys WHERE key_hash = @hash AND revoked_at IS NULL
        """;

    private sealed record KeyRow(string Id, long IsAdmin, string? BookId, long CanWrite);

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>Endpoint metadata: the endpoint needs an API key (and, with <see cref="AdminOnly"/>, an admin key).</summary>
public sealed record ApiKeyRequired(bool AdminOnly);

public static class ApiKeyAuthentication
{
    private static readonly object CallerKey = new();

    public static Caller Caller(this HttpContext context) =>
        context.Items[CallerKey] as Caller ?? throw new InvalidOperationException("No authenticated caller on this request.");

    /// <summary>
    /// Every route in the group needs a valid key (401 otherwise). Where the route names a book, a key scoped to
    /// another book gets 404 — it learns nothing, not even that the book exists — and a read key that tries to
    /// change anything gets 403.
    /// </summary>
    public static RouteGroupBuilder RequireApiKey(this RouteGroupBuilder group) =>
        group.ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithMetadata(new ApiKeyRequired(AdminOnly: false));

    /// <summary>Only admin keys may call this endpoint (creating books and keys).</summary>
    public static TBuilder RequireAdmin<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ApiKeyRequired(AdminOnly: true));

    /// <summary>
    /// Checks the key, the book scope and the write scope as middleware, after routing and before the endpoint
    /// binds its body or query: a caller without the right key learns nothing about what a valid request looks like.
    /// </summary>
    public static IApplicationBuilder UseApiKeyAuthentication(this IApplicationBuilder app) =>
        app.Use(async (http, next) =>
        {
            var endpoint = http.GetEndpoint();
            if (endpoint?.Metadata.GetMetadata<ApiKeyRequired>() is null)
            {
                await next(http);
                return;
            }
            var refusal = await RefuseAsync(http, endpoint.Metadata.GetOrderedMetadata<ApiKeyRequired>().Any(m => m.AdminOnly));
            if (refusal is null) await next(http);
            else await refusal.ExecuteAsync(http);
        });

    private static async Task<IResult?> RefuseAsync(HttpContext http, bool adminOnly)
    {
        var header = http.Request.Headers.Authorization.ToString();
        var store = http.RequestServices.GetRequiredService<ApiKeyStore>();
        var caller = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            ? store.Find(header["Bearer ".Length..].Trim())
            : null;
        if (caller is null)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized",
                detail: "Send a valid API key as 'Authorization: Bearer <key>'.");
        }
        http.Items[CallerKey] = caller;

        if (http.Request.RouteValues.TryGetValue("bookId", out var value) && value is string bookId)
        {
            var books = http.RequestServices.GetRequiredService<BookCatalog>();
            if (!caller.CanSee(bookId) || await books.FindAsync(bookId) is null)
                return Problems.NotFound($"No book '{bookId}' is visible to this key.");
            if (!HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method) && !caller.CanWrite)
                return Problems.Forbidden("This key may only read; posting and changes need a key with the 'write' scope.");
        }
        if (adminOnly && !caller.IsAdmin) return Problems.Forbidden("Only an admin key may do this.");
        return null;
    }
}
