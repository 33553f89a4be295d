using Ledger.Domain;
using NodaTime;

namespace Ledger.Domain.Tests;

public sealed class CalendarTests
{
    private static LocalDate D(string text)
    {
        Assert.True(DateText.TryParseDate(text, out var date), text);
        return date;
    }

    [Theory]
    [InlineData("2026-01-01", 202601)]
    [InlineData("2026-01-31", 202601)]
    [InlineData("2025-12-31", 202512)]
    [InlineData("2024-02-29", 202402)]
    [InlineData("0999-07-15", 99907)]
    public void AccountingPeriod_is_the_calendar_month(string date, int period)
    {
        Assert.Equal(period, AccountingPeriod.Of(D(date)));
        Assert.Equal(new LocalDate(D(date).Year, D(date).Month, 1), AccountingPeriod.FirstDay(period));
    }

    [Fact]
    public void AccountingPeriods_sort_in_time_order()
    {
        var dates = new[] { "2024-12-31", "2025-01-01", "2025-02-15", "2025-10-01", "2025-11-30", "2026-01-01" }.Select(D).ToArray();
        var periods = dates.Select(AccountingPeriod.Of).ToArray();
        Assert.Equal(periods.Order(), periods);
    }

    [Theory]
    // start month, date, expected start, expected end
    [InlineData(1, "2026-01-01", "2026-01-01", "2026-12-31")]
    [InlineData(1, "2026-12-31", "2026-01-01", "2026-12-31")]
    [InlineData(1, "2026-06-15", "2026-01-01", "2026-12-31")]
    [InlineData(4, "2026-03-31", "2025-04-01", "2026-03-31")]
    [InlineData(4, "2026-04-01", "2026-04-01", "2027-03-31")]
    [InlineData(4, "2026-12-25", "2026-04-01", "2027-03-31")]
    [InlineData(7, "2026-06-30", "2025-07-01", "2026-06-30")]
    [InlineData(7, "2026-07-01", "2026-07-01", "2027-06-30")]
    [InlineData(10, "2026-01-15", "2025-10-01", "2026-09-30")]
    [InlineData(12, "2026-11-30", "2025-12-01", "2026-11-30")]
    [InlineData(12, "2026-12-01", "2026-12-01", "2027-11-30")]
    [InlineData(3, "2024-02-29", "2023-03-01", "2024-02-29")] // leap day ends the year
    [InlineData(3, "2025-02-28", "2024-03-01", "2025-02-28")]
    [InlineData(2, "2024-02-01", "2024-02-01", "2025-01-31")]
    public void FiscalYear_Containing_starts_on_the_first_of_the_start_month(int startMonth, string date, string start, string end)
    {
        var year = FiscalYear.Containing(D(date), startMonth);
        Assert.Equal(D(start), year.Start);
        Assert.Equal(D(end), year.End);
        Assert.True(year.Contains(D(date)));
        Assert.True(year.Contains(year.Start));
        Assert.True(year.Contains(year.End));
        Assert.False(year.Contains(year.Start.PlusDays(-1)));
        Assert.False(year.Contains(year.End.PlusDays(1)));
        // The next fiscal year starts the day after this one ends.
        Assert.Equal(year.End.PlusDays(1), FiscalYear.Containing(year.End.PlusDays(1), startMonth).Start);
    }

    [Theory]
    [InlineData(1, "9999-12-31", "9999-01-01")]
    [InlineData(7, "9999-12-31", "9999-07-01")]
    [InlineData(7, "9999-06-30", "9998-07-01")]
    [InlineData(12, "9999-12-31", "9999-12-01")]
    public void The_fiscal_year_that_would_end_past_9999_ends_with_the_calendar(int startMonth, string date, string start)
    {
        var year = FiscalYear.Containing(D(date), startMonth);
        Assert.Equal(D(start), year.Start);
        Assert.Equal(start.StartsWith("9999") ? D("9999-12-31") : D("9999-06-30"), year.End);
        Assert.True(year.Contains(D(date)));
    }

    [Fact]
    public void FiscalYears_cover_every_day_exactly_once()
    {
        foreach (var startMonth in Enumerable.Range(1, 12))
        {
            var day = new LocalDate(2023, 1, 1);
            var year = FiscalYear.Containing(day, startMonth);
            for (; day <= new LocalDate(2026, 12, 31); day = day.PlusDays(1))
            {
                if (!year.Contains(day))
                {
                    Assert.Equal(year.End.PlusDays(1), day);
                    year = FiscalYear.Containing(day, startMonth);
                    Assert.Equal(day, year.Start);
                }
                Assert.Equal(year, FiscalYear.Containing(day, startMonth));
            }
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(13)]
    [InlineData(-1)]
    public void FiscalYear_refuses_a_start_month_outside_1_to_12(int startMonth) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => FiscalYear.Containing(new LocalDate(2026, 1, 1), startMonth));

    [Fact]
    public void LockDate_locks_the_lock_date_and_everything_before_it()
    {
        var lockDate = new LockDate(D("2025-12-31"));
        Assert.True(lockDate.Locks(D("2025-12-31")));
        Assert.True(lockDate.Locks(D("2025-01-01")));
        Assert.True(lockDate.Locks(D("1999-06-30")));
        Assert.False(lockDate.Locks(D("2026-01-01")));
        Assert.False(lockDate.Locks(D("2030-05-05")));
    }

    [Theory]
    [InlineData("2026-01-05")]
    [InlineData("2024-02-29")]
    [InlineData("2025-12-31")]
    [InlineData("0001-01-01")]
    [InlineData("9999-12-31")]
    public void DateText_reads_and_writes_ISO_dates(string text)
    {
        Assert.True(DateText.TryParseDate(text, out var date));
        Assert.Equal(text, DateText.Format(date));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("2026-1-5")]
    [InlineData("2026-01-5")]
    [InlineData("2026/01/05")]
    [InlineData("05-01-2026")]
    [InlineData("20260105")]
    [InlineData("2026-02-29")]
    [InlineData("2025-13-01")]
    [InlineData("2025-04-31")]
    [InlineData("2026-01-05T00:00:00Z")]
    [InlineData(" 2026-01-05")]
    [InlineData("2026-01-05 ")]
    public void DateText_refuses_anything_but_a_calendar_date_written_YYYY_MM_DD(string? text) =>
        Assert.False(DateText.TryParseDate(text, out _));

    [Fact]
    public void DateText_reads_and_writes_UTC_instants()
    {
        Assert.True(DateText.TryParseInstant("2026-03-01T12:34:56Z", out var instant));
        Assert.Equal(Instant.FromUtc(2026, 3, 1, 12, 34, 56), instant);
        Assert.Equal("2026-03-01T12:34:56Z", DateText.Format(instant));
        Assert.False(DateText.TryParseInstant(null, out _));
        Assert.False(DateText.TryParseInstant("2026-03-01", out _));
    }
}
