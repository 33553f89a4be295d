using NodaTime;
using NodaTime.Testing;

namespace Ledger.Api.Tests.Support;

/// <summary>A test whose app (its own, as in <see cref="AppTest"/>) runs on a clock the test moves, starting at 2026-04-01T09:00Z.</summary>
public abstract class FakeClockAppTest : AppTest
{
    protected FakeClock Clock { get; } = new(Instant.FromUtc(2026, 4, 1, 9, 0));

    protected override LedgerApp StartApp() => LedgerApp.Start(Clock);

    /// <summary>An instant as the API writes it (ISO-8601 UTC, any number of fractional digits).</summary>
    protected static Instant ParseInstant(string text) => NodaTime.Text.InstantPattern.ExtendedIso.Parse(text).GetValueOrThrow();
}
