using System.ComponentModel;
using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using FluentValidation;
using Ledger.Api.Features.Books;
using Ledger.Api.Infrastructure;
using Ledger.Api.Infrastructure.Security;
using Ledger.Domain;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Ledger.Api.Features.Audit;

public sealed record EventActorInfo(string KeyId, string? Name);

public sealed record EventSubject(string Type, string Id);

/// <summary>One event of a book's log. <c>hash</c> chains it to the one before (see the README's Audit section).</summary>
/// <remarks><c>Data</c> is typed <see cref="JsonObject"/>, never null: every event's data is written as an object, and the
/// OpenAPI document describes the property from its type (an object with any members).</remarks>
public sealed record LedgerEvent(long Sequence, string Type, string OccurredAt, EventActorInfo? Actor, EventSubject Subject,
    [property: Description("What changed, as a JSON object whose members depend on the event type: for journal_entry.* the entry " +
                           "with its lines, for document.* the document as it stands after the change.")] JsonObject Data,
    string Hash);

public sealed record EventPage(
    IReadOnlyList<LedgerEvent> Items,
    string? NextCursor,
    [property: Description("The sequence this page read up to: resume with after = lastSequence. With types it can be past the last " +
                           "item, as events of other types were passed over; with nothing new, it is the after given.")] long LastSequence);

public sealed record EventFeedQuery(
    [property: FromQuery(Name = "after"), Description("Events after this sequence (0, or left out: from the first). Resume with the last sequence you handled. " +
                                                     "Past the book's last event it is a 400, not an empty page.")] long? After,
    [property: FromQuery(Name = "types"), Description("Comma-separated event types to keep, exact (journal_entry.posted) or by prefix (journal_entry.*).")] string? Types,
    [property: FromQuery(Name = "limit"), Description("Largest page wanted, 1 to 1000 (100 when left out).")] int? Limit,
    [property: FromQuery(Name = "cursor")] string? Cursor);

/// <summary>The first thing the audit found that does not agree: an event (by sequence) or a row (by table and id).</summary>
public sealed record AuditFinding(string Kind, long? Sequence, string? Table, string? Id, string Reason);

public sealed record AuditVerification(bool Valid, long Events, string Head, long EntriesChecked, long DocumentsChecked,
    long EntriesBeforeLog, long DocumentsBeforeLog, AuditFinding? FirstInvalid);

public sealed class EventFeedQueryValidator : AbstractValidator<EventFeedQuery>
{
    public EventFeedQueryValidator()
    {
        RuleFor(x => x.After).GreaterThanOrEqualTo(0).WithMessage("must be a sequence, 0 or more.");
        RuleFor(x => x.Limit).InclusiveBetween(1, 1000).WithMessage("must be from 1 to 1000.");
        RuleFor(x => x.Types).MaximumLength(1000).Matches("^[a-z_.*]+(,[a-z_.*]+)*$").When(x => x.Types is not null)
            .WithMessage("must be event types separated by commas, such as journal_entry.posted,document.*.");
        RuleFor(x => x.Cursor).IsIdCursor();
        // Two places to resume from would leave one silently ignored.
        RuleFor(x => x.Cursor).Null().When(x => x.After is not null).WithMessage("must be left out when after is given: resume with one of them.");
    }
}

/// <summary>
/// The event feed and the audit. The feed is ordered by sequence and resumable from any sequence. The audit recomputes
/// the hash chain from the first event, and checks that every journal entry (with its postings) and every document
/// still says what its event says, naming the first event or row that differs.
/// </summary>
public static class AuditEndpoints
{
    public const int ChunkSize = 1000;

    public static void MapAudit(this IEndpointRouteBuilder app)
    {
        var book = app.MapGroup("/v1/books/{bookId}").RequireBookAccess().ValidateRequests();
        book.MapGet("/events", FeedAsync).WithTags("Events").WithName("listEvents").WithSummary("Read the event feed")
            .WithDescription("Everything that changed the book, one event per change, in sequence order (gapless per book). Resume with " +
                             "after = the last sequence handled; types keeps some (journal_entry.posted, document.*). Each event: " +
                             "{sequence, type, occurredAt, actor {keyId, name}, subject {type, id}, data, hash}.");
        book.MapGet("/audit/verify", VerifyAsync).WithTags("Audit").WithName("verifyAudit").WithSummary("Verify the audit log")
            .WithDescription("Recomputes the hash chain of the book's events and checks that entries, postings and documents still match " +
                             "their events. Answers {valid, events, head} and, when something differs, firstInvalid naming the first " +
                             "event (by sequence) or row (table and id) that does.");
        book.MapGet("/audit/export", ExportAsync).WithTags("Audit").WithName("exportAudit").WithSummary("Export the audit log")
            .WithDescription("Every event of the book as JSON Lines (application/jsonl), in sequence order, each with its hash, to verify " +
                             "offline (dotnet run --project src/Ledger.AuditVerify -- export.jsonl).")
            .Produces<string>(StatusCodes.Status200OK, "application/jsonl");
    }

    private static async Task<Ok<EventPage>> FeedAsync(string bookId, [AsParameters] EventFeedQuery query, BookCatalog books, LedgerDatabase database)
    {
        _ = await books.GetAsync(bookId);
        var limit = query.Limit ?? 100;
        var after = IdCursor.TryDecode(query.Cursor, out var cursorId) ? cursorId : query.After ?? 0;
        var (exact, prefixes) = Types(query.Types);
        var items = new List<LedgerEvent>(Math.Min(limit, 1000));
        long? last = null;
        var more = false;
        await using var connection = await database.OpenReplicaReadAsync();
        // Filtering by type in memory keeps one plan; the scan is bounded by scanning at most a few pages' worth.
        var from = after;
        for (var pass = 0; pass < 20 && items.Count < limit; pass++)
        {
            // Entries' events are read with their entries, on the same connection (a replica has both or neither).
            var rows = await EventReader.ReadAsync(connection, bookId, from, ChunkSize);
            foreach (var (row, _, _, _, _) in rows)
            {
                if (items.Count == limit) { more = true; break; }
                last = row.Sequence;
                if (exact.Count + prefixes.Count == 0 || exact.Contains(row.Type) || prefixes.Any(p => row.Type.StartsWith(p, StringComparison.Ordinal)))
                    items.Add(row.ToEvent());
            }
            if (more || rows.Count < ChunkSize) break;
            from = rows[^1].Event.Sequence;
            if (pass == 19 || items.Count == limit)
            {
                // The page is full (or the scan bounded) at a chunk's end: whether anything follows decides the cursor.
                more = await HeadAsync(connection, bookId) > from;
                break;
            }
        }
        // Nothing after `after`: it must still be a sequence the log has reached, or a client that resumes from a number of
        // its own would silently skip every event up to it once the log got there. A replica may lag, so the primary decides.
        if (last is null && after > 0 && await HeadAsync(connection, bookId) < after)
        {
            await using var primary = await database.OpenReadAsync();
            if (await HeadAsync(primary, bookId) is var head && head < after)
                throw new ValidationFailedException(query.Cursor is not null ? "cursor" : "after",
                    $"must be at most {head}, the book's last event sequence.");
        }
        var cursor = more && last is { } l ? IdCursor.Encode(l) : null;
        // Where the next page starts: past every event read, matching or not, so a filtered feed does not read the same
        // events of other types again on every poll.
        return TypedResults.Ok(new EventPage(items, cursor, last ?? after));
    }

    // The last row may be a run of entry events (EntryEventRun): the head is its last sequence.
    private static async Task<long> HeadAsync(DbConnection connection, string bookId) =>
        await connection.ExecuteScalarAsync<long?>(
            "SELECT COALESCE(through_sequence, sequence) FROM events WHERE book_id = @bookId ORDER BY sequence DESC LIMIT 1", new { bookId }) ?? 0;

    private static (HashSet<string> Exact, List<string> Prefixes) Types(string? types)
    {
        var exact = new HashSet<string>(StringComparer.Ordinal);
        var prefixes = new List<string>();
        foreach (var type in (types ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
            if (type == "*") return ([], []); // every type, as for webhooks
            else if (type.EndsWith(".*", StringComparison.Ordinal)) prefixes.Add(type[..^1]);
            else exact.Add(type);
        return (exact, prefixes);
    }

    private static async Task ExportAsync(string bookId, HttpContext http, BookCatalog books, LedgerDatabase database,
        Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
    {
        http.Response.ContentType = "application/jsonl; charset=utf-8";
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"ledger-{bookId}-events.jsonl\"";
        // One read snapshot for the whole export (ended when it is disposed, before the connection returns to the pool).
        await using var snapshot = await Reports.ReportSnapshot.OpenAsync(bookId, books, database);
        var connection = snapshot.Connection;
        // The API's own options, so each line is byte for byte the event as the feed writes it (raw UTF-8, not \u escapes).
        var options = json.Value.SerializerOptions;
        long from = 0;
        // A page at a time, written as it is read: an export of a million events never sits in memory.
        while (true)
        {
            var rows = await EventReader.ReadAsync(connection, bookId, from, ChunkSize);
            var text = new StringBuilder();
            foreach (var row in rows) text.Append(JsonSerializer.Serialize(row.Event.ToEvent(), options)).Append('\n');
            await http.Response.WriteAsync(text.ToString(), http.RequestAborted);
            if (rows.Count < ChunkSize) break;
            from = rows[^1].Event.Sequence;
        }
    }

    private static async Task<Ok<AuditVerification>> VerifyAsync(string bookId, BookCatalog books, LedgerDatabase database)
    {
        await using var snapshot = await Reports.ReportSnapshot.OpenAsync(bookId, books, database);
        return TypedResults.Ok(await AuditVerifier.VerifyAsync(snapshot.Connection, snapshot.Book));
    }

    public sealed record StoredEvent(long Sequence, string Type, string OccurredAt, string? ActorKeyId, string? ActorName, string SubjectType,
        string SubjectId, string Data, string Hash)
    {
        public LedgerEvent ToEvent() => new(Sequence, Type, OccurredAt, ActorKeyId is null ? null : new EventActorInfo(ActorKeyId, ActorName),
            new EventSubject(SubjectType, SubjectId), Data.Length == 0 ? [] : JsonNode.Parse(Data)!.AsObject(), Hash);
    }
}

/// <summary>The audit itself: the chain, then the rows against their events, a chunk at a time in one read snapshot.</summary>
public static class AuditVerifier
{
    public static async Task<AuditVerification> VerifyAsync(DbConnection connection, BookIdentity book)
    {
        var bookId = book.Id;
        var (auditFromEntry, auditFromDocument) = await connection.QuerySingleAsync<(long, long)>(
            "SELECT audit_from_entry, audit_from_document FROM books WHERE id = @bookId", new { bookId });
        var entriesBefore = await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM journal_entries WHERE book_id = @bookId AND id <= @auditFromEntry", new { bookId, auditFromEntry });
        var documentsBefore = await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM documents WHERE book_id = @bookId AND id <= @auditFromDocument", new { bookId, auditFromDocument });

        // 1. The chain: gapless from 1, each hash recomputed from the one before and the event's canonical bytes.
        long events = 0, from = 0;
        var head = AuditChain.Genesis;
        // A row of a run that no longer matches its fingerprint where its event's hash is not kept: whether the row or its
        // fingerprint was changed shows at the next hash kept (at most 63 events on; the run's last event's at the latest).
        // Until then the check goes on, and whatever it finds first, this row came first.
        (Mismatch Mismatch, long Events, string Head)? pending = null;
        AuditVerification Result(AuditFinding? finding, long entries = 0, long documents = 0) => pending is { } p
            ? new(false, p.Events, p.Head, 0, 0, entriesBefore, documentsBefore, p.Mismatch.Unsettled)
            : new(finding is null, events, head, entries, documents, entriesBefore, documentsBefore, finding);
        // Entries whose events are in runs, as step 1 finds them (each holds one event: step 2 counts those that claim one).
        long runEntries = 0;
        long? previousInRun = null;
        // The last event whose hash, as kept, was found to follow, and the entry after it: when a kept hash does not
        // follow, what changed lies between the two (each entry's rows are checked against their fingerprints on the way).
        long anchored = 0;
        var anchoredHead = AuditChain.Genesis;
        string? afterAnchor = null;
        while (true)
        {
            var rows = await EventReader.ReadAsync(connection, bookId, from, AuditEndpoints.ChunkSize);
            foreach (var (e, run, entry, lines, fingerprints) in rows)
            {
                if (e.Sequence != events + 1)
                    return Result(new AuditFinding("event", events + 1, "events", null, $"Event {events + 1} is missing (the next stored is {e.Sequence})."));
                if (run is not null)
                {
                    if (e.Sequence == run.Sequence) previousInRun = null;
                    if (run.StoredData.Length != 0)
                        return Result(new AuditFinding("event", e.Sequence, "events", null,
                            $"Event {e.Sequence} was changed: the log's row for events {run.Sequence} to {run.ThroughSequence} holds data, which the entries' rows are."));
                    if (entry is null)
                        return Result(await EntryOfRunMissingAsync(connection, bookId, run, e.Sequence, previousInRun));
                    if (e.Sequence == run.Sequence && e.SubjectId != run.FirstEntry)
                        return Result(new AuditFinding("event", e.Sequence, "events", null,
                            $"Event {e.Sequence} was changed: the log's row for events {run.Sequence} to {run.ThroughSequence} names entry {run.FirstEntry} first; event {e.Sequence} posted entry {e.SubjectId}."));
                }
                string hash;
                try
                {
                    // The stored data must itself be canonical: reading and rewriting it must give the same bytes.
                    var canonical = CanonicalJson.Text(JsonNode.Parse(e.Data));
                    if (canonical != e.Data) throw new FormatException("its data is not in canonical form");
                    hash = AuditChain.Next(head, AuditChain.EventBytes(e.Sequence, e.Type, e.OccurredAt, e.ActorKeyId, e.ActorName, e.SubjectType, e.SubjectId, e.Data));
                }
                catch (Exception ex) when (ex is JsonException or FormatException or ArgumentException or InvalidOperationException)
                {
                    return Result(new AuditFinding("event", e.Sequence, "events", null, $"Event {e.Sequence} cannot be read: {ex.Message}."));
                }
                if (run is not null)
                {
                    afterAnchor ??= entry!.Id.ToString(CultureInfo.InvariantCulture);
                    // Where the hash the reader gave is kept: on the entry's row, on the run's row (its last event's), or nowhere
                    // (the reader recomputed it from the last one kept, which this loop has already found to follow).
                    var keptOn = entry!.EventHash is not null ? $"journal entry {entry.Id}'s row"
                        : e.Sequence == run.ThroughSequence ? $"the log's row for events {run.Sequence} to {run.ThroughSequence}"
                        : null;
                    // The fingerprints are checked even when the hash follows: they are the rows' own, and must say the same.
                    var hashDiffers = hash != e.Hash;
                    // (With a row pending, a hash that does not follow is what settles it, not a finding of this event's.)
                    var (changed, mismatch) = ChangedInRun(e, run, entry, lines!, fingerprints!, book.Digits, hashDiffers && pending is null, keptOn,
                        anchored + 1, afterAnchor);
                    if (pending is { } earlier)
                    {
                        if (changed is not null || mismatch is not null) return Result(null);
                        if (keptOn is not null)
                        {
                            // Settled: what was verified is what came before the row.
                            (pending, events, head) = (null, earlier.Events, earlier.Head);
                            return Result(hashDiffers ? earlier.Mismatch.RowChanged : earlier.Mismatch.FingerprintChanged);
                        }
                    }
                    else if (changed is not null)
                    {
                        // A kept hash that does not follow: what is verified is the chain up to the last one that did.
                        if (changed.Kind == "event") (events, head) = (anchored, anchoredHead);
                        return Result(changed);
                    }
                    else if (mismatch is not null)
                    {
                        if (keptOn is not null) return Result(hashDiffers ? mismatch.RowChanged : mismatch.FingerprintChanged);
                        pending = (mismatch, events, head);
                    }
                    if (e.Sequence == run.ThroughSequence && run.Hash != hash)
                        return Result(new AuditFinding("event", e.Sequence, "events", null,
                            $"Event {e.Sequence} was changed: the log's row for events {run.Sequence} to {run.ThroughSequence} no longer holds its hash."));
                    // Every 64th entry keeps its event's hash, so that a page of the feed need not hash from the run's start.
                    if (EntryEventRun.KeepsHash(e.Sequence) && entry.EventHash is null)
                        return Result(new AuditFinding("row", e.Sequence, "journal_entries", entry.Id.ToString(CultureInfo.InvariantCulture),
                            $"Journal entry {entry.Id} no longer keeps the hash of event {e.Sequence}, which posted it (the entry of every {EntryEventRun.HashEvery}th event keeps it)."));
                    previousInRun = entry.Id;
                    runEntries++;
                    if (keptOn is not null)
                    {
                        (anchored, anchoredHead) = (e.Sequence, hash);
                        afterAnchor = null;
                    }
                }
                else
                {
                    if (hash != e.Hash)
                        return Result(new AuditFinding("event", e.Sequence, "events", null, $"Event {e.Sequence} was changed: its hash does not follow from the event before it and its content."));
                    (anchored, anchoredHead) = (e.Sequence, hash);
                    afterAnchor = null;
                }
                head = hash;
                events++;
            }
            if (rows.Count < AuditEndpoints.ChunkSize) break;
            from = rows[^1].Event.Sequence;
        }
        if (pending is not null) return Result(null);

        // 2. Journal entries and their postings against their events.
        var (entryFinding, entriesChecked) = await CheckEntriesAsync(connection, book, auditFromEntry, runEntries);
        if (entryFinding is not null) return Result(entryFinding, entriesChecked);
        if (await OrphanPostingFindingAsync(connection, bookId) is { } orphan) return Result(orphan, entriesChecked);
        // 2a. The totals the reports read agree with the postings they sum.
        if (await TotalsFindingAsync(connection, bookId) is { } totals) return Result(totals, entriesChecked);
        // 2b. What hangs off entries: open items (aging reads them) agree with their postings, and reversals are linked both ways.
        if (await DerivedRowsFindingAsync(connection, bookId) is { } derived) return Result(derived, entriesChecked);
        // 3. Documents against their last events.
        var (documentFinding, documentsChecked) = await CheckDocumentsAsync(connection, book, auditFromDocument, events);
        return Result(documentFinding, entriesChecked, documentsChecked);
    }

    private static async Task<(AuditFinding?, long)> CheckEntriesAsync(DbConnection connection, BookIdentity book, long auditFrom, long runEntries)
    {
        var bookId = book.Id;
        long checkedCount = 0, after = auditFrom;
        while (true)
        {
            var entries = (await connection.QueryAsync<EventReader.EntryRow>(EventReader.SelectEntriesSql + " AND id > @after ORDER BY id LIMIT @take",
                new { bookId, after, take = AuditEndpoints.ChunkSize })).AsList();
            if (entries.Count == 0) break;
            var first = entries[0].Id;
            var last = entries[^1].Id;
            var lines = (await connection.QueryAsync<EventReader.PostingRow>(
                EventReader.SelectPostingsSql + " AND p.entry_id >= @first AND p.entry_id <= @last ORDER BY p.entry_id, p.line_no",
                new { bookId, first, last })).ToLookup(p => p.EntryId);
            // Entries posted before runs have an event row of their own, with the entry's text as its data.
            var sequences = entries.Where(e => e.Fingerprint is null && e.EventSequence is not null).Select(e => e.EventSequence!.Value).ToList();
            var data = new Dictionary<long, (string SubjectType, string SubjectId, string Data)>();
            foreach (var chunk in sequences.Chunk(500))
                foreach (var row in await connection.QueryAsync<(long Sequence, string SubjectType, string SubjectId, string Data)>(
                             $"SELECT sequence, subject_type, subject_id, data FROM events WHERE book_id = @bookId AND through_sequence IS NULL AND sequence IN ({string.Join(", ", chunk)})",
                             new { bookId }))
                    data[row.Sequence] = (row.SubjectType, row.SubjectId, row.Data);

            foreach (var entry in entries)
            {
                var id = entry.Id.ToString(CultureInfo.InvariantCulture);
                // An entry whose event is in a run keeps fingerprints (older entries have none).
                var inRun = entry.Fingerprint is not null;
                (string SubjectType, string SubjectId, string Data) recorded = ("", "", "");
                if (entry.EventSequence is not { } sequence
                    || (!inRun && (!data.TryGetValue(sequence, out recorded) || recorded.SubjectType != "journal_entry" || recorded.SubjectId != id)))
                    return (new AuditFinding("row", entry.EventSequence, "journal_entries", id,
                        $"Journal entry {entry.Id} has no event of its own: it was not posted through the ledger."), checkedCount);
                // A posting carries its entry's date for the reports by date: it must still be the entry's.
                if (lines[entry.Id].FirstOrDefault(p => p.EntryDate != entry.EntryDate) is { } moved)
                    return (new AuditFinding("row", sequence, "postings", $"{id}/{moved.LineNo}",
                        $"Line {moved.LineNo} of journal entry {entry.Id} is dated {moved.EntryDate}; the entry, as event {sequence} posted it, {entry.EntryDate}."), checkedCount);
                if (!inRun)
                {
                    // Step 1 proved a run's entries against the chain; an older entry is held against its event's data.
                    var entryLines = EventReader.EntryLines(lines[entry.Id]);
                    if (EventReader.Text(entry, entryLines, book.Digits) != recorded.Data)
                        return (Differs(entry, entryLines, recorded.Data, sequence, book.Digits), checkedCount);
                }
                checkedCount++;
            }
            after = last;
        }

        // Step 1 found one entry for each event of a run. An entry claiming such an event beyond those (a copy of an
        // entry's row, say) was not read there: as many entries must claim one as there are.
        var claiming = await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM journal_entries WHERE book_id = @bookId AND fingerprint IS NOT NULL", new { bookId });
        if (claiming != runEntries) return (await ClaimingEntryFindingAsync(connection, bookId, claiming, runEntries), checkedCount);

        // Every entry event's entry still exists and still names that event: an entry deleted, or unlinked from its event
        // (and so passed off as older than the log), is found from the log's side, whatever the book says the log began with.
        // (Runs were read entry by entry in step 1; these are the events that have rows of their own.)
        long from = 0;
        while (true)
        {
            var subjects = (await connection.QueryAsync<(long Sequence, string SubjectId)>("""
                SELECT sequence, subject_id FROM events
                WHERE book_id = @bookId AND subject_type = 'journal_entry' AND through_sequence IS NULL AND sequence > @from
                ORDER BY sequence LIMIT @take
                """, new { bookId, from, take = AuditEndpoints.ChunkSize })).AsList();
            if (subjects.Count == 0) break;
            var ids = subjects.Select(s => long.TryParse(s.SubjectId, CultureInfo.InvariantCulture, out var n) ? n : -1).ToList();
            var linked = new Dictionary<long, long?>();
            foreach (var row in await connection.QueryAsync<(long Id, long? EventSequence)>(
                         $"SELECT id, event_sequence FROM journal_entries WHERE book_id = @bookId AND id IN ({string.Join(", ", ids)})", new { bookId }))
                linked[row.Id] = row.EventSequence;
            for (var i = 0; i < subjects.Count; i++)
            {
                var (sequence, subjectId) = subjects[i];
                if (!linked.TryGetValue(ids[i], out var named))
                    return (new AuditFinding("row", sequence, "journal_entries", subjectId, $"Journal entry {subjectId}, posted by event {sequence}, is gone."), checkedCount);
                if (named != sequence)
                    return (new AuditFinding("row", sequence, "journal_entries", subjectId,
                        $"Journal entry {subjectId} no longer names event {sequence}, which posted it."), checkedCount);
            }
            from = subjects[^1].Sequence;
        }
        return (null, checkedCount);
    }

    /// <summary>Names what differs: the entry's own fields, or the first of its postings that does.</summary>
    private static AuditFinding Differs(EventReader.EntryRow entry, IReadOnlyList<AuditSnapshots.EntryLine> lines, string recorded, long sequence, int digits)
    {
        var id = entry.Id.ToString(CultureInfo.InvariantCulture);
        var said = JsonNode.Parse(recorded)!.AsObject();
        var saidLines = said["lines"]?.AsArray() ?? [];
        var rebuilt = AuditSnapshots.Entry(entry.Id, entry.Number, entry.EntryDate, entry.Description, entry.Reference, entry.ReversalOf,
            entry.IsClosing != 0, entry.SourceType, entry.SourceId, lines, digits);
        var rebuiltLines = rebuilt["lines"]!.AsArray();
        for (var i = 0; i < Math.Max(saidLines.Count, rebuiltLines.Count); i++)
        {
            var a = i < saidLines.Count ? CanonicalJson.Text(saidLines[i]) : null;
            var b = i < rebuiltLines.Count ? CanonicalJson.Text(rebuiltLines[i]) : null;
            if (a != b)
                return new AuditFinding("row", sequence, "postings", $"{id}/{i}",
                    b is null ? $"Line {i} of journal entry {entry.Id} is gone; event {sequence} posted it."
                    : a is null ? $"Line {i} of journal entry {entry.Id} is not in event {sequence}: it was added."
                    : $"Line {i} of journal entry {entry.Id} differs from event {sequence}: it says {b}, the event {a}.");
        }
        return new AuditFinding("row", sequence, "journal_entries", id, $"Journal entry {entry.Id} differs from event {sequence}, which posted it.");
    }

    /// <summary>
    /// More entries claim an event of a run than step 1 found (<paramref name="runEntries"/>): the one that shares its
    /// event with another entry (the later of the two; the reader took the first), or whose event no run holds.
    /// </summary>
    private static async Task<AuditFinding> ClaimingEntryFindingAsync(DbConnection connection, string bookId, long claiming, long runEntries)
    {
        var shared = await connection.QueryFirstOrDefaultAsync<(long Id, long Sequence)?>("""
            SELECT MAX(id), event_sequence FROM journal_entries WHERE book_id = @bookId AND fingerprint IS NOT NULL
            GROUP BY event_sequence HAVING COUNT(*) > 1 ORDER BY event_sequence LIMIT 1
            """, new { bookId });
        var outside = shared is null
            ? await connection.QueryFirstOrDefaultAsync<(long Id, long? Sequence)?>("""
                SELECT j.id, j.event_sequence FROM journal_entries j
                WHERE j.book_id = @bookId AND j.fingerprint IS NOT NULL
                  AND (j.event_sequence IS NULL OR COALESCE((SELECT e.through_sequence FROM events e WHERE e.book_id = j.book_id AND e.sequence <= j.event_sequence
                                                             ORDER BY e.sequence DESC LIMIT 1), 0) < j.event_sequence)
                ORDER BY j.id LIMIT 1
                """, new { bookId })
            : null;
        return shared is { } s
            ? new AuditFinding("row", s.Sequence, "journal_entries", s.Id.ToString(CultureInfo.InvariantCulture),
                $"Journal entry {s.Id} has no event of its own: event {s.Sequence}, which it names, posted another entry.")
            : outside is { } o
                ? new AuditFinding("row", o.Sequence, "journal_entries", o.Id.ToString(CultureInfo.InvariantCulture),
                    $"Journal entry {o.Id} has no event of its own: the log holds no entry event {o.Sequence?.ToString(CultureInfo.InvariantCulture) ?? ""}.")
                : new AuditFinding("row", null, "journal_entries", null,
                    $"{claiming} journal entries claim events of the log, which posted {runEntries}.");
    }

    /// <summary>
    /// No entry names event <paramref name="sequence"/> of <paramref name="run"/>. The entry after the one that holds the
    /// event before it (<paramref name="previousInRun"/>; before the run's first entry for its first event) tells which:
    /// if that one holds a later event, the entry is gone; if it holds none (or an earlier one), it is the entry, unlinked.
    /// </summary>
    private static async Task<AuditFinding> EntryOfRunMissingAsync(DbConnection connection, string bookId, EventReader.Run run, long sequence,
        long? previousInRun)
    {
        // An entry names the event, but not where the run's row says its entries begin: the row was changed. (A scan of the
        // book's entries, on this path only.)
        if (await connection.QueryFirstOrDefaultAsync<long?>(
                "SELECT id FROM journal_entries WHERE book_id = @bookId AND event_sequence = @sequence ORDER BY id LIMIT 1", new { bookId, sequence }) is { } named)
            return new AuditFinding("event", sequence, "events", null,
                $"Event {sequence} was changed: the log's row for events {run.Sequence} to {run.ThroughSequence} names entry {run.FirstEntry} first, " +
                $"and journal entry {named}, which holds event {sequence}, comes before it.");
        var first = long.TryParse(run.FirstEntry, NumberStyles.None, CultureInfo.InvariantCulture, out var firstId);
        if (previousInRun is null && !first)
            return new AuditFinding("event", sequence, "events", null,
                $"Event {sequence} was changed: the log's row for events {run.Sequence} to {run.ThroughSequence} names no entry ('{run.FirstEntry}').");
        var after = previousInRun ?? firstId - 1;
        var next = await connection.QueryFirstOrDefaultAsync<(long Id, long? EventSequence)?>(
            "SELECT id, event_sequence FROM journal_entries WHERE book_id = @bookId AND id > @after ORDER BY id LIMIT 1", new { bookId, after });
        if (next is { } n && (n.EventSequence is null || n.EventSequence < sequence))
            return new AuditFinding("row", sequence, "journal_entries", n.Id.ToString(CultureInfo.InvariantCulture),
                $"Journal entry {n.Id} no longer names event {sequence}, which posted it.");
        // Its id: the run's first, or the one id between its neighbours when only one is (a batch draws its ids in a
        // block, so they are usually consecutive); else only its neighbours are known.
        var id = previousInRun is null ? run.FirstEntry
            : next is { } following && following.Id - previousInRun.Value == 2 && following.EventSequence == sequence + 1
                ? (previousInRun.Value + 1).ToString(CultureInfo.InvariantCulture)
                : null;
        var between = previousInRun is { } p
            ? next is { } later ? $"; it came after entry {p} and before entry {later.Id}" : $"; it came after entry {p}"
            : "";
        return new AuditFinding("row", sequence, "journal_entries", id,
            id is null ? $"The journal entry event {sequence} posted is gone{between}." : $"Journal entry {id}, posted by event {sequence}, is gone{between}.");
    }

    /// <summary>
    /// What a row of a run that no longer matches its fingerprint is found to be: changed itself (the hash no longer
    /// follows), only its fingerprint changed (the hash follows), or either, when that cannot be told.
    /// </summary>
    private sealed record Mismatch(AuditFinding RowChanged, AuditFinding FingerprintChanged, AuditFinding Unsettled);

    /// <summary>
    /// Names what changed in the rows of an entry event of a run: a line gone or on an account the book lacks, or, when
    /// the hash no longer follows (<paramref name="hashDiffers"/>) and the rows all match their fingerprints, the event.
    /// A row that no longer matches its fingerprint (a line, or the entry's own members) is a <see cref="Mismatch"/>: which
    /// of the three it is depends on whether the hash follows, known here only where the event's hash is kept
    /// (<paramref name="keptOn"/>). Both null when nothing differs.
    /// </summary>
    /// <param name="keptOn">Where the event's hash is kept (null when the reader recomputed it).</param>
    /// <param name="since">The first event after the last whose kept hash followed; <paramref name="sinceEntry"/> is its entry.</param>
    /// <param name="computed">The fingerprints the rows give as read (the reader computed them with the event's text).</param>
    private static (AuditFinding? Changed, Mismatch? Mismatch) ChangedInRun(AuditEndpoints.StoredEvent e, EventReader.Run run, EventReader.EntryRow entry,
        IReadOnlyList<EventReader.PostingRow> lines, EventReader.RowFingerprints computed, int digits, bool hashDiffers, string? keptOn, long since,
        string sinceEntry)
    {
        var id = entry.Id.ToString(CultureInfo.InvariantCulture);
        var sequence = e.Sequence;
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            if (line.LineNo != i)
                return (new AuditFinding("row", sequence, "postings", $"{id}/{i}", $"Line {i} of journal entry {entry.Id} is gone; event {sequence} posted it."), null);
            if (line.Account is null)
                return (new AuditFinding("row", sequence, "postings", $"{id}/{i}",
                    $"Line {i} of journal entry {entry.Id} is on an account the book does not have; event {sequence} posted it elsewhere."), null);
            if (line.Fingerprint != computed.Lines[i])
            {
                var now = CanonicalJson.Text(AuditSnapshots.Entry(entry.Id, entry.Number, entry.EntryDate, entry.Description, entry.Reference,
                    entry.ReversalOf, entry.IsClosing != 0, entry.SourceType, entry.SourceId, EventReader.EntryLines(lines), digits)["lines"]![i]);
                AuditFinding Line(string reason) => new("row", sequence, "postings", $"{id}/{i}", reason);
                return (null, new Mismatch(
                    Line($"Line {i} of journal entry {entry.Id} differs from what event {sequence} posted: it now says {now}."),
                    Line($"Line {i} of journal entry {entry.Id} says what event {sequence} posted, but its fingerprint was changed."),
                    Line($"Line {i} of journal entry {entry.Id} no longer matches its fingerprint: either the line was changed after event {sequence} " +
                         $"posted it (it now says {now}), or its fingerprint was.")));
            }
        }
        if (entry.Fingerprint != computed.Entry)
        {
            AuditFinding Entry(string reason) => new("row", sequence, "journal_entries", id, reason);
            return (null, new Mismatch(
                Entry($"Journal entry {entry.Id} differs from event {sequence}, which posted it."),
                Entry($"Journal entry {entry.Id} says what event {sequence} posted, but its fingerprint was changed."),
                Entry($"Journal entry {entry.Id} no longer matches its fingerprint: either it was changed after event {sequence} posted it, or its fingerprint was.")));
        }
        // Every line left matches its fingerprint; one taken off the end shows here, whether or not the hash is kept. (A
        // year-end close with nothing to move posts a closing entry without lines.)
        if (lines.Aggregate(0L, (sum, l) => unchecked(sum + l.Amount)) != 0 || (lines.Count < 2 && !(entry.IsClosing != 0 && lines.Count == 0)))
            return (new AuditFinding("row", sequence, "postings", id,
                $"Journal entry {entry.Id} no longer balances: a line event {sequence} posted is gone, or one was added."), null);
        if (!hashDiffers) return (null, null);
        // Every row since the last hash that followed matches its fingerprints. So either the kept hash was changed, or the
        // run's row (who, when, which type: every event of the run hashes them), or a row of those events was changed and its
        // fingerprint rewritten to match (a fingerprint is no secret): which one, the rows cannot tell, only where it must be.
        var where = keptOn is null ? "" : $", kept on {keptOn},";
        var among = since >= sequence
            ? $"journal entry {entry.Id} or a line of it was changed together with its fingerprint, or lines that balance each other were taken off its end"
            : $"an entry of events {since} to {sequence} (journal entries {sinceEntry} to {entry.Id}) or a line of one was changed together with its " +
              "fingerprint, or lines that balance each other were taken off the end of one";
        return (new AuditFinding("event", sequence, "events", null,
            $"Event {sequence} was changed: its hash{where} does not follow from the event before it and its content. Either that hash was changed, " +
            $"or the type, time or actor on the log's row for events {run.Sequence} to {run.ThroughSequence}, or {among}."), null);
    }

    /// <summary>
    /// Balances are kept as entries post (all-time totals per account, per account and month, and the book's total debit):
    /// the reports read those, so they must still be the sums of the postings.
    /// </summary>
    private static async Task<AuditFinding?> TotalsFindingAsync(DbConnection connection, string bookId)
    {
        // One pass over the postings, summed per account and month (yyyyMM, as the totals keep them), compared in memory:
        // bounded by accounts × months, not by postings.
        var sums = new Dictionary<(long Account, long Period), (long Debit, long Credit)>();
        foreach (var row in await connection.QueryAsync<(long Account, long Period, long Debit, long Credit)>("""
                     SELECT p.account_id, CAST(SUBSTR(p.entry_date, 1, 4) AS BIGINT) * 100 + CAST(SUBSTR(p.entry_date, 6, 2) AS BIGINT),
                            CAST(SUM(CASE WHEN p.amount > 0 THEN p.amount ELSE 0 END) AS BIGINT),
                            CAST(SUM(CASE WHEN p.amount < 0 THEN -p.amount ELSE 0 END) AS BIGINT)
                     FROM postings p WHERE p.book_id = @bookId
                     GROUP BY p.account_id, CAST(SUBSTR(p.entry_date, 1, 4) AS BIGINT) * 100 + CAST(SUBSTR(p.entry_date, 6, 2) AS BIGINT)
                     """, new { bookId }))
            sums[(row.Account, row.Period)] = (row.Debit, row.Credit);
        var codes = (await connection.QueryAsync<(long Id, string Code, long Debit, long Credit)>(
            "SELECT id, code, debit_total, credit_total FROM accounts WHERE book_id = @bookId ORDER BY code", new { bookId })).AsList();
        // All-time sums per account, added up from the monthly ones in one pass.
        var allTime = new Dictionary<long, (long Debit, long Credit)>();
        foreach (var ((account, _), value) in sums)
        {
            var sum = allTime.GetValueOrDefault(account);
            allTime[account] = (checked(sum.Debit + value.Debit), checked(sum.Credit + value.Credit));
        }
        foreach (var a in codes)
        {
            var (debit, credit) = allTime.GetValueOrDefault(a.Id);
            if (debit != a.Debit || credit != a.Credit)
                return new AuditFinding("row", null, "accounts", a.Code,
                    $"Account {a.Code}'s totals (debit {a.Debit}, credit {a.Credit} in minor units) are not the sums of its postings ({debit}, {credit}).");
        }
        var codeOf = codes.ToDictionary(c => c.Id, c => c.Code);
        var kept = new HashSet<(long, long)>();
        foreach (var t in await connection.QueryAsync<(long Account, long Period, long Debit, long Credit)>(
                     "SELECT account_id, period, debit, credit FROM account_period_totals WHERE book_id = @bookId ORDER BY account_id, period", new { bookId }))
        {
            kept.Add((t.Account, t.Period));
            var summed = sums.GetValueOrDefault((t.Account, t.Period));
            if (summed.Debit != t.Debit || summed.Credit != t.Credit)
                return new AuditFinding("row", null, "account_period_totals", $"{codeOf.GetValueOrDefault(t.Account, t.Account.ToString(CultureInfo.InvariantCulture))}/{t.Period}",
                    $"Account {codeOf.GetValueOrDefault(t.Account)}'s totals for {t.Period} are not the sums of its postings in that month.");
        }
        foreach (var ((account, period), value) in sums)
            if (!kept.Contains((account, period)) && (value.Debit != 0 || value.Credit != 0))
                return new AuditFinding("row", null, "account_period_totals", $"{codeOf.GetValueOrDefault(account)}/{period}",
                    $"Account {codeOf.GetValueOrDefault(account)} has postings in {period} but no totals for that month.");
        return null;
    }

    /// <summary>
    /// A posting belongs to an entry of its book. Step 2 reads postings by their entries, so a posting whose entry is
    /// missing is found only here (before the totals, which such a posting would also put out); on PostgreSQL no foreign
    /// key refuses one (migration 0015 says why).
    /// </summary>
    private static async Task<AuditFinding?> OrphanPostingFindingAsync(DbConnection connection, string bookId)
    {
        var orphan = await connection.QueryFirstOrDefaultAsync<(long EntryId, long LineNo)?>("""
            SELECT p.entry_id, p.line_no FROM postings p
            LEFT JOIN journal_entries e ON e.book_id = p.book_id AND e.id = p.entry_id
            WHERE p.book_id = @bookId AND e.id IS NULL
            ORDER BY p.entry_id, p.line_no LIMIT 1
            """, new { bookId });
        return orphan is { } o
            ? new AuditFinding("row", null, "postings", $"{o.EntryId}/{o.LineNo}",
                $"Line {o.LineNo} of journal entry {o.EntryId} is in the book, but no journal entry {o.EntryId} is.")
            : null;
    }

    /// <summary>
    /// Rows the books derive from entries, checked against the entries the log vouches for: an open item is its posting on
    /// a control account (same amount and date, aged from it), and an entry is reversed by the entry that says it reverses it.
    /// </summary>
    private static async Task<AuditFinding?> DerivedRowsFindingAsync(DbConnection connection, string bookId)
    {
        var item = await connection.QueryFirstOrDefaultAsync<(long Id, long EntryId, long LineNo)?>("""
            SELECT o.id, o.entry_id, o.line_no FROM open_items o
            LEFT JOIN postings p ON p.book_id = o.book_id AND p.entry_id = o.entry_id AND p.line_no = o.line_no
            WHERE o.book_id = @bookId AND (p.entry_id IS NULL OR p.amount <> o.amount OR p.entry_date <> o.item_date)
            ORDER BY o.id LIMIT 1
            """, new { bookId });
        if (item is { } i)
            return new AuditFinding("row", null, "open_items", i.Id.ToString(CultureInfo.InvariantCulture),
                $"Open item {i.Id} is not line {i.LineNo} of journal entry {i.EntryId} as posted (amount or date differ, or the line is gone).");
        var reversal = await connection.QueryFirstOrDefaultAsync<(long Id, long? ReversedBy)?>("""
            SELECT e.id, e.reversed_by FROM journal_entries e
            LEFT JOIN journal_entries r ON r.book_id = e.book_id AND r.id = e.reversed_by
            WHERE e.book_id = @bookId AND e.reversed_by IS NOT NULL AND (r.id IS NULL OR r.reversal_of IS NULL OR r.reversal_of <> e.id)
            UNION ALL
            SELECT r.reversal_of, NULL FROM journal_entries r
            LEFT JOIN journal_entries e ON e.book_id = r.book_id AND e.id = r.reversal_of
            WHERE r.book_id = @bookId AND r.reversal_of IS NOT NULL AND (e.id IS NULL OR e.reversed_by IS NULL OR e.reversed_by <> r.id)
            LIMIT 1
            """, new { bookId });
        if (reversal is { } rv)
            return new AuditFinding("row", null, "journal_entries", rv.Id.ToString(CultureInfo.InvariantCulture),
                $"Journal entry {rv.Id}'s reversal link is broken: it and the entry that reverses it do not name each other.");
        return null;
    }

    private static async Task<(AuditFinding?, long)> CheckDocumentsAsync(DbConnection connection, BookIdentity book, long auditFrom, long events)
    {
        var bookId = book.Id;
        long checkedCount = 0, after = auditFrom;
        while (true)
        {
            var documents = (await connection.QueryAsync<DocumentSnapshots.DocumentRow>(
                "SELECT " + DocumentSnapshots.DocumentColumns + " FROM documents WHERE book_id = @bookId AND id > @after ORDER BY id LIMIT @take",
                new { bookId, after, take = AuditEndpoints.ChunkSize })).AsList();
            if (documents.Count == 0) break;
            var ids = string.Join(", ", documents.Select(d => d.Id));
            var lines = (await connection.QueryAsync<DocumentSnapshots.LineRow>(
                "SELECT " + DocumentSnapshots.LineColumns + $" FROM document_lines WHERE book_id = @bookId AND document_id IN ({ids}) ORDER BY document_id, line_no",
                new { bookId })).ToLookup(l => l.DocumentId);
            var sequences = documents.Where(d => d.EventSequence is not null).Select(d => d.EventSequence!.Value).ToList();
            var data = new Dictionary<long, (string SubjectId, string Data)>();
            foreach (var chunk in sequences.Chunk(500))
                foreach (var row in await connection.QueryAsync<(long Sequence, string SubjectId, string Data)>(
                             $"SELECT sequence, subject_id, data FROM events WHERE book_id = @bookId AND subject_type = 'document' AND sequence IN ({string.Join(", ", chunk)})",
                             new { bookId }))
                    data[row.Sequence] = (row.SubjectId, row.Data);
            foreach (var document in documents)
            {
                var id = document.Id.ToString(CultureInfo.InvariantCulture);
                if (document.EventSequence is not { } sequence || !data.TryGetValue(sequence, out var recorded) || recorded.SubjectId != id)
                    return (new AuditFinding("row", document.EventSequence, "documents", id,
                        $"Document {document.Id} has no event of its own: it was not written through the ledger."), checkedCount);
                var rebuilt = CanonicalJson.Text(DocumentSnapshots.Build(document, lines[document.Id], book.Digits));
                if (rebuilt != recorded.Data)
                    return (new AuditFinding("row", sequence, "documents", id, $"Document {document.Id} differs from event {sequence}, its last."), checkedCount);
                checkedCount++;
            }
            after = documents[^1].Id;
        }

        // From the log's side: each document's latest event is the one its row names, and only a deleted draft has no row.
        long fromId = 0;
        while (true)
        {
            var latest = (await connection.QueryAsync<(string SubjectId, long Sequence, string Type)>("""
                SELECT e.subject_id, e.sequence, e.type FROM events e
                WHERE e.book_id = @bookId AND e.subject_type = 'document'
                  AND e.sequence = (SELECT MAX(x.sequence) FROM events x WHERE x.book_id = e.book_id AND x.subject_type = 'document' AND x.subject_id = e.subject_id)
                  AND e.sequence > @fromId
                ORDER BY e.sequence LIMIT @take
                """, new { bookId, fromId, take = AuditEndpoints.ChunkSize })).AsList();
            if (latest.Count == 0) break;
            var ids = latest.Select(l => long.TryParse(l.SubjectId, CultureInfo.InvariantCulture, out var n) ? n : -1).ToList();
            var rows = new Dictionary<long, long?>();
            foreach (var row in await connection.QueryAsync<(long Id, long? EventSequence)>(
                         $"SELECT id, event_sequence FROM documents WHERE book_id = @bookId AND id IN ({string.Join(", ", ids)})", new { bookId }))
                rows[row.Id] = row.EventSequence;
            for (var i = 0; i < latest.Count; i++)
            {
                var (subjectId, sequence, type) = latest[i];
                var exists = rows.TryGetValue(ids[i], out var named);
                if (type == "document.deleted" && exists)
                    return (new AuditFinding("row", sequence, "documents", subjectId, $"Document {subjectId} was deleted by event {sequence}, yet it is there."), checkedCount);
                if (type != "document.deleted" && !exists)
                    return (new AuditFinding("row", sequence, "documents", subjectId, $"Document {subjectId}, last described by event {sequence}, is gone."), checkedCount);
                if (exists && named != sequence)
                    return (new AuditFinding("row", sequence, "documents", subjectId,
                        $"Document {subjectId} names event {named?.ToString(CultureInfo.InvariantCulture) ?? "none"}, not its latest, {sequence}."), checkedCount);
            }
            fromId = latest[^1].Sequence;
        }
        return (null, checkedCount);
    }
}
