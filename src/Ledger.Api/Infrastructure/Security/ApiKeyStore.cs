using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Dapper;

namespace Ledger.Api.Infrastructure.Security;

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

    /// <summary>Whether <c>Ledger:AdminKey</c> is set: an admin key that no revocation can take away.</summary>
    public bool HasConfiguredAdminKey => _configuredAdminHash is not null;

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
