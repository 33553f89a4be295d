using Dapper;

namespace Ledger.Api.Infrastructure;

/// <summary>
/// Copies the write-ahead log back into the database file in the background, so that the checkpoint the writer
/// runs itself every few thousand pages finds little left to copy and commits seldom stall behind it.
/// A PASSIVE checkpoint never blocks the writer or readers.
/// </summary>
public sealed class WalCheckpointer(LedgerDatabase database, ILogger<WalCheckpointer> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await using var connection = await database.OpenReadAsync(stoppingToken);
                await connection.ExecuteAsync("PRAGMA wal_checkpoint(PASSIVE)");
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "WAL checkpoint failed; will retry.");
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            // On a clean shutdown leave a small WAL behind.
            await using var connection = await database.OpenReadAsync(cancellationToken);
            await connection.ExecuteAsync("PRAGMA wal_checkpoint(TRUNCATE)");
        }
        catch (Exception ex)
        {
            logger.LogDebug(ex, "Final WAL checkpoint skipped.");
        }
    }
}
