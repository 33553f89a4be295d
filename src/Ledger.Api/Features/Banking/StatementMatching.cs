using Ledger.Api.Features.Audit;
using System.Data.Common;
using Dapper;
using Ledger.Api.Features.Allocations;
using Ledger.Api.Features.Books;
using Ledger.Api.Features.Journal;
using Ledger.Api.Features.Payments;
using Ledger.Api.Infrastructure;
using Ledger.Domain;

namespace Ledger.Api.Features.Banking;

/// <summary>A statement line as stored, with its bank account's GL account.</summary>
public sealed record StoredStatementLine(long Id, long BankAccountId, long StatementId, string BookingDate, string ValueDate, long Amount,
    string Description, string? Counterparty, string? CounterpartyIban, string? BankReference, long Reversal, string Status, string GlAccount);

/// <summary>A live or undone match of a statement line.</summary>
public sealed record StoredMatch(long Id, long StatementLineId, string Kind, long EntryId, long LineNo, string EntryDate, long? PaymentId,
    long? RuleId, string MatchedAt, string MatchedBy, string? UndoneAt, long? ReversalEntryId, long? ReconciliationId);

/// <summary>What to code a line to: another account of the chart, with an optional tax rate (the amount is tax-inclusive).</summary>
public sealed record AccountCoding(string Account, string? Description, string? TaxRate);

/// <summary>
/// Matching statement lines to the books. A line is matched at most once: to a line already posted on the bank's GL
/// account, to a payment it creates (allocated to invoices or bills), or to an entry it creates against another account.
/// Every entry a match creates is dated on the line's booking date, so the line and its posting enter the books and the
/// statement on the same day. Undoing a match reverses what it created, on that entry's own date.
/// </summary>
public static class StatementMatching
{
    public const string ByRule = "system:rule";
    public const string ByAutoMatch = "system:auto-match";

    public static StoredStatementLine FindLine(DbConnection connection, string bookId, long lineId) =>
        connection.QuerySingleOrDefault<StoredStatementLine>(SelectLineSql + " WHERE l.book_id = @bookId AND l.id = @lineId", new { bookId, lineId })
        ?? throw new ProblemException(StatusCodes.Status404NotFound, "Not found", $"No statement line {lineId} in this book.");

    public static StoredMatch? LiveMatch(DbConnection connection, string bookId, long lineId) =>
        connection.QuerySingleOrDefault<StoredMatch>(SelectMatchSql + " WHERE book_id = @bookId AND statement_line_id = @lineId AND undone_at IS NULL",
            new { bookId, lineId });

    /// <summary>
    /// Refuses (409) to reverse or void what a statement line is matched to: the match goes first, or the line would stay
    /// matched to an entry the books no longer count.
    /// </summary>
    public static void RefuseWhileMatched(DbConnection connection, string bookId, long entryId, string what)
    {
        if (LineMatchedTo(connection, bookId, entryId) is { } line)
            throw new ConflictException($"{what} is matched to statement line {line}; undo that match (DELETE …/statement-lines/{line}/match) first.");
    }

    /// <summary>The statement line with a live match to a line of <paramref name="entryId"/>, if any (the lowest, if several).</summary>
    public static long? LineMatchedTo(DbConnection connection, string bookId, long entryId) =>
        connection.ExecuteScalar<long?>(
            "SELECT MIN(statement_line_id) FROM bank_matches WHERE book_id = @bookId AND entry_id = @entryId AND undone_at IS NULL",
            new { bookId, entryId });

    /// <summary>A zero line moved no money: it needs no entry (ignore it instead).</summary>
    private static void RefuseZero(StoredStatementLine line)
    {
        if (line.Amount == 0) throw new ConflictException($"Statement line {line.Id} is for 0: it needs no entry; ignore it instead.");
    }

    /// <summary>Marks the line matched, or refuses (409) when it is matched or ignored already: one match per line, also when two race.</summary>
    private static void Claim(WriteSession session, string bookId, StoredStatementLine line)
    {
        var claimed = session.Connection.Execute(
            "UPDATE statement_lines SET status = 'matched' WHERE book_id = @bookId AND id = @id AND status = 'unmatched'",
            new { bookId, id = line.Id });
        if (claimed == 1) return;
        var status = session.Connection.ExecuteScalar<string>(
            "SELECT status FROM statement_lines WHERE book_id = @bookId AND id = @id", new { bookId, id = line.Id });
        throw new ConflictException(status == "ignored"
            ? $"Statement line {line.Id} is ignored; un-ignore it before matching it."
            : $"Statement line {line.Id} is already matched; undo that match first.");
    }

    /// <param name="tax">For a line coded to an account with a tax rate: the rate and the net and tax it posted, which the
    /// tax summary counts as it counts documents' lines.</param>
    private static long Record(WriteSession session, string bookId, StoredStatementLine line, string kind, long entryId, long lineNo,
        string entryDate, long? paymentId, long? ruleId, string by, (string Rate, long Net, long Tax)? tax = null)
    {
        var id = session.NextId("bank_matches");
        session.Connection.Execute("""
            INSERT INTO bank_matches (id, book_id, statement_line_id, kind, entry_id, line_no, entry_date, payment_id, rule_id, matched_at, matched_by,
                                      undone_at, undone_by, reversal_entry_id, reconciliation_id, tax_rate, net, tax)
            VALUES (@id, @bookId, @lineId, @kind, @entryId, @lineNo, @entryDate, @paymentId, @ruleId, @at, @by, NULL, NULL, NULL, NULL,
                    @taxRate, @net, @taxAmount)
            """, new
        {
            id, bookId, lineId = line.Id, kind, entryId, lineNo, entryDate, paymentId, ruleId, at = Timestamps.Format(session.Now), by,
            taxRate = tax?.Rate, net = tax?.Net, taxAmount = tax?.Tax,
        });
        EventLog.Append(session, bookId, "statement_line.matched", "statement_line", line.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
            EventData.Of(("id", line.Id), ("match", id), ("kind", kind), ("entryId", entryId), ("line", lineNo), ("payment", paymentId), ("rule", ruleId)));
        return id;
    }

    /// <summary>The line is this posting, already in the books (e.g. posted by a bank-import script).</summary>
    public static long MatchPosting(WriteSession session, BookIdentity book, StoredStatementLine line, long entryId, int lineNo, string by)
    {
        var connection = session.Connection;
        RefuseZero(line);
        // With the dates of its reversal and of the entry it reverses, if any, read in the same round trip.
        var posting = connection.QuerySingleOrDefault<(string Code, long Amount, string EntryDate, long? ReversedBy, string? ReversedOn,
            long? ReversalOf, string? OriginalDate)?>("""
            SELECT a.code, p.amount, p.entry_date, e.reversed_by, rb.entry_date, e.reversal_of, ro.entry_date FROM postings p
            JOIN accounts a ON a.id = p.account_id AND a.book_id = p.book_id
            JOIN journal_entries e ON e.id = p.entry_id AND e.book_id = p.book_id
            LEFT JOIN journal_entries rb ON rb.id = e.reversed_by AND rb.book_id = e.book_id
            LEFT JOIN journal_entries ro ON ro.id = e.reversal_of AND ro.book_id = e.book_id
            WHERE p.book_id = @bookId AND p.entry_id = @entryId AND p.line_no = @lineNo
            """, new { bookId = book.Id, entryId, lineNo });
        if (posting is not { } found)
            throw new ValidationFailedException("posting", $"Journal entry {entryId} has no line {lineNo} in this book.");
        if (found.Code != line.GlAccount)
            throw new ValidationFailedException("posting.line", $"Line {lineNo} of entry {entryId} posts to '{found.Code}', not to the bank's account '{line.GlAccount}'.");
        if (found.Amount != line.Amount)
            throw new ConflictException($"Line {lineNo} of entry {entryId} is {Signed(found.Amount, book.Digits)} on '{line.GlAccount}'; the statement line is {Signed(line.Amount, book.Digits)}.");
        // A reversal on the entry's own date takes back a mistake: neither it nor what it reversed is money the bank moved.
        // One dated later is money that came in and went back (a returned direct debit, a bounced cheque): the entry is
        // the line that brought it, the reversal the line that took it back, matched in either order.
        if (found.ReversedBy is { } reversedBy && string.CompareOrdinal(found.ReversedOn, found.EntryDate) <= 0)
            throw new ConflictException($"Journal entry {entryId} was reversed on its own date (by entry {reversedBy}); match the line to an entry that stands.");
        if (found.ReversalOf is { } original && string.CompareOrdinal(found.EntryDate, found.OriginalDate) <= 0)
            throw new ConflictException($"Journal entry {entryId} is the reversal of entry {original} on its own date; it is not money through the bank " +
                "(a reversal dated later than its entry is: money that came in and went back).");
        if (connection.ExecuteScalar<long?>("SELECT statement_line_id FROM bank_matches WHERE book_id = @bookId AND entry_id = @entryId AND line_no = @lineNo AND undone_at IS NULL",
                new { bookId = book.Id, entryId, lineNo }) is { } other)
            throw new ConflictException($"Line {lineNo} of entry {entryId} is already matched to statement line {other}.");
        Claim(session, book.Id, line);
        return Record(session, book.Id, line, "posting", entryId, lineNo, found.EntryDate, null, null, by);
    }

    /// <summary>
    /// Creates a payment for the line, allocated to these documents of one party: money in settles invoices (or is a
    /// vendor's refund against vendor credits), money out settles bills (or refunds a customer's credit notes).
    /// </summary>
    public static long MatchDocuments(WriteSession session, BookIdentity book, StoredStatementLine line,
        IReadOnlyList<(long Document, long Amount)> documents, string by, string path = "documents")
    {
        var connection = session.Connection;
        RefuseZero(line);
        long total = 0;
        foreach (var (_, amount) in documents) total = checked(total + amount);
        // Less is an overpayment (or an underpaid refund): the payment is the whole line, and what its allocations leave
        // stays on the party as credit, as for a payment recorded by hand. More would settle money that never came.
        if (total > Math.Abs(line.Amount))
            throw new ValidationFailedException(path, $"The amounts add up to {new Amount(total).Format(book.Digits)}, more than the statement line's {new Amount(Math.Abs(line.Amount)).Format(book.Digits)}.");
        var first = connection.QuerySingleOrDefault<(string Kind, long PartyId)?>(
            "SELECT d.kind, d.party_id FROM documents d WHERE d.book_id = @bookId AND d.id = @id", new { bookId = book.Id, id = documents[0].Document });
        if (first is not { } document) throw new ValidationFailedException($"{path}[0].id", $"No document {documents[0].Document} in this book.");
        var customer = document.Kind is "invoice" or "credit_note";
        var expected = (customer, line.Amount > 0) switch
        {
            (true, true) => "invoice",
            (true, false) => "credit_note",
            (false, false) => "bill",
            (false, true) => "vendor_credit",
        };
        for (var i = 0; i < documents.Count; i++)
        {
            var kind = connection.QuerySingleOrDefault<(string Kind, long PartyId)?>(
                "SELECT kind, party_id FROM documents WHERE book_id = @bookId AND id = @id", new { bookId = book.Id, id = documents[i].Document });
            if (kind is not { } k) throw new ValidationFailedException($"{path}[{i}].id", $"No document {documents[i].Document} in this book.");
            if (k.Kind != expected)
                throw new ValidationFailedException($"{path}[{i}].id",
                    $"Document {documents[i].Document} is {Article.A(k.Kind.Replace('_', ' '))}; money {(line.Amount > 0 ? "in" : "out")} from this line settles {expected.Replace('_', ' ')}s.");
            if (k.PartyId != document.PartyId)
                throw new ValidationFailedException($"{path}[{i}].id", "All documents of one match belong to one customer or vendor.");
        }
        Claim(session, book.Id, line);
        var date = line.BookingDate;
        var request = new PaymentRequest(customer ? document.PartyId : null, customer ? null : document.PartyId, line.Amount > 0 ? "in" : "out",
            date, null, line.GlAccount, Truncate(line.BankReference, 255), null);
        var payment = PaymentsEndpoints.Record(session, book, request, Math.Abs(line.Amount));
        for (var i = 0; i < documents.Count; i++)
            OpenItemAllocations.Allocate(session, book, documents[i].Document, payment.Id, documents[i].Amount, null, by,
                $"{path}[{i}].id", "payment", $"{path}[{i}].amount");
        // The payment's entry puts the bank's line first (see PaymentsEndpoints.Record).
        return Record(session, book.Id, line, "documents", payment.EntryId, 0, date, payment.Id, null, by);
    }

    /// <summary>Posts the line against another account (fees, interest, transfers); a tax rate splits the tax out of the amount.</summary>
    public static long MatchAccount(WriteSession session, BookIdentity book, StoredStatementLine line, AccountCoding coding, long? ruleId,
        string by, string path = "")
    {
        var connection = session.Connection;
        RefuseZero(line);
        if (coding.Account == line.GlAccount)
            throw new ValidationFailedException(path + "account", "must be another account than the bank's own.");
        // A control account's lines are open items of a party: the line is matched to that party's documents, not coded.
        if (ControlAccounts.Read(connection, book.Id).Contains(coding.Account))
            throw new ValidationFailedException(path + "account", "must not be a receivables or payables control account (match the line to documents instead).");
        var gross = Math.Abs(line.Amount);
        var moneyIn = line.Amount > 0;
        var bankSide = moneyIn ? Side.Debit : Side.Credit;
        var otherSide = moneyIn ? Side.Credit : Side.Debit;
        var description = Truncate(coding.Description ?? line.Description, 1000);
        if (string.IsNullOrWhiteSpace(description)) description = "Bank statement line " + line.Id;
        var lines = new List<Posting> { new(line.GlAccount, bankSide, new Amount(gross)) };
        (string Rate, long Net, long Tax)? tax = null;
        if (coding.TaxRate is { } code)
        {
            var rate = connection.QuerySingleOrDefault<(string Rate, string SalesAccount, string PurchaseAccount, long Archived)?>(
                "SELECT rate, sales_account, purchase_account, archived FROM tax_rates WHERE book_id = @bookId AND code = @code",
                new { bookId = book.Id, code });
            if (rate is not { } found) throw new ValidationFailedException(path + "taxRate", $"No tax rate '{code}' in this book.");
            if (found.Archived != 0) throw new ValidationFailedException(path + "taxRate", $"Tax rate '{code}' is archived.");
            TaxRate.TryParse(found.Rate, out var taxRate, out _);
            UnitPrice.TryParse(new Amount(gross).Format(book.Digits), out var price, out _);
            var amounts = DocumentLineAmounts.Compute(Quantity.One, price, taxRate, AmountsAre.Inclusive, book.Digits);
            if (amounts.Net.IsPositive) lines.Add(new Posting(coding.Account, otherSide, amounts.Net));
            if (amounts.Tax.IsPositive) lines.Add(new Posting(moneyIn ? found.SalesAccount : found.PurchaseAccount, otherSide, amounts.Tax));
            tax = (code, amounts.Net.MinorUnits, amounts.Tax.MinorUnits);
        }
        else lines.Add(new Posting(coding.Account, otherSide, new Amount(gross)));

        Claim(session, book.Id, line);
        var date = DateText.ParseStoredDate(line.BookingDate);
        var entry = BalancedEntry.Create(date, description, Truncate(line.BankReference, 255), lines);
        JournalEntryResponse posted;
        try
        {
            posted = JournalPoster.Post(session, book, [entry], sources: [new EntrySourceInfo("statement_line", line.Id, null, null)])[0];
        }
        catch (PostingRefusedException refused)
        {
            throw PostingProblems.ForDerived(refused, book.Id, $"The entry for statement line {line.Id}");
        }
        return Record(session, book.Id, line, "account", posted.Id, 0, line.BookingDate, null, ruleId, by, tax);
    }

    /// <summary>
    /// Undoes the line's live match: a payment it created loses its allocations and is voided, an entry it created is
    /// reversed (each on its own date); a posting it named is simply free again. Refused (409) inside a closed reconciliation.
    /// </summary>
    public static void Unmatch(WriteSession session, BookIdentity book, StoredStatementLine line, string by)
    {
        var connection = session.Connection;
        var match = LiveMatch(connection, book.Id, line.Id)
            ?? throw new ConflictException($"Statement line {line.Id} is not matched.");
        if (match.ReconciliationId is { } reconciliation)
            throw new ConflictException($"Statement line {line.Id} is in closed reconciliation {reconciliation}; its match can no longer be undone.");
        // An entry this match created may carry another line's match too (a transfer between two bank accounts): that one goes first.
        if (match.Kind != "posting"
            && connection.ExecuteScalar<long?>("""
                SELECT MIN(statement_line_id) FROM bank_matches
                WHERE book_id = @bookId AND entry_id = @entryId AND undone_at IS NULL AND statement_line_id <> @lineId
                """, new { bookId = book.Id, entryId = match.EntryId, lineId = line.Id }) is { } other)
            throw new ConflictException($"Statement line {other} is matched to the entry this match created; undo that match first.");
        // The entry this line brought in was reversed later and that reversal is matched too (money that came in and went
        // back): the two lines go together, the later one first, or the books would keep money the bank returned.
        if (connection.ExecuteScalar<long?>("""
                SELECT MIN(m.statement_line_id) FROM journal_entries e
                JOIN bank_matches m ON m.book_id = e.book_id AND m.entry_id = e.reversed_by AND m.undone_at IS NULL
                WHERE e.book_id = @bookId AND e.id = @entryId
                """, new { bookId = book.Id, entryId = match.EntryId }) is { } returned)
            throw new ConflictException($"Statement line {returned} is matched to the later reversal of the entry this line is matched to " +
                $"(money that came in and went back); undo that match first.");
        long? reversalId = null;
        // A payment voided on its own since (a returned direct debit, voided on the day the money went back) has its
        // reversal already: the match just goes.
        var paymentVoided = match.Kind == "documents" && connection.ExecuteScalar<string?>(
            "SELECT voided_at FROM payments WHERE book_id = @bookId AND id = @id", new { bookId = book.Id, id = match.PaymentId }) is not null;
        if (match.Kind == "documents" && !paymentVoided)
        {
            var item = OpenItemAllocations.ItemOf(connection, book.Id, "payment", match.PaymentId!.Value);
            var undo = OpenItemAllocations.ActiveOn(connection, book.Id, item.Id);
            foreach (var allocation in undo) OpenItemAllocations.Undo(session, book.Id, allocation, by);
            PaymentsEndpoints.Void(session, book, match.PaymentId.Value);
            reversalId = connection.ExecuteScalar<long>("SELECT void_entry_id FROM payments WHERE book_id = @bookId AND id = @id",
                new { bookId = book.Id, id = match.PaymentId });
        }
        else if (match.Kind == "account")
        {
            var original = connection.Query<(string Code, long Amount)>("""
                SELECT a.code, p.amount FROM postings p JOIN accounts a ON a.id = p.account_id AND a.book_id = p.book_id
                WHERE p.book_id = @bookId AND p.entry_id = @entryId ORDER BY p.line_no
                """, new { bookId = book.Id, entryId = match.EntryId })
                .Select(p => new Posting(p.Code, p.Amount > 0 ? Side.Debit : Side.Credit, new Amount(Math.Abs(p.Amount)))).ToList();
            var reversal = BalancedEntry.Reversing(match.EntryId, DateText.ParseStoredDate(match.EntryDate),
                $"Undo of the match of statement line {line.Id}", Truncate(line.BankReference, 255), original);
            try
            {
                reversalId = JournalPoster.Post(session, book, [reversal], sources: [new EntrySourceInfo("statement_line", line.Id, null, null)])[0].Id;
            }
            catch (PostingRefusedException refused)
            {
                throw PostingProblems.ForDerived(refused, book.Id, $"The reversal of entry {match.EntryId} (statement line {line.Id})");
            }
        }
        connection.Execute("""
            UPDATE bank_matches SET undone_at = @at, undone_by = @by, reversal_entry_id = @reversalId WHERE book_id = @bookId AND id = @id
            """, new { at = Timestamps.Format(session.Now), by, reversalId, bookId = book.Id, id = match.Id });
        connection.Execute("UPDATE statement_lines SET status = 'unmatched' WHERE book_id = @bookId AND id = @id", new { bookId = book.Id, id = line.Id });
        EventLog.Append(session, book.Id, "statement_line.unmatched", "statement_line", line.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
            EventData.Of(("id", line.Id), ("match", match.Id), ("reversalEntryId", reversalId)));
    }

    private static string Signed(long amount, int digits) => new Amount(amount).Format(digits);

    public static string? Truncate(string? text, int max) => text is null || text.Length <= max ? text : text[..max];

    public const string SelectLineSql = """
        SELECT l.id AS Id, l.bank_account_id AS BankAccountId, l.statement_id AS StatementId, l.booking_date AS BookingDate,
               l.value_date AS ValueDate, l.amount AS Amount, l.description AS Description, l.counterparty AS Counterparty,
               l.counterparty_iban AS CounterpartyIban, l.bank_reference AS BankReference, l.reversal AS Reversal, l.status AS Status,
               b.account AS GlAccount
        FROM statement_lines l JOIN bank_accounts b ON b.id = l.bank_account_id AND b.book_id = l.book_id
        """;

    public const string SelectMatchSql = """
        SELECT id AS Id, statement_line_id AS StatementLineId, kind AS Kind, entry_id AS EntryId, line_no AS LineNo, entry_date AS EntryDate,
               payment_id AS PaymentId, rule_id AS RuleId, matched_at AS MatchedAt, matched_by AS MatchedBy, undone_at AS UndoneAt,
               reversal_entry_id AS ReversalEntryId, reconciliation_id AS ReconciliationId
        FROM bank_matches
        """;
}
