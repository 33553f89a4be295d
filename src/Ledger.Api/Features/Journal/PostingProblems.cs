using Ledger.Api.Infrastructure;
using Ledger.Domain;

namespace Ledger.Api.Features.Journal;

/// <summary>
/// What a book's refusal to post (<see cref="PostingRefusedException"/>) is in HTTP: the one place that decides the
/// field path, the status and the words. A line the client sent is a 400 on that line's field; the book's state
/// (its lock date, an entry already reversed) is a 409; an entry the server built (a reversal, a closing entry),
/// whose lines the client never sent, is a 409 that names each line and why.
/// </summary>
public static class PostingProblems
{
    /// <summary>Every debit ever posted in a book counts toward one 64-bit total, which keeps every report sum exact.</summary>
    public const string TotalsLimitMessage =
        "would take the totals of this book beyond 64-bit minor units (every debit ever posted in a book counts toward that limit, so that every report total stays exact).";

    /// <summary>
    /// The problem for entries the client sent; a field of entry <c>i</c> is reported under <paramref name="pathOf"/>(i),
    /// e.g. "" for a single entry or "entries[3]." in a batch.
    /// </summary>
    public static Exception ForRequest(PostingRefusedException refused, string bookId, Func<int, string> pathOf)
    {
        var errors = new Dictionary<string, string[]>();
        foreach (var refusal in refused.Refusals)
        {
            switch (refusal.Kind)
            {
                case PostingRefusalKind.BookNotFound:
                    return new ProblemException(StatusCodes.Status404NotFound, "Not found", $"No book '{bookId}'.");
                case PostingRefusalKind.DateLocked:
                    var lockDate = DateText.Format(refusal.LockDate!.Value);
                    return new ConflictException(
                        $"The books are locked through {lockDate}: {pathOf(refusal.Entry)}date {DateText.Format(refusal.EntryDate!.Value)} is on or before the lock date. Date the entry after {lockDate}.");
                case PostingRefusalKind.AlreadyReversed:
                    return new ConflictException($"Journal entry {refusal.OriginalEntry} has already been reversed.");
                default:
                    errors[FieldOf(refusal, pathOf)] = [MessageOf(refusal)];
                    break;
            }
        }
        return new ValidationFailedException(errors);
    }

    /// <summary>
    /// The problem for an entry the server built (<paramref name="what"/>, e.g. "The reversal of journal entry 7 (its
    /// lines with sides swapped)"): a line the book refuses is a conflict with the book's state, described in full,
    /// not a 400 on a field of the request.
    /// </summary>
    public static Exception ForDerived(PostingRefusedException refused, string bookId, string what)
    {
        // The server dated this entry (an undo on the original's date, a void on the document's): "date the entry later"
        // is advice the caller cannot follow, so say what can be done.
        if (refused.Refusals.FirstOrDefault(r => r.Kind == PostingRefusalKind.DateLocked) is { } locked)
            return new ConflictException(
                $"{what} cannot be posted: it is dated {DateText.Format(locked.EntryDate!.Value)}, and the books are locked through " +
                $"{DateText.Format(locked.LockDate!.Value)}. Where the request takes a date (a void does), give one after the lock date; " +
                "otherwise an admin key moves the lock date back first (PUT /v1/books/{bookId}/lock-date).");
        var lineRefusals = refused.Refusals.Where(r => r.Line is not null).ToList();
        if (lineRefusals.Count == 0) return ForRequest(refused, bookId, _ => "");
        var reasons = lineRefusals.Select(r => $"{FieldOf(r, _ => "")}: {MessageOf(r)}");
        return new ConflictException($"{what} cannot be posted. {string.Join(" ", reasons)}");
    }

    private static string FieldOf(PostingRefusal refusal, Func<int, string> pathOf) => refusal.Kind switch
    {
        PostingRefusalKind.TotalsLimit => $"{pathOf(refusal.Entry)}lines[{refusal.Line}].{(refusal.Side == Side.Debit ? "debit" : "credit")}",
        PostingRefusalKind.PartyRequired => $"{pathOf(refusal.Entry)}lines[{refusal.Line}].{FieldName(refusal.Expected!.Value)}",
        PostingRefusalKind.PartyNotAllowed or PostingRefusalKind.UnknownParty =>
            $"{pathOf(refusal.Entry)}lines[{refusal.Line}].{refusal.Party!.Value.FieldName}",
        _ => $"{pathOf(refusal.Entry)}lines[{refusal.Line}].account",
    };

    private static string FieldName(PartyKind kind) => kind == PartyKind.Customer ? "customer" : "vendor";

    private static string MessageOf(PostingRefusal refusal) => refusal.Kind switch
    {
        PostingRefusalKind.UnknownAccount => $"No account '{refusal.Account}' in this book.",
        PostingRefusalKind.ArchivedAccount => $"Account '{refusal.Account}' is archived and takes no new postings.",
        PostingRefusalKind.TotalsLimit => TotalsLimitMessage,
        PostingRefusalKind.PartyRequired =>
            $"is required: account '{refusal.Account}' is the book's {(refusal.Expected == PartyKind.Customer ? "receivables" : "payables")} control account, and each line on it names its {FieldName(refusal.Expected!.Value)}.",
        PostingRefusalKind.PartyNotAllowed =>
            $"must be left out: only lines on the book's {(refusal.Party!.Value.Kind == PartyKind.Customer ? "receivables" : "payables")} control account name a {refusal.Party.Value.FieldName}, and '{refusal.Account}' is not it.",
        PostingRefusalKind.UnknownParty => $"No {refusal.Party!.Value.FieldName} {refusal.Party.Value.Id} in this book.",
        _ => refusal.Kind.ToString(),
    };
}
