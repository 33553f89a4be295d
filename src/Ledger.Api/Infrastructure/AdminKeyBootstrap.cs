using Ledger.Api.Infrastructure.Security;
using Dapper;

namespace Ledger.Api.Infrastructure;

/// <summary>
/// Makes sure someone can administer a fresh Ledger: a configured <c>Ledger:AdminKey</c> is honoured as is;
/// otherwise, when no admin key exists yet, one is generated, printed once and written beside the database
/// in a file only the owner can read.
/// </summary>
public static class AdminKeyBootstrap
{
    public const string FileSuffix = ".admin-key";

    public static async Task EnsureAdminKeyAsync(IServiceProvider services)
    {
        var configuration = services.GetRequiredService<IConfiguration>();
        var store = services.GetRequiredService<ApiKeyStore>();
        var configured = configuration["Ledger:AdminKey"];
        if (!string.IsNullOrWhiteSpace(configured))
        {
            store.UseConfiguredAdminKey(configured);
            return;
        }

        var database = services.GetRequiredService<LedgerDatabase>();
        await using (var connection = await database.OpenReadAsync())
        {
            if (await connection.ExecuteScalarAsync<long>(CountAdminKeysSql) > 0) return;
        }

        var secret = ApiKeyStore.NewSecret();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Ledger.AdminKey");
        // The file is written before the key exists, so a key is never stored that nobody was given.
        var keyFile = database.FilePath is { } dbPath ? dbPath + FileSuffix : null;
        if (keyFile is not null) WriteOwnerOnly(keyFile, secret);
        try
        {
            var writer = services.GetRequiredService<LedgerWriter>();
            await writer.WriteAsync(session =>
            {
                session.Connection.Execute(InsertAdminKeySql, new
                {
                    id = Guid.CreateVersion7().ToString(),
                    hash = ApiKeyStore.Hash(secret),
                    prefix = ApiKeyStore.DisplayPrefix(secret),
                    createdAt = Timestamps.Format(session.Now),
                });
                return true;
            });
        }
        catch
        {
            if (keyFile is not null) File.Delete(keyFile);
            throw;
        }

        if (keyFile is not null)
            logger.LogWarning("Generated the admin key (shown once; also saved to {KeyFile}): {AdminKey}", keyFile, secret);
        else
            logger.LogWarning("Generated the admin key (shown once): {AdminKey}", secret);
    }

    /// <summary>
    /// Creates the key file readable by the owner only from its first byte (no window with the default umask), and
    /// never through whatever already stands at that path: a key file left from an earlier database holds a key this
    /// database does not know, and a link there could point anywhere. Deleting removes the link, not its target.
    /// </summary>
    private static void WriteOwnerOnly(string path, string secret)
    {
        File.Delete(path);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var stream = new FileStream(path, options);
        using var text = new StreamWriter(stream);
        text.Write(secret + Environment.NewLine);
        text.Flush();
        stream.Flush(flushToDisk: true); // the key is committed next; it must not outlive its only copy
    }

    private const string CountAdminKeysSql = "SELECT COUNT(*) FROM api_keys WHERE is_admin = 1 AND revoked_at IS NULL";

    private const string InsertAdminKeySql = """
        INSERT INTO api_keys (id, name, book_id, is_admin, can_write, key_hash, key_prefix, created_at)
        VALUES (@id, 'generated admin key', NULL, 1, 1, @hash, @prefix, @createdAt)
        """;
}
