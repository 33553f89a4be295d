using NodaTime;

namespace Ledger.Domain;

/// <summary>Why a book refuses a balanced entry when it comes to post.</summary>
public enum PostingRefusalKind
{
    /// <summary>The book does not exist.</summary>
    BookNotFound,

    /// <summary>The entry is dated on or before the book's lock date.</summary>
    DateLocked,

    /// <summary>A line names an account the book does not have.</summary>
    UnknownAccount,

    /// <summary>A line names an archived account (only a closing entry may post to one).</summary>
    ArchivedAccount,

    /// <summary>A line would take the book's lifetime debit total, or an account's total, beyond 64 bits.</summary>
    TotalsLimit,

    /// <summary>The entry reverses one that has been reversed already.</summary>
    AlreadyReversed,

    /// <summary>A line posts to the receivables (payables) control account without naming its customer (vendor).</summary>
    PartyRequired,

    /// <summary>A line names a customer or vendor on an account that is not the control account for that kind.</summary>
    PartyNotAllowed,

    /// <summary>A line names a customer or vendor the book does not have.</summary>
    UnknownParty,
}

/// <summary>
/// One reason a book refused an entry, as a domain fact: which entry of the batch and which line, and the values
/// involved. The endpoints turn it into an HTTP answer (a field path, a status); the ledger itself knows no HTTP.
/// </summary>
public sealed record PostingRefusal(
    PostingRefusalKind Kind,
    int Entry,
    int? Line = null,
    string? Account = null,
    Side? Side = null,
    LocalDate? LockDate = null,
    LocalDate? EntryDate = null,
    long? OriginalEntry = null,
    PartyRef? Party = null,
    PartyKind? Expected = null);

/// <summary>The book refused what was posted; nothing of it was written.</summary>
public sealed class PostingRefusedException(IReadOnlyList<PostingRefusal> refusals)
    : Exception($"The book refused the entry: {string.Join(", ", refusals.Select(r => r.Kind))}.")
{
    public IReadOnlyList<PostingRefusal> Refusals { get; } = refusals;
}
