using Ledger.Domain;
using NodaTime;

namespace Ledger.Domain.Tests;

public sealed class BalancedEntryTests
{
    private static readonly LocalDate Day = new(2026, 3, 1);

    private static Posting Debit(string account, long minor) => new(account, Side.Debit, new Amount(minor));

    private static Posting Credit(string account, long minor) => new(account, Side.Credit, new Amount(minor));

    [Fact]
    public void Balanced_lines_make_an_entry_whose_total_is_its_debits()
    {
        var entry = BalancedEntry.Create(Day, "Sale", "INV-1", [Debit("1010", 1250), Credit("4000", 1000), Credit("2200", 250)]);
        Assert.Equal(1250, entry.Total);
        Assert.Equal(3, entry.Lines.Count);
        Assert.False(entry.IsClosing);
        Assert.Null(entry.ReversalOf);
    }

    [Fact]
    public void Unbalanced_lines_never_become_an_entry()
    {
        Assert.False(BalancedEntry.TryCreate(Day, "Sale", null, [Debit("1010", 1250), Credit("4000", 1249)], out var entry, out var violations));
        Assert.Null(entry);
        Assert.Equal("lines", Assert.Single(violations).Path);
        Assert.Throws<UnbalancedEntryException>(() => BalancedEntry.Create(Day, "Sale", null, [Debit("1010", 1)]));
        Assert.Throws<UnbalancedEntryException>(() => BalancedEntry.Create(Day, "Sale", null, [Debit("1010", 0), Credit("4000", 0)]));
    }

    [Fact]
    public void Debits_beyond_64_bits_never_become_an_entry()
    {
        Assert.Throws<UnbalancedEntryException>(() => BalancedEntry.Create(Day, "Too much", null,
            [Debit("1010", long.MaxValue), Debit("1020", 1), Credit("4000", long.MaxValue), Credit("4000", 1)]));
    }

    [Fact]
    public void A_reversal_swaps_every_side_and_remembers_what_it_reverses()
    {
        var reversal = BalancedEntry.Reversing(7, Day, "Reversal", null, [Debit("1010", 500), Credit("4000", 500)]);
        Assert.Equal(7, reversal.ReversalOf);
        Assert.Equal([Side.Credit, Side.Debit], reversal.Lines.Select(l => l.Side));
        Assert.Equal(500, reversal.Total);
        Assert.Throws<UnbalancedEntryException>(() => BalancedEntry.Reversing(7, Day, "Reversal", null, [Debit("1010", 500), Credit("4000", 400)]));
    }

    [Fact]
    public void A_closing_entry_may_be_empty_but_never_unbalanced()
    {
        Assert.True(BalancedEntry.Closing(Day, "Close", "year-end-close/2025-12-31", []).IsClosing);
        Assert.Equal(0, BalancedEntry.Closing(Day, "Close", null, []).Total);
        Assert.Throws<UnbalancedEntryException>(() => BalancedEntry.Closing(Day, "Close", null, [Credit("4000", 10), Debit("3900", 9)]));
    }

    [Fact]
    public void The_entry_keeps_its_own_copy_of_the_lines()
    {
        var lines = new List<Posting> { Debit("1010", 100), Credit("4000", 100) };
        var entry = BalancedEntry.Create(Day, "Sale", null, lines);
        lines[1] = Credit("4000", 99);
        Assert.Equal(100, entry.Lines[1].Amount.MinorUnits);
    }
}
