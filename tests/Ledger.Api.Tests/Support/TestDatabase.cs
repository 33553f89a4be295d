using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Ledger.Api.Tests.Support;

/// <summary>
/// Where a test's data lives. This project's sources compile twice: as Ledger.Api.Tests on SQLite (a temporary file
/// per app) and as Ledger.Api.Tests.Postgres with POSTGRES defined (a fresh database per app on a throwaway
/// cluster, <see cref="PostgresCluster"/>). A test names its database by one string: a file path or a connection string.
/// </summary>
public static class TestDatabase
{
#if POSTGRES
    public const bool IsPostgres = true;
#else
    public const bool IsPostgres = false;
#endif

    /// <summary>A new, empty database for one app (or process); skips the test where PostgreSQL cannot run.</summary>
    public static string Create()
    {
#if POSTGRES
        Skip.If(PostgresCluster.UnavailableReason is not null, PostgresCluster.UnavailableReason);
        return PostgresCluster.Shared.CreateDatabase();
#else
        return Path.Combine(Path.GetTempPath(), $"ledger-test-{Guid.NewGuid():N}.db");
#endif
    }

    /// <summary>A new database in <paramref name="directory"/> (SQLite) or on the cluster (PostgreSQL).</summary>
    public static string CreateIn(string directory) => IsPostgres ? Create() : Path.Combine(directory, "ledger.db");

    /// <summary>The API's connection string for a database named as <see cref="Create"/> names it.</summary>
    public static string ConnectionString(string database) =>
        database.StartsWith("Host=", StringComparison.Ordinal) ? database : $"Data Source={database}";

    /// <summary>Opens a connection of the test's own, to look at what the API stored.</summary>
    public static async Task<DbConnection> OpenAsync(string database)
    {
        DbConnection connection = database.StartsWith("Host=", StringComparison.Ordinal)
            ? new NpgsqlConnection(database)
            : new SqliteConnection($"Data Source={database};Mode=ReadOnly");
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>Opens a connection that may write, for tests that tamper with what the API stored (as an intruder would).</summary>
    public static async Task<DbConnection> OpenWritableAsync(string database)
    {
        DbConnection connection = database.StartsWith("Host=", StringComparison.Ordinal)
            ? new NpgsqlConnection(database)
            : new SqliteConnection($"Data Source={database};Default Timeout=30");
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>Whether the database is still there (a file, or a database on the cluster).</summary>
    public static async Task<bool> ExistsAsync(string database)
    {
        if (!database.StartsWith("Host=", StringComparison.Ordinal)) return File.Exists(database);
        var name = new NpgsqlConnectionStringBuilder(database).Database;
        await using var connection = new NpgsqlConnection(PostgresCluster.Shared.AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT COUNT(*) FROM pg_database WHERE datname = @name", connection);
        command.Parameters.AddWithValue("name", name!);
        return (long)(await command.ExecuteScalarAsync())! == 1;
    }

    /// <summary>Removes a database made by <see cref="Create"/>.</summary>
    public static void Delete(string database)
    {
        if (database.StartsWith("Host=", StringComparison.Ordinal))
        {
            PostgresCluster.Shared.DropDatabase(database);
            return;
        }
        SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
            try { File.Delete(database + suffix); } catch (IOException) { }
    }
}
