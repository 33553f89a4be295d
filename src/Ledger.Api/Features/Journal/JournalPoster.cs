using Ledger.Api.Features.Books;
using Ledger.Api.Infrastructure;
using Ledger.Domain;
using Microsoft.Data.Sqlite;
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
        var bookState = ReadBook(session, book.Id);
        var accounts = new Dictionary<string, AccountState>(StringComparer.Ordinal);
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
                    account = ReadAccount(session, book.Id, code);
                    if (account is not null) accounts[code] = account;
                }
                if (account is null)
                    errors[$"{pathOf(e)}lines[{i}].account"] = [$"No account '{code}' in this book."];
                else if (account.Archived)
                    errors[$"{pathOf(e)}lines[{i}].account"] = [$"Account '{code}' is archived and takes no new postings."];
            }
        }
        if (errors.Count > 0) throw new ValidationFailedException(errors);

        var periodTotals = new Dictionary<(long AccountId, int Period), (long Debit, long Credit)>();
        var createdAt = Timestamps.Format(session.Now);
        var posted = new List<JournalEntryResponse>(drafts.Count);
        var insertEntry = session.Command(InsertEntrySql);
        var insertPosting = session.Command(InsertPostingSql);

        for (var e = 0; e < drafts.Count; e++)
        {
            var draft = drafts[e];
            var entryId = session.NextId("journal_entries");
            var number = bookState.NextNumber++;
            var date = DateText.Format(draft.Date);
            var period = AccountingPeriod.Of(draft.Date);

            insertEntry.Bind("@id", entryId).Bind("@book_id", book.Id).Bind("@number", number).Bind("@entry_date", date)
                .Bind("@description", draft.Description).Bind("@reference", draft.Reference).Bind("@created_at", createdAt)
                .Bind("@reversal_of", draft.ReversalOf).Bind("@is_closing", draft.IsClosing ? 1 : 0)
                .ExecuteNonQuery();

            var lines = detailed ? new JournalLineResponse[draft.Lines.Count] : [];
            for (var i = 0; i < draft.Lines.Count; i++)
            {
                var line = draft.Lines[i];
                var account = accounts[line.AccountCode];
                var amount = line.Amount.MinorUnits;
                try
                {
                    if (line.Side == Side.Debit)
                    {
                        account.DebitTotal = checked(account.DebitTotal + amount);
                        bookState.TotalDebit = checked(bookState.TotalDebit + amount);
                    }
                    else
                    {
                        account.CreditTotal = checked(account.CreditTotal + amount);
                    }
                }
                catch (OverflowException)
                {
                    var field = line.Side == Side.Debit ? "debit" : "credit";
                    throw new ValidationFailedException($"{pathOf(e)}lines[{i}].{field}",
                        "would take the totals of this book beyond 64-bit minor units.");
                }
                account.Touched = true;

                var key = (account.Id, period);
                periodTotals.TryGetValue(key, out var totals);
                periodTotals[key] = line.Side == Side.Debit ? (totals.Debit + amount, totals.Credit) : (totals.Debit, totals.Credit + amount);

                insertPosting.Bind("@entry_id", entryId).Bind("@line_no", i).Bind("@account_id", account.Id)
                    .Bind("@amount", line.SignedMinorUnits).Bind("@entry_date", date).Bind("@description", line.Description)
                    .ExecuteNonQuery();

                if (!detailed) continue;
                var formatted = line.Amount.Format(book.Digits);
                lines[i] = line.Side == Side.Debit
                    ? new JournalLineResponse(line.AccountCode, formatted, null, line.Description)
                    : new JournalLineResponse(line.AccountCode, null, formatted, line.Description);
            }

            if (draft.ReversalOf is { } originalId)
            {
                var linked = session.Command(LinkReversalSql)
                    .Bind("@original_id", originalId).Bind("@reversal_id", entryId).Bind("@book_id", book.Id)
                    .ExecuteNonQuery();
                if (linked == 0) throw new ConflictException($"Journal entry {originalId} has already been reversed.");
            }

            session.EntryWritten(entryId);
            posted.Add(new JournalEntryResponse(entryId, number, date, draft.Description, draft.Reference, lines,
                createdAt, draft.ReversalOf, null, draft.IsClosing));
        }

        var updateAccount = session.Command(UpdateAccountTotalsSql);
        foreach (var account in accounts.Values)
        {
            if (!account.Touched) continue;
            updateAccount.Bind("@id", account.Id).Bind("@debit_total", account.DebitTotal).Bind("@credit_total", account.CreditTotal)
                .ExecuteNonQuery();
        }

        var upsertPeriod = session.Command(UpsertPeriodTotalSql);
        foreach (var ((accountId, period), (debit, credit)) in periodTotals)
            upsertPeriod.Bind("@account_id", accountId).Bind("@period", period).Bind("@debit", debit).Bind("@credit", credit)
                .ExecuteNonQuery();

        session.Command(UpdateBookSql)
            .Bind("@id", book.Id).Bind("@next_entry_number", bookState.NextNumber).Bind("@total_debit", bookState.TotalDebit)
            .ExecuteNonQuery();
        return posted;
    }

    private static BookState ReadBook(WriteSession session, string bookId)
    {
        using var reader = session.Command(SelectBookSql).Bind("@id", bookId).ExecuteReader();
        if (!reader.Read()) throw new ProblemException(StatusCodes.Status404NotFound, "Not found", $"No book '{bookId}'.");
        return new BookState
        {
            NextNumber = reader.GetInt64(0),
            TotalDebit = reader.GetInt64(1),
            LockDate = reader.IsDBNull(2) ? null : DateText.TryParseDate(reader.GetString(2), out var d) ? d : null,
        };
    }

    private static AccountState? ReadAccount(WriteSession session, string bookId, string code)
    {
        using var reader = session.Command(SelectAccountSql).Bind("@book_id", bookId).Bind("@code", code).ExecuteReader();
        if (!reader.Read()) return null;
        return new AccountState
        {
            Id = reader.GetInt64(0),
            Archived = reader.GetInt64(1) != 0,
            DebitTotal = reader.GetInt64(2),
            CreditTotal = reader.GetInt64(3),
        };
    }

    private sealed class BookState
    {
        public long NextNumber;
        public long TotalDebit;
        public LocalDate? LockDate;
    }

    private sealed class AccountState
    {
        public long Id;
        public bool Archived;
        public long DebitTotal;
        public long CreditTotal;
        public bool Touched;
    }

    private const string SelectBookSql = "SELECT next_entry_number, total_debit, lock_date FROM books WHERE id = @id";

    private const string SelectAccountSql =
        "SELECT id, archived, debit_total, credit_total FROM accounts WHERE book_id = @book_id AND code = @code";

    private const string InsertEntrySql = """
        INSERT INTO journal_entries (id, book_id, number, entry_date, description, reference, created_at, reversal_of, reversed_by, is_closing)
        VALUES (@id, @book_id, @number, @entry_date, @description, @reference, @created_at, @reversal_of, NULL, @is_closing)
        """;

    private const string InsertPostingSql = """
        INSERT INTO postings (entry_id, line_no, account_id, amount, entry_date, description)
        VALUES (@entry_id, @line_no, @account_id, @amount, @entry_date, @description)
        """;

    private const string LinkReversalSql = """
        UPDATE journal_entries SET reversed_by = @reversal_id
        WHERE id = @original_id AND book_id = @book_id AND reversed_by IS NULL
        """;

    private const string UpdateAccountTotalsSql =
        "UPDATE accounts SET debit_total = @debit_total, credit_total = @credit_total WHERE id = @id";

    // Period totals never overflow: each is bounded by its account's checked all-time totals.
    private const string UpsertPeriodTotalSql = """
        INSERT INTO account_period_totals (account_id, period, debit, credit) VALUES (@account_id, @period, @debit, @credit)
        ON CONFLICT (account_id, period) DO UPDATE
        SET debit = account_period_totals.debit + excluded.debit, credit = account_period_totals.credit + excluded.credit
        """;

    private const string UpdateBookSql =
        "UPDATE books SET next_entry_number = @next_entry_number, total_debit = @total_debit WHERE id = @id";
}
