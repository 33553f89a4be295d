using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Reports;

/// <summary>
/// The reports checked against hledger, an accounting program written independently of this one. A random history
/// (fixed seed) is posted through the API: entries out of date order, lines on control accounts and child accounts,
/// reversals, a year-end close with entries on both sides of it. The journal is then read back through the API's
/// list, written as an hledger journal, and hledger's balances must equal the API's trial balance, balance sheet and
/// income statement to the cent. Every expected figure is hledger's, or a sum of hledger's: the test keeps no ledger of
/// its own, so hledger is the only other opinion.
/// </summary>
[Trait("Category", "Slow")]
public sealed partial class HledgerCrossCheckTests(SharedApp shared) : SharedAppTest(shared)
{
    private const string Currency = "EUR"; // two digits
    private const int FiscalYearStartMonth = 4;
    private const string ClosedYearEnd = "2025-03-31";
    private const string FirstDay = "2024-01-10";
    private const string LastDay = "2026-06-30";

    // Dates before, inside and after the history; on either half of a month and at its end (the API answers each from
    // monthly totals plus the shorter part of the month, counted forward or back); on, and the day after, the close.
    private static readonly string[] AsOfDates = ["2024-01-09", "2024-01-31", "2024-02-29", "2024-06-15", "2024-06-16", "2024-10-31",
        ClosedYearEnd, "2025-04-01", "2025-09-17", "2026-01-14", LastDay, "2026-12-31"];

    // Periods that hold the close, straddle it, hold nothing but it, and cover everything. Month by month only where
    // the months are cut (mid-month ends, the close's month): the rest would slow the test and add little.
    private static readonly (string From, string To, bool ByMonth)[] Periods = [("2024-01-01", ClosedYearEnd, false),
        ("2025-04-01", "2026-03-31", false), ("2024-11-16", "2025-05-14", true), (ClosedYearEnd, ClosedYearEnd, true), ("2024-01-01", "2026-12-31", false)];

    private readonly Random _random = new(20250331);
    private readonly List<PostedEntry> _posted = [];
    private readonly HashSet<DateOnly> _boundariesPosted = [];
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"ledger-hledger-{Guid.NewGuid():N}");

    private sealed record PostedEntry(long Id, string Date, bool Closing)
    {
        public bool Reversed { get; set; }
    }

    public override Task DisposeAsync()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
        return base.DisposeAsync();
    }

    [HledgerFact]
    public async Task Trial_balance_balance_sheet_and_income_statement_agree_with_hledger()
    {
        var book = await CreateBookAsync();
        var customer = await App.CreateCustomerAsync(book);
        var vendor = await App.CreateVendorAsync(book);
        // Entries dated after the year-end are posted before the close as well as after it, so the close has to
        // leave later entries alone; reversals dated past the year-end cross it.
        await PostRandomAsync(book, 75, FirstDay, "2025-09-30", customer, vendor);
        await ReverseRandomAsync(book, 8, after: null);
        var close = await Admin.CloseYearAsync(book, ClosedYearEnd);
        _posted.Add(new PostedEntry(close["id"]!.GetValue<long>(), ClosedYearEnd, Closing: true));
        await PostRandomAsync(book, 40, "2025-04-01", LastDay, customer, vendor);
        await ReverseRandomAsync(book, 5, after: ClosedYearEnd);

        var chart = await Admin.GetJsonOkAsync(AccountsUrl(book));
        var entries = await App.AllEntriesAsync(book, limit: 23); // a limit that leaves a short last page
        Assert.Equal(_posted.Select(e => e.Id).Order(), entries.Select(e => e!["id"]!.GetValue<long>()).Order());
        var hledger = await HledgerJournal.WriteAsync(Path.Combine(_folder, "book.journal"), chart.AsArray(), entries);

        var differences = new List<string>();
        foreach (var asOf in AsOfDates)
        {
            var own = await hledger.BalancesAsync(EndAfter(asOf));
            var withChildren = await hledger.BalancesAsync("--tree", "--no-elide", EndAfter(asOf));
            await CompareTrialBalanceAsync(book, asOf, hledger, own, differences);
            await CompareBalanceSheetAsync(book, asOf, hledger, own, withChildren, differences);
        }
        foreach (var (from, to, byMonth) in Periods)
            await CompareIncomeStatementAsync(book, from, to, byMonth, hledger, differences);

        Assert.True(differences.Count == 0,
            $"{differences.Count} differences between the API and hledger (on the journal {hledger.Path}, deleted after the test):\n" +
            string.Join("\n", differences.Take(60)));
    }

    private async Task CompareTrialBalanceAsync(string book, string asOf, HledgerJournal hledger,
        IReadOnlyDictionary<string, decimal> own, List<string> differences)
    {
        var tb = await App.TrialBalanceAsync(book, asOf);
        var context = $"trial balance as of {asOf}";
        var api = new Dictionary<string, decimal>();
        foreach (var line in tb["lines"]!.AsArray())
        {
            var code = line!["account"]!.GetValue<string>();
            if (!api.TryAdd(code, Amount(line["debit"]) - Amount(line["credit"]))) differences.Add($"{context}: {code} listed twice");
        }
        var expected = hledger.ByCode(own);
        foreach (var code in api.Keys.Union(expected.Keys).Order(StringComparer.Ordinal))
            Same(differences, $"{context}, {code} (debit − credit)", api.GetValueOrDefault(code), expected.GetValueOrDefault(code));
        Same(differences, $"{context}, total debits", Amount(tb["totals"]!["debit"]), expected.Values.Where(v => v > 0).Sum());
        Same(differences, $"{context}, total credits", Amount(tb["totals"]!["credit"]), -expected.Values.Where(v => v < 0).Sum());
    }

    private async Task CompareBalanceSheetAsync(string book, string asOf, HledgerJournal hledger,
        IReadOnlyDictionary<string, decimal> own, IReadOnlyDictionary<string, decimal> withChildren, List<string> differences)
    {
        var sheet = await Admin.GetJsonOkAsync($"/v1/books/{book}/reports/balance-sheet?asOf={asOf}");
        var context = $"balance sheet as of {asOf}";
        foreach (var (section, type) in new[] { ("assets", "asset"), ("liabilities", "liability"), ("equity", "equity") })
            CompareSection(differences, $"{context}, {section}", sheet[section]!["accounts"]!.AsArray(), type, hledger, own, withChildren);

        // Equity on a balance sheet also holds the income and expense not yet closed: hledger's equity, revenues and
        // expenses together, closing entries included (a close only moves amounts between them).
        var unclosed = -(withChildren.GetValueOrDefault("revenues") + withChildren.GetValueOrDefault("expenses"));
        var assets = withChildren.GetValueOrDefault("assets");
        var liabilities = -withChildren.GetValueOrDefault("liabilities");
        var equity = -withChildren.GetValueOrDefault("equity") + unclosed;
        Same(differences, $"{context}, assets total", Amount(sheet["assets"]!["total"]), assets);
        Same(differences, $"{context}, liabilities total", Amount(sheet["liabilities"]!["total"]), liabilities);
        Same(differences, $"{context}, equity total", Amount(sheet["equity"]!["total"]), equity);
        Same(differences, $"{context}, check.assets", Amount(sheet["check"]!["assets"]), assets);
        Same(differences, $"{context}, check.liabilitiesAndEquity", Amount(sheet["check"]!["liabilitiesAndEquity"]), liabilities + equity);
        if (!sheet["check"]!["balanced"]!.GetValue<bool>()) differences.Add($"{context}: check.balanced is false");

        // This year's earnings run from the later of the fiscal year's start and the day after the last close on or
        // before asOf (the only close is at a fiscal year's end); the rest of the unclosed earnings are earlier years'.
        var date = Date(asOf);
        var yearStart = new DateOnly(date.Month >= FiscalYearStartMonth ? date.Year : date.Year - 1, FiscalYearStartMonth, 1);
        var closed = Date(ClosedYearEnd);
        var currentFrom = closed <= date && closed >= yearStart ? closed.AddDays(1) : yearStart;
        var current = 0m;
        if (currentFrom <= date)
        {
            var earnings = await hledger.BalancesAsync("--tree", "--no-elide", $"--begin={Text(currentFrom)}", EndAfter(asOf),
                "not:tag:closing", "acct:^revenues:", "acct:^expenses:");
            current = -(earnings.GetValueOrDefault("revenues") + earnings.GetValueOrDefault("expenses"));
        }
        Same(differences, $"{context}, currentYearEarnings", Amount(sheet["equity"]!["currentYearEarnings"]), current);
        Same(differences, $"{context}, unclosedRetainedEarnings", Amount(sheet["equity"]!["unclosedRetainedEarnings"]), unclosed - current);
    }

    private async Task CompareIncomeStatementAsync(string book, string from, string to, bool byMonth, HledgerJournal hledger,
        List<string> differences)
    {
        var statement = await Admin.GetJsonOkAsync(
            $"/v1/books/{book}/reports/income-statement?from={from}&to={to}" + (byMonth ? "&columns=month" : ""));
        await CompareIncomeColumnAsync($"income statement {from}..{to}", statement, from, to, hledger, differences);
        if (!byMonth) return;
        foreach (var month in statement["months"]!.AsArray())
        {
            var (monthFrom, monthTo) = (month!["from"]!.GetValue<string>(), month["to"]!.GetValue<string>());
            await CompareIncomeColumnAsync($"income statement {from}..{to}, month {monthFrom}..{monthTo}", month, monthFrom, monthTo,
                hledger, differences);
        }
    }

    /// <summary>One column of an income statement (the period's or a month's) against hledger over the same days.</summary>
    private static async Task CompareIncomeColumnAsync(string context, JsonNode column, string from, string to, HledgerJournal hledger,
        List<string> differences)
    {
        // A closed year still shows its result: the closing entries are left out, here by their tag.
        string[] period = [$"--begin={from}", EndAfter(to), "not:tag:closing", "acct:^revenues:", "acct:^expenses:"];
        var own = await hledger.BalancesAsync(period);
        var withChildren = await hledger.BalancesAsync(["--tree", "--no-elide", .. period]);
        CompareSection(differences, $"{context}, income", column["income"]!["accounts"]!.AsArray(), "income", hledger, own, withChildren);
        CompareSection(differences, $"{context}, expenses", column["expenses"]!["accounts"]!.AsArray(), "expense", hledger, own, withChildren);
        var income = -withChildren.GetValueOrDefault("revenues");
        var expenses = withChildren.GetValueOrDefault("expenses");
        Same(differences, $"{context}, income total", Amount(column["income"]!["total"]), income);
        Same(differences, $"{context}, expenses total", Amount(column["expenses"]!["total"]), expenses);
        Same(differences, $"{context}, net income", Amount(column["netIncome"]), income - expenses);
    }

    /// <summary>
    /// A statement's lines against hledger: each line's own balance against flat mode, its subtotal against tree mode
    /// (which sums subaccounts into parents), both on the normal side; and every account hledger finds a balance on is listed.
    /// </summary>
    private static void CompareSection(List<string> differences, string context, JsonArray lines, string type, HledgerJournal hledger,
        IReadOnlyDictionary<string, decimal> own, IReadOnlyDictionary<string, decimal> withChildren)
    {
        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            var code = line!["account"]!.GetValue<string>();
            if (!listed.Add(code)) differences.Add($"{context}: {code} listed twice");
            var name = hledger.NameOf(code);
            Same(differences, $"{context}, {code} balance", Amount(line["balance"]), Normal(type, own.GetValueOrDefault(name)));
            Same(differences, $"{context}, {code} subtotal", Amount(line["subtotal"]), Normal(type, withChildren.GetValueOrDefault(name)));
        }
        foreach (var (code, balance) in hledger.ByCode(own))
            if (hledger.TypeOf(code) == type && !listed.Contains(code))
                differences.Add($"{context}: {code} missing, hledger has {balance} (debit − credit)");
    }

    private static void Same(List<string> differences, string what, decimal api, decimal hledger)
    {
        if (api != hledger) differences.Add($"{what}: API {api}, hledger {hledger}");
    }

    /// <summary>The statements' sign: debit-normal types as hledger has them, credit-normal ones negated.</summary>
    private static decimal Normal(string type, decimal debitMinusCredit) => type is "asset" or "expense" ? debitMinusCredit : -debitMinusCredit;

    private static decimal Amount(JsonNode? node) =>
        decimal.Parse(node!.GetValue<string>(), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);

    /// <summary>hledger's --end is exclusive; the API's asOf and to are the last day counted.</summary>
    private static string EndAfter(string lastDay) => $"--end={Text(Date(lastDay).AddDays(1))}";

    private static DateOnly Date(string text) => DateOnly.ParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Text(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    // --- the history, posted through the API ---

    private async Task<string> CreateBookAsync()
    {
        var book = await App.CreateBookAsync(Currency);
        // Two levels under 1010 Bank, and children of accounts that take postings themselves, so a statement's
        // subtotals differ from its balances.
        await App.CreateAccountAsync(book, "1011", "asset", parent: "1010");
        await App.CreateAccountAsync(book, "1012", "asset", parent: "1011");
        await App.CreateAccountAsync(book, "2510", "liability", parent: "2500");
        await App.CreateAccountAsync(book, "4010", "income", parent: "4000");
        await App.CreateAccountAsync(book, "6110", "expense", parent: "6100");
        var patched = await Admin.PatchJsonAsync($"/v1/books/{book}", new { fiscalYearStartMonth = FiscalYearStartMonth });
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        return book;
    }

    private async Task PostRandomAsync(string book, int count, string firstDay, string lastDay, long customer, long vendor)
    {
        // Retained earnings takes only what a close moves into it; the control accounts only lines naming a party.
        var codes = new[] { "1000", "1010", "1011", "1012", "1200", "1400", "1500", "2000", "2100", "2200", "2500", "2510", "3000",
            "4000", "4010", "4900", "5000", "6000", "6100", "6110", "6200", "6300", "6900" };
        string Account() => codes[_random.Next(codes.Length)] switch
        {
            "1200" => $"1200/customer:{customer}",
            "2000" => $"2000/vendor:{vendor}",
            var code => code,
        };
        var (first, last) = (Date(firstDay), Date(lastDay));
        var dates = Enumerable.Range(0, count).Select(_ => first.AddDays(_random.Next(last.DayNumber - first.DayNumber + 1)))
            .Concat(BoundaryDays().Where(d => d >= first && d <= last && _boundariesPosted.Add(d)))
            .OrderBy(_ => _random.Next()).ToList();
        foreach (var date in dates)
        {
            // Now and then an amount in the millions, past where a formatter would group digits.
            var amounts = Enumerable.Range(0, _random.Next(1, 4))
                .Select(_ => _random.Next(20) == 0 ? _random.NextInt64(100_000_000, 5_000_000_000) : _random.Next(1, 500_000)).ToList();
            var lines = amounts.Select(a => (Account(), (string?)ReportClient.Money(a), (string?)null)).ToList();
            lines.Add((Account(), null, ReportClient.Money(amounts.Sum())));
            if (_random.Next(2) == 0) lines = lines.Select(l => (l.Item1, l.Item3, l.Item2)).ToList();
            var posted = await Admin.PostEntryOkAsync(book, Text(date), $"Random {_posted.Count}", [.. lines]);
            _posted.Add(new PostedEntry(posted["id"]!.GetValue<long>(), Text(date), Closing: false));
        }
    }

    /// <summary>
    /// The days on and just past each date and period end the test reports on, within the history: an entry on each
    /// tells a report that counts its last day from one that stops short of it or runs a day over.
    /// </summary>
    private static IEnumerable<DateOnly> BoundaryDays() =>
        AsOfDates.Select(Date).SelectMany(d => new[] { d, d.AddDays(1) })
            .Concat(Periods.SelectMany(p => new[] { Date(p.From).AddDays(-1), Date(p.From), Date(p.To), Date(p.To).AddDays(1) }))
            .Where(d => d >= Date(FirstDay) && d <= Date(LastDay))
            .Distinct();

    private async Task ReverseRandomAsync(string book, int count, string? after)
    {
        for (var i = 0; i < count; i++)
        {
            var candidates = _posted.Where(e => !e.Closing && !e.Reversed && (after is null || string.CompareOrdinal(e.Date, after) > 0)).ToList();
            var original = candidates[_random.Next(candidates.Count)];
            // Half on the original's date, half a few days later.
            object body = _random.Next(2) == 0 ? new { } : new { date = Text(Date(original.Date).AddDays(_random.Next(1, 20))) };
            var response = await Admin.PostJsonAsync($"{EntriesUrl(book)}/{original.Id}/reverse", body);
            var reversal = await response.AssertCreatedAsync();
            original.Reversed = true;
            _posted.Add(new PostedEntry(reversal["id"]!.GetValue<long>(), reversal["date"]!.GetValue<string>(), Closing: false));
        }
    }

    /// <summary>
    /// The book as an hledger journal, and hledger run on it. Each account becomes <c>type:ancestors:code</c>, the
    /// type as hledger names its top-level accounts (assets, liabilities, equity, revenues, expenses) and the path
    /// the API's parent links: flat mode then answers an account's own balance (what the trial balance and the
    /// statements' <c>balance</c> show), tree mode the sum with its subaccounts (<c>subtotal</c>), and each top-level
    /// account a section's total. Codes use only letters, digits, '.', '_' and '-', all plain in an hledger name.
    /// Debits are written positive and credits negative, so hledger's balances are the API's debit − credit.
    /// </summary>
    private sealed partial class HledgerJournal
    {
        private static readonly Dictionary<string, string> TopLevel = new()
        {
            ["asset"] = "assets", ["liability"] = "liabilities", ["equity"] = "equity", ["income"] = "revenues", ["expense"] = "expenses",
        };

        private readonly Dictionary<string, string> _names;
        private readonly Dictionary<string, string> _codes;
        private readonly Dictionary<string, string> _types;

        public string Path { get; }

        private HledgerJournal(string path, Dictionary<string, string> names, Dictionary<string, string> types)
        {
            Path = path;
            _names = names;
            _types = types;
            _codes = names.ToDictionary(n => n.Value, n => n.Key, StringComparer.Ordinal);
        }

        public string NameOf(string code) => _names[code];

        public string TypeOf(string code) => _types[code];

        /// <summary>Balances keyed by account code, dropping the top-level names that are no account of the book.</summary>
        public Dictionary<string, decimal> ByCode(IReadOnlyDictionary<string, decimal> byName) =>
            byName.Where(b => !TopLevel.ContainsValue(b.Key)).ToDictionary(b => _codes[b.Key], b => b.Value, StringComparer.Ordinal);

        public static async Task<HledgerJournal> WriteAsync(string path, JsonArray chart, IReadOnlyList<JsonNode> entries)
        {
            var parents = chart.ToDictionary(a => a!["code"]!.GetValue<string>(), a => a!["parent"]?.GetValue<string>(), StringComparer.Ordinal);
            var types = chart.ToDictionary(a => a!["code"]!.GetValue<string>(), a => a!["type"]!.GetValue<string>(), StringComparer.Ordinal);
            var names = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var code in parents.Keys)
            {
                Assert.Matches(CodeRule(), code);
                var lineage = new List<string>();
                for (var at = code; at is not null; at = parents[at]) lineage.Insert(0, at);
                names[code] = $"{TopLevel[types[code]]}:{string.Join(':', lineage)}";
            }

            var text = new StringBuilder();
            text.Append(CultureInfo.InvariantCulture, $"commodity 1000.00 {Currency}\n");
            foreach (var name in names.Values.Order(StringComparer.Ordinal)) text.Append(CultureInfo.InvariantCulture, $"account {name}\n");
            foreach (var entry in entries)
            {
                var id = entry["id"]!.GetValue<long>();
                var tags = entry["closingEntry"]!.GetValue<bool>() ? $"id:{id}, closing:" : $"id:{id}";
                text.Append(CultureInfo.InvariantCulture,
                    $"\n{entry["date"]!.GetValue<string>()} ({entry["number"]!.GetValue<long>()}) entry {id}  ; {tags}\n");
                foreach (var line in entry["lines"]!.AsArray())
                {
                    var name = names[line!["account"]!.GetValue<string>()];
                    var (amount, sign) = line["debit"] is { } debit ? (debit.GetValue<string>(), "") : (line["credit"]!.GetValue<string>(), "-");
                    // hledger would read "1,234" or "1.5e3" otherwise than the API means it.
                    Assert.Matches(AmountRule(), amount);
                    text.Append(CultureInfo.InvariantCulture, $"    {name}  {sign}{amount} {Currency}\n");
                }
            }
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
            await File.WriteAllTextAsync(path, text.ToString());
            return new HledgerJournal(path, names, types);
        }

        /// <summary>
        /// <c>hledger balance</c> on the journal with <paramref name="arguments"/>, per hledger account name (debit −
        /// credit). --strict refuses undeclared accounts and commodities; CSV with the bare layout gives the amount
        /// as a plain number beside its commodity, whatever the display style.
        /// </summary>
        public async Task<Dictionary<string, decimal>> BalancesAsync(params string[] arguments)
        {
            string[] command = ["balance", $"--file={Path}", "--strict", "--output-format=csv", "--layout=bare", "--no-total", .. arguments];
            var (exit, output, error) = await HledgerFactAttribute.RunAsync(command);
            var shown = "hledger " + string.Join(' ', command);
            Assert.True(exit == 0, $"{shown} exited with {exit}: {error}");
            // hledger ends its CSV records with LF; the reader the report tests share takes RFC 4180's CRLF.
            var rows = ReportClient.ParseCsv(output.ReplaceLineEndings("\r\n"));
            Assert.True(rows.Count > 0 && rows[0].SequenceEqual(["account", "commodity", "balance"]), $"{shown} answered:\n{output}");
            var balances = new Dictionary<string, decimal>(StringComparer.Ordinal);
            foreach (var row in rows.Skip(1))
            {
                Assert.True(row.Count == 3, $"{shown}: unexpected row {string.Join(',', row)}");
                var amount = decimal.Parse(row[2], NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
                Assert.True(row[1] == Currency || amount == 0, $"{shown}: amount in another commodity: {string.Join(',', row)}");
                Assert.True(_codes.ContainsKey(row[0]) || TopLevel.ContainsValue(row[0]), $"{shown}: unknown account {row[0]}");
                Assert.True(balances.TryAdd(row[0], amount), $"{shown}: {row[0]} answered twice");
            }
            return balances;
        }

        [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$")]
        private static partial Regex CodeRule();

        [GeneratedRegex("^[0-9]+\\.[0-9]{2}$")]
        private static partial Regex AmountRule();
    }
}

/// <summary>
/// A test that runs hledger: reported skipped, with the reason, where hledger is not installed or too old to have
/// the options the test uses (the bare CSV layout, --strict). Decided when tests are discovered, so it needs no
/// skip exception at run time.
/// </summary>
public sealed class HledgerFactAttribute : FactAttribute
{
    private static readonly Version Oldest = new(1, 25);
    private static readonly Lazy<(string? Executable, string? Unavailable)> Found = new(Find);

    public HledgerFactAttribute()
    {
        if (Found.Value.Unavailable is { } reason) Skip = reason;
    }

    /// <summary>Runs hledger with <paramref name="arguments"/>; answers its exit code, stdout and stderr.</summary>
    public static Task<(int Exit, string Output, string Error)> RunAsync(IEnumerable<string> arguments) =>
        RunAsync(Found.Value.Executable ?? throw new InvalidOperationException(Found.Value.Unavailable), arguments);

    private static async Task<(int Exit, string Output, string Error)> RunAsync(string executable, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        // hledger (GHC) decodes files by the locale; the journal is ASCII, but a C locale without UTF-8 is refused by some builds.
        start.Environment["LANG"] = "C.UTF-8";
        start.Environment.Remove("LEDGER_FILE");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"hledger {string.Join(' ', arguments)} did not finish in 60 s.");
        }
        return (process.ExitCode, await output, await error);
    }

    private static (string?, string?) Find()
    {
        var executable = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, "hledger"))
            .FirstOrDefault(File.Exists);
        if (executable is null)
            return (null, "hledger is not installed (no hledger on PATH): the reports' cross-check needs it (Debian: apt-get install hledger).");
        var (exit, output, error) = RunAsync(executable, ["--version"]).GetAwaiter().GetResult();
        var match = Regex.Match(output, @"^hledger (\d+)\.(\d+)");
        if (exit != 0 || !match.Success)
            return (null, $"{executable} --version did not answer a version (exit {exit}): {output}{error}");
        var version = new Version(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture));
        return version < Oldest
            ? (null, $"{executable} is hledger {version}; the reports' cross-check needs {Oldest} or later.")
            : (executable, null);
    }
}
