using NodaTime;

namespace Ledger.Domain;

/// <summary>
/// One line of a journal entry: an amount on one side of one account, and, on a receivables or payables control
/// account, the customer or vendor it is owed by or to.
/// </summary>
public readonly record struct Posting(string AccountCode, Side Side, Amount Amount, string? Description = null, PartyRef? Party = null)
{
    /// <summary>Debits positive, credits negative: the form in which postings are stored and summed.</summary>
    public long SignedMinorUnits => Side == Side.Debit ? Amount.MinorUnits : checked(-Amount.MinorUnits);

    public Posting Reversed() => this with { Side = Side == Side.Debit ? Side.Credit : Side.Debit };
}

/// <summary>Customers owe the book (receivables); the book owes vendors (payables).</summary>
public enum PartyKind
{
    Customer,
    Vendor,
}

/// <summary>A customer or vendor of a book, by id.</summary>
public readonly record struct PartyRef(PartyKind Kind, long Id)
{
    /// <summary>The JSON field that names this kind of party on a journal line ("customer" or "vendor").</summary>
    public string FieldName => Kind == PartyKind.Customer ? "customer" : "vendor";
}

/// <summary>A broken accounting rule, keyed by the JSON path of the field that breaks it.</summary>
public readonly record struct RuleViolation(string Path, string Message);

/// <summary>The double-entry rules every journal entry obeys before it may post.</summary>
public static class JournalEntryRules
{
    public const int MinimumLines = 2;

    /// <summary>
    /// Checks the rules that depend only on the lines themselves: at least two lines, every amount above zero,
    /// and debits equal to credits exactly. Sums are checked so an overflowing entry is rejected, not wrapped.
    /// </summary>
    public static IReadOnlyList<RuleViolation> Check(IReadOnlyList<Posting> lines, string pathPrefix = "")
    {
        var violations = new List<RuleViolation>();
        if (lines.Count < MinimumLines)
            violations.Add(new($"{pathPrefix}lines", "A journal entry needs at least two lines."));

        long debits = 0, credits = 0;
        var overflow = false;
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            var field = line.Side == Side.Debit ? "debit" : "credit";
            if (!line.Amount.IsPositive)
            {
                violations.Add(new($"{pathPrefix}lines[{i}].{field}", "must be greater than zero."));
                continue;
            }
            try
            {
                if (line.Side == Side.Debit) debits = checked(debits + line.Amount.MinorUnits);
                else credits = checked(credits + line.Amount.MinorUnits);
            }
            catch (OverflowException)
            {
                if (!overflow)
                    violations.Add(new($"{pathPrefix}lines[{i}].{field}", $"makes the entry's {field} total exceed 64-bit minor units."));
                overflow = true;
            }
        }

        if (!overflow && violations.Count == 0 && debits != credits)
            violations.Add(new($"{pathPrefix}lines",
                $"Debits ({debits} minor units) must equal credits ({credits} minor units)."));
        return violations;
    }

    /// <summary>The lines of the entry that cancels <paramref name="lines"/>: the same amounts on the other side.</summary>
    public static IReadOnlyList<Posting> Reverse(IReadOnlyList<Posting> lines) => lines.Select(l => l.Reversed()).ToList();
}

/// <summary>
/// The date on or before which the books are closed: no entry, reversal or correction may be dated then.
/// </summary>
public readonly record struct LockDate(LocalDate Date)
{
    public bool Locks(LocalDate entryDate) => entryDate <= Date;
}

/// <summary>A calendar month as a sortable integer (yyyyMM), the unit in which period balances are kept.</summary>
public static class AccountingPeriod
{
    public static int Of(LocalDate date) => date.Year * 100 + date.Month;

    public static LocalDate FirstDay(int period) => new(period / 100, period % 100, 1);
}

/// <summary>A fiscal year that starts on the first day of a given month.</summary>
public readonly record struct FiscalYear(LocalDate Start, LocalDate End)
{
    private const int LastYear = 9999;

    public static FiscalYear Containing(LocalDate date, int startMonth)
    {
        if (startMonth is < 1 or > 12) throw new ArgumentOutOfRangeException(nameof(startMonth));
        var startYear = date.Month >= startMonth ? date.Year : date.Year - 1;
        var start = new LocalDate(startYear, startMonth, 1);
        // The year that starts in 9999 would end in 10000, past the calendar: it ends with the calendar instead.
        if (startMonth == 1) return new FiscalYear(start, new LocalDate(startYear, 12, 31));
        if (startYear == LastYear) return new FiscalYear(start, new LocalDate(LastYear, 12, 31));
        var endMonth = startMonth - 1;
        return new FiscalYear(start, new LocalDate(startYear + 1, endMonth, CalendarSystem.Iso.GetDaysInMonth(startYear + 1, endMonth)));
    }

    public bool Contains(LocalDate date) => date >= Start && date <= End;

    /// <summary>Whether <paramref name="date"/> is the last day of a fiscal year starting in <paramref name="startMonth"/>.</summary>
    public static bool IsYearEnd(LocalDate date, int startMonth) => Containing(date, startMonth).End == date;

    /// <summary>The fiscal year that ends on <paramref name="end"/>, or null when no fiscal year ends that day.</summary>
    public static FiscalYear? EndingOn(LocalDate end, int startMonth) =>
        IsYearEnd(end, startMonth) ? Containing(end, startMonth) : null;
}
