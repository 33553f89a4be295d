using System.Text;

namespace Ledger.Api.Infrastructure;

/// <summary>
/// An opaque cursor over a list ordered by one unique text key (a code, a number): the key of the last item served.
/// Only the key travels, so a forged cursor can at most start the list somewhere else in the same book.
/// </summary>
public static class PageCursor
{
    private const int MaxLength = 200;

    public static string Encode(string key) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(key)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static bool TryDecode(string? cursor, out string key)
    {
        key = "";
        if (string.IsNullOrEmpty(cursor) || cursor.Length > MaxLength) return false;
        try
        {
            var base64 = cursor.Replace('-', '+').Replace('_', '/');
            base64 = base64.PadRight(base64.Length + (4 - base64.Length % 4) % 4, '=');
            key = Encoding.UTF8.GetString(Convert.FromBase64String(base64));
            return key.Length > 0;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}

/// <summary>One page of a list: the items, and the cursor of the next page (null on the last).</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);
