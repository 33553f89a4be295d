using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;
using Newtonsoft.Json.Linq;
using Snapshooter.Xunit;

namespace Ledger.Api.Tests.Reports;

public sealed class IncomeStatementTests(SharedApp shared) : SharedAppTest(shared)
{
    [Fact]
    public async Task A_closed_year_still_shows_its_result_because_closing_entries_are_left_out()
    {
        var book = await SampleBook.CreateAsync(App, closeFiscal2025: true);
        var statement = await App.Admin.GetJsonOkAsync($"/v1/books/{book}/reports/income-statement?from=2025-01-01&to=2025-12-31");

        Assert.Equal("2300.00", statement["income"]!["total"]!.GetValue<string>());
        Assert.Equal("3450.00", statement["expenses"]!["total"]!.GetValue<string>());
        Assert.Equal("-1150.00", statement["netIncome"]!.GetValue<string>());
        var sales = Line(statement["income"]!, "4000");
        Assert.Equal("1500.00", sales["balance"]!.GetValue<string>());
        Assert.Equal("2300.00", sales["subtotal"]!.GetValue<string>()); // with its child 4010
        Assert.Equal(1, Line(statement["income"]!, "4010")["level"]!.GetValue<int>());
    }

    [Fact]
    public async Task Comparison_and_monthly_columns_list_the_same_accounts()
    {
        var book = await SampleBook.CreateAsync(App, closeFiscal2025: true);
        var statement = await App.Admin.GetJsonOkAsync(
            $"/v1/books/{book}/reports/income-statement?from=2026-01-01&to=2026-02-28&compareFrom=2025-01-01&compareTo=2025-12-31&columns=month");

        Assert.Equal("1800.00", statement["netIncome"]!.GetValue<string>());
        var comparison = statement["comparison"]!;
        Assert.Equal("2025-01-01", comparison["from"]!.GetValue<string>());
        Assert.Equal("-1150.00", comparison["netIncome"]!.GetValue<string>());
        var months = statement["months"]!.AsArray();
        Assert.Equal(["2026-01-01", "2026-02-01"], months.Select(m => m!["from"]!.GetValue<string>()));
        Assert.Equal(["2026-01-31", "2026-02-28"], months.Select(m => m!["to"]!.GetValue<string>()));
        Assert.Equal(["3000.00", "-1200.00"], months.Select(m => m!["netIncome"]!.GetValue<string>()));
        // Months add up to the period.
        Assert.Equal(statement["netIncome"].Minor(), months.Sum(m => m!["netIncome"].Minor()));
        // Every column lists the same accounts, in the same order, so they line up as a table.
        var codes = Codes(statement);
        Assert.Equal(codes, Codes(comparison));
        foreach (var month in months) Assert.Equal(codes, Codes(month!));
        Snapshot.Match(JToken.Parse(statement.ToJsonString()));
    }

    [Fact]
    public async Task Defaults_to_the_fiscal_year_to_date_and_follows_a_fiscal_year_starting_in_April()
    {
        var book = await SampleBook.CreateAsync(App, closeFiscal2025: false);
        var patched = await App.Admin.PatchJsonAsync($"/v1/books/{book}", new { fiscalYearStartMonth = 4 });
        Assert.Equal(System.Net.HttpStatusCode.OK, patched.StatusCode);

        var statement = await App.Admin.GetJsonOkAsync($"/v1/books/{book}/reports/income-statement?to=2026-02-28");
        Assert.Equal("2025-04-01", statement["from"]!.GetValue<string>());
        // April 2025 to February 2026: rent, payroll, invoice 2, rent again.
        Assert.Equal("3000.00", statement["income"]!["total"]!.GetValue<string>());
        Assert.Equal("4650.00", statement["expenses"]!["total"]!.GetValue<string>());

        // Fiscal 2025/26 has run since April: the invoices of February and March 2025 belong to an earlier, unclosed year.
        var sheet = await App.Admin.GetJsonOkAsync($"/v1/books/{book}/reports/balance-sheet?asOf=2026-02-28");
        Assert.Equal("-1650.00", sheet["equity"]!["currentYearEarnings"]!.GetValue<string>());
        Assert.Equal("2300.00", sheet["equity"]!["unclosedRetainedEarnings"]!.GetValue<string>());
        Assert.True(sheet["check"]!["balanced"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Rejects_inverted_or_half_given_periods_naming_the_parameter()
    {
        var book = await App.CreateBookAsync();
        var url = $"/v1/books/{book}/reports/income-statement";
        await (await App.Admin.GetAsync($"{url}?from=2026-03-01&to=2026-02-01")).AssertValidationErrorAsync("from");
        await (await App.Admin.GetAsync($"{url}?from=2026-01-01&to=2026-02-01&compareFrom=2025-01-01")).AssertValidationErrorAsync("compareTo");
        await (await App.Admin.GetAsync($"{url}?columns=week")).AssertValidationErrorAsync("columns");
        await (await App.Admin.GetAsync($"{url}?from=2010-01-01&to=2026-01-01&columns=month")).AssertValidationErrorAsync("columns");
    }

    private static JsonNode Line(JsonNode section, string code) =>
        section["accounts"]!.AsArray().Single(a => a!["account"]!.GetValue<string>() == code)!;

    private static List<string> Codes(JsonNode column) =>
        column["income"]!["accounts"]!.AsArray().Concat(column["expenses"]!["accounts"]!.AsArray())
            .Select(a => a!["account"]!.GetValue<string>()).ToList();
}
