using System.Security.Cryptography;
using System.Text;
using Ledger.Api.Infrastructure;
using Microsoft.Extensions.Options;

namespace Ledger.Api.Features.Webhooks;

/// <summary>
/// The secrets deliveries are signed with. A receiver checks each signature with the secret, so unlike an API key (kept
/// only as a hash) the server must be able to read it again: it is stored encrypted with AES-256-GCM, bound to its book
/// and subscription (the associated data), under a key that never enters the database.
/// <para>
/// The key is <c>Ledger:Webhooks:SecretKey</c> when set. Otherwise, on SQLite, a random key is generated once into a file
/// beside the database (<c>&lt;database&gt;.webhook-key</c>, readable by the owner only), where the one process that serves
/// the file finds it again after a restart. PostgreSQL may be served by several processes on several machines, which
/// would each generate a different key: there the setting is required before a webhook can be created (409 until then).
/// </para>
/// </summary>
public sealed class WebhookSecrets
{
    public const string KeyFileSuffix = ".webhook-key";
    private const string Format = "v1";
    private const int NonceSize = 12;
    private const int TagSize = 16;

    private readonly WebhookOptions _options;
    private readonly LedgerDatabase _database;
    private readonly ILogger<WebhookSecrets> _logger;
    private readonly Lock _lock = new();
    private byte[]? _key;

    public WebhookSecrets(IOptions<WebhookOptions> options, LedgerDatabase database, ILogger<WebhookSecrets> logger)
    {
        _options = options.Value;
        _database = database;
        _logger = logger;
    }

    /// <summary>The file a generated key is kept in (SQLite on a file, without a configured key), or null.</summary>
    public string? KeyFile => _options.SecretKey is { Length: > 0 } || _database.FilePath is null || !_database.SingleWriterProcess
        ? null
        : _database.FilePath + KeyFileSuffix;

    /// <summary>A new secret for a subscription that was given none: 32 random bytes in base64url (43 characters).</summary>
    public static string NewSecret() => Base64Url(RandomNumberGenerator.GetBytes(32));

    /// <summary>
    /// Throws the 409 that tells an operator to configure the key, where secrets cannot be kept without it (PostgreSQL);
    /// otherwise makes sure the key exists (generating its file), before anything is encrypted with it.
    /// </summary>
    public void EnsureUsable() => _ = Key();

    /// <summary>The stored form of <paramref name="secret"/>: <c>v1:&lt;key id&gt;:&lt;base64 of nonce, ciphertext and tag&gt;</c>.</summary>
    public string Encrypt(string secret, string bookId, long webhookId)
    {
        var key = Key();
        var plain = Encoding.UTF8.GetBytes(secret);
        var sealedBytes = new byte[NonceSize + plain.Length + TagSize];
        var nonce = sealedBytes.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagSize);
        aes.Encrypt(nonce, plain, sealedBytes.AsSpan(NonceSize, plain.Length), sealedBytes.AsSpan(NonceSize + plain.Length), AssociatedData(bookId, webhookId));
        return $"{Format}:{KeyId(key)}:{Convert.ToBase64String(sealedBytes)}";
    }

    /// <summary>The secret again; throws <see cref="WebhookSecretException"/> when it was encrypted under another key or altered.</summary>
    public string Decrypt(string stored, string bookId, long webhookId)
    {
        var parts = stored.Split(':');
        if (parts.Length != 3 || parts[0] != Format)
            throw new WebhookSecretException("The stored secret is not in a form this server reads (it was deleted, or changed outside the API).");
        byte[] key;
        try
        {
            key = Key();
        }
        catch (ProblemException problem)
        {
            throw new WebhookSecretException(problem.Message);
        }
        if (parts[1] != KeyId(key))
            throw new WebhookSecretException($"The secret was encrypted with key {parts[1]}, but this server's key is {KeyId(key)}: " +
                                             "configure the key it was created with (Ledger:Webhooks:SecretKey or the key file), or delete and recreate the webhook.");
        try
        {
            var sealedBytes = Convert.FromBase64String(parts[2]);
            if (sealedBytes.Length < NonceSize + TagSize) throw new FormatException();
            var length = sealedBytes.Length - NonceSize - TagSize;
            var plain = new byte[length];
            using var aes = new AesGcm(key, TagSize);
            aes.Decrypt(sealedBytes.AsSpan(0, NonceSize), sealedBytes.AsSpan(NonceSize, length), sealedBytes.AsSpan(NonceSize + length), plain,
                AssociatedData(bookId, webhookId));
            return Encoding.UTF8.GetString(plain);
        }
        catch (Exception ex) when (ex is FormatException or CryptographicException)
        {
            throw new WebhookSecretException("The stored secret does not decrypt: it was altered, or belongs to another webhook.");
        }
    }

    /// <summary>
    /// What an Idempotency-Key fingerprint holds in place of a secret the client chose: an HMAC under the server's key,
    /// so the same secret gives the same fingerprint, and the stored fingerprint cannot be used to guess the secret.
    /// </summary>
    public string Fingerprint(string secret) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Key(), Encoding.UTF8.GetBytes("idempotency-fingerprint\n" + secret)));

    /// <summary>
    /// The <c>Ledger-Signature</c> header of one delivery: <c>t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256(secret, "t.body")&gt;</c>,
    /// the HMAC keyed with the secret's UTF-8 bytes over the timestamp, a dot and the body's exact bytes.
    /// </summary>
    public static string Signature(string secret, long unixSeconds, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.ASCII.GetBytes(unixSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed);
        return $"t={unixSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)},v1={Convert.ToHexStringLower(mac)}";
    }

    public static bool TryParseKey(string text, out byte[] key)
    {
        key = [];
        try
        {
            key = Convert.FromBase64String(text.Trim());
            return key.Length == 32;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private byte[] Key()
    {
        if (Volatile.Read(ref _key) is { } known) return known;
        lock (_lock)
        {
            if (_key is not null) return _key;
            if (_options.SecretKey is { Length: > 0 } configured)
            {
                TryParseKey(configured, out var parsed); // checked at start
                return _key = parsed;
            }
            if (!_database.SingleWriterProcess)
                throw new ProblemException(StatusCodes.Status409Conflict, "Webhook secret key not configured",
                    "Webhook secrets are stored encrypted, and on PostgreSQL every API process must hold the same key: configure " +
                    "Ledger:Webhooks:SecretKey (32 random bytes in base64, e.g. `openssl rand -base64 32`) on every process, then create the webhook again.");
            // An in-memory database lives only as long as this process; so may its key.
            return _key = KeyFile is { } file ? ReadOrCreateKeyFile(file) : RandomNumberGenerator.GetBytes(32);
        }
    }

    /// <summary>
    /// Reads the key file, or creates it readable by the owner only from its first byte. Unlike the admin key file, an
    /// existing file is never replaced: the secrets stored so far can only be read with the key it holds.
    /// </summary>
    private byte[] ReadOrCreateKeyFile(string path)
    {
        if (!File.Exists(path))
        {
            var key = RandomNumberGenerator.GetBytes(32);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            try
            {
                using (var stream = new FileStream(path, options))
                {
                    stream.Write(Encoding.ASCII.GetBytes(Convert.ToBase64String(key) + "\n"));
                    stream.Flush(flushToDisk: true); // secrets are committed under this key next: it must be on disk first
                }
                _logger.LogInformation("Generated the webhook secret key into {KeyFile} (owner-only). Back it up with the database: " +
                                       "without it the stored webhook secrets cannot be read.", path);
                return key;
            }
            catch (IOException) when (File.Exists(path))
            {
                // Created meanwhile: read it below.
            }
        }
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead)) != 0)
            _logger.LogWarning("The webhook secret key file {KeyFile} is readable by others than its owner; chmod 600 it.", path);
        return TryParseKey(File.ReadAllText(path), out var stored)
            ? stored
            : throw new InvalidOperationException($"The webhook secret key file {path} does not hold 32 bytes in base64.");
    }

    private static string KeyId(byte[] key) => Convert.ToHexStringLower(SHA256.HashData(key))[..8];

    private static byte[] AssociatedData(string bookId, long webhookId) =>
        Encoding.UTF8.GetBytes($"ledger-webhook-secret\n{bookId}\n{webhookId.ToString(System.Globalization.CultureInfo.InvariantCulture)}");

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>A stored secret that cannot be read (another key, or altered): its deliveries fail with this message.</summary>
public sealed class WebhookSecretException(string message) : Exception(message);
