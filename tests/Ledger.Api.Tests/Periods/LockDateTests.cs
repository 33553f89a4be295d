using System.Net;
using System.Net.Http.Json;
using Ledger.Api.Tests.Reports;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Periods;

public sealed class LockDateTests(SharedApp shared) : SharedAppTest(shared)
{
    [Fact]
    public async Task No_entry_may_be_dated_on_or_before_the_lock_date_and_nothing_is_written()
    {
        var book = await App.CreateBookAsync();
        await App.Admin.PostEntryOkAsync(book, "2026-01-10", "Sale", ("1010", "100.00", null), ("4000", null, "100.00"));
        await SetLockDateAsync(App.Admin, book, "2026-01-31", HttpStatusCode.OK);

        var refused = await App.Admin.PostEntryAsync(book, "2026-01-31", "Late sale", ("1010", "5.00", null), ("4000", null, "5.00"));
        await refused.AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains("2026-01-31", (await refused.ReadJsonAsync())["detail"]!.GetValue<string>());
        await App.Admin.PostEntryOkAsync(book, "2026-02-01", "Next day", ("1010", "5.00", null), ("4000", null, "5.00"));

        var tb = await App.Admin.GetJsonOkAsync($"/v1/books/{book}/reports/trial-balance?asOf=2026-12-31");
        Assert.Equal("105.00", tb["totals"]!["debit"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_body_without_date_is_refused_rather_than_clearing_the_lock_date()
    {
        var book = await App.CreateBookAsync();
        await SetLockDateAsync(App.Admin, book, "2026-01-31", HttpStatusCode.OK);
        await (await App.Admin.PutJsonAsync($"/v1/books/{book}/lock-date", new { })).AssertValidationErrorAsync("date");
        Assert.Equal("2026-01-31", (await App.Admin.GetJsonOkAsync($"/v1/books/{book}/lock-date"))["lockDate"]!.GetValue<string>());

        // An explicit null is how an admin clears it.
        Assert.Equal(HttpStatusCode.OK, (await App.Admin.PutAsync($"/v1/books/{book}/lock-date",
            new StringContent("""{"date":null}""", System.Text.Encoding.UTF8, "application/json"))).StatusCode);
        Assert.Null((await App.Admin.GetJsonOkAsync($"/v1/books/{book}/lock-date"))["lockDate"]);
    }

    [Fact]
    public async Task A_write_key_cannot_lock_dates_that_have_not_passed()
    {
        var book = await App.CreateBookAsync();
        var writer = App.Client(await App.CreateKeyAsync(book, "read", "write"));
        var tomorrowButOne = NodaTime.SystemClock.Instance.GetCurrentInstant().InUtc().Date.PlusDays(2);
        await (await writer.PutJsonAsync($"/v1/books/{book}/lock-date", new { date = Ledger.Domain.DateText.Format(tomorrowButOne) }))
            .AssertValidationErrorAsync("date");
        Assert.Empty((await App.Admin.GetJsonOkAsync($"/v1/books/{book}/lock-date/history"))["items"]!.AsArray());
        await App.Admin.PostEntryOkAsync(book, Ledger.Domain.DateText.Format(tomorrowButOne), "Still open", ("1010", "1.00", null), ("4000", null, "1.00"));
    }

    [Fact]
    public async Task A_batch_with_one_locked_entry_writes_nothing()
    {
        var book = await App.CreateBookAsync();
        await SetLockDateAsync(App.Admin, book, "2026-01-31", HttpStatusCode.OK);
        var batch = new
        {
            entries = new[] { "2026-02-01", "2026-01-15" }.Select(date => HttpTestExtensions.Entry(date, "Sale", ("1010", "5.00", null), ("4000", null, "5.00"))),
        };
        var refused = await App.Admin.PostJsonAsync($"/v1/books/{book}/journal-entries/batch", batch);
        await refused.AssertProblemAsync(HttpStatusCode.Conflict);
        var detail = (await refused.ReadJsonAsync())["detail"]!.GetValue<string>();
        Assert.Contains("2026-01-31", detail);
        Assert.Contains("entries[1]", detail);
        Assert.Empty((await App.Admin.GetJsonOkAsync($"/v1/books/{book}/journal-entries"))["items"]!.AsArray());
    }

    [Fact]
    public async Task A_reversal_defaults_to_the_original_date_so_a_locked_one_must_be_dated_later()
    {
        var book = await App.CreateBookAsync();
        var entry = await App.Admin.PostEntryOkAsync(book, "2026-01-10", "Sale", ("1010", "100.00", null), ("4000", null, "100.00"));
        var id = entry["id"]!.GetValue<long>();
        await SetLockDateAsync(App.Admin, book, "2026-01-31", HttpStatusCode.OK);

        var refused = await App.Admin.PostJsonAsync($"/v1/books/{book}/journal-entries/{id}/reverse", new { });
        await refused.AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains("2026-01-31", (await refused.ReadJsonAsync())["detail"]!.GetValue<string>());
        await (await App.Admin.PostJsonAsync($"/v1/books/{book}/journal-entries/{id}/reverse", new { date = "2026-01-31" }))
            .AssertProblemAsync(HttpStatusCode.Conflict);

        var reversed = await App.Admin.PostJsonAsync($"/v1/books/{book}/journal-entries/{id}/reverse", new { date = "2026-02-01" });
        Assert.Equal(HttpStatusCode.Created, reversed.StatusCode);
        Assert.Equal("2026-02-01", (await reversed.ReadJsonAsync())["date"]!.GetValue<string>());
    }

    [Fact]
    public async Task Reopening_or_clearing_needs_an_admin_key_and_every_change_is_recorded()
    {
        var book = await App.CreateBookAsync();
        var (writeKeyId, writeKey) = await CreateKeyAsync(book, "read", "write");
        var writer = App.Client(writeKey);

        await SetLockDateAsync(writer, book, "2026-01-31", HttpStatusCode.OK);
        await SetLockDateAsync(writer, book, "2026-03-31", HttpStatusCode.OK); // later: closes more, a write key may
        await SetLockDateAsync(writer, book, "2026-03-31", HttpStatusCode.OK); // unchanged: not recorded
        await SetLockDateAsync(writer, book, "2026-02-28", HttpStatusCode.Forbidden);
        await SetLockDateAsync(writer, book, null, HttpStatusCode.Forbidden);
        Assert.Equal("2026-03-31", (await writer.GetJsonOkAsync($"/v1/books/{book}/lock-date"))["lockDate"]!.GetValue<string>());

        var (readKeyId, readKey) = await CreateKeyAsync(book, "read");
        Assert.NotEqual(writeKeyId, readKeyId);
        await SetLockDateAsync(App.Client(readKey), book, "2026-04-30", HttpStatusCode.Forbidden);

        await SetLockDateAsync(App.Admin, book, "2026-02-28", HttpStatusCode.OK);
        await SetLockDateAsync(App.Admin, book, null, HttpStatusCode.OK);
        var current = await writer.GetJsonOkAsync($"/v1/books/{book}/lock-date");
        Assert.Null(current["lockDate"]);
        Assert.Equal("configured-admin", current["changedBy"]!.GetValue<string>());

        var history = (await App.Client(readKey).GetJsonOkAsync($"/v1/books/{book}/lock-date/history"))["items"]!.AsArray();
        Assert.Equal([null, "2026-01-31", "2026-03-31", "2026-02-28"], history.Select(h => h!["from"]?.GetValue<string>()));
        Assert.Equal(["2026-01-31", "2026-03-31", "2026-02-28", null], history.Select(h => h!["to"]?.GetValue<string>()));
        Assert.Equal([writeKeyId, writeKeyId, "configured-admin", "configured-admin"], history.Select(h => h!["changedBy"]!.GetValue<string>()));
        Assert.All(history, h => Assert.Equal("lock-date", h!["source"]!.GetValue<string>()));
        Assert.All(history, h => Assert.EndsWith("Z", h!["changedAt"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Rejects_a_malformed_date_naming_the_field()
    {
        var book = await App.CreateBookAsync();
        await (await App.Admin.PutJsonAsync($"/v1/books/{book}/lock-date", new { date = "31/01/2026" })).AssertValidationErrorAsync("date");
    }

    private static async Task SetLockDateAsync(HttpClient client, string book, string? date, HttpStatusCode expected)
    {
        var response = await client.PutJsonAsync($"/v1/books/{book}/lock-date", new { date });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"PUT lock-date {date}: expected {(int)expected}, got {(int)response.StatusCode}: {body}");
    }

    private async Task<(string Id, string Key)> CreateKeyAsync(string bookId, params string[] scopes)
    {
        var response = await App.Admin.PostAsJsonAsync("/v1/api-keys", new { name = "clerk", bookId, scopes });
        var json = await response.ReadJsonAsync();
        return (json["id"]!.GetValue<string>(), json["key"]!.GetValue<string>());
    }
}
