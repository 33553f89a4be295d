using Ledger.Domain;

namespace Ledger.Domain.Tests;

public sealed class AgingBucketsTests
{
    private static AgingBuckets Parse(string? text) =>
        AgingBuckets.TryParse(text, out var buckets, out var error) ? buckets : throw new ArgumentException(error);

    [Fact]
    public void No_text_means_30_60_90_and_so_does_the_default()
    {
        Assert.True(AgingBuckets.TryParse(null, out var buckets, out var error));
        Assert.Null(error);
        Assert.Equal([30, 60, 90], buckets.UpperBounds);
        Assert.Equal(["current", "1-30", "31-60", "61-90", "older"], buckets.ColumnNames);
        Assert.Equal(AgingBuckets.Standard, buckets);
        Assert.Equal(default(AgingBuckets), buckets);
        Assert.Equal(Parse("30,60,90"), buckets);
        Assert.Equal(Parse("30,60,90").GetHashCode(), buckets.GetHashCode());
        Assert.Equal("30,60,90", default(AgingBuckets).ToString());
    }

    [Theory]
    [InlineData(int.MinValue, 0)]
    [InlineData(-1, 0)]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(30, 1)]
    [InlineData(31, 2)]
    [InlineData(60, 2)]
    [InlineData(61, 3)]
    [InlineData(90, 3)]
    [InlineData(91, 4)]
    [InlineData(3650, 4)]
    [InlineData(int.MaxValue, 4)]
    public void The_standard_buckets_hold_their_upper_bound(int daysOverdue, int bucket)
    {
        Assert.Equal(bucket, AgingBuckets.Standard.BucketOf(daysOverdue));
        Assert.Equal(AgingBuckets.Standard.ColumnNames[bucket], AgingBuckets.Standard.ColumnOf(daysOverdue));
    }

    [Theory]
    [InlineData("7,14", new[] { "current", "1-7", "8-14", "older" })]
    [InlineData("1", new[] { "current", "1-1", "older" })]
    [InlineData("3650", new[] { "current", "1-3650", "older" })]
    [InlineData("1,2,3,4,5,6,7,8,9,10", new[] { "current", "1-1", "2-2", "3-3", "4-4", "5-5", "6-6", "7-7", "8-8", "9-9", "10-10", "older" })]
    [InlineData("030,0060", new[] { "current", "1-30", "31-60", "older" })]
    public void Custom_buckets_name_their_columns_from_bound_to_bound(string text, string[] columns)
    {
        var buckets = Parse(text);
        Assert.Equal(columns, buckets.ColumnNames);
        Assert.Equal(columns.Length - 2, buckets.UpperBounds.Count);
    }

    [Theory]
    [InlineData("30,60,90")]
    [InlineData("7,14")]
    [InlineData("1")]
    [InlineData("3650")]
    [InlineData("1,2,3,4,5,6,7,8,9,10")]
    [InlineData("15,45,120,365,3649,3650")]
    public void Every_day_from_minus_10_to_4000_falls_in_the_bucket_its_bounds_say(string text)
    {
        var buckets = Parse(text);
        Assert.Equal(text, buckets.ToString());
        Assert.Equal(buckets, Parse(buckets.ToString()));
        var bounds = text.Split(',').Select(int.Parse).ToArray();
        for (var days = -10; days <= 4000; days++)
        {
            // Not overdue: current. Overdue: one past the number of bounds the days are beyond.
            var expected = days <= 0 ? 0 : 1 + bounds.Count(bound => bound < days);
            Assert.Equal(expected, buckets.BucketOf(days));
        }
    }

    [Theory]
    [InlineData("", "whole numbers")]
    [InlineData(",", "whole numbers")]
    [InlineData("30,", "whole numbers")]
    [InlineData(",30", "whole numbers")]
    [InlineData("30,,60", "whole numbers")]
    [InlineData("30, 60", "whole numbers")]
    [InlineData(" 30", "whole numbers")]
    [InlineData("30;60", "whole numbers")]
    [InlineData("-30", "whole numbers")]
    [InlineData("+30", "whole numbers")]
    [InlineData("1.5", "whole numbers")]
    [InlineData("1e2", "whole numbers")]
    [InlineData("thirty", "whole numbers")]
    [InlineData("\u0663\u0660", "whole numbers")] // Arabic-Indic digits
    [InlineData("0", "from 1 to 3650")]
    [InlineData("0,30", "from 1 to 3650")]
    [InlineData("3651", "from 1 to 3650")]
    [InlineData("99999999999999999999999", "from 1 to 3650")]
    [InlineData("30,30", "strictly increasing")]
    [InlineData("60,30", "strictly increasing")]
    [InlineData("30,60,45", "strictly increasing")]
    [InlineData("1,2,3,4,5,6,7,8,9,10,11", "at most 10")]
    public void Anything_but_1_to_10_increasing_day_counts_is_refused(string text, string expected)
    {
        Assert.False(AgingBuckets.TryParse(text, out var buckets, out var error));
        Assert.Contains(expected, error);
        Assert.Equal(AgingBuckets.Standard, buckets);
    }

    [Fact]
    public void Different_bounds_are_different_buckets()
    {
        Assert.NotEqual(Parse("30,60"), AgingBuckets.Standard);
        Assert.True(Parse("30,60") != Parse("30,61"));
        Assert.True(Parse("7,14") == Parse("007,014"));
    }
}
