using System.Text;
using Dapper;

namespace Ledger.Api.Infrastructure;

/// <summary>
/// A list of ids spelled out as parameters for SQL both engines take: <c>List</c> is "(@id0, @id1, …)" for "IN",
/// <c>Rows</c> is "(@id0), (@id1), …" for a VALUES list. Spelled out because Dapper would hand Npgsql an array, which
/// "IN" does not take there. Bounded: a list screen asks for one page at a time.
/// </summary>
public static class SqlIdList
{
    /// <summary>The most ids one list may hold: a page of the longest list (500) and the row that says another follows.</summary>
    public const int MaxIds = 501;

    public static (string List, string Rows, DynamicParameters Parameters) Of(IReadOnlyCollection<long> ids)
    {
        if (ids.Count == 0) throw new ArgumentException("An id list is never empty: \"IN ()\" is not SQL.", nameof(ids));
        if (ids.Count > MaxIds) throw new ArgumentOutOfRangeException(nameof(ids), $"At most {MaxIds} ids are looked up at once.");
        var parameters = new DynamicParameters();
        var names = new StringBuilder("(");
        var rows = new StringBuilder();
        var i = 0;
        foreach (var id in ids)
        {
            if (i > 0) { names.Append(", "); rows.Append(", "); }
            names.Append("@id").Append(i);
            rows.Append("(@id").Append(i).Append(')');
            parameters.Add($"id{i}", id);
            i++;
        }
        return (names.Append(')').ToString(), rows.ToString(), parameters);
    }
}
