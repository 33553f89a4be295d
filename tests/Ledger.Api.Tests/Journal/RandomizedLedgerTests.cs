using System.Globalization;
using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Journal;

/// <summary>
/// A few hundred random balanced entries (2-5 lines, small to very large amounts, dates over two years posted in
/// random order, some reversed), checked against balances the test computes itself in long minor units.
/// </summary>
[Trait("Category", "Slow")]
public sealed class RandomizedLedgerTests(SharedApp shared) : SharedAppTest(shared)
{
    private static readonly string[] Types = ["asset", "liability", "equity", "income", "expense"];
    private static readonly DateOnly FirstDay = new(2025, 1, 1);
    private const int Days = 730;

    private static string Date(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("EUR", 2, 300, 20260315)]
    [InlineData("KWD", 3, 120, 4217)]
    [InlineData("JPY", 0, 120, 77)]
    public async Task Random_entries_add_up_exactly_in_accounts_trial_balances_and_the_journal(string currency, int digits, int entryCount, int seed)
    {
        var random = new Random(seed);
        var book = await App.CreateBookAsync(currency, chart: null);
        var model = new LedgerModel(digits);
        var codes = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            var type = Types[i % Types.Length];
            var code = $"{char.ToUpperInvariant(type[0])}{i:00}";
            await App.CreateAccountAsync(book, code, type);
            model.AddAccount(code, $"Account {code}", type);
            codes.Add(code);
        }

        var posted = new Dictionary<long, JsonNode>(); // by id, as answered (reversedBy as it will be at the end)
        var reversible = new List<long>();
        var reversals = 0;
        while (model.Entries.Count < entryCount)
        {
            // A round of concurrent requests: new entries and reversals of entries from earlier rounds.
            var round = new List<Task<HttpResponseMessage>>();
            var reversedThisRound = new HashSet<long>();
            var size = Math.Min(random.Next(1, 9), entryCount - model.Entries.Count);
            for (var r = 0; r < size; r++)
            {
                if (reversible.Count > 0 && random.Next(100) < 6)
                {
                    var target = reversible[random.Next(reversible.Count)];
                    if (reversedThisRound.Add(target))
                    {
                        reversible.Remove(target);
                        var originalDate = DateOnly.ParseExact(posted[target]["date"]!.GetValue<string>(), "yyyy-MM-dd", CultureInfo.InvariantCulture);
                        var body = new JsonObject { ["date"] = Date(originalDate.AddDays(random.Next(0, 60))) };
                        round.Add(Admin.PostRawAsync($"{EntriesUrl(book)}/{target}/reverse", body.ToJsonString()));
                        continue;
                    }
                }
                round.Add(Admin.PostRawAsync(EntriesUrl(book), RandomEntry(random, codes, digits, model.Entries.Count).ToJsonString()));
            }

            foreach (var response in await Task.WhenAll(round))
            {
                var entry = await response.AssertCreatedAsync();
                var id = entry["id"]!.GetValue<long>();
                posted[id] = entry;
                model.Add(entry);
                if (entry["reversalOf"] is { } of)
                {
                    reversals++;
                    posted[of.GetValue<long>()]["reversedBy"] = id;
                }
                else
                {
                    reversible.Add(id);
                }
            }
        }
        Assert.True(reversals > 0, "the seed made no reversal");

        // Accounts: all-time totals and the balance on the normal side.
        var accounts = (await Admin.GetJsonAsync(AccountsUrl(book))).AsArray();
        Assert.Equal(codes.Order(StringComparer.Ordinal), accounts.Select(a => a!["code"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        foreach (var account in accounts)
        {
            var code = account!["code"]!.GetValue<string>();
            var (debit, credit) = model.Totals(code);
            Assert.Equal(Money.Format(debit, digits), account["debitTotal"]!.GetValue<string>());
            Assert.Equal(Money.Format(credit, digits), account["creditTotal"]!.GetValue<string>());
            Assert.Equal(Money.Format(model.Balance(code), digits), account["balance"]!.GetValue<string>());
        }

        // Trial balances at month middles, ends and starts, across the year end, before and after everything.
        var asOfs = new List<string>
        {
            "2024-12-31", "2025-01-01", "2025-01-15", "2025-02-28", "2025-03-01", "2025-03-16", "2025-06-30", "2025-07-01",
            "2025-11-30", "2025-12-15", "2025-12-31", "2026-01-01", "2026-01-31", "2026-02-01", "2026-02-14", "2026-06-17",
            "2026-12-30", "2026-12-31", "2027-01-01", "2027-03-31", "2099-12-31",
        };
        for (var i = 0; i < 12; i++) asOfs.Add(Date(FirstDay.AddDays(random.Next(-5, Days + 65))));
        foreach (var asOf in asOfs)
            LedgerModel.AssertSameTrialBalance(model.TrialBalance(asOf, currency), await App.TrialBalanceAsync(book, asOf));

        // The journal: every entry once, by date then number, exactly as answered when posted (with reversal links).
        var expectedOrder = posted.Values
            .OrderBy(e => e["date"]!.GetValue<string>(), StringComparer.Ordinal).ThenBy(e => e["number"]!.GetValue<long>())
            .ToList();
        Assert.Equal(Enumerable.Range(1, posted.Count).Select(n => (long)n), posted.Values.Select(e => e["number"]!.GetValue<long>()).Order());
        var walked = await App.AllEntriesAsync(book, limit: 97);
        Assert.Equal(expectedOrder.Count, walked.Count);
        for (var i = 0; i < walked.Count; i++)
            Assert.True(JsonNode.DeepEquals(expectedOrder[i], walked[i]), $"#{i}: expected {expectedOrder[i].ToJsonString()}\ngot {walked[i].ToJsonString()}");

        // One account's history through the account filter.
        var someAccount = codes[random.Next(codes.Count)];
        var touching = expectedOrder.Where(e => e["lines"]!.AsArray().Any(l => l!["account"]!.GetValue<string>() == someAccount))
            .Select(e => e["id"]!.GetValue<long>());
        Assert.Equal(touching, (await App.AllEntriesAsync(book, $"account={someAccount}", limit: 13)).Select(e => e["id"]!.GetValue<long>()));
    }

    /// <summary>A balanced entry of 2-5 lines with amounts written in varied but exact ways.</summary>
    private static JsonObject RandomEntry(Random random, List<string> codes, int digits, int n)
    {
        var lineCount = random.Next(2, 6);
        var debitCount = random.Next(1, lineCount);
        var creditCount = lineCount - debitCount;
        var debits = Enumerable.Range(0, debitCount).Select(_ => RandomAmount(random, digits)).ToList();
        var total = debits.Sum();
        if (total < creditCount) { debits[0] += creditCount; total += creditCount; }

        // Split the total into creditCount positive parts.
        var cuts = Enumerable.Range(0, creditCount - 1).Select(_ => random.NextInt64(1, total)).Distinct().Order().ToList();
        var credits = new List<long>();
        long previous = 0;
        foreach (var cut in cuts) { credits.Add(cut - previous); previous = cut; }
        credits.Add(total - previous);

        var lines = debits.Select(a => (Side: "debit", Amount: a)).Concat(credits.Select(a => (Side: "credit", Amount: a)))
            .OrderBy(_ => random.Next()).ToList();
        var json = new JsonArray();
        foreach (var (side, amount) in lines)
        {
            var line = new JsonObject { ["account"] = codes[random.Next(codes.Count)], [side] = AmountJson(random, amount, digits) };
            if (random.Next(4) == 0) line["description"] = $"line {side} {amount}";
            json.Add(line);
        }
        var date = FirstDay.AddDays(random.Next(Days));
        return new JsonObject
        {
            ["date"] = Date(date),
            ["description"] = $"random entry {n}",
            ["reference"] = random.Next(3) == 0 ? $"R{random.Next(10)}" : null,
            ["lines"] = json,
        };
    }

    private static long RandomAmount(Random random, int digits) => random.Next(100) switch
    {
        < 60 => random.NextInt64(1, 100_000),
        < 85 => random.NextInt64(1, 1_000_000_000),
        < 97 => random.NextInt64(1, 1_000_000_000_000_000),
        _ => random.NextInt64(1, 10_000_000_000_000_000),
    };

    /// <summary>The amount as a JSON string or number, with or without trailing zeros.</summary>
    private static JsonNode AmountJson(Random random, long minorUnits, int digits)
    {
        var text = Money.Format(minorUnits, digits);
        if (digits > 0 && random.Next(3) == 0) text = text.TrimEnd('0').TrimEnd('.');
        return random.Next(4) == 0
            ? JsonNode.Parse(text)! // a JSON number token with exactly this text
            : JsonValue.Create(text);
    }
}
