using System.Data.Common;

namespace Ledger.Api.Infrastructure;

/// <summary>
/// Rows of a book that the writer's requests look up by key (parties by id, tax rates by code), each read from the
/// database the first time a request of the group names it and served from memory after that. Such rows are created,
/// changed, archived and deleted only by work that does not defer group state, and the writer writes out and forgets
/// every group state before such work runs (see <see cref="LedgerWriter.WriteAsync{T}"/>), so what this serves is what is
/// stored. It holds reads only, so a request that rolls back leaves nothing here to undo; and the work that writes these
/// rows never reads them through here, so nothing read here is a rolled-back request's own write.
/// </summary>
public abstract class GroupReads<TKey, TValue> : IGroupState where TKey : notnull where TValue : class
{
    // Null: read, and not in the book.
    private readonly Dictionary<(string BookId, TKey Key), TValue?> _read = [];

    /// <summary>
    /// The book's rows among <paramref name="keys"/>, by key (keys the book does not have are left out), read through
    /// <paramref name="select"/> and <paramref name="row"/> when not read yet in this group. When some must be read,
    /// <paramref name="alsoRead"/> (keys later requests will ask for) are read in the same query.
    /// </summary>
    protected Dictionary<TKey, TValue> Lookup(WriteSession session, string bookId, IEnumerable<TKey> keys, PaddedInQuery select,
        Func<DbDataReader, (TKey Key, TValue Value)> row, Func<IEnumerable<TKey>>? alsoRead = null)
    {
        var found = new Dictionary<TKey, TValue>();
        var missing = new List<TKey>();
        foreach (var key in keys)
        {
            if (!_read.TryGetValue((bookId, key), out var value)) missing.Add(key);
            else if (value is not null) found[key] = value;
        }
        if (missing.Count == 0) return found;
        if (alsoRead is not null) missing.AddRange(alsoRead().Where(key => !_read.ContainsKey((bookId, key))));
        select.Read(session, bookId, missing, reader =>
        {
            var (key, value) = row(reader);
            _read[(bookId, key)] = value;
            found[key] = value;
        });
        foreach (var key in missing) _read.TryAdd((bookId, key), null);
        return found;
    }

    public void KeepRequest() { }

    public void DiscardRequest() { }

    // Work that may change these rows runs next: forget them all, so later requests read them again.
    public void Flush(WriteSession session) => _read.Clear();

    public void Reset() => _read.Clear();
}
