using NodaTime;
using NodaTime.Text;

namespace Ledger.Domain;

/// <summary>The ISO-8601 text forms the API speaks: dates as YYYY-MM-DD, instants in UTC.</summary>
public static class DateText
{
    private static readonly LocalDatePattern DatePattern = LocalDatePattern.Iso;
    private static readonly InstantPattern InstantPattern = InstantPattern.ExtendedIso;

    /// <summary>Reads exactly YYYY-MM-DD (year 0001–9999) without allocating: every posted line goes through here.</summary>
    public static bool TryParseDate(string? text, out LocalDate date)
    {
        date = default;
        if (text is not { Length: 10 } || text[4] != '-' || text[7] != '-') return false;
        if (!TryDigits(text, 0, 4, out var year) || !TryDigits(text, 5, 2, out var month) || !TryDigits(text, 8, 2, out var day))
            return false;
        if (year < 1 || month is < 1 or > 12 || day < 1 || day > CalendarSystem.Iso.GetDaysInMonth(year, month)) return false;
        date = new LocalDate(year, month, day);
        return true;
    }

    private static bool TryDigits(string text, int start, int count, out int value)
    {
        value = 0;
        for (var i = start; i < start + count; i++)
        {
            var c = text[i];
            if (c is < '0' or > '9') return false;
            value = value * 10 + (c - '0');
        }
        return true;
    }

    public static string Format(LocalDate date) => DatePattern.Format(date);

    /// <summary>A date read back from storage, where only valid dates are ever written; anything else is a bug, not input.</summary>
    public static LocalDate ParseStoredDate(string text) =>
        TryParseDate(text, out var date) ? date : throw new InvalidOperationException($"Stored date '{text}' is unreadable.");

    public static bool TryParseInstant(string? text, out Instant instant)
    {
        instant = default;
        if (text is null) return false;
        var result = InstantPattern.Parse(text);
        if (!result.Success) return false;
        instant = result.Value;
        return true;
    }

    public static string Format(Instant instant) => InstantPattern.Format(instant);
}
