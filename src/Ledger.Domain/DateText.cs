using NodaTime;
using NodaTime.Text;

namespace Ledger.Domain;

/// <summary>The ISO-8601 text forms the API speaks: dates as YYYY-MM-DD, instants in UTC.</summary>
public static class DateText
{
    private static readonly LocalDatePattern DatePattern = LocalDatePattern.Iso;
    private static readonly InstantPattern InstantPattern = InstantPattern.ExtendedIso;

    public static bool TryParseDate(string? text, out LocalDate date)
    {
        date = default;
        if (text is null || text.Length != 10) return false;
        var result = DatePattern.Parse(text);
        if (!result.Success) return false;
        date = result.Value;
        return true;
    }

    public static string Format(LocalDate date) => DatePattern.Format(date);

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
