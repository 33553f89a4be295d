using System.Globalization;

namespace Ledger.Domain;

/// <summary>
/// How an aging report groups open invoices or bills by days overdue: "30,60,90" means current, 1–30, 31–60, 61–90
/// and older. Each number is the inclusive upper bound of a bucket, in days. 1 to 10 strictly increasing whole
/// numbers from 1 to 3650; <c>default</c> is the usual 30, 60, 90.
/// </summary>
public readonly struct AgingBuckets : IEquatable<AgingBuckets>
{
    public const int MaxBuckets = 10;
    public const int MaxDays = 3650;

    private static readonly int[] StandardBounds = [30, 60, 90];

    public static readonly AgingBuckets Standard = default;

    // Null stands for the standard 30, 60, 90, so that default(AgingBuckets) is a usable set of buckets.
    private readonly int[]? _upperBounds;

    private AgingBuckets(int[] upperBounds) => _upperBounds = upperBounds;

    private int[] Bounds => _upperBounds ?? StandardBounds;

    /// <summary>The inclusive upper bound of each overdue bucket in days, increasing (30, 60, 90).</summary>
    public IReadOnlyList<int> UpperBounds => Array.AsReadOnly(Bounds);

    /// <summary>
    /// The report's columns in bucket order: "current", one "from-to" per bound ("1-30", "31-60", "61-90") and
    /// "older"; <see cref="BucketOf"/> indexes into this list.
    /// </summary>
    public IReadOnlyList<string> ColumnNames => Enumerable.Range(0, Bounds.Length + 2).Select(ColumnName).ToArray();

    /// <summary>
    /// Reads bounds written as "30,60,90": 1 to 10 strictly increasing whole numbers of days from 1 to 3650, separated
    /// by commas without spaces. No text (null) is <see cref="Standard"/>; an empty string is refused.
    /// </summary>
    public static bool TryParse(string? text, out AgingBuckets buckets, out string? error)
    {
        buckets = Standard;
        error = null;
        if (text is null) return true;

        var parts = text.Split(',');
        if (parts.Length > MaxBuckets)
        {
            error = $"must have at most {MaxBuckets} bucket limits.";
            return false;
        }
        var bounds = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i];
            if (part.Length == 0 || !part.All(char.IsAsciiDigit))
            {
                error = "must be whole numbers of days separated by commas, such as \"30,60,90\".";
                return false;
            }
            // Read no further than past the limit, so a long run of digits cannot overflow.
            var days = 0;
            foreach (var c in part)
            {
                days = days * 10 + (c - '0');
                if (days > MaxDays) break;
            }
            if (days is < 1 or > MaxDays)
            {
                error = $"must be whole numbers of days from 1 to {MaxDays}.";
                return false;
            }
            if (i > 0 && days <= bounds[i - 1])
            {
                error = "must be strictly increasing, such as \"30,60,90\".";
                return false;
            }
            bounds[i] = days;
        }
        buckets = new AgingBuckets(bounds);
        return true;
    }

    /// <summary>
    /// The bucket of a document <paramref name="daysOverdue"/> days past its due date: 0 when it is not overdue
    /// (zero or fewer days), i for the first bound that holds it (1–30 → 1, 31–60 → 2, 61–90 → 3), and
    /// <c>UpperBounds.Count + 1</c> ("older") past the last bound. An index into <see cref="ColumnNames"/>.
    /// </summary>
    public int BucketOf(int daysOverdue)
    {
        if (daysOverdue <= 0) return 0;
        var bounds = Bounds;
        for (var i = 0; i < bounds.Length; i++)
            if (daysOverdue <= bounds[i]) return i + 1;
        return bounds.Length + 1;
    }

    /// <summary>The column name of the bucket <paramref name="daysOverdue"/> falls in ("current", "1-30", …, "older").</summary>
    public string ColumnOf(int daysOverdue) => ColumnName(BucketOf(daysOverdue));

    private string ColumnName(int bucket)
    {
        var bounds = Bounds;
        if (bucket == 0) return "current";
        if (bucket > bounds.Length) return "older";
        var from = bucket == 1 ? 1 : bounds[bucket - 2] + 1;
        return string.Create(CultureInfo.InvariantCulture, $"{from}-{bounds[bucket - 1]}");
    }

    /// <summary>The text <see cref="TryParse"/> reads: "30,60,90".</summary>
    public override string ToString() => string.Join(',', Bounds.Select(b => b.ToString(CultureInfo.InvariantCulture)));

    public bool Equals(AgingBuckets other) => Bounds.AsSpan().SequenceEqual(other.Bounds);

    public override bool Equals(object? obj) => obj is AgingBuckets other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var bound in Bounds) hash.Add(bound);
        return hash.ToHashCode();
    }

    public static bool operator ==(AgingBuckets left, AgingBuckets right) => left.Equals(right);

    public static bool operator !=(AgingBuckets left, AgingBuckets right) => !left.Equals(right);
}
