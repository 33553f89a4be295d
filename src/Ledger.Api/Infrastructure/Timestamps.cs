using NodaTime;
using NodaTime.Text;

namespace Ledger.Api.Infrastructure;

/// <summary>
/// Instants as stored: UTC with a fixed seven-digit fraction, so that text order is time order in SQL.
/// </summary>
public static class Timestamps
{
    private static readonly InstantPattern Stored = InstantPattern.CreateWithInvariantCulture("uuuu'-'MM'-'dd'T'HH':'mm':'ss'.'fffffff'Z'");

    public static string Format(Instant instant) => Stored.Format(instant);

    public static Instant Parse(string text) => Stored.Parse(text).GetValueOrThrow();
}
