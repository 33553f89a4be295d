using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Reports;

/// <summary>Every report in CSV parses back to the same lines and numbers as its JSON.</summary>
public sealed class CsvTests(SharedApp shared) : SharedAppTest(shared)
{
    private string _book = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _book = await SampleBook.CreateAsync(App, closeFiscal2025: true);
    }

    [Fact]
    public async Task Trial_balance()
    {
        var url = $"/v1/books/{_book}/reports/trial-balance?asOf=2026-02-28";
        var json = await App.Admin.GetJsonOkAsync(url);
        var csv = await App.Admin.GetCsvAsync(url);

        var raw = await App.Admin.GetStringAsync(url + "&format=csv");
        Assert.StartsWith("account,name,type,debit,credit\r\n", raw);
        Assert.Equal(json["lines"]!.AsArray().Select(l => Fields(l!, "account", "name", "type", "debit", "credit")),
            csv.Select(r => Fields(r, "account", "name", "type", "debit", "credit")));
        Assert.Equal(json["totals"]!["debit"].Minor(), csv.Sum(r => ReportClient.Minor(r["debit"])));
        Assert.Equal(json["totals"]!["credit"].Minor(), csv.Sum(r => ReportClient.Minor(r["credit"])));
    }

    [Fact]
    public async Task Text_a_spreadsheet_would_run_as_a_formula_is_kept_as_text_and_amounts_stay_numbers()
    {
        await App.CreateAccountAsync(_book, "6950", "expense");
        Assert.Equal(System.Net.HttpStatusCode.OK,
            (await App.Admin.PatchJsonAsync($"/v1/books/{_book}/accounts/6950", new { name = "=HYPERLINK(\"http://evil.example\",\"x\")" })).StatusCode);
        await App.Admin.PostEntryOkAsync(_book, "2026-02-20", "@SUM(1+1)", ("6950", "5.00", null), ("1010", null, "5.00"));
        await App.Admin.PostEntryOkAsync(_book, "2026-02-21", "-2+3 refund", ("1010", "1.00", null), ("6950", null, "1.00"));

        var ledger = await App.Admin.GetCsvAsync($"/v1/books/{_book}/accounts/6950/ledger?from=2026-02-01&to=2026-02-28");
        Assert.Equal(["'@SUM(1+1)", "'-2+3 refund"], ledger.Select(r => r["description"]).Where(d => d.Length > 0 && d[0] == '\''));
        var trialBalance = await App.Admin.GetCsvAsync($"/v1/books/{_book}/reports/trial-balance?asOf=2026-02-28");
        Assert.Equal("'=HYPERLINK(\"http://evil.example\",\"x\")", trialBalance.Single(r => r["account"] == "6950")["name"]);
        Assert.Equal("4.00", ledger.Last()["balance"]);
    }

    [Theory]
    [InlineData("-1150.00", "-1150.00")]
    [InlineData("-5", "-5")]
    [InlineData("0.10", "0.10")]
    [InlineData("Rent, March", "Rent, March")]
    [InlineData("-", "'-")]
    [InlineData("-1.", "'-1.")]
    [InlineData("-2+3", "'-2+3")]
    [InlineData("+1", "'+1")]
    [InlineData("=1+1", "'=1+1")]
    [InlineData("@A1", "'@A1")]
    [InlineData("\tx", "'\tx")]
    public void Fields_starting_like_a_formula_get_an_apostrophe_unless_they_are_plain_numbers(string field, string written) =>
        Assert.Equal(written, Ledger.Api.Features.Reports.CsvRows.Inert(field));

    [Fact]
    public async Task Balance_sheet()
    {
        var url = $"/v1/books/{_book}/reports/balance-sheet?asOf=2026-02-28";
        var json = await App.Admin.GetJsonOkAsync(url);
        var csv = await App.Admin.GetCsvAsync(url);

        foreach (var section in new[] { "assets", "liabilities", "equity" })
        {
            var rows = csv.Where(r => r["section"] == section).ToList();
            Assert.Equal(json[section]!["total"].Minor(), rows.Sum(r => ReportClient.Minor(r["balance"])));
            Assert.Equal(json[section]!["accounts"]!.AsArray().Select(l => Fields(l!, LineFields)),
                rows.Where(r => r["account"] != "").Select(r => Fields(r, LineFields)));
        }
        Assert.Equal(json["equity"]!["currentYearEarnings"]!.GetValue<string>(),
            csv.Single(r => r["name"] == "Current year earnings" && r["account"] == "")["balance"]);
        Assert.Equal(json["equity"]!["unclosedRetainedEarnings"]!.GetValue<string>(),
            csv.Single(r => r["name"] == "Retained earnings, unclosed" && r["account"] == "")["balance"]);
    }

    [Fact]
    public async Task Income_statement_with_comparison_and_months()
    {
        var url = $"/v1/books/{_book}/reports/income-statement?from=2025-01-01&to=2026-02-28&compareFrom=2024-01-01&compareTo=2024-12-31&columns=month";
        var json = await App.Admin.GetJsonOkAsync(url);
        var csv = await App.Admin.GetCsvAsync(url);

        var columns = new List<JsonNode> { json, json["comparison"]! };
        columns.AddRange(json["months"]!.AsArray().Select(m => m!));
        Assert.Equal(16, columns.Count);
        foreach (var column in columns)
        {
            var rows = csv.Where(r => r["from"] == column["from"]!.GetValue<string>() && r["to"] == column["to"]!.GetValue<string>()).ToList();
            long net = 0;
            foreach (var section in new[] { "income", "expenses" })
            {
                var lines = rows.Where(r => r["section"] == section).ToList();
                Assert.Equal(column[section]!["accounts"]!.AsArray().Select(l => Fields(l!, LineFields)), lines.Select(r => Fields(r, LineFields)));
                var total = lines.Sum(r => ReportClient.Minor(r["balance"]));
                Assert.Equal(column[section]!["total"].Minor(), total);
                net += section == "income" ? total : -total;
            }
            Assert.Equal(column["netIncome"].Minor(), net);
        }
    }

    [Fact]
    public async Task Account_ledger_with_opening_and_closing_rows_and_quoted_descriptions()
    {
        var url = $"/v1/books/{_book}/accounts/1010/ledger?from=2025-01-01&to=2026-12-31";
        var json = await App.Admin.GetJsonOkAsync(url);
        var csv = await App.Admin.GetCsvAsync(url);

        Assert.Equal(("Opening balance", json["openingBalance"]!.GetValue<string>()), (csv[0]["description"], csv[0]["balance"]));
        Assert.Equal(("Closing balance", json["closingBalance"]!.GetValue<string>()), (csv[^1]["description"], csv[^1]["balance"]));
        Assert.Equal(json["items"]!.AsArray().Select(i => Fields(i!, LedgerFields)), csv[1..^1].Select(r => Fields(r, LedgerFields)));
        Assert.Contains(csv, r => r["description"] == "Payroll, \"June\"");

        // Paged CSV: the cursor comes in a header, the opening row heads only the first page, the closing row ends only the last.
        var request = new HttpRequestMessage(HttpMethod.Get, url + "&limit=2&format=csv");
        var firstPage = await App.Admin.SendAsync(request);
        var cursor = firstPage.Headers.GetValues("Next-Cursor").Single();
        var firstRows = ReportClient.ParseCsv(await firstPage.Content.ReadAsStringAsync());
        Assert.Equal(4, firstRows.Count); // header, opening, two items
        var rest = ReportClient.ParseCsv(await App.Admin.GetStringAsync($"{url}&format=csv&cursor={cursor}"));
        Assert.Equal(csv.Count - 3, rest.Count - 1);
        Assert.Equal("Closing balance", rest[^1][3]);
    }

    [Fact]
    public async Task General_ledger()
    {
        var url = $"/v1/books/{_book}/reports/general-ledger?from=2025-01-01&to=2026-02-28";
        var json = await App.Admin.GetJsonOkAsync(url);
        var csv = await App.Admin.GetCsvAsync(url);

        foreach (var account in json["accounts"]!.AsArray())
        {
            var rows = csv.Where(r => r["account"] == account!["account"]!.GetValue<string>()).ToList();
            Assert.Equal(account!["openingBalance"]!.GetValue<string>(), rows[0]["balance"]);
            Assert.Equal(account["closingBalance"]!.GetValue<string>(), rows[^1]["balance"]);
            Assert.Equal(account["lines"]!.AsArray().Select(i => Fields(i!, LedgerFields)), rows[1..^1].Select(r => Fields(r, LedgerFields)));
        }
        Assert.Equal(json["accounts"]!.AsArray().Sum(a => a!["lines"]!.AsArray().Count + 2), csv.Count);
    }

    [Fact]
    public async Task Json_stays_the_default_and_wins_when_preferred()
    {
        var url = $"/v1/books/{_book}/reports/trial-balance?asOf=2026-02-28";
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/csv;q=0.5");
        var response = await App.Admin.SendAsync(request);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("text/csv", (await App.Admin.GetAsync(url + "&format=csv")).Content.Headers.ContentType?.MediaType);
        var json = new HttpRequestMessage(HttpMethod.Get, url + "&format=json");
        json.Headers.Accept.ParseAdd("text/csv");
        Assert.Equal("application/json", (await App.Admin.SendAsync(json)).Content.Headers.ContentType?.MediaType);
    }

    private static readonly string[] LineFields = ["account", "name", "parent", "level", "balance", "subtotal"];
    private static readonly string[] LedgerFields = ["entryId", "number", "date", "description", "debit", "credit", "balance"];

    private static string Fields(JsonNode line, params string[] names) =>
        string.Join("|", names.Select(n => line[n]?.ToString() ?? ""));

    private static string Fields(Dictionary<string, string> row, params string[] names) =>
        string.Join("|", names.Select(n => row[n]));
}
