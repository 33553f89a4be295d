using Ledger.Api.Features.Audit;
using Ledger.Api.Features.Books;
using Ledger.Api.Infrastructure;
using Ledger.Domain;
using NodaTime;

namespace Ledger.Api.Features.Journal;

/// <summary>
/// Posts journal entries inside the writer: checks them against the book (accounts exist and are open,
/// the date is not locked), numbers them gaplessly, writes entries and postings, and maintains account
/// totals and monthly period totals in the same transaction. Runs on prepared commands reused across requests.
/// What it refuses it refuses as a domain fact (<see cref="PostingRefusedException"/>): which entry, which line,
/// why. The endpoints decide what that is in HTTP (see <see cref="PostingProblems"/>).
/// </summary>
public static class JournalPoster
{
    /// <summary>
    /// Posts every entry or none (the caller's savepoint rolls back on any exception).
    /// A batch asks for <paramref name="detailed"/> = false: its answer is ids and numbers, so lines are not echoed.
    /// </summary>
    /// <param name="sources">Per entry, the document or payment posting it (null: posted by hand), which its entry row
    /// and its open items record; an open item's due date is the source's, else the entry's date.</param>
    public static IReadOnlyList<JournalEntryResponse> Post(
        WriteSession session, BookIdentity book, IReadOnlyList<BalancedEntry> drafts, bool detailed = true,
        IReadOnlyList<EntrySourceInfo?>? sources = null)
    {
        var totals = session.GroupState<LedgerTotals>();
        var bookState = ReadBook(session, totals, book.Id);
        var accounts = new Dictionary<string, LedgerTotals.AccountTotals>(StringComparer.Ordinal);
        var refusals = new List<PostingRefusal>();
        var partyIds = new HashSet<long>();

        // Resolve every account first, so a bad batch reports all its unknown accounts at once and writes nothing;
        // the ones not yet read in this group are read together.
        var found = ReadAccounts(session, totals, book.Id, drafts.SelectMany(d => d.Lines).Select(l => l.AccountCode));
        for (var e = 0; e < drafts.Count; e++)
        {
            var draft = drafts[e];
            if (bookState.LockDate is { } lockDate && new LockDate(lockDate).Locks(draft.Date))
                throw Refused(new PostingRefusal(PostingRefusalKind.DateLocked, e, LockDate: lockDate, EntryDate: draft.Date));
            for (var i = 0; i < draft.Lines.Count; i++)
            {
                var code = draft.Lines[i].AccountCode;
                if (!accounts.TryGetValue(code, out var account))
                {
                    if (!found.TryGetValue(code, out account))
                    {
                        refusals.Add(new PostingRefusal(PostingRefusalKind.UnknownAccount, e, i, code));
                        continue;
                    }
                    accounts[code] = account;
                }
                // A year-end close must be able to empty an archived income or expense account that still carries a balance.
                if (account.Archived && !draft.IsClosing)
                    refusals.Add(new PostingRefusal(PostingRefusalKind.ArchivedAccount, e, i, code));
                // Every line on a control account is an open item of its party, so the subledgers always tie out.
                var party = draft.Lines[i].Party;
                PartyKind? control = code == bookState.ReceivablesAccount ? PartyKind.Customer
                    : code == bookState.PayablesAccount ? PartyKind.Vendor : null;
                if (control is { } expected && party is null)
                    refusals.Add(new PostingRefusal(PostingRefusalKind.PartyRequired, e, i, code, Expected: expected));
                else if (party is { } named && named.Kind != control)
                    refusals.Add(new PostingRefusal(PostingRefusalKind.PartyNotAllowed, e, i, code, Party: named));
                else if (party is { } known) partyIds.Add(known.Id);
            }
        }
        if (refusals.Count == 0 && partyIds.Count > 0) CheckParties(session, book.Id, drafts, partyIds, refusals);
        if (refusals.Count > 0) throw new PostingRefusedException(refusals);

        var createdAt = Timestamps.Format(session.Now);
        var posted = new List<JournalEntryResponse>(drafts.Count);
        // Rows are gathered and written together through the port (PostgreSQL copies them in one round trip, in the
        // background while the next chunk is built), a bounded number of entries at a time: a 10,000-entry batch holds the
        // chunk being built and at most about two being copied (WriteSession.StartCopy).
        var entryRows = new List<object?[]>(Math.Min(drafts.Count, RowChunk));
        var postingRows = new List<object?[]>(Math.Min(drafts.Count, RowChunk) * 2);
        var itemRows = new List<object?[]>();
        var eventRun = new EntryEventRun();
        var lineFingerprints = new long[8]; // reused entry to entry; grown for an entry with more lines
        var entryIds = session.NextIds("journal_entries", drafts.Count);
        // Drawn together up front: on PostgreSQL a draw is a round trip, which would wait for the copies under way.
        var partyLines = 0;
        foreach (var draft in drafts)
            foreach (var line in draft.Lines)
                if (line.Party is not null) partyLines++;
        var openItemIds = new Queue<long>(session.NextIds("open_items", partyLines));
        var totalDebit = bookState.TotalDebit;
        var nextNumber = bookState.NextNumber;
        var chunk = FirstRowChunk;

        for (var e = 0; e < drafts.Count; e++)
        {
            var draft = drafts[e];
            var entryId = entryIds[e];
            var number = nextNumber++;
            var date = DateText.Format(draft.Date);
            var period = AccountingPeriod.Of(draft.Date);

            var source = sources?[e];
            // The entry's event, chained into the book's log in this transaction. Its sequence goes on the entry's row (and its hash,
            // every 64th event), the posting's events share one row of the log (EntryEventRun); the entry's rows are the event's data.
            var eventLines = new AuditSnapshots.EntryLine[draft.Lines.Count];
            for (var i = 0; i < draft.Lines.Count; i++)
            {
                var l = draft.Lines[i];
                eventLines[i] = new AuditSnapshots.EntryLine(l.AccountCode, l.SignedMinorUnits, l.Description,
                    l.Party is { } p ? (p.Kind == PartyKind.Customer ? "customer" : "vendor") : null, l.Party?.Id);
            }
            if (lineFingerprints.Length < draft.Lines.Count) lineFingerprints = new long[draft.Lines.Count];
            var entryText = AuditSnapshots.EntryText(entryId, number, date, draft.Description, draft.Reference, draft.ReversalOf, draft.IsClosing,
                source?.Type, source?.Id, eventLines, book.Digits, lineFingerprints, out var entryFingerprint);
            var (eventSequence, eventHash) = EventLog.AppendEntry(session, book.Id,
                draft.ReversalOf is null ? "journal_entry.posted" : "journal_entry.reversed", entryId, entryText, eventRun);
            entryRows.Add([entryId, book.Id, number, date, draft.Description, draft.Reference, createdAt, draft.ReversalOf, null,
                draft.IsClosing ? 1L : 0L, source?.Type, source?.Id, eventSequence,
                EntryEventRun.KeepsHash(eventSequence) ? Convert.FromHexString(eventHash) : null, entryFingerprint]);

            var lines = detailed ? new JournalLineResponse[draft.Lines.Count] : [];
            long checkedDebits = 0, checkedCredits = 0;
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
                    throw Refused(new PostingRefusal(PostingRefusalKind.TotalsLimit, e, i, line.AccountCode, line.Side));
                }
                // Cannot overflow: the entry's own sums were checked when it was made balanced.
                if (debit) checkedDebits += amount; else checkedCredits += amount;
                accounts[line.AccountCode] = account;
                totals.AddToPeriod(book.Id, account.Id, period, debit ? amount : 0, debit ? 0 : amount);

                postingRows.Add([entryId, (long)i, account.Id, line.SignedMinorUnits, date, line.Description, book.Id, lineFingerprints[i]]);
                if (line.Party is { } party)
                    itemRows.Add([openItemIds.Dequeue(), book.Id, party.Id,
                        party.Kind == PartyKind.Customer ? "receivables" : "payables", entryId, (long)i, date,
                        DateText.Format(source?.DueDate ?? draft.Date), line.SignedMinorUnits, source?.Type ?? "journal", source?.Id]);

                if (!detailed) continue;
                var formatted = line.Amount.Format(book.Digits);
                lines[i] = debit
                    ? new JournalLineResponse(line.AccountCode, formatted, null, line.Description, CustomerOf(line), VendorOf(line))
                    : new JournalLineResponse(line.AccountCode, null, formatted, line.Description, CustomerOf(line), VendorOf(line));
            }

            // TigerBeetle-style: assert the invariant this write relies on rather than trust the type alone.
            if (checkedDebits != draft.Total || checkedDebits != checkedCredits)
                throw new InvalidOperationException($"Entry {e} does not balance ({checkedDebits} debits, {checkedCredits} credits): refusing to write it.");
            session.EntryWritten(entryId);
            if (entryRows.Count == chunk)
            {
                WriteRows(session, entryRows, postingRows, itemRows);
                chunk = Math.Min(RowChunk, chunk * ChunkGrowth);
            }
            posted.Add(new JournalEntryResponse(entryId, number, date, draft.Description, draft.Reference, lines,
                createdAt, draft.ReversalOf, null, draft.IsClosing, source is null ? null : new EntrySource(source.Type, source.Id, source.Number)));
        }

        WriteRows(session, entryRows, postingRows, itemRows);
        eventRun.Write(session);
        for (var e = 0; e < drafts.Count; e++)
        {
            if (drafts[e].ReversalOf is not { } originalId) continue;
            var linked = session.Command(LinkReversalSql)
                .Bind("@original_id", originalId).Bind("@reversal_id", entryIds[e]).Bind("@book_id", book.Id)
                .ExecuteNonQuery();
            if (linked == 0) throw Refused(new PostingRefusal(PostingRefusalKind.AlreadyReversed, e, OriginalEntry: originalId));
        }

        foreach (var (code, account) in accounts) totals.Stage(book.Id, code, account);
        totals.Stage(book.Id, bookState with { NextNumber = nextNumber, TotalDebit = totalDebit });
        if (!session.DefersGroupState) totals.FlushNow(session);
        return posted;
    }

    // Large enough that a 10,000-entry batch costs PostgreSQL few COPY round trips, small enough that the server stores one
    // chunk while the writer builds the next (WriteSession.StartCopy) and that few chunks' rows are held at once.
    private const int RowChunk = 2048;

    // The first chunks are smaller: the server has nothing to store until the writer has built one, and a whole 2,048-entry
    // chunk took 30-45 ms to build, which the server spent idle (PostgreSQL statement log, 10,000-entry batches, 2-core
    // host). Storing an entry takes the server about three times as long as building it takes the writer, so each chunk
    // may be three times the one before (256, 768, 2,048) and the next is still ready when the server wants it.
    private const int FirstRowChunk = 256;
    private const int ChunkGrowth = 3;

    // Entries before their postings and open items (both reference them).
    private static void WriteRows(WriteSession session, List<object?[]> entryRows, List<object?[]> postingRows, List<object?[]> itemRows)
    {
        session.InsertRows("journal_entries", EntryColumns, entryRows);
        session.InsertRows("postings", PostingColumns, postingRows);
        if (itemRows.Count > 0) session.InsertRows("open_items", OpenItemColumns, itemRows);
        entryRows.Clear();
        postingRows.Clear();
        itemRows.Clear();
    }

    private static long? CustomerOf(Posting line) => line.Party is { Kind: PartyKind.Customer } p ? p.Id : null;

    private static long? VendorOf(Posting line) => line.Party is { Kind: PartyKind.Vendor } p ? p.Id : null;

    /// <summary>Every customer and vendor the lines name exists in the book, with the kind the line gives it.</summary>
    private static void CheckParties(WriteSession session, string bookId, IReadOnlyList<BalancedEntry> drafts,
        HashSet<long> partyIds, List<PostingRefusal> refusals)
    {
        // Read through the group's party cache: a document or payment has just read its party there.
        var parties = Parties.GroupParties.Find(session, bookId, partyIds);
        for (var e = 0; e < drafts.Count; e++)
            for (var i = 0; i < drafts[e].Lines.Count; i++)
                if (drafts[e].Lines[i].Party is { } party && (!parties.TryGetValue(party.Id, out var found) || found.Kind != party.Kind))
                    refusals.Add(new PostingRefusal(PostingRefusalKind.UnknownParty, e, i, drafts[e].Lines[i].AccountCode, Party: party));
    }

    private static PostingRefusedException Refused(PostingRefusal refusal) => new([refusal]);

    /// <summary>
    /// The book's numbers, lock date and control accounts as the group sees them (read once per group, then kept with the
    /// group's running totals): documents and payments check against what their entries will be posted with.
    /// </summary>
    internal static LedgerTotals.BookTotals BookOf(WriteSession session, string bookId) =>
        ReadBook(session, session.GroupState<LedgerTotals>(), bookId);

    /// <summary>
    /// The accounts among <paramref name="codes"/> that the book has, by code, as the group sees them (the group's cache,
    /// the rest read and remembered): documents check their lines' accounts with the reads their entries then use.
    /// </summary>
    internal static Dictionary<string, LedgerTotals.AccountTotals> AccountsOf(WriteSession session, string bookId, IEnumerable<string> codes) =>
        ReadAccounts(session, session.GroupState<LedgerTotals>(), bookId, codes);

    private static LedgerTotals.BookTotals ReadBook(WriteSession session, LedgerTotals totals, string bookId)
    {
        if (totals.TryGetBook(bookId, out var cached)) return cached;
        using var reader = session.ReadCommand(SelectBookSql).Bind("@id", bookId).ExecuteReader();
        if (!reader.Read()) throw Refused(new PostingRefusal(PostingRefusalKind.BookNotFound, 0));
        var book = BookTotalsOf(new LedgerDatabase.BookPostingRow(reader.GetInt64(0), reader.GetInt64(1),
            reader.IsDBNull(2) ? null : reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3),
            reader.IsDBNull(4) ? null : reader.GetString(4)));
        totals.RememberRead(bookId, book);
        return book;
    }

    private static LedgerTotals.BookTotals BookTotalsOf(LedgerDatabase.BookPostingRow row) => new(
        NextNumber: row.NextNumber,
        TotalDebit: row.TotalDebit,
        LockDate: row.LockDate is null ? null : DateText.TryParseDate(row.LockDate, out var d) ? d : null,
        ReceivablesAccount: row.ReceivablesAccount,
        PayablesAccount: row.PayablesAccount);

    /// <summary>
    /// What a group read as it began, under its book's lock (PostgreSQL, see <see cref="LedgerDatabase.GroupStartReads"/>):
    /// the book's row and the accounts its requests hinted, kept in the group's totals as if read here, each hinted code
    /// the book lacks as known to be missing. The requests then read none of it again: a group of single posts made two
    /// more round trips, one of them reading the whole chart.
    /// </summary>
    internal static void Known(WriteSession session, string bookId, LedgerDatabase.GroupStartReads reads)
    {
        var totals = session.GroupState<LedgerTotals>();
        if (reads.Book is { } book) totals.RememberRead(bookId, BookTotalsOf(book));
        foreach (var account in reads.Accounts)
            totals.RememberRead(bookId, account.Code, LedgerTotals.AccountTotals.Of(account));
        foreach (var code in reads.AccountCodes)
            if (!totals.TryGetAccount(bookId, code, out _)) totals.RememberMissing(bookId, code);
    }

    /// <summary>
    /// A group that starts from what its process knew of the book (<see cref="LedgerDatabase.KnownBookStart"/>; its book's
    /// row is given as read, by <see cref="Known"/>): its accounts read through to those known.
    /// </summary>
    internal static void StartFrom(WriteSession session, string bookId, LedgerDatabase.KnownBookStart known) =>
        session.GroupState<LedgerTotals>().StartFrom(bookId, known.Accounts);

    /// <summary>
    /// What the book's next group may start from once this group commits (see <see cref="LedgerDatabase.KnownBookStart"/>):
    /// the book's row, the accounts and the last event as the group leaves them. Taken after its last request was kept
    /// and before its totals are written out. Null when the group does not hold the book's row or last event (a request
    /// that does not defer made it forget them, say): its next group reads them.
    /// </summary>
    internal static LedgerDatabase.KnownBookStart? KnownAfterGroup(WriteSession session, string bookId)
    {
        var totals = session.GroupState<LedgerTotals>();
        if (!totals.TryGetBook(bookId, out var book)) return null;
        if (!session.GroupState<Audit.EventLog.EventChain>().TryGetHead(bookId, out var head)) return null;
        var accounts = totals.AccountsAfterGroup(bookId);
        var row = new LedgerDatabase.BookPostingRow(book.NextNumber, book.TotalDebit,
            book.LockDate is { } lockDate ? DateText.Format(lockDate) : null, book.ReceivablesAccount, book.PayablesAccount);
        return new LedgerDatabase.KnownBookStart(row, accounts, head);
    }

    /// <summary>
    /// The accounts among the codes: from the group's cache, the rest read together (see <see cref="PaddedInQuery"/>) and
    /// remembered for the group, or the whole chart once when many requests of the group are still to come.
    /// </summary>
    private static Dictionary<string, LedgerTotals.AccountTotals> ReadAccounts(
        WriteSession session, LedgerTotals totals, string bookId, IEnumerable<string> codes)
    {
        var accounts = new Dictionary<string, LedgerTotals.AccountTotals>(StringComparer.Ordinal);
        var missing = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var code in codes)
        {
            if (!seen.Add(code)) continue;
            if (totals.TryGetAccount(bookId, code, out var cached)) accounts[code] = cached;
            else if (!totals.IsKnownMissing(bookId, code)) missing.Add(code);
        }
        if (missing.Count == 0) return accounts;
        // A group with many requests still to come (PostgreSQL sizes groups by book) reads the whole chart once: one
        // round trip serves every later request of the group, where each would otherwise read its own accounts. So does a
        // request naming many accounts (a batch): on PostgreSQL each IN list of 256 codes took 6.3-6.6 ms (parameters bound
        // and planned for each), the 1,000-account chart 0.9 ms, so a batch naming every account spent 26 ms of its
        // transaction reading four lists (statement log, 200,000-entry benchmark, fifteenth session). A list of 256 costs
        // as much as reading a chart of about 7,000 accounts.
        if ((session.RequestsLeftInGroup >= ChartReadThreshold || missing.Count >= PaddedInQuery.MaxKeysPerStatement)
            && !totals.HoldsChartOf(bookId))
        {
            using (var reader = session.ReadCommand(SelectChartSql).Bind("@book_id", bookId).ExecuteReader())
                while (reader.Read())
                    totals.RememberRead(bookId, reader.GetString(4),
                        new LedgerTotals.AccountTotals(reader.GetInt64(0), reader.GetInt64(1) != 0, reader.GetInt64(2), reader.GetInt64(3)));
            totals.ChartRead(bookId);
            foreach (var code in missing)
                if (totals.TryGetAccount(bookId, code, out var read)) accounts[code] = read;
            return accounts;
        }
        SelectAccounts.Read(session, bookId, missing, reader =>
        {
            var account = new LedgerTotals.AccountTotals(reader.GetInt64(0), reader.GetInt64(1) != 0, reader.GetInt64(2), reader.GetInt64(3));
            accounts[reader.GetString(4)] = account;
            totals.RememberRead(bookId, reader.GetString(4), account); // the entry posting them, or the next request, reads them here
        });
        return accounts;
    }

    private const int ChartReadThreshold = 8;

    private const string SelectChartSql = "SELECT id, archived, debit_total, credit_total, code FROM accounts WHERE book_id = @book_id";

    private static readonly PaddedInQuery SelectAccounts = new(SelectChartSql + " AND code");

    private const string SelectBookSql =
        "SELECT next_entry_number, total_debit, lock_date, receivables_account, payables_account FROM books WHERE id = @id";


    private static readonly string[] EntryColumns =
        ["id", "book_id", "number", "entry_date", "description", "reference", "created_at", "reversal_of", "reversed_by", "is_closing",
         "source_type", "source_id", "event_sequence", "event_hash", "fingerprint"];

    private static readonly string[] OpenItemColumns =
        ["id", "book_id", "party_id", "ledger", "entry_id", "line_no", "item_date", "due_date", "amount", "source_type", "source_id"];

    private static readonly string[] PostingColumns = ["entry_id", "line_no", "account_id", "amount", "entry_date", "description", "book_id", "fingerprint"];

    private const string LinkReversalSql = """
        UPDATE journal_entries SET reversed_by = @reversal_id
        WHERE id = @original_id AND book_id = @book_id AND reversed_by IS NULL
        """;
}

/// <summary>The document or payment an entry posts: recorded on the entry and its open items.</summary>
public sealed record EntrySourceInfo(string Type, long Id, string? Number, LocalDate? DueDate);
