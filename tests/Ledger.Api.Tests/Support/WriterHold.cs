using Ledger.Api.Infrastructure;

namespace Ledger.Api.Tests.Support;

/// <summary>Holding the writer, so that what tests queue meanwhile forms one group, in the order queued.</summary>
public static class WriterHold
{
    /// <summary>Holds the writer on a bookless request until <c>Release</c> is set; await <c>Blocker</c> after.</summary>
    public static async Task<(Task Blocker, ManualResetEventSlim Release)> HoldAsync(this LedgerWriter writer)
    {
        var running = new ManualResetEventSlim();
        var release = new ManualResetEventSlim();
        var blocker = writer.WriteAsync(_ => { running.Set(); release.Wait(); return true; });
        await Task.Run(() => running.Wait());
        return (blocker, release);
    }
}
