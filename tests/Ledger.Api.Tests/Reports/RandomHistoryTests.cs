using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Reports;

/// <summary>
/// Statements checked against sums the test keeps itself, over a random history (fixed seed): entries posted out of
/// date order, reversals, a fiscal year starting in July and a year-end close in the middle.
/// </summary>
[Trait("Category", "Slow")]
public sealed class RandomHistoryTests(SharedApp shared) : SharedAppTest(shared)
{
    private const int FiscalYearStartMonth = 7;
    private const string FirstDay = "2023-10-01"; // fiscal 2023/24 is never closed on its own: the 2024/25 close sweeps it
    private const string ClosedYearEnd = "2025-06-30";
    private const string LastDay = "2026-06-30";

    private readonly Random _random = new(4242);
    private readonly List<ModelEntry> _entries = [];
    private string _book = null!;
    private Dictionary<string, string> _types = null!;

    private sealed record ModelLine(string Account, long Signed);

    private sealed record ModelEntry(long Id, string Date, IReadOnlyList<ModelLine> Lines, bool Closing)
    {
        public bool Reversed { get; set; }
    }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _book = await App.CreateBookAsync();
        await App.CreateAccountAsync(_book, "1011", "asset", parent: "1010");
        await App.CreateAccountAsync(_book, "1012", "asset", parent: "1011");
        await App.CreateAccountAsync(_book, "4010", "income", parent: "4000");
        await App.CreateAccountAsync(_book, "6110", "expense", parent: "6100");
        var patched = await App.Admin.PatchJsonAsync($"/v1/books/{_book}", new { fiscalYearStartMonth = FiscalYearStartMonth });
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        var accounts = await App.Admin.GetJsonOkAsync($"/v1/books/{_book}/accounts");
        _types = accounts.AsArray().ToDictionary(a => a!["code"]!.GetValue<string>(), a => a!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Statements_match_independent_sums_across_a_year_end_close()
    {
        await PostRandomAsync(120, FirstDay, "2026-03-31");
        await ReverseRandomAsync(12, after: null);
        var expectedClosing = TemporaryBalances(ClosedYearEnd);
        var closing = await App.Admin.CloseYearAsync(_book, ClosedYearEnd);
        var closingLines = Record(closing, closing: true);
        // The close moved exactly each income and expense balance, and their sum into retained earnings.
        foreach (var (account, net) in expectedClosing)
            Assert.Equal(-net, closingLines.Where(l => l.Account == account).Sum(l => l.Signed));
        Assert.Equal(expectedClosing.Values.Sum(), closingLines.Where(l => l.Account == "3900").Sum(l => l.Signed));
        await PostRandomAsync(60, "2025-07-01", LastDay);
        await ReverseRandomAsync(6, after: ClosedYearEnd);

        var unclosedSeen = false;
        foreach (var asOf in new[] { "2024-02-29", "2024-12-31", "2025-03-15", ClosedYearEnd, "2025-07-01", "2025-12-31", "2026-04-18", LastDay })
        {
            unclosedSeen |= await AssertBalanceSheetAsync(asOf) != 0;
            await AssertTrialBalanceAsync(asOf);
        }
        Assert.True(unclosedSeen, "The history should leave an earlier year unclosed on some balance sheet.");
        foreach (var (from, to) in new[] { (FirstDay, ClosedYearEnd), ("2025-07-01", LastDay), ("2025-02-14", "2025-09-03"), (FirstDay, LastDay) })
            await AssertIncomeStatementAsync(from, to);
    }

    /// <summary>Checks the balance sheet; returns its unclosed earlier-year earnings.</summary>
    private async Task<long> AssertBalanceSheetAsync(string asOf)
    {
        var sheet = await App.Admin.GetJsonOkAsync($"/v1/books/{_book}/reports/balance-sheet?asOf={asOf}");
        var balances = NetAsOf(asOf);
        foreach (var (section, type) in new[] { ("assets", "asset"), ("liabilities", "liability"), ("equity", "equity") })
        {
            var expected = balances.Where(b => _types[b.Key] == type).ToDictionary(b => b.Key, b => Normal(type, b.Value));
            var lines = sheet[section]!["accounts"]!.AsArray();
            foreach (var line in lines)
                Assert.Equal(expected.GetValueOrDefault(line!["account"]!.GetValue<string>()), line["balance"].Minor());
            Assert.Equal(expected.Where(e => e.Value != 0).Select(e => e.Key).Order(), lines.Select(l => l!["account"]!.GetValue<string>()).Where(expected.ContainsKey).Where(c => expected[c] != 0).Order());
            // Subtotals of top-level accounts add up to the section, as do own balances.
            Assert.Equal(lines.Sum(l => l!["balance"].Minor()), lines.Where(l => l!["level"]!.GetValue<int>() == 0).Sum(l => l!["subtotal"].Minor()));
        }

        // Earnings per the issue: the fiscal year containing asOf up to asOf (nothing if that year is already closed on
        // or before asOf), and every earlier fiscal year that has no close dated on or before asOf.
        var date = Date(asOf);
        var yearStart = FiscalYearStart(date);
        var closedOnOrBefore = Date(ClosedYearEnd) <= date ? Date(ClosedYearEnd) : (DateOnly?)null;
        var current = closedOnOrBefore == date ? 0 : Earnings(yearStart, date);
        long unclosed = 0;
        for (var start = FiscalYearStart(Date(FirstDay)); start < yearStart; start = start.AddYears(1))
            if (closedOnOrBefore is null || start.AddYears(1).AddDays(-1) > closedOnOrBefore) unclosed += Earnings(start, start.AddYears(1).AddDays(-1));

        var equity = sheet["equity"]!;
        Assert.Equal(current, equity["currentYearEarnings"].Minor());
        Assert.Equal(unclosed, equity["unclosedRetainedEarnings"].Minor());
        var assets = balances.Where(b => _types[b.Key] == "asset").Sum(b => b.Value);
        var liabilities = -balances.Where(b => _types[b.Key] == "liability").Sum(b => b.Value);
        var equityAccounts = -balances.Where(b => _types[b.Key] == "equity").Sum(b => b.Value);
        Assert.Equal(assets, sheet["assets"]!["total"].Minor());
        Assert.Equal(liabilities, sheet["liabilities"]!["total"].Minor());
        Assert.Equal(equityAccounts + current + unclosed, equity["total"].Minor());
        Assert.Equal(assets, liabilities + equityAccounts + current + unclosed);
        Assert.True(sheet["check"]!["balanced"]!.GetValue<bool>());
        return unclosed;
    }

    private async Task AssertTrialBalanceAsync(string asOf)
    {
        var tb = await App.Admin.GetJsonOkAsync($"/v1/books/{_book}/reports/trial-balance?asOf={asOf}");
        var balances = NetAsOf(asOf);
        Assert.Equal(balances.Values.Where(v => v > 0).Sum(), tb["totals"]!["debit"].Minor());
        Assert.Equal(-balances.Values.Where(v => v < 0).Sum(), tb["totals"]!["credit"].Minor());
    }

    private async Task AssertIncomeStatementAsync(string from, string to)
    {
        var statement = await App.Admin.GetJsonOkAsync(
            $"/v1/books/{_book}/reports/income-statement?from={from}&to={to}&columns=month");
        var movements = Movements(Date(from), Date(to), includeClosing: false);
        var income = -movements.Where(m => _types[m.Key] == "income").Sum(m => m.Value);
        var expenses = movements.Where(m => _types[m.Key] == "expense").Sum(m => m.Value);
        Assert.Equal(income, statement["income"]!["total"].Minor());
        Assert.Equal(expenses, statement["expenses"]!["total"].Minor());
        Assert.Equal(income - expenses, statement["netIncome"].Minor());
        foreach (var line in statement["income"]!["accounts"]!.AsArray().Concat(statement["expenses"]!["accounts"]!.AsArray()))
        {
            var code = line!["account"]!.GetValue<string>();
            Assert.Equal(Normal(_types[code], movements.GetValueOrDefault(code)), line["balance"].Minor());
        }
        Assert.Equal(income - expenses, statement["months"]!.AsArray().Sum(m => m!["netIncome"].Minor()));
    }

    // --- the test's own ledger ---

    private async Task PostRandomAsync(int count, string firstDay, string lastDay)
    {
        // Control accounts (1200, 2000) take only lines that name a customer or vendor: the subledger tests cover them.
        var codes = _types.Keys.Where(c => c is not ("3900" or "1200" or "2000")).Order().ToArray();
        var (first, last) = (Date(firstDay), Date(lastDay));
        for (var i = 0; i < count; i++)
        {
            var date = first.AddDays(_random.Next(last.DayNumber - first.DayNumber + 1));
            var lineCount = _random.Next(2, 5);
            var amounts = Enumerable.Range(0, lineCount - 1).Select(_ => (long)_random.Next(1, 500_000)).ToList();
            var lines = new List<(string Account, string? Debit, string? Credit)>();
            foreach (var amount in amounts) lines.Add((codes[_random.Next(codes.Length)], ReportClient.Money(amount), null));
            lines.Add((codes[_random.Next(codes.Length)], null, ReportClient.Money(amounts.Sum())));
            if (_random.Next(2) == 0) lines = lines.Select(l => (l.Account, l.Credit, l.Debit)).ToList(); // credits first, too
            var posted = await App.Admin.PostEntryOkAsync(_book, date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), $"Random {i}", [.. lines]);
            Record(posted, closing: false);
        }
    }

    private async Task ReverseRandomAsync(int count, string? after)
    {
        for (var i = 0; i < count; i++)
        {
            var candidates = _entries.Where(e => !e.Closing && !e.Reversed && e.Lines.All(l => l.Signed != 0) &&
                (after is null || string.CompareOrdinal(e.Date, after) > 0) && e.Id > 0).ToList();
            var original = candidates[_random.Next(candidates.Count)];
            // Half default to the original's date; half are dated a few days later.
            object body = _random.Next(2) == 0 ? new { } : new { date = Date(original.Date).AddDays(_random.Next(1, 20)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) };
            var response = await App.Admin.PostJsonAsync($"/v1/books/{_book}/journal-entries/{original.Id}/reverse", body);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            var reversal = Record(await response.ReadJsonAsync(), closing: false);
            original.Reversed = true;
            Assert.Equal(original.Lines.Sum(l => Math.Abs(l.Signed)), reversal.Sum(l => Math.Abs(l.Signed)));
        }
    }

    private IReadOnlyList<ModelLine> Record(JsonNode entry, bool closing)
    {
        var lines = entry["lines"]!.AsArray().Select(l => new ModelLine(l!["account"]!.GetValue<string>(),
            l["debit"] is { } debit ? debit.Minor() : -l["credit"].Minor())).ToList();
        _entries.Add(new ModelEntry(entry["id"]!.GetValue<long>(), entry["date"]!.GetValue<string>(), lines, closing));
        return lines;
    }

    private Dictionary<string, long> NetAsOf(string asOf) => Movements(DateOnly.MinValue, Date(asOf), includeClosing: true);

    private Dictionary<string, long> Movements(DateOnly from, DateOnly to, bool includeClosing) =>
        _entries.Where(e => (includeClosing || !e.Closing) && Date(e.Date) >= from && Date(e.Date) <= to)
            .SelectMany(e => e.Lines)
            .GroupBy(l => l.Account)
            .ToDictionary(g => g.Key, g => g.Sum(l => l.Signed));

    private Dictionary<string, long> TemporaryBalances(string asOf) =>
        NetAsOf(asOf).Where(b => _types[b.Key] is "income" or "expense" && b.Value != 0).ToDictionary();

    /// <summary>Income minus expense over [from, to], closing entries left out.</summary>
    private long Earnings(DateOnly from, DateOnly to) =>
        -Movements(from, to, includeClosing: false).Where(m => _types[m.Key] is "income" or "expense").Sum(m => m.Value);

    private static DateOnly FiscalYearStart(DateOnly date) =>
        new(date.Month >= FiscalYearStartMonth ? date.Year : date.Year - 1, FiscalYearStartMonth, 1);

    private static long Normal(string type, long net) => type is "asset" or "expense" ? net : -net;

    private static DateOnly Date(string text) => DateOnly.ParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture);
}
