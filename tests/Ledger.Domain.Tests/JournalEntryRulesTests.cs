using Ledger.Domain;

namespace Ledger.Domain.Tests;

public sealed class JournalEntryRulesTests
{
    private static Posting Dr(string account, long minor, string? description = null) => new(account, Side.Debit, new Amount(minor), description);
    private static Posting Cr(string account, long minor, string? description = null) => new(account, Side.Credit, new Amount(minor), description);

    [Fact]
    public void A_balanced_entry_of_two_or_more_lines_has_no_violations()
    {
        Assert.Empty(JournalEntryRules.Check([Dr("1000", 100), Cr("4000", 100)]));
        Assert.Empty(JournalEntryRules.Check([Dr("1000", 60), Dr("6000", 40), Cr("2000", 70), Cr("4000", 30)]));
        Assert.Empty(JournalEntryRules.Check([Dr("1000", 5), Cr("1000", 5)]));
    }

    [Fact]
    public void Fewer_than_two_lines_is_a_violation_on_lines()
    {
        var none = JournalEntryRules.Check([]);
        Assert.Equal("lines", Assert.Single(none).Path);

        var one = JournalEntryRules.Check([Dr("1000", 100)]);
        Assert.Contains(one, v => v.Path == "lines");
        Assert.All(one, v => Assert.False(string.IsNullOrWhiteSpace(v.Message)));
    }

    [Fact]
    public void Zero_and_negative_amounts_are_violations_on_the_line_side()
    {
        var violations = JournalEntryRules.Check([Dr("1000", 0), Cr("4000", -5), Dr("1000", 10), Cr("4000", 10)]);
        Assert.Equal(["lines[0].debit", "lines[1].credit"], violations.Select(v => v.Path).Order());
    }

    [Fact]
    public void Unbalanced_entries_are_a_violation_on_lines_naming_both_totals()
    {
        var violation = Assert.Single(JournalEntryRules.Check([Dr("1000", 10001), Cr("4000", 10000)]));
        Assert.Equal("lines", violation.Path);
        Assert.Contains("10001", violation.Message);
        Assert.Contains("10000", violation.Message);

        // Off by one minor unit is still unbalanced: equality is exact.
        Assert.Single(JournalEntryRules.Check([Dr("1000", 1), Dr("1000", 1), Cr("4000", 3)]));
    }

    [Fact]
    public void A_side_whose_sum_exceeds_64_bits_is_a_violation_not_an_exception()
    {
        var lines = new[] { Dr("1000", long.MaxValue), Dr("1010", 1), Cr("4000", long.MaxValue), Cr("4000", 1) };
        var violations = JournalEntryRules.Check(lines);
        Assert.Contains(violations, v => v.Path == "lines[1].debit" && v.Message.Contains("64-bit", StringComparison.Ordinal));
        Assert.DoesNotContain(violations, v => v.Path == "lines"); // no bogus "unbalanced" from a wrapped sum

        var credits = JournalEntryRules.Check([Dr("1000", 2), Cr("4000", long.MaxValue), Cr("4000", long.MaxValue)]);
        Assert.Contains(credits, v => v.Path == "lines[2].credit");
    }

    [Fact]
    public void Sums_that_reach_exactly_long_MaxValue_are_fine()
    {
        Assert.Empty(JournalEntryRules.Check([Dr("1000", long.MaxValue - 1), Dr("1000", 1), Cr("4000", long.MaxValue)]));
    }

    [Fact]
    public void Paths_carry_the_prefix_for_entries_inside_a_batch()
    {
        var tooFew = JournalEntryRules.Check([Dr("1000", 1)], "entries[3].");
        Assert.Contains(tooFew, v => v.Path == "entries[3].lines");

        var zero = JournalEntryRules.Check([Dr("1000", 0), Cr("4000", 0)], "entries[0].");
        Assert.Equal(["entries[0].lines[0].debit", "entries[0].lines[1].credit"], zero.Select(v => v.Path).Order());

        var overflow = JournalEntryRules.Check([Dr("1000", long.MaxValue), Dr("1000", long.MaxValue), Cr("4000", 1)], "entries[7].");
        Assert.Contains(overflow, v => v.Path == "entries[7].lines[1].debit");

        Assert.All(JournalEntryRules.Check([Dr("1000", 2), Cr("4000", 1)], "entries[1]."),
            v => Assert.StartsWith("entries[1].", v.Path, StringComparison.Ordinal));
    }

    [Fact]
    public void Reverse_swaps_every_side_and_keeps_accounts_amounts_and_descriptions()
    {
        IReadOnlyList<Posting> lines = [Dr("1000", 150, "cash in"), Cr("4000", 100), Cr("2100", 50, "tax")];
        var reversed = JournalEntryRules.Reverse(lines);

        Assert.Equal(
            [Cr("1000", 150, "cash in"), Dr("4000", 100), Dr("2100", 50, "tax")],
            reversed);
        Assert.Empty(JournalEntryRules.Check(reversed));
        Assert.Equal(lines, JournalEntryRules.Reverse(reversed));
        // The original plus its reversal nets every account to zero.
        Assert.All(lines.Concat(reversed).GroupBy(p => p.AccountCode), g => Assert.Equal(0, g.Sum(p => p.SignedMinorUnits)));
    }

    [Fact]
    public void SignedMinorUnits_is_positive_for_debits_and_negative_for_credits()
    {
        Assert.Equal(250, Dr("1000", 250).SignedMinorUnits);
        Assert.Equal(-250, Cr("1000", 250).SignedMinorUnits);
        Assert.Equal(-long.MaxValue, Cr("1000", long.MaxValue).SignedMinorUnits);
    }
}
