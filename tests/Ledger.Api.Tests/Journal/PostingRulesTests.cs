using System.Net;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Journal;

/// <summary>
/// Entries that break a rule are refused with 400 naming the field, and nothing of them is written.
/// The book has the standard chart, 1500 "Equipment" archived, and one entry already posted.
/// </summary>
public sealed class PostingRulesTests(SharedApp shared) : SharedAppTest(shared)
{
    private const string Ok0 = """{"account":"1010","debit":"10.00"}""";
    private const string Ok1 = """{"account":"4000","credit":"10.00"}""";

    private async Task<string> BookAsync(string currency = "EUR")
    {
        var book = await StandardBookAsync(currency);
        await App.PostEntryOkAsync(book, "2026-01-02", "opening", ("1010", "100", null), ("3000", null, "100"));
        var archive = await Admin.PatchJsonAsync($"{AccountsUrl(book)}/1500", new { archived = true });
        Assert.Equal(HttpStatusCode.OK, archive.StatusCode);
        return book;
    }

    private static string Body(string lines, string date = "\"2026-01-05\"", string description = "\"test\"") =>
        $$"""{"date":{{date}},"description":{{description}},"lines":{{lines}}}""";

    private async Task AssertRejectedAsync(string book, string body, params string[] paths)
    {
        var before = await App.SnapshotAsync(book);
        var response = await Admin.PostRawAsync(EntriesUrl(book), body);
        await response.AssertValidationErrorOnAnyAsync(paths);
        Assert.Equal(before, await App.SnapshotAsync(book));
        // The next good entry takes the next number: the refused one used none.
        var next = await App.PostEntryOkAsync(book, "2026-01-06", "after a refusal", ("1010", "1", null), ("4000", null, "1"));
        Assert.Equal(2, next["number"]!.GetValue<long>());
    }

    public static TheoryData<string, string, string> Rejections => new()
    {
        // name, lines JSON, expected error path
        { "no lines", "[]", "lines" },
        { "one line", $"[{Ok0}]", "lines" },
        { "null lines", "null", "lines" },
        { "a null line", $"[null,{Ok0},{Ok1}]", "lines[0]" },
        { "unbalanced", """[{"account":"1010","debit":"10.00"},{"account":"4000","credit":"9.99"}]""", "lines" },
        { "unbalanced by one cent over three lines", """[{"account":"1010","debit":"10.00"},{"account":"4000","credit":"5.00"},{"account":"2100","credit":"5.01"}]""", "lines" },
        { "zero debit", """[{"account":"1010","debit":"0"},{"account":"4000","credit":"0"}]""", "lines[0].debit" },
        { "zero as 0.00", """[{"account":"1010","debit":"0.00"},{"account":"4000","credit":"10.00"},{"account":"1000","debit":"10.00"}]""", "lines[0].debit" },
        { "negative debit", """[{"account":"1010","debit":"-10.00"},{"account":"4000","debit":"10.00"}]""", "lines[0].debit" },
        { "negative credit as number", """[{"account":"1010","credit":10},{"account":"4000","credit":-10}]""", "lines[1].credit" },
        { "too many decimals", """[{"account":"1010","debit":"1.001"},{"account":"4000","credit":"1.001"}]""", "lines[0].debit" },
        { "too many decimals as number", """[{"account":"1010","debit":10.00},{"account":"4000","credit":10.001}]""", "lines[1].credit" },
        { "letters", """[{"account":"1010","debit":"abc"},{"account":"4000","credit":"10.00"}]""", "lines[0].debit" },
        { "boolean", """[{"account":"1010","debit":"10.00"},{"account":"4000","credit":true}]""", "lines[1].credit" },
        { "object", """[{"account":"1010","debit":{"amount":"10.00"}},{"account":"4000","credit":"10.00"}]""", "lines[0].debit" },
        { "array", """[{"account":"1010","debit":["10.00"]},{"account":"4000","credit":"10.00"}]""", "lines[0].debit" },
        { "exponent string", """[{"account":"1010","debit":"1e5"},{"account":"4000","credit":"100000"}]""", "lines[0].debit" },
        { "exponent number", """[{"account":"1010","debit":1e5},{"account":"4000","credit":"100000"}]""", "lines[0].debit" },
        { "empty string", """[{"account":"1010","debit":""},{"account":"4000","credit":"10.00"}]""", "lines[0].debit" },
        { "padded string", """[{"account":"1010","debit":" 10.00"},{"account":"4000","credit":"10.00"}]""", "lines[0].debit" },
        { "beyond 64 bits", """[{"account":"1010","debit":"99999999999999999999"},{"account":"4000","credit":"99999999999999999999"}]""", "lines[0].debit" },
        { "beyond 64 bits as number", """[{"account":"1010","debit":99999999999999999999},{"account":"4000","credit":99999999999999999999}]""", "lines[0].debit" },
        { "one cent beyond 64 bits", """[{"account":"1010","debit":"92233720368547758.08"},{"account":"4000","credit":"92233720368547758.08"}]""", "lines[0].debit" },
        {
            "debit sum beyond 64 bits",
            """[{"account":"1010","debit":"92233720368547758.07"},{"account":"1000","debit":"0.01"},{"account":"4000","credit":"92233720368547758.07"},{"account":"4900","credit":"0.01"}]""",
            "lines[1].debit"
        },
        {
            "credit sum beyond 64 bits",
            """[{"account":"1010","debit":"0.02"},{"account":"4000","credit":"92233720368547758.07"},{"account":"4900","credit":"92233720368547758.07"}]""",
            "lines[2].credit"
        },
        { "neither side", """[{"account":"1010"},{"account":"4000","credit":"10.00"}]""", "lines[0].debit|lines[0].credit|lines[0]" },
        { "both sides", """[{"account":"1010","debit":"10.00","credit":"10.00"},{"account":"4000","credit":"10.00"},{"account":"1000","debit":"10.00"}]""", "lines[0].debit|lines[0].credit|lines[0]" },
        { "unknown account", """[{"account":"1010","debit":"10.00"},{"account":"4001","credit":"10.00"}]""", "lines[1].account" },
        { "archived account", """[{"account":"1500","debit":"10.00"},{"account":"4000","credit":"10.00"}]""", "lines[0].account" },
        { "account of another case", """[{"account":"1010","debit":"10.00"},{"account":"4000 ","credit":"10.00"}]""", "lines[1].account" },
        { "missing account", """[{"debit":"10.00"},{"account":"4000","credit":"10.00"}]""", "lines[0].account" },
        { "empty account", """[{"account":"","debit":"10.00"},{"account":"4000","credit":"10.00"}]""", "lines[0].account" },
    };

    [Theory]
    [MemberData(nameof(Rejections))]
    public async Task A_rule_breaking_entry_is_400_on_the_field_and_writes_nothing(string name, string lines, string paths)
    {
        Assert.False(string.IsNullOrEmpty(name));
        var book = await BookAsync();
        await AssertRejectedAsync(book, Body(lines), paths.Split('|'));
    }

    [Fact]
    public async Task Entries_without_lines_are_400_on_lines()
    {
        var book = await BookAsync();
        await AssertRejectedAsync(book, """{"date":"2026-01-05","description":"no lines"}""", "lines");
    }

    [Fact]
    public async Task Every_unknown_or_archived_account_is_named()
    {
        var book = await BookAsync();
        var before = await App.SnapshotAsync(book);
        var response = await Admin.PostRawAsync(EntriesUrl(book), Body("""
            [{"account":"nope","debit":"5.00"},{"account":"1010","debit":"5.00"},{"account":"1500","credit":"5.00"},{"account":"4000","credit":"5.00"}]
            """));
        var problem = await response.AssertValidationErrorAsync("lines[0].account");
        var errors = problem["errors"]!.AsObject();
        Assert.True(errors.ContainsKey("lines[2].account"), problem.ToJsonString());
        Assert.False(errors.ContainsKey("lines[1].account"));
        Assert.False(errors.ContainsKey("lines[3].account"));
        Assert.Equal(before, await App.SnapshotAsync(book));
    }

    [Theory]
    [InlineData("\"2026-02-30\"")]
    [InlineData("\"2026-1-5\"")]
    [InlineData("\"05.01.2026\"")]
    [InlineData("\"2026-01-05T10:00:00Z\"")]
    [InlineData("\"\"")]
    [InlineData("null")]
    public async Task A_bad_date_is_400_on_date(string date)
    {
        var book = await BookAsync();
        await AssertRejectedAsync(book, Body($"[{Ok0},{Ok1}]", date: date), "date");
    }

    [Fact]
    public async Task A_date_of_the_wrong_JSON_type_is_400_on_date()
    {
        var book = await BookAsync();
        await AssertRejectedAsync(book, Body($"[{Ok0},{Ok1}]", date: "20260105"), "date");
    }

    [Theory]
    [InlineData("\"\"")]
    [InlineData("null")]
    public async Task A_missing_description_is_400_on_description(string description)
    {
        var book = await BookAsync();
        await AssertRejectedAsync(book, Body($"[{Ok0},{Ok1}]", description: description), "description");
    }

    [Fact]
    public async Task Overlong_texts_are_400_on_their_field()
    {
        var book = await BookAsync();
        var text1001 = new string('d', 1001);
        await AssertRejectedAsync(book, Body($"[{Ok0},{Ok1}]", description: $"\"{text1001}\""), "description");
    }

    [Theory]
    [InlineData("reference")]
    [InlineData("lines[0].description")]
    [InlineData("lines[1].account")]
    public async Task Overlong_optional_texts_are_400_on_their_field(string field)
    {
        var book = await BookAsync();
        var body = field switch
        {
            "reference" => $$"""{"date":"2026-01-05","description":"x","reference":"{{new string('r', 256)}}","lines":[{{Ok0}},{{Ok1}}]}""",
            "lines[0].description" => Body($$"""[{"account":"1010","debit":"10.00","description":"{{new string('x', 1001)}}"},{{Ok1}}]"""),
            _ => Body($$"""[{{Ok0}},{"account":"{{new string('4', 33)}}","credit":"10.00"}]"""),
        };
        await AssertRejectedAsync(book, body, field);
    }

    [Theory]
    [InlineData("JPY", "1.5", "lines[0].debit")]
    [InlineData("JPY", "1.0", "lines[0].debit")]
    [InlineData("EUR", "1.001", "lines[0].debit")]
    [InlineData("KWD", "1.0001", "lines[0].debit")]
    public async Task Decimals_beyond_the_book_currency_are_refused_never_rounded(string currency, string amount, string path)
    {
        var book = await BookAsync(currency);
        await AssertRejectedAsync(book,
            Body($$"""[{"account":"1010","debit":"{{amount}}"},{"account":"4000","credit":"{{amount}}"}]"""), path);
    }

    [Theory]
    [InlineData("+10.00")] // the published pattern has no sign; a plus sign was once read as nothing
    [InlineData(" 10.00")]
    [InlineData("10,00")]
    [InlineData("1e1")]
    [InlineData("10.")]
    public async Task Amounts_that_are_not_plain_decimals_are_refused(string amount)
    {
        var book = await BookAsync();
        await AssertRejectedAsync(book,
            Body($$"""[{"account":"1010","debit":"{{amount}}"},{"account":"4000","credit":"10.00"}]"""), "lines[0].debit");
    }

    [Fact]
    public async Task Posting_beyond_64_bit_totals_is_400_and_writes_nothing_while_the_exact_limit_still_posts()
    {
        var book = await StandardBookAsync();
        // Brings Equipment (1500), Loans Payable (2500) and the book's debits to long.MaxValue - 100 minor units.
        await App.PostEntryOkAsync(book, "2026-01-02", "huge", ("1500", "92233720368547757.07", null), ("2500", null, "92233720368547757.07"));
        var before = await App.SnapshotAsync(book);

        var over = await Admin.PostEntryAsync(book, "2026-01-03", "1.01 more", ("1500", "1.01", null), ("4000", null, "1.01"));
        await over.AssertValidationErrorOnAnyAsync("lines[0].debit");
        Assert.Equal(before, await App.SnapshotAsync(book));

        var overOnCredit = await Admin.PostEntryAsync(book, "2026-01-03", "1.01 more credit", ("6000", "1.01", null), ("2500", null, "1.01"));
        await overOnCredit.AssertValidationErrorOnAnyAsync("lines[0].debit", "lines[1].credit");
        Assert.Equal(before, await App.SnapshotAsync(book));

        // Exactly up to the limit posts, and takes the next number: the refused posts left no trace.
        var exact = await App.PostEntryOkAsync(book, "2026-01-04", "exactly to the limit", ("1500", "1.00", null), ("2500", null, "1.00"));
        Assert.Equal(2, exact["number"]!.GetValue<long>());

        var account = await App.AccountAsync(book, "1500");
        Assert.Equal("92233720368547758.07", account["debitTotal"]!.GetValue<string>());
        Assert.Equal("92233720368547758.07", account["balance"]!.GetValue<string>());
        var loans = await App.AccountAsync(book, "2500");
        Assert.Equal("92233720368547758.07", loans["creditTotal"]!.GetValue<string>());
        Assert.Equal("92233720368547758.07", loans["balance"]!.GetValue<string>());
        var tb = await App.TrialBalanceAsync(book, "2026-12-31");
        Assert.Equal("92233720368547758.07", tb["totals"]!["debit"]!.GetValue<string>());
        Assert.Equal("92233720368547758.07", tb["totals"]!["credit"]!.GetValue<string>());
        var tbBefore = await App.TrialBalanceAsync(book, "2026-01-03");
        Assert.Equal("92233720368547757.07", tbBefore["totals"]!["debit"]!.GetValue<string>());
    }
}
