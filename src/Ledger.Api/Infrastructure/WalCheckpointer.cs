using Dapper;

namespace Ledger.Api.Infrastructure;

/// <summary>
/// Copies the write-ahead log back into the database file in the background. The writer's connection has
/// automatic checkpoints turned off, so commits never stall behind a checkpoint's writes and fsync; a PASSIVE
/// checkpoint here never blocks the writer or readers.
/// </summary>
public sealed class WalCheckpointer(LedgerDatabase database, ILogger<WalCheckpointer> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

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
