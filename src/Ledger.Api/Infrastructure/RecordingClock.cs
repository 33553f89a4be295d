using NodaTime;

namespace Ledger.Api.Infrastructure;

/// <summary>
/// The instants at which the writer records its groups, and what makes <c>knownAt</c> exact. A report as known at K
/// counts the commits recorded at or before K; it can be pulled again with the same result only if no commit recorded
/// at or before K becomes visible later. Two things could break that: a group stamped at or before K but still
/// committing while the report reads, and a group stamped later with a clock that has not passed K (a clock set back,
/// or several groups within one clock tick). <see cref="SettleAsync"/> waits out the first and forbids the second.
/// </summary>
public sealed class RecordingClock(IClock clock)
{
    private static readonly Duration Tick = Duration.FromTicks(1);

    private readonly Lock _gate = new();
    private Instant _last = Instant.MinValue;
    private Instant _lastCommitted = Instant.MinValue;
    private Instant _settled = Instant.MinValue;
    private Instant? _open;
    private TaskCompletionSource? _openClosed;

    /// <summary>The ledger's present: the clock, or the latest instant already stamped if the clock stands behind it.</summary>
    public Instant GetCurrentInstant()
    {
        lock (_gate) return Max(clock.GetCurrentInstant(), _last);
    }

    /// <summary>After a restart: groups are never stamped before what is already recorded, even if the clock went back.</summary>
    internal void Resume(Instant lastRecorded)
    {
        lock (_gate)
        {
            if (lastRecorded > _last) _last = lastRecorded;
            if (lastRecorded > _lastCommitted) _lastCommitted = lastRecorded;
        }
    }

    /// <summary>The writer opens a group: its instant is never before the previous group's, and always after any settled instant.</summary>
    internal Instant OpenGroup()
    {
        lock (_gate)
        {
            var stamp = Max(Max(WholeTicks(clock.GetCurrentInstant()), _last), WholeTicks(_settled) + Tick);
            _last = stamp;
            _open = stamp;
            _openClosed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return stamp;
        }
    }

    /// <summary>The writer's group has committed or rolled back: it is visible to every snapshot opened from now on, or gone.</summary>
    internal void CloseGroup(bool committed)
    {
        TaskCompletionSource? closed;
        lock (_gate)
        {
            // A committed group's instant is stored (every group records one), so it outlives a restart.
            if (committed && _open is { } stamp && stamp > _lastCommitted) _lastCommitted = stamp;
            closed = _openClosed;
            _open = null;
            _openClosed = null;
        }
        closed?.TrySetResult();
    }

    /// <summary>
    /// Call before opening a report's snapshot. Returns once every commit recorded at or before <paramref name="knownAt"/>
    /// is visible and no later one in this process can be recorded at or before it. <see cref="Settlement.NeedsStoredStamp"/>
    /// says no stored instant is yet later than it: commit a group (any group stores its instant, which will be later)
    /// before answering, so the promise also holds after a restart on a clock set back.
    /// </summary>
    public async Task<Settlement> SettleAsync(Instant knownAt)
    {
        while (true)
        {
            Task groupClosed;
            lock (_gate)
            {
                if (knownAt > Max(clock.GetCurrentInstant(), _last)) return Settlement.InTheFuture;
                if (_open is not { } open || open > knownAt)
                {
                    if (knownAt > _settled) _settled = knownAt;
                    return knownAt >= _lastCommitted ? Settlement.NeedsStoredStamp : Settlement.Settled;
                }
                groupClosed = _openClosed!.Task;
            }
            await groupClosed;
        }
    }

    public enum Settlement { Settled, NeedsStoredStamp, InTheFuture }

    // Stored instants have 100 ns ticks: a stamp one tick past the settled instant's tick is later in text order too.
    internal static Instant WholeTicks(Instant instant) =>
        instant == Instant.MinValue ? instant : Instant.FromUnixTimeTicks(instant.ToUnixTimeTicks());

    internal static Instant Max(Instant a, Instant b) => a > b ? a : b;
}
