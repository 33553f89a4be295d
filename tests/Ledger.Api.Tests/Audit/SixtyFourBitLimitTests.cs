using System.Net;
using System.Text.Json.Nodes;
using Ledger.Api.Tests.Reports;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Audit;

/// <summary>
/// Money is refused only where a value or a sum the API keeps would pass 64-bit minor units, and the 400 names a
/// field of the request. Reversing an entry or closing a year only moves existing balances back towards zero: every
/// account's debit and credit totals, every balance and every report stay inside 64 bits, so neither may be refused,
/// and certainly not with an error on <c>lines[i].debit</c>, a field these requests do not have.
/// </summary>
public sealed class SixtyFourBitLimitTests : AppTest
{
    private const string Max = "92233720368547758.07"; // long.MaxValue cents

    [Fact]
    public async Task A_maximal_entry_can_be_reversed()
    {
        var book = await StandardBookAsync();
        var entry = await App.PostEntryOkAsync(book, "2025-06-13", "Typo: far too large", ("1010", Max, null), ("3000", null, Max));

        var response = await Admin.PostRawAsync($"{EntriesUrl(book)}/{entry["id"]}/reverse", "{}");

        // Actual: 400 {"errors":{"lines[1].debit":["would take the totals of this book beyond 64-bit minor units."]}}
        var reversal = await response.AssertCreatedAsync();
        Assert.Equal(entry["id"]!.GetValue<long>(), reversal["reversalOf"]!.GetValue<long>());
        var bank = await App.AccountAsync(book, "1010");
        Assert.Equal(Max, bank["debitTotal"]!.GetValue<string>());
        Assert.Equal(Max, bank["creditTotal"]!.GetValue<string>());
        Assert.Equal("0.00", bank["balance"]!.GetValue<string>());
        Assert.Empty((await App.TrialBalanceAsync(book, "2025-12-31"))["lines"]!.AsArray());
    }

    [Fact]
    public async Task A_year_with_maximal_income_can_be_closed()
    {
        var book = await StandardBookAsync();
        await App.PostEntryOkAsync(book, "2025-06-13", "Record year", ("1010", Max, null), ("4000", null, Max));

        var response = await Admin.PostJsonAsync($"/v1/books/{book}/year-end-close", new { fiscalYearEnd = "2025-12-31" });

        // Actual: 400 {"errors":{"lines[0].debit":["would take the totals of this book beyond 64-bit minor units."]}}
        var closing = await response.AssertCreatedAsync();
        Assert.True(closing["closingEntry"]!.GetValue<bool>());
        var sheet = await Admin.GetJsonOkAsync($"/v1/books/{book}/reports/balance-sheet?asOf=2025-12-31");
        Assert.Equal(Max, sheet["equity"]!["total"]!.GetValue<string>());
        Assert.True(sheet["check"]!["balanced"]!.GetValue<bool>());
    }
}
