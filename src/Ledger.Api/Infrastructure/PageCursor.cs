using System.Text;
using FluentValidation;

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

/// <summary>
/// The cursor of a list ordered by a numeric id (documents, payments, open items, statement lines, events, …): the id
/// written in invariant digits and encoded as <see cref="PageCursor"/> encodes any key.
/// </summary>
public static class IdCursor
{
    public static string Encode(long id) => PageCursor.Encode(id.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public static bool TryDecode(string? cursor, out long id)
    {
        id = 0;
        return PageCursor.TryDecode(cursor, out var key)
            && long.TryParse(key, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out id);
    }

    /// <summary>The one rule every id-ordered list checks its cursor with.</summary>
    public static IRuleBuilderOptions<T, string?> IsIdCursor<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(c => c is null || TryDecode(c, out _)).WithMessage("is not a cursor this API returned.");
}

/// <summary>One page of a list: the items, and the cursor of the next page (null on the last).</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);
