using System.Text.Json.Serialization;

namespace Ledger.Api.Features.Journal;

public sealed record JournalEntryResponse(
    long Id,
    long Number,
    string Date,
    string Description,
    string? Reference,
    IReadOnlyList<JournalLineResponse> Lines,
    string CreatedAt,
    long? ReversalOf,
    long? ReversedBy,
    bool ClosingEntry);

public sealed record JournalLineResponse(
    string Account,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Debit,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Credit,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Description);

public sealed record JournalEntryPage(IReadOnlyList<JournalEntryResponse> Items, string? NextCursor);

public sealed record PostedEntryReference(long Id, long Number);

public sealed record JournalEntryBatchResponse(IReadOnlyList<PostedEntryReference> Entries);
