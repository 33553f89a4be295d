using System.Globalization;
using Ledger.Api.Infrastructure;

namespace Ledger.Api.Features.Documents;

/// <summary>
/// The next number of each kind of document of each book the group issues, counted on in memory and written once
/// before the group commits, as the journal's running totals are: a group of a hundred invoices reads its counter once
/// and writes it once, where each invoice took a round trip of its own. Gapless per kind and book: a request that rolls
/// back gives its numbers back (its staged counter is dropped with it), and the writer holds the book (PostgreSQL: its
/// row lock; SQLite: the only writer) from the read to the commit, so no other writer counts in between.
/// </summary>
public sealed class DocumentNumbers : IGroupState
{
    private readonly record struct Counter(string Prefix, long Next, bool Changed);

    private readonly StagedMap<(string BookId, string Kind), Counter> _counters = new();

    /// <summary>The next number of the kind, "INV-000001"; the first document of a kind starts its counter at 1.</summary>
    public static string Next(WriteSession session, string bookId, DocumentKind kind)
    {
        var numbers = session.GroupState<DocumentNumbers>();
        var key = (bookId, kind.ToName());
        if (!numbers._counters.TryGetValue(key, out var counter))
        {
            // book_sequences rows are never left waiting (they are written by Flush, or at once by party codes), so
            // ReadCommand sees the stored counter.
            using var reader = session.ReadCommand(SelectSql).Bind("@book_id", bookId).Bind("@kind", kind.ToName()).ExecuteReader();
            counter = reader.Read() ? new Counter(reader.GetString(0), reader.GetInt64(1), false) : new Counter(kind.NumberPrefix(), 1, false);
            numbers._counters.SetKnown(key, counter);
        }
        numbers._counters.Stage(key, counter with { Next = checked(counter.Next + 1), Changed = true });
        return counter.Prefix + counter.Next.ToString("D6", CultureInfo.InvariantCulture);
    }

    public void KeepRequest() => _counters.KeepRequest();

    public void DiscardRequest() => _counters.DiscardRequest();

    public void Flush(WriteSession session)
    {
        var changed = _counters.Known.Where(c => c.Value.Changed)
            .Select(c => new object?[] { c.Key.BookId, c.Key.Kind, c.Value.Prefix, c.Value.Next }).ToList();
        session.ExecuteMany(UpsertSql, Parameters, changed);
        // Work that does not defer runs next and may count on its own: read the counters again after it.
        _counters.Clear();
    }

    public void Reset() => _counters.Clear();

    private static readonly string[] Parameters = ["@book_id", "@kind", "@prefix", "@next_number"];

    private const string SelectSql = "SELECT prefix, next_number FROM book_sequences WHERE book_id = @book_id AND kind = @kind";

    // The counter holds the next number to give; the group wrote it under the book's lock, so it sets it outright.
    private const string UpsertSql = """
        INSERT INTO book_sequences (book_id, kind, prefix, next_number) VALUES (@book_id, @kind, @prefix, @next_number)
        ON CONFLICT (book_id, kind) DO UPDATE SET next_number = excluded.next_number
        """;
}
