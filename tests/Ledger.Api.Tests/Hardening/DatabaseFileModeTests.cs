using Ledger.Api.Infrastructure;
using Ledger.Api.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Ledger.Api.Tests.Hardening;

/// <summary>
/// The SQLite database and the files SQLite keeps beside it are readable and writable by their owner only, like the
/// admin key file. SQLite only (a PostgreSQL server keeps its own files; the PostgreSQL build leaves this file out), and
/// Unix only: on Windows the tests return without checking, as there are no mode bits to check.
/// </summary>
public sealed class DatabaseFileModeTests : ApiTest
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode WorldReadable = OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    private static IReadOnlyList<string> FileModeChanges(LedgerApp app) =>
        ((SqliteLedgerDatabase)app.Services.GetRequiredService<LedgerDatabase>()).FileModeChanges;

    [Fact]
    public async Task A_new_database_its_WAL_and_shared_memory_file_are_created_0600()
    {
        if (OperatingSystem.IsWindows()) return;
        await using var app = LedgerApp.Start();
        var book = await app.CreateBookAsync();
        for (var i = 0; i < 20; i++)
            await app.PostEntryOkAsync(book, "2026-02-01", $"entry {i}", ("1010", "1.00", null), ("4000", null, "1.00"));

        // While the app runs, SQLite keeps its write-ahead log and shared-memory index beside the database.
        foreach (var file in new[] { app.DatabasePath, app.DatabasePath + "-wal", app.DatabasePath + "-shm" })
        {
            Assert.True(File.Exists(file), $"{file} does not exist");
            Assert.Equal(OwnerOnly, File.GetUnixFileMode(file));
        }
        Assert.Empty(FileModeChanges(app));
    }

    [Fact]
    public async Task An_existing_database_readable_by_others_is_made_owner_only_on_start_and_says_what_changed()
    {
        if (OperatingSystem.IsWindows()) return;
        var path = TestDatabase.Create();
        try
        {
            string book;
            await using (var first = LedgerApp.OnExistingFile(path))
            {
                book = await first.CreateBookAsync();
                await first.PostEntryOkAsync(book, "2026-02-01", "before", ("1010", "1.00", null), ("4000", null, "1.00"));
            }
            // As a copy, a restore or an older version might have left it.
            File.SetUnixFileMode(path, WorldReadable);

            await using var second = LedgerApp.OnExistingFile(path);
            Assert.Single(await second.AllEntriesAsync(book));
            Assert.Equal(OwnerOnly, File.GetUnixFileMode(path));
            Assert.Equal(OwnerOnly, File.GetUnixFileMode(path + "-wal"));
            var change = Assert.Single(FileModeChanges(second));
            Assert.Equal($"{path} was mode 0644, readable or writable beyond its owner; it is now 0600.", change);
        }
        finally
        {
            TestDatabase.Delete(path);
        }
    }
}
