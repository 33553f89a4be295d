using System.Globalization;
using System.Text.Json.Nodes;

namespace Ledger.Api.Tests.Support;

/// <summary>Exact money text for tests, through decimal (never binary floating point), independent of the API's code.</summary>
public static class Money
{
    private static decimal Scale(int digits) => digits switch { 0 => 1m, 1 => 10m, 2 => 100m, 3 => 1000m, 4 => 10000m, _ => throw new ArgumentOutOfRangeException(nameof(digits)) };

    public static string Format(long minorUnits, int digits) =>
        (minorUnits / Scale(digits)).ToString("F" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    public static long Parse(string text, int digits)
    {
        var value = decimal.Parse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture) * Scale(digits);
        Assert.Equal(decimal.Truncate(value), value);
        return decimal.ToInt64(value);
    }
}

/// <summary>
/// What the ledger should say, computed in the test from the entries it posted: signed minor units per account
/// (debits positive), summed with checked long arithmetic.
/// </summary>
public sealed class LedgerModel(int digits)
{
    public sealed record Line(string Account, long Signed);

    public sealed record Entry(string Date, IReadOnlyList<Line> Lines);

    private readonly List<Entry> _entries = [];
    private readonly Dictionary<string, (string Name, string Type)> _accounts = new(StringComparer.Ordinal);

    public int Digits { get; } = digits;

    public IReadOnlyList<Entry> Entries => _entries;

    public void AddAccount(string code, string name, string type) => _accounts[code] = (name, type);

    public void Add(string date, IEnumerable<Line> lines) => _entries.Add(new Entry(date, lines.ToList()));

    /// <summary>Adds an entry as the API answered it (date and lines).</summary>
    public void Add(JsonNode entry) => Add(entry["date"]!.GetValue<string>(), entry["lines"]!.AsArray().Select(l =>
        l!["debit"] is { } debit
            ? new Line(l["account"]!.GetValue<string>(), Money.Parse(debit.GetValue<string>(), Digits))
            : new Line(l["account"]!.GetValue<string>(), checked(-Money.Parse(l["credit"]!.GetValue<string>(), Digits)))));

    public (long Debit, long Credit) Totals(string account, string? asOf = null)
    {
        long debit = 0, credit = 0;
        foreach (var entry in _entries.Where(e => asOf is null || string.CompareOrdinal(e.Date, asOf) <= 0))
            foreach (var line in entry.Lines.Where(l => l.Account == account))
            {
                if (line.Signed > 0) debit = checked(debit + line.Signed);
                else credit = checked(credit - line.Signed);
            }
        return (debit, credit);
    }

    /// <summary>The balance on the account's normal side: debit for asset and expense, credit for the others.</summary>
    public long Balance(string account)
    {
        var (debit, credit) = Totals(account);
        return _accounts[account].Type is "asset" or "expense" ? checked(debit - credit) : checked(credit - debit);
    }

    /// <summary>The trial balance the API should answer at <paramref name="asOf"/>, in its JSON shape.</summary>
    public JsonObject TrialBalance(string asOf, string currency)
    {
        var lines = new JsonArray();
        long debitTotal = 0, creditTotal = 0;
        foreach (var code in _accounts.Keys.Order(StringComparer.Ordinal))
        {
            var (debit, credit) = Totals(code, asOf);
            var net = checked(debit - credit);
            if (net == 0) continue;
            if (net > 0) debitTotal = checked(debitTotal + net);
            else creditTotal = checked(creditTotal - net);
            lines.Add(new JsonObject
            {
                ["account"] = code,
                ["name"] = _accounts[code].Name,
                ["type"] = _accounts[code].Type,
                ["debit"] = Money.Format(Math.Max(net, 0), Digits),
                ["credit"] = Money.Format(net < 0 ? checked(-net) : 0, Digits),
            });
        }
        return new JsonObject
        {
            ["asOf"] = asOf,
            ["currency"] = currency,
            ["lines"] = lines,
            ["totals"] = new JsonObject { ["debit"] = Money.Format(debitTotal, Digits), ["credit"] = Money.Format(creditTotal, Digits) },
        };
    }

    /// <summary>
    /// Asserts the API's trial balance equals the model's: the same accounts (each once, in any order), each net
    /// balance in one column with the other zero, and equal totals.
    /// </summary>
    public static void AssertSameTrialBalance(JsonObject expected, JsonNode actual)
    {
        var context = $"asOf {expected["asOf"]}";
        Assert.Equal(expected["asOf"]!.GetValue<string>(), actual["asOf"]!.GetValue<string>());
        Assert.Equal(expected["currency"]!.GetValue<string>(), actual["currency"]!.GetValue<string>());
        var actualLines = actual["lines"]!.AsArray().Select(l => l!).ToList();
        var codes = actualLines.Select(l => l["account"]!.GetValue<string>()).ToList();
        Assert.True(codes.Count == codes.Distinct().Count(), $"{context}: an account appears twice: {actual.ToJsonString()}");
        var byCode = actualLines.ToDictionary(l => l["account"]!.GetValue<string>());
        var expectedLines = expected["lines"]!.AsArray().Select(l => l!).ToList();
        Assert.True(expectedLines.Count == actualLines.Count,
            $"{context}: expected accounts {string.Join(",", expectedLines.Select(l => l["account"]))}, got {string.Join(",", codes)}");
        foreach (var line in expectedLines)
        {
            var code = line["account"]!.GetValue<string>();
            Assert.True(byCode.TryGetValue(code, out var got), $"{context}: account {code} missing from {actual.ToJsonString()}");
            Assert.True(JsonNode.DeepEquals(line, got), $"{context}: expected {line.ToJsonString()}, got {got!.ToJsonString()}");
        }
        Assert.True(JsonNode.DeepEquals(expected["totals"], actual["totals"]),
            $"{context}: expected totals {expected["totals"]!.ToJsonString()}, got {actual["totals"]!.ToJsonString()}");
        Assert.Equal(actual["totals"]!["debit"]!.GetValue<string>(), actual["totals"]!["credit"]!.GetValue<string>());
    }
}
