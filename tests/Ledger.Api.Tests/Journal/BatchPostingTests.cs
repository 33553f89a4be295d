using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Journal;

public sealed class BatchPostingTests(SharedApp shared) : SharedAppTest(shared)
{
    private static object Batch(params object[] entries) => new { entries };

    private static object Sale(string date, string amount, string reference = "r") =>
        new { date, description = "Sale", reference, lines = new object[] { new { account = "1010", debit = amount }, new { account = "4000", credit = amount } } };

    [Fact]
    public async Task A_batch_posts_every_entry_numbered_in_the_order_given()
    {
        var book = await App.CreateBookAsync();
        var response = await App.Admin.PostJsonAsync($"/v1/books/{book}/journal-entries/batch",
            Batch(Sale("2026-03-01", "10.00"), Sale("2026-01-01", "20.00"), Sale("2026-02-01", "30.00")));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var entries = (await response.ReadJsonAsync())["entries"]!.AsArray();
        Assert.Equal([1L, 2L, 3L], entries.Select(e => e!["number"]!.GetValue<long>()));

        var second = await (await App.Admin.GetAsync($"/v1/books/{book}/journal-entries/{entries[1]!["id"]}")).ReadJsonAsync();
        Assert.Equal("2026-01-01", second["date"]!.GetValue<string>());
        Assert.Equal("20.00", second["lines"]![0]!["debit"]!.GetValue<string>());

        var tb = await (await App.Admin.GetAsync($"/v1/books/{book}/reports/trial-balance?asOf=2026-12-31")).ReadJsonAsync();
        Assert.Equal("60.00", tb["totals"]!["debit"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_batch_with_one_bad_entry_writes_nothing_and_names_the_field()
    {
        var book = await App.CreateBookAsync();
        var unknownAccount = new { date = "2026-01-02", description = "Bad", lines = new object[] { new { account = "1010", debit = "5.00" }, new { account = "9999", credit = "5.00" } } };
        var response = await App.Admin.PostJsonAsync($"/v1/books/{book}/journal-entries/batch",
            Batch(Sale("2026-01-01", "10.00"), unknownAccount, Sale("2026-01-03", "10.00")));
        await response.AssertValidationErrorAsync("entries[1].lines[1].account");

        var tooPrecise = new { date = "2026-01-02", description = "Bad", lines = new object[] { new { account = "1010", debit = "5.001" }, new { account = "4000", credit = "5.001" } } };
        response = await App.Admin.PostJsonAsync($"/v1/books/{book}/journal-entries/batch", Batch(Sale("2026-01-01", "10.00"), tooPrecise));
        await response.AssertValidationErrorAsync("entries[1].lines[0].debit");

        var unbalanced = new { date = "2026-01-02", description = "Bad", lines = new object[] { new { account = "1010", debit = "5.00" }, new { account = "4000", credit = "4.00" } } };
        response = await App.Admin.PostJsonAsync($"/v1/books/{book}/journal-entries/batch", Batch(unbalanced));
        await response.AssertValidationErrorAsync("entries[0].lines");

        var page = await (await App.Admin.GetAsync($"/v1/books/{book}/journal-entries")).ReadJsonAsync();
        Assert.Empty(page["items"]!.AsArray());
        var ok = await App.Admin.PostJsonAsync($"/v1/books/{book}/journal-entries/batch", Batch(Sale("2026-01-01", "1.00")));
        Assert.Equal(1, (await ok.ReadJsonAsync())["entries"]![0]!["number"]!.GetValue<int>()); // no number was consumed
    }

    [Fact]
    public async Task One_idempotency_key_covers_the_whole_batch()
    {
        var book = await App.CreateBookAsync();
        var body = Batch(Sale("2026-01-01", "10.00"), Sale("2026-01-02", "11.00"));
        var first = await App.Admin.PostJsonAsync($"/v1/books/{book}/journal-entries/batch", body, "import-2026-01");
        var again = await App.Admin.PostJsonAsync($"/v1/books/{book}/journal-entries/batch", body, "import-2026-01");
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        Assert.Equal("true", again.Headers.GetValues("Idempotency-Replayed").Single());
        Assert.Equal(await first.Content.ReadAsStringAsync(), await again.Content.ReadAsStringAsync());

        var different = await App.Admin.PostJsonAsync($"/v1/books/{book}/journal-entries/batch", Batch(Sale("2026-01-01", "10.00")), "import-2026-01");
        await different.AssertProblemAsync(HttpStatusCode.UnprocessableEntity);

        var page = await (await App.Admin.GetAsync($"/v1/books/{book}/journal-entries")).ReadJsonAsync();
        Assert.Equal(2, page["items"]!.AsArray().Count);
    }

    [Fact]
    public async Task Batch_size_is_bounded()
    {
        var book = await App.CreateBookAsync();
        var empty = await App.Admin.PostJsonAsync($"/v1/books/{book}/journal-entries/batch", Batch());
        await empty.AssertValidationErrorAsync("entries");

        var tooMany = Enumerable.Range(0, 10_001).Select(_ => Sale("2026-01-01", "1.00")).ToArray();
        var response = await App.Admin.PostJsonAsync($"/v1/books/{book}/journal-entries/batch", Batch(tooMany));
        await response.AssertValidationErrorAsync("entries");
    }

    [Fact]
    public async Task A_body_over_the_documented_limit_gets_413_problem()
    {
        var book = await App.CreateBookAsync();
        var padding = new string(' ', 33 * 1024 * 1024);
        var json = "{\"entries\": [" + padding + "]}";
        var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/books/{book}/journal-entries/batch")
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        var response = await App.Admin.SendAsync(request);
        await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);

        // A single-entry post takes at most 1 MiB.
        var big = "{\"date\":\"2026-01-01\",\"description\":\"" + new string('x', 1024 * 1024) + "\",\"lines\":[]}";
        response = await App.Admin.PostRawAsync($"/v1/books/{book}/journal-entries", big);
        await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task A_locked_or_read_only_caller_cannot_batch()
    {
        var book = await App.CreateBookAsync();
        var readKey = await App.CreateKeyAsync(book, "read");
        var response = await App.Client(readKey).PostJsonAsync($"/v1/books/{book}/journal-entries/batch", Batch(Sale("2026-01-01", "1.00")));
        await response.AssertProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Batch_entries_appear_in_listings_like_single_posts()
    {
        var book = await App.CreateBookAsync();
        var entries = Enumerable.Range(1, 120).Select(i => Sale($"2026-01-{(i % 28) + 1:D2}", $"{i}.00", $"ref-{i}")).ToArray();
        var response = await App.Admin.PostJsonAsync($"/v1/books/{book}/journal-entries/batch", Batch(entries));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);

        var byReference = await (await App.Admin.GetAsync($"/v1/books/{book}/journal-entries?reference=ref-7")).ReadJsonAsync();
        var item = Assert.Single(byReference["items"]!.AsArray());
        Assert.Equal("7.00", item!["lines"]![0]!["debit"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_batch_naming_hundreds_of_accounts_checks_each_one_it_names()
    {
        // Past 256 distinct accounts the writer reads the book's whole chart instead of lists of codes: the accounts the
        // chart lacks and the archived one must still be refused, each on its own line, and the rest posted to the right rows.
        var book = await App.CreateBookAsync();
        var codes = Enumerable.Range(0, 300).Select(i => $"X{i:D3}").ToArray();
        foreach (var code in codes) await App.CreateAccountAsync(book, code, "asset");
        await Admin.PatchJsonAsync($"/v1/books/{book}/accounts/X150", new { archived = true });
        object Entry(string account, int cents) => new
        {
            date = "2026-01-05", description = "spread",
            lines = new object[] { new { account, debit = $"{cents / 100}.{cents % 100:D2}" }, new { account = "4000", credit = $"{cents / 100}.{cents % 100:D2}" } },
        };

        var named = codes.Select((code, i) => Entry(code, 100 + i)).ToList();
        named[7] = Entry("NOPE-1", 1);
        named[290] = Entry("NOPE-2", 1);
        var before = await App.SnapshotAsync(book);
        var refused = await App.Admin.PostJsonAsync($"/v1/books/{book}/journal-entries/batch", Batch([.. named]));
        var problem = await refused.AssertValidationErrorAsync("entries[7].lines[0].account");
        var errors = problem["errors"]!.AsObject();
        Assert.True(errors.ContainsKey("entries[290].lines[0].account"), problem.ToJsonString());
        Assert.Contains("archived", errors["entries[150].lines[0].account"]![0]!.GetValue<string>());
        Assert.DoesNotContain("archived", errors["entries[7].lines[0].account"]![0]!.GetValue<string>());
        Assert.Equal(3, errors.Count);
        Assert.Equal(before, await App.SnapshotAsync(book));

        var valid = codes.Where(c => c != "X150").Select((code, i) => Entry(code, 100 + i)).ToArray();
        var posted = await App.Admin.PostJsonAsync($"/v1/books/{book}/journal-entries/batch", Batch(valid));
        Assert.Equal(HttpStatusCode.Created, posted.StatusCode);
        var lines = (await App.TrialBalanceAsync(book, "2026-01-31"))["lines"]!.AsArray()
            .ToDictionary(l => l!["account"]!.GetValue<string>(), l => l!);
        Assert.Equal("1.00", lines["X000"]["debit"]!.GetValue<string>());
        Assert.Equal("2.49", lines["X149"]["debit"]!.GetValue<string>());
        Assert.Equal("2.50", lines["X151"]["debit"]!.GetValue<string>());
        Assert.Equal("3.98", lines["X299"]["debit"]!.GetValue<string>());
    }
}
