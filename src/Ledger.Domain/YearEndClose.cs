using NodaTime;

namespace Ledger.Domain;

/// <summary>A temporary (income or expense) account's net balance, debits minus credits, in minor units.</summary>
public readonly record struct TemporaryBalance(string AccountCode, long NetDebit);

/// <summary>
/// Closing the books for a fiscal year: the result of every income and expense account is moved into retained
/// earnings, so those accounts start the next year at zero and the year's result becomes part of equity.
/// </summary>
public static class YearEndClose
{
    /// <summary>
    /// The lines of the closing entry: each non-zero temporary balance taken out on its opposite side, and the
    /// difference (the net income or loss) put into <paramref name="retainedEarningsCode"/>. The lines balance by
    /// construction. No lines at all when every balance is zero: there is nothing to move.
    /// </summary>
    public static IReadOnlyList<Posting> ClosingLines(IEnumerable<TemporaryBalance> balances, string retainedEarningsCode)
    {
        var lines = new List<Posting>();
        long netDebit = 0;
        foreach (var balance in balances.Where(b => b.NetDebit != 0).OrderBy(b => b.AccountCode, StringComparer.Ordinal))
        {
            netDebit = checked(netDebit + balance.NetDebit);
            lines.Add(balance.NetDebit > 0
                ? new Posting(balance.AccountCode, Side.Credit, new Amount(balance.NetDebit))
                : new Posting(balance.AccountCode, Side.Debit, new Amount(checked(-balance.NetDebit))));
        }
        // A net debit across income and expense is a loss: it reduces retained earnings (a debit there); a profit adds to it.
        if (netDebit > 0) lines.Add(new Posting(retainedEarningsCode, Side.Debit, new Amount(netDebit)));
        else if (netDebit < 0) lines.Add(new Posting(retainedEarningsCode, Side.Credit, new Amount(checked(-netDebit))));
        return lines;
    }

    /// <summary>
    /// The first day whose earnings a balance sheet as of <paramref name="asOf"/> shows as "current year earnings":
    /// the start of the fiscal year containing <paramref name="asOf"/>, or the day after the latest close on or
    /// before <paramref name="asOf"/> when that is later (a year closed on <paramref name="asOf"/> itself leaves
    /// nothing current: its result is already in retained earnings). Everything earned before that day and not yet
    /// closed is "retained earnings, unclosed".
    /// </summary>
    public static LocalDate CurrentEarningsFrom(LocalDate asOf, int fiscalYearStartMonth, LocalDate? latestCloseOnOrBefore)
    {
        var yearStart = FiscalYear.Containing(asOf, fiscalYearStartMonth).Start;
        return latestCloseOnOrBefore is { } closed && closed >= yearStart ? closed.PlusDays(1) : yearStart;
    }
}

/// <summary>Rules for moving a book's lock date.</summary>
public static class LockDateChanges
{
    /// <summary>
    /// Moving the lock date earlier, or clearing it, reopens dates that were closed: only an admin may do that.
    /// Setting a first lock date or moving it later closes more and needs no special right.
    /// </summary>
    public static bool Reopens(LocalDate? from, LocalDate? to) => from is { } current && (to is null || to.Value < current);
}
