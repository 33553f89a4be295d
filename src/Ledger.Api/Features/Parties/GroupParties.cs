using Ledger.Api.Infrastructure;
using Ledger.Domain;

namespace Ledger.Api.Features.Parties;

/// <summary>
/// The customers and vendors a group's documents, payments and entries name, each read from the database the first time
/// a request of the group names it and served from memory after that. Parties are created, changed, archived and deleted
/// only by work that does not defer group state, and the writer writes out and forgets every group state before such
/// work runs (see <see cref="LedgerWriter.WriteAsync{T}"/>), so what this serves is what is stored. It holds reads
/// only, so a request that rolls back leaves nothing here to undo.
/// </summary>
public sealed class GroupParties : IGroupState
{
    /// <summary>A party as the writer checks and posts it.</summary>
    public sealed record Party(long Id, PartyKind Kind, string Code, string Name, long PaymentTermsDays, bool Archived);

    // Null: read, and not in the book.
    private readonly Dictionary<(string BookId, long Id), Party?> _read = [];

    /// <summary>The party <paramref name="id"/> of the book, of any kind; null if the book has none.</summary>
    public static Party? Find(WriteSession session, string bookId, long id) => Find(session, bookId, [id]).GetValueOrDefault(id);

    /// <summary>The parties of the book among <paramref name="ids"/>, by id; ids the book does not have are left out.</summary>
    public static IReadOnlyDictionary<long, Party> Find(WriteSession session, string bookId, IReadOnlyCollection<long> ids)
    {
        var cache = session.GroupState<GroupParties>();
        var found = new Dictionary<long, Party>(ids.Count);
        var missing = new List<long>();
        foreach (var id in ids)
        {
            if (!cache._read.TryGetValue((bookId, id), out var party)) missing.Add(id);
            else if (party is not null) found[id] = party;
        }
        // With them, every party that the later requests of this run (until a write that does not defer makes the group
        // forget what it read) said they name: one query serves the run, and each hinted party is read at most once.
        if (missing.Count > 0)
            foreach (var (run, request, groupBook, id) in session.PartiesOfGroup)
                if (run == session.RunOfRequest && request > session.RequestIndex && groupBook == bookId && !cache._read.ContainsKey((bookId, id)))
                    missing.Add(id);
        // Parties are never rows a request leaves waiting (they are written at once), so the writer's reads see them all.
        Select.Read(session, bookId, missing, reader =>
        {
            var party = new Party(reader.GetInt64(0), reader.GetString(1) == "customer" ? PartyKind.Customer : PartyKind.Vendor,
                reader.GetString(2), reader.GetString(3), reader.GetInt64(4), reader.GetInt64(5) != 0);
            cache._read[(bookId, party.Id)] = party;
            found[party.Id] = party;
        });
        foreach (var id in missing) cache._read.TryAdd((bookId, id), null);
        return found;
    }

    private static readonly PaddedInQuery Select =
        new("SELECT id, kind, code, name, payment_terms_days, archived FROM parties WHERE book_id = @book_id AND id");

    public void KeepRequest() { }

    // Nothing to forget: the work that writes these rows (it does not defer) never reads them through here, so nothing
    // read here is a rolled-back request's own write.
    public void DiscardRequest() { }

    // Work that changes parties runs next: forget them all, so later requests read them again.
    public void Flush(WriteSession session) => _read.Clear();

    public void Reset() => _read.Clear();
}
