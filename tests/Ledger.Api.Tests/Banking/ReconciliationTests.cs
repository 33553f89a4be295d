using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Banking;

public sealed class ReconciliationTests(SharedApp shared) : SharedAppTest(shared)
{
    private static decimal D(JsonNode? node) => decimal.Parse(node!.GetValue<string>(), CultureInfo.InvariantCulture);

    /// <summary>The identity the reconciliation promises, checked on every answer.</summary>
    private static void AssertExplained(JsonNode r) =>
        Assert.Equal(D(r["statementBalance"]),
            D(r["bookBalance"]) - D(r["unreconciledPostings"]) + D(r["unmatchedStatementLines"]) + D(r["difference"]));

    [Fact]
    public async Task Items_from_an_earlier_period_stay_open_until_matched_and_a_closed_period_holds()
    {
        var book = await StandardBookAsync();
        var account = await Admin.CreateBankAccountAsync(book);
        // Brought forward: the books and the bank agree at 1,000.00 before the first statement line.
        await App.PostEntryOkAsync(book, "2026-02-28", "Opening balance", ("1010", "1000.00", null), ("3000", null, "1000.00"));
        // A cheque written in March that the bank pays in April, and a deposit the books have but the bank never shows in March.
        var cheque = await App.PostEntryOkAsync(book, "2026-03-20", "Cheque 101", ("6000", "400.00", null), ("1010", null, "400.00"));
        var fee = await App.PostEntryOkAsync(book, "2026-03-31", "Fee (script)", ("6900", "5.00", null), ("1010", null, "5.00"));
        BankLine[] march = [new("2026-03-10", "250.00", "Customer deposit", "M1"), new("2026-03-31", "-5.00", "Fee", "M2")];
        var imported = await Admin.ImportOkAsync(book, account, BankFiles.Camt("1000.00", "1245.00", march), "?applyRules=false");
        var deposit = imported["lines"]![0].Id();
        await (await Admin.MatchAsync(book, imported["lines"]![1].Id(), new { posting = new { entryId = fee.Id(), line = 1 } })).AssertCreatedAsync();

        var r = await Admin.ReconciliationAsync(book, account, "2026-03-31");
        AssertExplained(r);
        Assert.Equal(("1245.00", "595.00", "0.00"), (r.Str("statementBalance"), r.Str("bookBalance"), r.Str("difference")));
        Assert.Equal(("-400.00", 1), (r.Str("unreconciledPostings"), r["unreconciledPostingCount"]!.GetValue<int>()));
        Assert.Equal(("250.00", deposit), (r.Str("unmatchedStatementLines"), r["unmatchedStatementLineItems"]![0].Id()));

        // Closing needs the bank's figure explained exactly.
        var refused = await (await Admin.PostJsonAsync($"{BankFiles.Url(book, "bank-accounts")}/{account}/reconciliations",
            new { asOf = "2026-03-31", statementBalance = "1240.00" })).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal("-5.00", refused.Str("difference"));
        var closing = await Admin.PostJsonAsync($"{BankFiles.Url(book, "bank-accounts")}/{account}/reconciliations",
            new { asOf = "2026-03-31", statementBalance = "1245.00" });
        var closed = await closing.AssertCreatedAsync();
        Assert.Equal(1, closed["matchesClosed"]!.GetValue<int>());
        Assert.True(JsonNode.DeepEquals(closed, await Admin.GetJsonAsync(closing.Headers.Location!.ToString())));
        await (await Admin.GetAsync($"{BankFiles.Url(book, "bank-accounts")}/{account}/reconciliations/{closed.Id() + 1000}"))
            .AssertProblemAsync(HttpStatusCode.NotFound);
        await (await Admin.DeleteAsync($"{BankFiles.Url(book, "statement-lines")}/{imported["lines"]![1].Id()}/match")).AssertProblemAsync(HttpStatusCode.Conflict);
        await (await Admin.PostJsonAsync($"{BankFiles.Url(book, "bank-accounts")}/{account}/reconciliations",
            new { asOf = "2026-03-15", statementBalance = "1250.00" })).AssertProblemAsync(HttpStatusCode.Conflict);

        // April: the cheque clears and the March deposit is finally booked; both leave the open items, and nothing is counted twice.
        BankLine[] april = [new("2026-04-03", "-400.00", "Cheque 101", "A1")];
        var aprilLines = await Admin.ImportOkAsync(book, account, BankFiles.Camt("1245.00", "845.00", april), "?applyRules=false");
        await (await Admin.MatchAsync(book, aprilLines["lines"]![0].Id(), new { posting = new { entryId = cheque.Id(), line = 1 } })).AssertCreatedAsync();
        var beforeDeposit = await Admin.ReconciliationAsync(book, account, "2026-04-30");
        AssertExplained(beforeDeposit);
        Assert.Equal((0, 1), (beforeDeposit["unreconciledPostingCount"]!.GetValue<int>(), beforeDeposit["unmatchedStatementLineCount"]!.GetValue<int>()));
        await (await Admin.MatchAsync(book, deposit, new { account = "4900" })).AssertCreatedAsync();
        var april30 = await Admin.ReconciliationAsync(book, account, "2026-04-30");
        AssertExplained(april30);
        Assert.Equal(("845.00", "845.00", "0.00"), (april30.Str("statementBalance"), april30.Str("bookBalance"), april30.Str("difference")));
        Assert.Equal(0, april30["unmatchedStatementLineCount"]!.GetValue<int>());
        // The March view still shows the cheque outstanding (it cleared in April) and the deposit now booked on its own date.
        var march31 = await Admin.ReconciliationAsync(book, account, "2026-03-31");
        AssertExplained(march31);
        Assert.Equal(("-400.00", "0.00"), (march31.Str("unreconciledPostings"), march31.Str("unmatchedStatementLines")));
        await (await Admin.PostJsonAsync($"{BankFiles.Url(book, "bank-accounts")}/{account}/reconciliations",
            new { asOf = "2026-04-30", statementBalance = "845.00" })).AssertCreatedAsync();
        Assert.Equal(2, (await Admin.GetJsonAsync($"{BankFiles.Url(book, "bank-accounts")}/{account}/reconciliations")).AsArray().Count);
        var verified = await Admin.GetJsonAsync($"/v1/books/{book}/audit/verify");
        Assert.True(verified["valid"]!.GetValue<bool>(), verified.ToJsonString());

        var cash = await Admin.GetJsonAsync(BankFiles.Url(book, "reports/cash-position?asOf=2026-04-30"));
        var bank = cash["accounts"]![0]!;
        Assert.Equal(("845.00", "845.00", "2026-04-03", 0), (bank.Str("bookBalance"), bank.Str("statementBalance"), bank.Str("statementDate"), bank["unmatchedLines"]!.GetValue<int>()));
        var csv = await (await Admin.GetAsync(BankFiles.Url(book, "reports/cash-position?asOf=2026-04-30&format=csv"))).Content.ReadAsStringAsync();
        Assert.StartsWith("bankAccount,name,account,kind,bookBalance,statementBalance,statementDate,unmatchedLines,unmatchedTotal\r\n", csv);
        Assert.Contains(",845.00,845.00,2026-04-03,0,0.00", csv);
    }

    [Fact]
    public async Task In_a_randomized_run_the_reconciliation_difference_is_always_explained()
    {
        var book = await StandardBookAsync();
        var account = await Admin.CreateBankAccountAsync(book);
        var random = new Random(20261130);
        await App.PostEntryOkAsync(book, "2026-01-01", "Opening balance", ("1010", "5000.00", null), ("3000", null, "5000.00"));
        var lines = new List<BankLine>();
        for (var i = 0; i < 40; i++)
        {
            var cents = random.Next(-50_000, 50_000);
            if (cents == 0) cents = 1;
            lines.Add(new BankLine($"2026-01-{random.Next(2, 29):00}", (cents / 100m).ToString("0.00", CultureInfo.InvariantCulture), $"Line {i}", $"R{i}"));
        }
        var imported = await Admin.ImportOkAsync(book, account, BankFiles.Camt("5000.00", BankFiles.Sum("5000.00", [.. lines]), [.. lines]), "?applyRules=false");
        var ids = imported["lines"]!.AsArray().Select(l => l.Id()).ToList();
        // Some lines get an entry posted by "a script" and matched to it (sometimes days apart), some are coded, some ignored, some left.
        for (var i = 0; i < lines.Count; i++)
        {
            var choice = random.Next(4);
            var amount = decimal.Parse(lines[i].Amount, CultureInfo.InvariantCulture);
            if (choice == 0)
            {
                var date = DateOnly.Parse(lines[i].Date, CultureInfo.InvariantCulture).AddDays(random.Next(-3, 4)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                var magnitude = Math.Abs(amount).ToString("0.00", CultureInfo.InvariantCulture);
                var entry = amount > 0
                    ? await App.PostEntryOkAsync(book, date, "Script", ("1010", magnitude, null), ("4900", null, magnitude))
                    : await App.PostEntryOkAsync(book, date, "Script", ("6900", magnitude, null), ("1010", null, magnitude));
                await (await Admin.MatchAsync(book, ids[i], new { posting = new { entryId = entry.Id(), line = amount > 0 ? 0 : 1 } })).AssertCreatedAsync();
            }
            else if (choice == 1) await (await Admin.MatchAsync(book, ids[i], new { account = amount > 0 ? "4900" : "6900" })).AssertCreatedAsync();
            else if (choice == 2 && random.Next(3) == 0)
                Assert.Equal(HttpStatusCode.OK, (await Admin.PostJsonAsync($"{BankFiles.Url(book, "statement-lines")}/{ids[i]}/ignore", new { })).StatusCode);
        }
        // And some postings the bank never shows.
        for (var i = 0; i < 5; i++)
            await App.PostEntryOkAsync(book, $"2026-01-{random.Next(2, 29):00}", "Outstanding", ("6000", "10.00", null), ("1010", null, "10.00"));

        for (var day = 1; day <= 31; day += 3)
        {
            var r = await Admin.ReconciliationAsync(book, account, $"2026-01-{day:00}");
            AssertExplained(r);
            // The only thing the books cannot explain is what was ignored: lines the bank booked that the books are told to leave out.
            Assert.Equal(0m, D(r["difference"]));
        }
    }
    [Fact]
    public async Task The_balance_before_the_feed_comes_from_a_stated_closing_balance_and_is_unknown_when_no_statement_states_one()
    {
        var book = await StandardBookAsync();
        var account = await Admin.CreateBankAccountAsync(book);
        await App.PostEntryOkAsync(book, "2026-02-28", "Opening balance", ("1010", "1000.00", null), ("3000", null, "1000.00"));
        // No balance stated: the bank's balance cannot be known, and is not taken as zero.
        var bare = await Admin.ImportOkAsync(book, account, BankFiles.Camt(null, null, new BankLine("2026-03-02", "250.00", "Deposit", "D1")), "?applyRules=false");
        var unknown = await Admin.ReconciliationAsync(book, account, "2026-03-31");
        Assert.Null(unknown["statementBalance"]);
        Assert.Null(unknown["difference"]);
        Assert.Equal("250.00", unknown.Str("unmatchedStatementLines"));
        // A later file states only its closing balance (as OFX does): the balance before the feed is backed out of it.
        var later = await Admin.ImportOkAsync(book, account, BankFiles.Camt(null, "1240.00", new BankLine("2026-03-05", "-10.00", "Fee", "D2")), "?applyRules=false");
        await (await Admin.MatchAsync(book, bare["lines"]![0].Id(), new { account = "4900" })).AssertCreatedAsync();
        await (await Admin.MatchAsync(book, later["lines"]![0].Id(), new { account = "6900" })).AssertCreatedAsync();
        var known = await Admin.ReconciliationAsync(book, account, "2026-03-31");
        AssertExplained(known);
        Assert.Equal(("1240.00", "1240.00", "0.00"), (known.Str("statementBalance"), known.Str("bookBalance"), known.Str("difference")));
        var cash = await Admin.GetJsonAsync(BankFiles.Url(book, "reports/cash-position?asOf=2026-03-31"));
        Assert.Equal(("1240.00", "2026-03-05"), (cash["accounts"]![0].Str("statementBalance"), cash["accounts"]![0].Str("statementDate")));
        // Closing a period that has not ended yet is refused: the bank may still book lines within it.
        await (await Admin.PostJsonAsync($"{BankFiles.Url(book, "bank-accounts")}/{account}/reconciliations",
            new { asOf = "2099-12-31", statementBalance = "1240.00" })).AssertValidationErrorAsync("asOf");
    }
}
