using Ledger.Api.Infrastructure;
using Ledger.Domain;

namespace Ledger.Api.Features.Parties;

/// <summary>
/// The customers and vendors a group's documents, payments and entries name, read once per group (see
/// <see cref="GroupReads{TKey,TValue}"/>). The first read of a run of requests also reads the parties that the run's
/// later requests said they name (see <see cref="WriteSession.PartiesHintedLaterInRun"/>): one query serves the run.
/// </summary>
public sealed class GroupParties : GroupReads<long, GroupParties.Party>
{
    /// <summary>A party as the writer checks and posts it.</summary>
    public sealed record Party(long Id, PartyKind Kind, string Code, string Name, long PaymentTermsDays, bool Archived);

    /// <summary>The party <paramref name="id"/> of the book, of any kind; null if the book has none.</summary>
    public static Party? Find(WriteSession session, string bookId, long id) => Find(session, bookId, [id]).GetValueOrDefault(id);

    /// <summary>The parties of the book among <paramref name="ids"/>, by id; ids the book does not have are left out.</summary>
    public static IReadOnlyDictionary<long, Party> Find(WriteSession session, string bookId, IReadOnlyCollection<long> ids) =>
        // Parties are never rows a request leaves waiting (they are written at once), so the writer's reads see them all.
        session.GroupState<GroupParties>().Lookup(session, bookId, ids, Select, reader =>
        {
            var party = new Party(reader.GetInt64(0), reader.GetString(1) == "customer" ? PartyKind.Customer : PartyKind.Vendor,
                reader.GetString(2), reader.GetString(3), reader.GetInt64(4), reader.GetInt64(5) != 0);
            return (party.Id, party);
        }, () => session.PartiesHintedLaterInRun(bookId));

    private static readonly PaddedInQuery Select =
        new("SELECT id, kind, code, name, payment_terms_days, archived FROM parties WHERE book_id = @book_id AND id");
}
