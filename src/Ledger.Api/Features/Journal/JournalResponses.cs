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
    bool ClosingEntry,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] EntrySource? Source = null);

/// <summary>The document or payment that posted an entry (absent on entries posted by hand).</summary>
public sealed record EntrySource(string Type, long Id, string? Number);

public sealed record JournalLineResponse(
    string Account,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Debit,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Credit,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Description,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Customer = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Vendor = null);

public sealed record JournalEntryPage(IReadOnlyList<JournalEntryResponse> Items, string? NextCursor);

public sealed record PostedEntryReference(long Id, long Number);

public sealed record JournalEntryBatchResponse(IReadOnlyList<PostedEntryReference> Entries);
