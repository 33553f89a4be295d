using System.Globalization;
using System.Net;
using Ledger.Api.Tests.Support;
using NodaTime;
using NodaTime.Testing;

namespace Ledger.Api.Tests.Reports;

public sealed class TrialBalanceTests(SharedApp shared) : SharedAppTest(shared)
{
    private static readonly (string Code, string Type)[] Chart =
        [("1000", "asset"), ("1010", "asset"), ("2000", "liability"), ("3000", "equity"), ("4000", "income"), ("6000", "expense")];

    /// <summary>A book with <see cref="Chart"/>, on the class's app or on <paramref name="app"/>.</summary>
    private async Task<(string Book, LedgerModel Model)> BookAsync(string currency = "EUR", int digits = 2, LedgerApp? app = null)
    {
        app ??= App;
        var book = await app.CreateBookAsync(currency, chart: null);
        var model = new LedgerModel(digits);
        foreach (var (code, type) in Chart)
        {
            await app.CreateAccountAsync(book, code, type);
            model.AddAccount(code, $"Account {code}", type);
        }
        return (book, model);
    }

    private Task PostAsync(string book, LedgerModel model, string date, params (string Account, string? Debit, string? Credit)[] lines) =>
        PostAsync(App, book, model, date, lines);

    private static async Task PostAsync(LedgerApp app, string book, LedgerModel model, string date,
        params (string Account, string? Debit, string? Credit)[] lines) =>
        model.Add(await app.PostEntryOkAsync(book, date, $"entry {date}", lines));

    [Fact]
    public async Task Each_account_with_a_balance_appears_once_with_its_net_in_one_column()
    {
        var (book, model) = await BookAsync();
        await PostAsync(book, model, "2026-01-10", ("1000", "500.00", null), ("3000", null, "500.00"));
        await PostAsync(book, model, "2026-01-11", ("6000", "120.00", null), ("1000", null, "120.00"));
        await PostAsync(book, model, "2026-01-12", ("1000", "80.00", null), ("4000", null, "80.00"));
        await PostAsync(book, model, "2026-01-13", ("1000", "30.00", null), ("1000", null, "30.00")); // nets to nothing
        await PostAsync(book, model, "2026-01-14", ("1010", "10.00", null), ("2000", null, "10.00"));
        await PostAsync(book, model, "2026-01-15", ("2000", "10.00", null), ("1010", null, "10.00")); // back to zero

        var tb = await App.TrialBalanceAsync(book, "2026-01-31");
        LedgerModel.AssertSameTrialBalance(model.TrialBalance("2026-01-31", "EUR"), tb);

        var lines = tb["lines"]!.AsArray();
        Assert.Equal(["1000", "3000", "4000", "6000"], lines.Select(l => l!["account"]!.GetValue<string>()).Order());
        var cash = lines.Single(l => l!["account"]!.GetValue<string>() == "1000")!;
        Assert.Equal("460.00", cash["debit"]!.GetValue<string>());
        Assert.Equal("0.00", cash["credit"]!.GetValue<string>());
        Assert.Equal("asset", cash["type"]!.GetValue<string>());
        Assert.Equal("Account 1000", cash["name"]!.GetValue<string>());
        var equity = lines.Single(l => l!["account"]!.GetValue<string>() == "3000")!;
        Assert.Equal("0.00", equity["debit"]!.GetValue<string>());
        Assert.Equal("500.00", equity["credit"]!.GetValue<string>());
        Assert.Equal("580.00", tb["totals"]!["debit"]!.GetValue<string>());
        Assert.Equal("580.00", tb["totals"]!["credit"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_empty_book_has_an_empty_trial_balance_with_zero_totals()
    {
        var (book, _) = await BookAsync("JPY", 0);
        var tb = await App.TrialBalanceAsync(book, "2026-01-31");
        Assert.Equal("2026-01-31", tb["asOf"]!.GetValue<string>());
        Assert.Equal("JPY", tb["currency"]!.GetValue<string>());
        Assert.Empty(tb["lines"]!.AsArray());
        Assert.Equal("0", tb["totals"]!["debit"]!.GetValue<string>());
        Assert.Equal("0", tb["totals"]!["credit"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("JPY", 0, "1500", "0")]
    [InlineData("KWD", 3, "12.345", "0.000")]
    public async Task Amounts_use_the_book_currency_digits(string currency, int digits, string amount, string zero)
    {
        var (book, model) = await BookAsync(currency, digits);
        await PostAsync(book, model, "2026-01-10", ("1000", amount, null), ("4000", null, amount));
        var tb = await App.TrialBalanceAsync(book, "2026-01-10");
        LedgerModel.AssertSameTrialBalance(model.TrialBalance("2026-01-10", currency), tb);
        var cash = tb["lines"]!.AsArray().Single(l => l!["account"]!.GetValue<string>() == "1000")!;
        Assert.Equal(amount, cash["debit"]!.GetValue<string>());
        Assert.Equal(zero, cash["credit"]!.GetValue<string>());
    }

    [Fact]
    public async Task Every_day_across_month_ends_month_starts_and_a_year_end_shows_exactly_the_entries_dated_up_to_it()
    {
        var (book, model) = await BookAsync();
        // Posted out of date order: several are backdated before entries already posted.
        var dates = new[]
        {
            "2026-01-16", "2025-11-15", "2026-02-28", "2025-12-31", "2026-01-01", "2025-11-30", "2026-03-01",
            "2025-12-01", "2026-01-31", "2025-11-01", "2026-02-01", "2026-01-15", "2025-12-16", "2026-02-14",
            "2026-02-15", "2025-12-30", "2026-01-02", "2026-03-31", "2025-11-16",
        };
        var accounts = Chart.Select(c => c.Code).ToArray();
        for (var i = 0; i < dates.Length; i++)
        {
            var debit = accounts[i % accounts.Length];
            var credit = accounts[(i * 7 + 3) % accounts.Length];
            if (credit == debit) credit = accounts[(i + 1) % accounts.Length];
            var amount = Money.Format(1000 + i * 137L, 2);
            await PostAsync(book, model, dates[i], (debit, amount, null), (credit, null, amount));
        }

        for (var day = new LocalDate(2025, 10, 31); day <= new LocalDate(2026, 4, 2); day = day.PlusDays(1))
        {
            var asOf = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            LedgerModel.AssertSameTrialBalance(model.TrialBalance(asOf, "EUR"), await App.TrialBalanceAsync(book, asOf));
        }
    }

    [Fact]
    public async Task Every_day_of_a_month_is_exact_whether_its_part_month_is_summed_through_its_entries_or_its_accounts()
    {
        // With 24 accounts, the part of a month a balance sums postings for (the days up to asOf, or after it) is read
        // through its entries while it holds fewer than 6, and through each account's postings otherwise: March's first
        // days hold one entry each and its last days three each, so its days take both ways, from both ends of history.
        var book = await App.CreateBookAsync("EUR", chart: null);
        var model = new LedgerModel(2);
        var codes = Enumerable.Range(0, 24).Select(i => (1100 + i * 10).ToString(CultureInfo.InvariantCulture)).ToArray();
        foreach (var code in codes)
        {
            await App.CreateAccountAsync(book, code, "asset");
            model.AddAccount(code, $"Account {code}", "asset");
        }
        var dates = new List<string> { "2025-12-10", "2026-01-20", "2026-02-27", "2026-04-01", "2026-07-15" };
        for (var day = 1; day <= 5; day++) dates.Add($"2026-03-{day:00}");
        for (var day = 20; day <= 31; day++) dates.AddRange(Enumerable.Repeat($"2026-03-{day:00}", 3));
        for (var i = 0; i < dates.Count; i++)
        {
            var amount = Money.Format(100 + i * 31L, 2);
            await PostAsync(book, model, dates[i], (codes[i % codes.Length], amount, null), (codes[(i * 5 + 7) % codes.Length], null, amount));
        }

        for (var day = new LocalDate(2026, 2, 28); day <= new LocalDate(2026, 4, 1); day = day.PlusDays(1))
        {
            var asOf = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            LedgerModel.AssertSameTrialBalance(model.TrialBalance(asOf, "EUR"), await App.TrialBalanceAsync(book, asOf));
        }
        // The same month, now nearer the end of the book's history than its start: read from the all-time totals back.
        await PostAsync(book, model, "2024-01-02", (codes[3], "1.00", null), (codes[4], null, "1.00"));
        foreach (var asOf in new[] { "2026-03-02", "2026-03-05", "2026-03-15", "2026-03-16", "2026-03-28", "2026-03-30" })
            LedgerModel.AssertSameTrialBalance(model.TrialBalance(asOf, "EUR"), await App.TrialBalanceAsync(book, asOf));

        // As known at the last entry's instant (the chart is then read as it stood, without totals, and its accounts are
        // counted instead), and in May, whose days up to the 10th hold no entry at all.
        var last = await App.PostEntryOkAsync(book, "2026-03-03", "entry 2026-03-03", (codes[5], "2.00", null), (codes[6], null, "2.00"));
        model.Add(last);
        var knownAt = Uri.EscapeDataString(last["createdAt"]!.GetValue<string>());
        foreach (var asOf in new[] { "2026-03-04", "2026-03-29", "2026-05-10" })
        {
            LedgerModel.AssertSameTrialBalance(model.TrialBalance(asOf, "EUR"), await App.TrialBalanceAsync(book, asOf));
            LedgerModel.AssertSameTrialBalance(model.TrialBalance(asOf, "EUR"),
                await Admin.GetJsonAsync($"/v1/books/{book}/reports/trial-balance?asOf={asOf}&knownAt={knownAt}"));
        }
    }

    [Fact]
    public async Task A_change_to_the_chart_or_a_new_post_shows_in_the_very_next_report()
    {
        // Reports keep each book's chart between calls and read it again only when it changed (ReportCharts); totals
        // are read every time. Each kind of change must show in the next report.
        const string AsOf = "2026-02-28";
        var (book, model) = await BookAsync();
        async Task AssertReportAsync() =>
            LedgerModel.AssertSameTrialBalance(model.TrialBalance(AsOf, "EUR"), await App.TrialBalanceAsync(book, AsOf));

        await PostAsync(book, model, "2026-02-01", ("1000", "10.00", null), ("4000", null, "10.00"));
        await AssertReportAsync();
        await PostAsync(book, model, "2026-02-02", ("1010", "3.00", null), ("4000", null, "3.00"));
        await AssertReportAsync();

        Assert.Equal(HttpStatusCode.OK, (await Admin.PatchJsonAsync($"/v1/books/{book}/accounts/1000", new { name = "Cash at bank" })).StatusCode);
        model.AddAccount("1000", "Cash at bank", "asset");
        await AssertReportAsync();

        await App.CreateAccountAsync(book, "1020", "asset");
        model.AddAccount("1020", "Account 1020", "asset");
        await AssertReportAsync();
        await PostAsync(book, model, "2026-02-03", ("1020", "5.00", null), ("1000", null, "5.00"));
        await AssertReportAsync();

        // Deleted and created again: another account (another id) with the same code, of another type.
        await App.CreateAccountAsync(book, "1030", "asset");
        await AssertReportAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"/v1/books/{book}/accounts/1030")).StatusCode);
        await App.CreateAccountAsync(book, "1030", "liability");
        model.AddAccount("1030", "Account 1030", "liability");
        await PostAsync(book, model, "2026-02-04", ("1000", "2.00", null), ("1030", null, "2.00"));
        await AssertReportAsync();
        var sheet = await Admin.GetJsonAsync($"/v1/books/{book}/reports/balance-sheet?asOf={AsOf}");
        Assert.Contains("\"1030\"", sheet["liabilities"]!.ToJsonString());
    }

    [Fact]
    public async Task A_backdated_entry_posted_later_shows_from_its_date_on_only()
    {
        var (book, model) = await BookAsync();
        await PostAsync(book, model, "2026-03-20", ("1000", "100.00", null), ("3000", null, "100.00"));
        var beforeBackdate = await App.TrialBalanceAsync(book, "2026-03-09");
        Assert.Empty(beforeBackdate["lines"]!.AsArray());

        await PostAsync(book, model, "2026-03-10", ("6000", "40.00", null), ("2000", null, "40.00"));
        await PostAsync(book, model, "2025-07-04", ("1010", "7.00", null), ("4000", null, "7.00"));

        foreach (var asOf in new[] { "2025-07-03", "2025-07-04", "2025-12-31", "2026-01-01", "2026-03-09", "2026-03-10", "2026-03-19", "2026-03-20", "2026-03-31" })
            LedgerModel.AssertSameTrialBalance(model.TrialBalance(asOf, "EUR"), await App.TrialBalanceAsync(book, asOf));

        var march9 = await App.TrialBalanceAsync(book, "2026-03-09");
        Assert.Equal("7.00", march9["totals"]!["debit"]!.GetValue<string>());
    }

    [Fact]
    public async Task Without_asOf_the_trial_balance_is_as_of_today()
    {
        // "Today" is the app's clock, so this test runs on an app of its own whose clock reads half a minute to midnight.
        await using var app = LedgerApp.Start(new FakeClock(Instant.FromUtc(2026, 5, 20, 23, 59, 30)));
        var (book, model) = await BookAsync(app: app);
        await PostAsync(app, book, model, "2026-05-20", ("1000", "1.00", null), ("4000", null, "1.00"));
        await PostAsync(app, book, model, "2026-05-21", ("1000", "1000.00", null), ("3000", null, "1000.00"));
        await PostAsync(app, book, model, "2027-01-01", ("6000", "5.00", null), ("1000", null, "5.00"));

        var tb = await app.TrialBalanceAsync(book);
        Assert.Equal("2026-05-20", tb["asOf"]!.GetValue<string>());
        LedgerModel.AssertSameTrialBalance(model.TrialBalance("2026-05-20", "EUR"), tb);
        Assert.Equal("1.00", tb["totals"]!["debit"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("2026-02-30")]
    [InlineData("2026-2-3")]
    [InlineData("today")]
    [InlineData("")]
    public async Task A_bad_asOf_is_400_on_asOf(string asOf)
    {
        var (book, _) = await BookAsync();
        await (await Admin.GetAsync($"/v1/books/{book}/reports/trial-balance?asOf={asOf}")).AssertValidationErrorAsync("asOf");
    }

    [Fact]
    public async Task Reversals_and_archived_accounts_are_reported_by_their_balances()
    {
        var (book, model) = await BookAsync();
        var sale = await App.PostEntryOkAsync(book, "2026-06-10", "sale", ("1000", "250.00", null), ("4000", null, "250.00"));
        model.Add(sale);
        model.Add(await (await Admin.PostRawAsync($"/v1/books/{book}/journal-entries/{sale["id"]}/reverse", """{"date":"2026-06-20"}"""))
            .AssertCreatedAsync());
        await PostAsync(book, model, "2026-06-12", ("6000", "12.00", null), ("1010", null, "12.00"));
        Assert.Equal(HttpStatusCode.OK, (await Admin.PatchJsonAsync($"/v1/books/{book}/accounts/6000", new { archived = true })).StatusCode);

        foreach (var asOf in new[] { "2026-06-09", "2026-06-10", "2026-06-15", "2026-06-19", "2026-06-20", "2026-06-30" })
            LedgerModel.AssertSameTrialBalance(model.TrialBalance(asOf, "EUR"), await App.TrialBalanceAsync(book, asOf));
    }

    [Fact]
    public async Task Entries_at_the_edges_of_the_calendar_are_either_refused_or_reported_correctly()
    {
        var (book, model) = await BookAsync();
        await PostAsync(book, model, "2026-01-10", ("1000", "5.00", null), ("3000", null, "5.00"));
        foreach (var date in new[] { "0001-01-01", "9999-12-31" })
        {
            var response = await Admin.PostEntryAsync(book, date, "edge", ("1010", "1.00", null), ("4000", null, "1.00"));
            if (response.StatusCode == HttpStatusCode.BadRequest)
                await response.AssertValidationErrorAsync("date"); // a ledger may limit its dates...
            else
                model.Add(await response.AssertCreatedAsync()); // ...but a date it accepts must be reportable
        }

        foreach (var asOf in new[] { "0001-01-01", "0001-01-20", "2026-01-09", "2026-01-10", "9999-12-01", "9999-12-20", "9999-12-30", "9999-12-31" })
        {
            var response = await Admin.GetAsync($"/v1/books/{book}/reports/trial-balance?asOf={asOf}");
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"asOf {asOf}: {(int)response.StatusCode} {body}");
            LedgerModel.AssertSameTrialBalance(model.TrialBalance(asOf, "EUR"), System.Text.Json.Nodes.JsonNode.Parse(body)!);
        }
    }
}
