using System.Collections.Concurrent;
using Ledger.Api.Infrastructure;
using Ledger.Api.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Ledger.Api.Tests.Hardening;

/// <summary>
/// The writer's queue is bounded: beyond <see cref="LedgerWriter.QueueCapacity"/> a write waits for room instead of
/// growing the queue, and is never dropped; every write still runs once, in the order it was asked for.
/// </summary>
public sealed class WriterQueueTests : AppTest
{
    [Fact]
    public async Task Writes_beyond_the_queue_wait_for_room_and_all_run_once_in_order()
    {
        var writer = App.Services.GetRequiredService<LedgerWriter>();
        var (blocker, release) = await writer.HoldAsync();

        const int beyond = 50;
        var ran = new ConcurrentQueue<int>();
        var writes = Enumerable.Range(0, LedgerWriter.QueueCapacity + beyond)
            .Select(i => writer.WriteAsync(_ => { ran.Enqueue(i); return i; }))
            .ToArray();
        Assert.Equal(LedgerWriter.QueueCapacity, writer.QueuedWrites);
        Assert.All(writes, w => Assert.False(w.IsCompleted));

        release.Set();
        await blocker;
        var results = await Task.WhenAll(writes);
        Assert.Equal(Enumerable.Range(0, LedgerWriter.QueueCapacity + beyond), results);
        Assert.Equal(Enumerable.Range(0, LedgerWriter.QueueCapacity + beyond), ran);
        Assert.Equal(0, writer.QueuedWrites);
    }
}
