using Ledger.Domain;
using NodaTime;

namespace Ledger.Domain.Tests;

public sealed class FiscalYearTests
{
    [Theory]
    [InlineData(1, "2025-12-31", true)]
    [InlineData(1, "2025-06-30", false)]
    [InlineData(4, "2026-03-31", true)]
    [InlineData(4, "2025-12-31", false)]
    [InlineData(3, "2024-02-29", true)] // leap year: a March start ends on the 29th
    [InlineData(3, "2025-02-28", true)]
    [InlineData(3, "2024-02-28", false)]
    public void Knows_the_last_day_of_a_fiscal_year(int startMonth, string date, bool isEnd) =>
        Assert.Equal(isEnd, FiscalYear.IsYearEnd(LocalDate.FromDateTime(DateTime.Parse(date)), startMonth));

    [Fact]
    public void The_year_ending_on_a_date_starts_the_day_after_the_previous_one_ends()
    {
        var year = FiscalYear.EndingOn(new LocalDate(2026, 6, 30), 7);
        Assert.Equal(new FiscalYear(new LocalDate(2025, 7, 1), new LocalDate(2026, 6, 30)), year);
        Assert.Null(FiscalYear.EndingOn(new LocalDate(2026, 7, 1), 7));
    }
}
