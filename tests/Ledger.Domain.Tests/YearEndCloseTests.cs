using Ledger.Domain;
using NodaTime;

namespace Ledger.Domain.Tests;

public sealed class YearEndCloseTests
{
    [Fact]
    public void Closing_lines_empty_each_account_and_put_a_profit_into_retained_earnings()
    {
        var lines = YearEndClose.ClosingLines(
        [
            new TemporaryBalance("6000", 300),   // expense, debit balance
            new TemporaryBalance("4000", -1000), // income, credit balance
            new TemporaryBalance("6100", 0),
            new TemporaryBalance("4900", 50),    // income with a debit balance (returns)
        ], "3900");

        Assert.Equal(
        [
            new Posting("4000", Side.Debit, new Amount(1000)),
            new Posting("4900", Side.Credit, new Amount(50)),
            new Posting("6000", Side.Credit, new Amount(300)),
            new Posting("3900", Side.Credit, new Amount(650)),
        ], lines);
        Assert.Empty(JournalEntryRules.Check(lines));
    }

    [Fact]
    public void A_loss_is_debited_to_retained_earnings_and_nothing_to_close_gives_no_lines()
    {
        var lines = YearEndClose.ClosingLines([new("4000", -100), new("6000", 400)], "3900");
        Assert.Equal(new Posting("3900", Side.Debit, new Amount(300)), lines[^1]);
        Assert.Empty(JournalEntryRules.Check(lines));

        Assert.Empty(YearEndClose.ClosingLines([new("4000", 0)], "3900"));
        // Income equal to expense: both are emptied, retained earnings is untouched.
        Assert.Equal(2, YearEndClose.ClosingLines([new("4000", -100), new("6000", 100)], "3900").Count);
    }

    [Theory]
    [InlineData("2026-02-28", null, "2026-01-01")]
    [InlineData("2026-02-28", "2025-12-31", "2026-01-01")]
    [InlineData("2025-12-31", "2025-12-31", "2026-01-01")] // closed that very day: nothing is current
    [InlineData("2025-12-31", "2024-12-31", "2025-01-01")]
    public void Current_earnings_run_from_the_year_start_or_the_day_after_the_last_close(string asOf, string? lastClose, string expected)
    {
        var from = YearEndClose.CurrentEarningsFrom(Date(asOf), 1, lastClose is null ? null : Date(lastClose));
        Assert.Equal(Date(expected), from);
    }

    [Fact]
    public void Only_moving_the_lock_date_earlier_or_clearing_it_reopens()
    {
        var march = new LocalDate(2026, 3, 31);
        Assert.False(LockDateChanges.Reopens(null, march));
        Assert.False(LockDateChanges.Reopens(null, null));
        Assert.False(LockDateChanges.Reopens(march, march));
        Assert.False(LockDateChanges.Reopens(march, march.PlusDays(1)));
        Assert.True(LockDateChanges.Reopens(march, march.PlusDays(-1)));
        Assert.True(LockDateChanges.Reopens(march, null));
    }

    private static LocalDate Date(string text) => LocalDate.FromDateTime(DateTime.Parse(text, System.Globalization.CultureInfo.InvariantCulture));
}
