using System.Net;
using System.Text.Json;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Hardening;

/// <summary>
/// No text a request carries may hold a control character other than tab, line feed and CR LF: every JSON string and
/// key of every body, route and query values, header values. Each refusal is a 400 naming the field, on both engines,
/// and nothing is written.
/// </summary>
public sealed class ControlCharacterTests(SharedApp shared) : SharedAppTest(shared)
{
    private static string CustomersUrl(string book) => $"/v1/books/{book}/customers";

    private static object Line(string account, string? debit, string? credit, string? description = null) =>
        debit is not null ? new { account, debit, description } : new { account, credit, description };

    private static object EntryWith(string description, string? lineDescription = null) => new
    {
        date = "2026-04-01",
        description,
        lines = new[] { Line("1010", "1.00", null, lineDescription), Line("4000", null, "1.00") },
    };

    [Fact]
    public async Task An_ESC_sequence_in_a_description_is_400_on_description_and_nothing_is_posted()
    {
        var book = await StandardBookAsync();
        var problem = await (await Admin.PostJsonAsync(EntriesUrl(book), EntryWith("\u001b[31mred alert\u001b[0m")))
            .AssertValidationErrorAsync("description");
        Assert.Contains("U+001B", problem["errors"]!["description"]![0]!.GetValue<string>());
        await (await Admin.PostJsonAsync(EntriesUrl(book), EntryWith("fine", "\u001b[2Jcleared"))).AssertValidationErrorAsync("lines[0].description");
        Assert.Empty(await App.AllEntriesAsync(book));
    }

    [Fact]
    public async Task A_C1_character_in_a_party_name_is_400_on_name()
    {
        var book = await StandardBookAsync();
        await (await Admin.PostJsonAsync(CustomersUrl(book), new { name = "Acme\u0085Corp" })).AssertValidationErrorAsync("name");
        await (await Admin.PostJsonAsync(CustomersUrl(book), new { name = "Acme\u009bCorp" })).AssertValidationErrorAsync("name");
        Assert.Empty((await Admin.GetJsonAsync(CustomersUrl(book)))["items"]!.AsArray());
    }

    [Fact]
    public async Task Tab_line_feed_and_CR_LF_are_kept_while_a_bare_CR_DEL_and_NUL_are_refused()
    {
        var book = await StandardBookAsync();
        const string note = "Rent\tMarch\nsecond line\r\nthird line";
        var posted = await (await Admin.PostJsonAsync(EntriesUrl(book), EntryWith(note, "line\tnote\n"))).AssertCreatedAsync();
        Assert.Equal(note, posted["description"]!.GetValue<string>());
        var read = await Admin.GetJsonAsync($"{EntriesUrl(book)}/{posted["id"]}");
        Assert.Equal(note, read["description"]!.GetValue<string>());
        Assert.Equal("line\tnote\n", read["lines"]![0]!["description"]!.GetValue<string>());
        var customer = await (await Admin.PostJsonAsync(CustomersUrl(book), new { name = "Tab\tName" })).AssertCreatedAsync();
        Assert.Equal("Tab\tName", customer["name"]!.GetValue<string>());

        foreach (var refused in new[] { "over\rwritten", "trailing CR\r", "del\u007f", "nul\u0000", "bell\u0007", "C1 \u0080" })
            await (await Admin.PostJsonAsync(EntriesUrl(book), EntryWith(refused))).AssertValidationErrorAsync("description");
        Assert.Single(await App.AllEntriesAsync(book));
    }

    [Fact]
    public async Task A_batch_names_the_entry_and_line_holding_the_character()
    {
        var book = await StandardBookAsync();
        var batch = new { entries = new[] { EntryWith("first"), EntryWith("second", "bad\u001bline") } };
        await (await Admin.PostJsonAsync($"{EntriesUrl(book)}/batch", batch)).AssertValidationErrorAsync("entries[1].lines[0].description");
        Assert.Empty(await App.AllEntriesAsync(book));
    }

    [Fact]
    public async Task Escaped_and_raw_control_characters_in_the_JSON_text_are_refused_alike()
    {
        var book = await StandardBookAsync();
        // JSON itself refuses a raw control character inside a string; the escaped form reaches the check.
        const string escaped = """{"date":"2026-04-01","description":"a\u001Bb","lines":[{"account":"1010","debit":"1.00"},{"account":"4000","credit":"1.00"}]}""";
        await (await Admin.PostRawAsync(EntriesUrl(book), escaped)).AssertValidationErrorAsync("description");
        var raw = escaped.Replace("\\u001B", "\u001b", StringComparison.Ordinal);
        await (await Admin.PostRawAsync(EntriesUrl(book), raw)).AssertValidationErrorAsync("description");
        Assert.Empty(await App.AllEntriesAsync(book));
    }

    [Fact]
    public async Task Query_route_and_header_values_with_control_characters_are_400_naming_them()
    {
        var book = await StandardBookAsync();
        await (await Admin.GetAsync($"{EntriesUrl(book)}?reference={Uri.EscapeDataString("\u001b[31m")}")).AssertValidationErrorAsync("reference");
        // NUL too: PostgreSQL could not look it up, SQLite would find nothing; both answer this 400.
        await (await Admin.GetAsync($"{EntriesUrl(book)}?reference=a%00b")).AssertValidationErrorAsync("reference");
        await (await Admin.GetAsync($"{AccountsUrl(book)}/{Uri.EscapeDataString("10\u001b10")}")).AssertValidationErrorAsync("code");
        await (await Admin.GetAsync($"/v1/books/{Uri.EscapeDataString("\u0001")}")).AssertValidationErrorAsync("bookId");

        using var request = new HttpRequestMessage(HttpMethod.Post, EntriesUrl(book))
        {
            Content = new StringContent(JsonSerializer.Serialize(EntryWith("keyed")), System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", "key\u0001one");
        await (await Admin.SendAsync(request)).AssertValidationErrorAsync("Idempotency-Key");
        Assert.Empty(await App.AllEntriesAsync(book));
        // Tab and ordinary text in a query are fine.
        Assert.Equal(HttpStatusCode.OK, (await Admin.GetAsync($"{EntriesUrl(book)}?reference={Uri.EscapeDataString("a\tb")}")).StatusCode);
    }
}
