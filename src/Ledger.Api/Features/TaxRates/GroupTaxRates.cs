using Ledger.Api.Infrastructure;

namespace Ledger.Api.Features.TaxRates;

/// <summary>The tax rates a group's documents name, read once per group (see <see cref="GroupReads{TKey,TValue}"/>).</summary>
public sealed class GroupTaxRates : GroupReads<string, GroupTaxRates.Rate>
{
    /// <summary>A tax rate as documents use it: the percentage as stored ("19", "5.5") and the accounts it posts to.</summary>
    public sealed record Rate(string Percentage, bool Archived, string SalesAccount, string PurchaseAccount);

    /// <summary>The book's rates among <paramref name="codes"/>, by code; codes the book does not have are left out.</summary>
    public static Dictionary<string, Rate> Find(WriteSession session, string bookId, IEnumerable<string> codes) =>
        session.GroupState<GroupTaxRates>().Lookup(session, bookId, codes, Select,
            reader => (reader.GetString(0), new Rate(reader.GetString(1), reader.GetInt64(2) != 0, reader.GetString(3), reader.GetString(4))));

    private static readonly PaddedInQuery Select =
        new("SELECT code, rate, archived, sales_account, purchase_account FROM tax_rates WHERE book_id = @book_id AND code");
}
