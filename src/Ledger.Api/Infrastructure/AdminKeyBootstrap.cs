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

        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Ledger.AdminKey");
        if (database.FilePath is { } dbPath)
        {
            var keyFile = dbPath + FileSuffix;
            await File.WriteAllTextAsync(keyFile, secret + Environment.NewLine);
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            logger.LogWarning("Generated the admin key (shown once; also saved to {KeyFile}): {AdminKey}", keyFile, secret);
        }
        else
        {
            logger.LogWarning("Generated the admin key (shown once): {AdminKey}", secret);
        }
    }

    private const string CountAdminKeysSql = "SELECT COUNT(*) FROM api_keys WHERE is_admin = 1 AND revoked_at IS NULL";

    private const string InsertAdminKeySql = """
        INSERT INTO api_keys (id, name, book_id, is_admin, can_write, key_hash, key_prefix, created_at)
        VALUES (@id, 'generated admin key', NULL, 1, 1, @hash, @prefix, @createdAt)
        """;
}
