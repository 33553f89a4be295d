using Ledger.Api.Features.Books;
using Ledger.Api.Infrastructure;
using Ledger.Domain;
using NodaTime;

namespace Ledger.Api.Features.Journal;

/// <summary>
/// Posts journal entries inside the writer: checks them against the book (accounts exist and are open,
/// the date is not locked), numbers them gaplessly, writes entries and postings, and maintains account
/// totals and monthly period totals in the same transaction. Runs on prepared commands reused across requests.
/// </summary>
public static class JournalPoster
{
    /// <summary>
    /// Posts every draft or none (the caller's savepoint rolls back on any exception). Field errors are reported
    /// under <paramref name="pathOf"/>(index), e.g. "" for a single entry or "entries[3]." in a batch.
    /// A batch asks for <paramref name="detailed"/> = false: its answer is ids and numbers, so lines are not echoed.
    /// </summary>
    public static IReadOnlyList<JournalEntryResponse> Post(
        WriteSession session, BookIdentity book, IReadOnlyList<EntryDraft> drafts, Func<int, string> pathOf, bool detailed = true)
    {
        var totals = session.GroupState<LedgerTotals>();
        var bookState = ReadBook(session, totals, book.Id);
        var accounts = new Dictionary<string, LedgerTotals.AccountTotals>(StringComparer.Ordinal);
        var errors = new Dictionary<string, string[]>();

        // Resolve every account first, so a bad batch reports all its unknown accounts at once and writes nothing.
        for (var e = 0; e < drafts.Count; e++)
        {
            var draft = drafts[e];
            if (bookState.LockDate is { } lockDate && new LockDate(lockDate).Locks(draft.Date))
                throw new ConflictException(
                    $"The books are locked through {DateText.Format(lockDate)}: {pathOf(e)}date {DateText.Format(draft.Date)} is on or before the lock date. Date the entry after {DateText.Format(lockDate)}.");
            for (var i = 0; i < draft.Lines.Count; i++)
            {
                var code = draft.Lines[i].AccountCode;
                if (!accounts.TryGetValue(code, out var account))
                {
                    if (ReadAccount(session, totals, book.Id, code) is not { } found)
                    {
                        errors[$"{pathOf(e)}lines[{i}].account"] = [$"No account '{code}' in this book."];
                        continue;
                    }
                    accounts[code] = account = found;
                }
                // A year-end close must be able to empty an archived income or expense account that still carries a balance.
                if (account.Archived && !draft.IsClosing)
                    errors[$"{pathOf(e)}lines[{i}].account"] = [$"Account '{code}' is archived and takes no new postings."];
            }
        }
        if (errors.Count > 0) throw new ValidationFailedException(errors);

        var createdAt = Timestamps.Format(session.Now);
        var posted = new List<JournalEntryResponse>(drafts.Count);
        // Rows are gathered and written together through the port (PostgreSQL copies a batch in one round trip).
        var entryRows = new List<object?[]>(drafts.Count);
        var postingRows = new List<object?[]>(drafts.Count * 2);
        var entryIds = session.NextIds("journal_entries", drafts.Count);
        var totalDebit = bookState.TotalDebit;
        var nextNumber = bookState.NextNumber;

        for (var e = 0; e < drafts.Count; e++)
        {
            var draft = drafts[e];
            var entryId = entryIds[e];
            var number = nextNumber++;
            var date = DateText.Format(draft.Date);
            var period = AccountingPeriod.Of(draft.Date);

            entryRows.Add([entryId, book.Id, number, date, draft.Description, draft.Reference, createdAt, draft.ReversalOf, null, draft.IsClosing ? 1L : 0L]);

            var lines = detailed ? new JournalLineResponse[draft.Lines.Count] : [];
            for (var i = 0; i < draft.Lines.Count; i++)
            {
                var line = draft.Lines[i];
                var account = accounts[line.AccountCode];
                var amount = line.Amount.MinorUnits;
                var debit = line.Side == Side.Debit;
                try
                {
                    account = debit
                        ? account with { Debit = checked(account.Debit + amount) }
                        : account with { Credit = checked(account.Credit + amount) };
                    if (debit) totalDebit = checked(totalDebit + amount);
                }
                catch (OverflowException)
                {
                    throw new ValidationFailedException($"{pathOf(e)}lines[{i}].{(debit ? "debit" : "credit")}",
                        TotalsLimitMessage);
                }
                accounts[line.AccountCode] = account;
                totals.AddToPeriod(account.Id, period, debit ? amount : 0, debit ? 0 : amount);

                postingRows.Add([entryId, (long)i, account.Id, line.SignedMinorUnits, date, line.Description]);

                if (!detailed) continue;
                var formatted = line.Amount.Format(book.Digits);
                lines[i] = debit
                    ? new JournalLineResponse(line.AccountCode, formatted, null, line.Description)
                    : new JournalLineResponse(line.AccountCode, null, formatted, line.Description);
            }

            session.EntryWritten(entryId);
            posted.Add(new JournalEntryResponse(entryId, number, date, draft.Description, draft.Reference, lines,
                createdAt, draft.ReversalOf, null, draft.IsClosing));
        }

        session.InsertRows("journal_entries", EntryColumns, entryRows);
        session.InsertRows("postings", PostingColumns, postingRows);
        for (var e = 0; e < drafts.Count; e++)
        {
            if (drafts[e].ReversalOf is not { } originalId) continue;
            var linked = session.Command(LinkReversalSql)
                .Bind("@original_id", originalId).Bind("@reversal_id", entryIds[e]).Bind("@book_id", book.Id)
                .ExecuteNonQuery();
            if (linked == 0) throw new ConflictException($"Journal entry {originalId} has already been reversed.");
        }

        foreach (var (code, account) in accounts) totals.Stage(book.Id, code, account);
        totals.Stage(book.Id, bookState with { NextNumber = nextNumber, TotalDebit = totalDebit });
        if (!session.DefersGroupState) totals.FlushNow(session);
        return posted;
    }

    /// <summary>Every debit ever posted in a book counts toward one 64-bit total, which keeps every report sum exact.</summary>
    public const string TotalsLimitMessage =
        "would take the totals of this book beyond 64-bit minor units (every debit ever posted in a book counts toward that limit, so that every report total stays exact).";

    /// <summary>
    /// Posts an entry the server built (a reversal, a closing entry), whose lines the client never sent: a line the
    /// book refuses is a conflict with the book's state, described in full, not a 400 on a field of the request.
    /// </summary>
    public static JournalEntryResponse PostDerived(WriteSession session, BookIdentity book, EntryDraft draft, string what)
    {
        try
        {
            return Post(session, book, [draft], _ => "")[0];
        }
        catch (ValidationFailedException refused)
        {
            var reasons = refused.Errors.SelectMany(e => e.Value.Select(message => $"{e.Key}: {message}"));
            throw new ConflictException($"{what} cannot be posted. {string.Join(" ", reasons)}");
        }
    }

    private static LedgerTotals.BookTotals ReadBook(WriteSession session, LedgerTotals totals, string bookId)
    {
        if (totals.TryGetBook(bookId, out var cached)) return cached;
        using var reader = session.Command(SelectBookSql).Bind("@id", bookId).ExecuteReader();
        if (!reader.Read()) throw new ProblemException(StatusCodes.Status404NotFound, "Not found", $"No book '{bookId}'.");
        return new LedgerTotals.BookTotals(
            NextNumber: reader.GetInt64(0),
            TotalDebit: reader.GetInt64(1),
            LockDate: reader.IsDBNull(2) ? null : DateText.TryParseDate(reader.GetString(2), out var d) ? d : null);
    }

    private static LedgerTotals.AccountTotals? ReadAccount(WriteSession session, LedgerTotals totals, string bookId, string code)
    {
        if (totals.TryGetAccount(bookId, code, out var cached)) return cached;
        using var reader = session.Command(SelectAccountSql).Bind("@book_id", bookId).Bind("@code", code).ExecuteReader();
        if (!reader.Read()) return null;
        return new LedgerTotals.AccountTotals(reader.GetInt64(0), reader.GetInt64(1) != 0, reader.GetInt64(2), reader.GetInt64(3));
    }

    private const string SelectBookSql = "SELECT next_entry_number, total_debit, lock_date FROM books WHERE id = @id";

    private const string SelectAccountSql =
        "SELECT id, archived, debit_total, credit_total FROM accounts WHERE book_id = @book_id AND code = @code";

    private static readonly string[] EntryColumns =
        ["id", "book_id", "number", "entry_date", "description", "reference", "created_at", "reversal_of", "reversed_by", "is_closing"];

    private static readonly string[] PostingColumns = ["entry_id", "line_no", "account_id", "amount", "entry_date", "description"];

    private const string LinkReversalSql = """
        UPDATE journal_entries SET reversed_by = @reversal_id
        WHERE id = @original_id AND book_id = @book_id AND reversed_by IS NULL
        """;
}
