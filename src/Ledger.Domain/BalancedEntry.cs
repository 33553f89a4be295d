using NodaTime;

namespace Ledger.Domain;

/// <summary>
/// A journal entry ready to post that can only exist balanced: every way to make one checks the double-entry rules
/// (<see cref="JournalEntryRules"/>), so whatever reaches the ledger has debits equal to credits, at least two lines
/// of positive amounts, and sums inside 64 bits. Reversals and closing entries are made here too, by their own rules.
/// Whether the book takes it (its accounts, lock date and totals) is decided when it posts.
/// </summary>
public sealed class BalancedEntry
{
    private BalancedEntry(LocalDate date, string description, string? reference, IReadOnlyList<Posting> lines,
        long? reversalOf, bool isClosing, long total)
    {
        Date = date;
        Description = description;
        Reference = reference;
        Lines = lines;
        ReversalOf = reversalOf;
        IsClosing = isClosing;
        Total = total;
    }

    public LocalDate Date { get; }
    public string Description { get; }
    public string? Reference { get; }
    public IReadOnlyList<Posting> Lines { get; }

    /// <summary>The id of the entry this one reverses, if it is a reversal.</summary>
    public long? ReversalOf { get; }

    /// <summary>A year-end closing entry (it may empty archived accounts, and it may have no lines at all).</summary>
    public bool IsClosing { get; }

    /// <summary>The sum of the debits, equal to the sum of the credits, in minor units.</summary>
    public long Total { get; }

    /// <summary>An entry from lines that obey the rules, or the rules they break (keyed by path under <paramref name="pathPrefix"/>).</summary>
    public static bool TryCreate(LocalDate date, string description, string? reference, IReadOnlyList<Posting> lines,
        out BalancedEntry? entry, out IReadOnlyList<RuleViolation> violations, string pathPrefix = "")
    {
        ArgumentNullException.ThrowIfNull(description);
        violations = JournalEntryRules.Check(lines, pathPrefix);
        entry = violations.Count == 0 ? new BalancedEntry(date, description, reference, Copy(lines), null, false, Debits(lines)) : null;
        return entry is not null;
    }

    /// <summary>An entry from lines already known to obey the rules; throws <see cref="UnbalancedEntryException"/> otherwise.</summary>
    public static BalancedEntry Create(LocalDate date, string description, string? reference, IReadOnlyList<Posting> lines) =>
        TryCreate(date, description, reference, lines, out var entry, out var violations) ? entry! : throw new UnbalancedEntryException(violations);

    /// <summary>The entry that cancels a posted one: its lines with sides swapped, which balance because the original did.</summary>
    public static BalancedEntry Reversing(long originalId, LocalDate date, string description, string? reference,
        IReadOnlyList<Posting> originalLines)
    {
        var lines = JournalEntryRules.Reverse(originalLines);
        var violations = JournalEntryRules.Check(lines);
        if (violations.Count > 0) throw new UnbalancedEntryException(violations);
        return new BalancedEntry(date, description, reference, Copy(lines), originalId, false, Debits(lines));
    }

    /// <summary>
    /// A year-end closing entry. With nothing to move it has no lines (the close is still recorded by an entry);
    /// otherwise it obeys every rule of an ordinary entry.
    /// </summary>
    public static BalancedEntry Closing(LocalDate date, string description, string? reference, IReadOnlyList<Posting> lines)
    {
        if (lines.Count > 0 && JournalEntryRules.Check(lines) is { Count: > 0 } violations) throw new UnbalancedEntryException(violations);
        return new BalancedEntry(date, description, reference, Copy(lines), null, true, Debits(lines));
    }

    private static IReadOnlyList<Posting> Copy(IReadOnlyList<Posting> lines) => lines.ToArray();

    // Checked: only called on lines whose sums the rules already proved to fit in 64 bits.
    private static long Debits(IReadOnlyList<Posting> lines)
    {
        long debits = 0;
        foreach (var line in lines)
            if (line.Side == Side.Debit) debits = checked(debits + line.Amount.MinorUnits);
        return debits;
    }
}

/// <summary>Lines that break the double-entry rules were about to become an entry: a bug in the caller, not bad input.</summary>
public sealed class UnbalancedEntryException(IReadOnlyList<RuleViolation> violations)
    : InvalidOperationException("A journal entry must balance: " + string.Join(" ", violations.Select(v => $"{v.Path}: {v.Message}")))
{
    public IReadOnlyList<RuleViolation> Violations { get; } = violations;
}
