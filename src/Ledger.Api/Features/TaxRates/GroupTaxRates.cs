using Ledger.Api.Infrastructure;

namespace Ledger.Api.Features.TaxRates;

/// <summary>
/// The tax rates a group's documents name, each read the first time a request of the group names it and served from
/// memory after that. Rates are created, changed and archived only by work that does not defer group state, before
/// which the writer writes out and forgets every group state, so what this serves is what is stored. Reads only: a
/// request that rolls back leaves nothing here to undo.
/// </summary>
public sealed class GroupTaxRates : IGroupState
{
    /// <summary>A tax rate as documents use it: the percentage as stored ("19", "5.5") and the accounts it posts to.</summary>
    public sealed record Rate(string Percentage, bool Archived, string SalesAccount, string PurchaseAccount);

    // Null: read, and not in the book.
    private readonly Dictionary<(string BookId, string Code), Rate?> _read = [];

    /// <summary>The book's rates among <paramref name="codes"/>, by code; codes the book does not have are left out.</summary>
    public static Dictionary<string, Rate> Find(WriteSession session, string bookId, IEnumerable<string> codes)
    {
        var cache = session.GroupState<GroupTaxRates>();
        var found = new Dictionary<string, Rate>(StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var code in codes.Distinct(StringComparer.Ordinal))
        {
            if (!cache._read.TryGetValue((bookId, code), out var rate)) missing.Add(code);
            else if (rate is not null) found[code] = rate;
        }
        Select.Read(session, bookId, missing, reader =>
        {
            var rate = new Rate(reader.GetString(1), reader.GetInt64(2) != 0, reader.GetString(3), reader.GetString(4));
            cache._read[(bookId, reader.GetString(0))] = rate;
            found[reader.GetString(0)] = rate;
        });
        foreach (var code in missing) cache._read.TryAdd((bookId, code), null);
        return found;
    }

    private static readonly PaddedInQuery Select =
        new("SELECT code, rate, archived, sales_account, purchase_account FROM tax_rates WHERE book_id = @book_id AND code");

    public void KeepRequest() { }

    // Nothing to forget: the work that writes these rows (it does not defer) never reads them through here, so nothing
    // read here is a rolled-back request's own write.
    public void DiscardRequest() { }

    // Work that changes rates may run next: forget them all, so later requests read them again.
    public void Flush(WriteSession session) => _read.Clear();

    public void Reset() => _read.Clear();
}
