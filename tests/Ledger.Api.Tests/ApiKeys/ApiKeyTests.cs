using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.ApiKeys;

public sealed class ApiKeyTests(SharedApp shared) : SharedAppTest(shared)
{
    private async Task<JsonNode> CreateKeyJsonAsync(string bookId, params string[] scopes)
    {
        var response = await Admin.PostAsJsonAsync("/v1/api-keys", new { name = "integration", bookId, scopes });
        return await response.AssertCreatedAsync();
    }

    [Fact]
    public async Task Admin_creates_a_key_and_the_secret_is_shown_once()
    {
        var book = await StandardBookAsync();
        var created = await CreateKeyJsonAsync(book, "read", "write");
        var id = created["id"]!.GetValue<string>();
        var key = created["key"]!.GetValue<string>();
        Assert.False(string.IsNullOrWhiteSpace(id));
        Assert.True(key.Length >= 32, key);
        Assert.Equal(book, created["bookId"]!.GetValue<string>());
        Assert.Equal(["read", "write"], created["scopes"]!.AsArray().Select(s => s!.GetValue<string>()));

        var listing = await Admin.GetAsync("/v1/api-keys");
        Assert.Equal(HttpStatusCode.OK, listing.StatusCode);
        var text = await listing.Content.ReadAsStringAsync();
        Assert.Contains(id, text);
        Assert.DoesNotContain(key, text);

        // The key works.
        Assert.Equal(HttpStatusCode.OK, (await App.Client(key).GetAsync($"/v1/books/{book}/accounts")).StatusCode);
    }

    [Fact]
    public async Task An_idempotency_key_on_creating_a_key_is_refused_not_ignored()
    {
        var book = await StandardBookAsync();
        var before = (await Admin.GetJsonAsync("/v1/api-keys")).AsArray().Count;
        var response = await Admin.PostJsonAsync("/v1/api-keys", new { name = "retried", bookId = book, scopes = new[] { "read" } }, idempotencyKey: "key-once");
        var problem = await response.AssertValidationErrorAsync("Idempotency-Key");
        Assert.Contains("never stored", problem.ToJsonString());
        Assert.Equal(before, (await Admin.GetJsonAsync("/v1/api-keys")).AsArray().Count);
    }

    [Fact]
    public async Task Each_key_is_different()
    {
        var book = await StandardBookAsync();
        var keys = new HashSet<string>();
        for (var i = 0; i < 5; i++) Assert.True(keys.Add((await CreateKeyJsonAsync(book, "read"))["key"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_revoked_key_is_refused_on_its_next_request()
    {
        var book = await StandardBookAsync();
        var created = await CreateKeyJsonAsync(book, "read", "write");
        var client = App.Client(created["key"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/v1/books/{book}/accounts")).StatusCode);

        var revoke = await Admin.DeleteAsync($"/v1/api-keys/{created["id"]!.GetValue<string>()}");
        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);

        await (await client.GetAsync($"/v1/books/{book}/accounts")).AssertProblemAsync(HttpStatusCode.Unauthorized);
        var before = await App.SnapshotAsync(book);
        await (await client.PostEntryAsync(book, "2026-01-05", "after revocation", ("1000", "1", null), ("4000", null, "1")))
            .AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Equal(before, await App.SnapshotAsync(book));

        var listed = (await Admin.GetJsonAsync("/v1/api-keys")).AsArray()
            .Single(k => k!["id"]!.GetValue<string>() == created["id"]!.GetValue<string>())!;
        Assert.NotNull(listed["revokedAt"]);
    }

    [Fact]
    public async Task Revoking_an_unknown_or_already_revoked_key_is_404()
    {
        var book = await StandardBookAsync();
        await (await Admin.DeleteAsync("/v1/api-keys/no-such-key")).AssertProblemAsync(HttpStatusCode.NotFound);
        var id = (await CreateKeyJsonAsync(book, "read"))["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"/v1/api-keys/{id}")).StatusCode);
        await (await Admin.DeleteAsync($"/v1/api-keys/{id}")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("""{"name":"k","bookId":"{book}","scopes":["write"]}""", "scopes")]
    [InlineData("""{"name":"k","bookId":"{book}","scopes":[]}""", "scopes")]
    [InlineData("""{"name":"k","bookId":"{book}","scopes":["read","admin"]}""", "scopes")]
    [InlineData("""{"name":"k","bookId":"{book}","scopes":["read","read"]}""", "scopes")]
    [InlineData("""{"name":"k","bookId":"{book}"}""", "scopes")]
    [InlineData("""{"name":"","bookId":"{book}","scopes":["read"]}""", "name")]
    [InlineData("""{"name":"k","scopes":["read"]}""", "bookId")]
    [InlineData("""{"name":"k","bookId":"no-such-book","scopes":["read"]}""", "bookId")]
    public async Task Invalid_key_requests_are_400_naming_the_field(string template, string field)
    {
        var book = await StandardBookAsync();
        var response = await Admin.PostRawAsync("/v1/api-keys", template.Replace("{book}", book, StringComparison.Ordinal));
        await response.AssertValidationErrorAsync(field);
    }

    [Fact]
    public async Task A_book_key_cannot_create_books_or_manage_keys()
    {
        var book = await StandardBookAsync();
        // Other tests' books are listed too (the app is shared): the book keys must add none.
        var booksBefore = (await Admin.GetJsonAsync("/v1/books")).ToJsonString();
        foreach (var scopes in new[] { new[] { "read" }, new[] { "read", "write" } })
        {
            var client = App.Client(await App.CreateKeyAsync(book, scopes));
            await (await client.PostAsJsonAsync("/v1/books", new { name = "mine", currency = "EUR" })).AssertProblemAsync(HttpStatusCode.Forbidden);
            await (await client.PostAsJsonAsync("/v1/api-keys", new { name = "more", bookId = book, scopes = new[] { "read", "write" } }))
                .AssertProblemAsync(HttpStatusCode.Forbidden);
            await (await client.GetAsync("/v1/api-keys")).AssertProblemAsync(HttpStatusCode.Forbidden);
            await (await client.DeleteAsync("/v1/api-keys/anything")).AssertProblemAsync(HttpStatusCode.Forbidden);
        }
        var books = await Admin.GetJsonAsync("/v1/books");
        Assert.Equal(booksBefore, books.ToJsonString());
    }

    [Fact]
    public async Task A_book_key_lists_only_its_own_book()
    {
        var mine = await StandardBookAsync();
        var other = await StandardBookAsync("JPY");
        foreach (var scopes in new[] { new[] { "read" }, new[] { "read", "write" } })
        {
            var client = App.Client(await App.CreateKeyAsync(mine, scopes));
            var books = await client.GetJsonAsync("/v1/books");
            var only = Assert.Single(books.AsArray())!;
            Assert.Equal(mine, only["id"]!.GetValue<string>());
            Assert.DoesNotContain(other, books.ToJsonString());
        }
    }

    [Fact]
    public async Task A_key_on_another_book_gets_404_and_never_data()
    {
        var mine = await StandardBookAsync();
        var theirs = await StandardBookAsync();
        var entry = await App.PostEntryOkAsync(theirs, "2026-02-01", "their secret sale", ("1010", "31337.42", null), ("4000", null, "31337.42"));
        var entryId = entry["id"]!.GetValue<long>();
        var before = await App.SnapshotAsync(theirs);

        foreach (var scopes in new[] { new[] { "read" }, new[] { "read", "write" } })
        {
            var client = App.Client(await App.CreateKeyAsync(mine, scopes));
            var attempts = new List<HttpResponseMessage>
            {
                await client.GetAsync($"/v1/books/{theirs}"),
                await client.GetAsync($"/v1/books/{theirs}/accounts"),
                await client.GetAsync($"/v1/books/{theirs}/accounts/1010"),
                await client.GetAsync($"/v1/books/{theirs}/journal-entries"),
                await client.GetAsync($"/v1/books/{theirs}/journal-entries/{entryId}"),
                await client.GetAsync($"/v1/books/{theirs}/reports/trial-balance"),
                await client.PostEntryAsync(theirs, "2026-02-02", "intrusion", ("1010", "1", null), ("4000", null, "1")),
                await client.PostAsJsonAsync($"/v1/books/{theirs}/accounts", new { code = "9999", name = "x", type = "asset" }),
                await client.PatchJsonAsync($"/v1/books/{theirs}/accounts/1010", new { archived = true }),
                await client.DeleteAsync($"/v1/books/{theirs}/accounts/1400"),
                await client.PostRawAsync($"/v1/books/{theirs}/journal-entries/{entryId}/reverse", "{}"),
                // An entry of the other book, asked for through the caller's own book.
                await client.GetAsync($"/v1/books/{mine}/journal-entries/{entryId}"),
            };
            foreach (var response in attempts)
            {
                var problem = await response.AssertProblemAsync(HttpStatusCode.NotFound);
                problem.AsObject().Remove("traceId");
                Assert.DoesNotContain("31337.42", problem.ToJsonString()); // a dot never appears in ids or trace ids
                Assert.DoesNotContain("secret sale", problem.ToJsonString());
            }
        }
        Assert.Equal(before, await App.SnapshotAsync(theirs));
    }

    [Fact]
    public async Task A_read_key_reads_but_cannot_change_anything()
    {
        var book = await StandardBookAsync();
        var entry = await App.PostEntryOkAsync(book, "2026-02-01", "sale", ("1010", "10.00", null), ("4000", null, "10.00"));
        var reader = App.Client(await App.CreateKeyAsync(book, "read"));

        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/v1/books/{book}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/v1/books/{book}/accounts")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/v1/books/{book}/accounts/1010")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/v1/books/{book}/journal-entries")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/v1/books/{book}/journal-entries/{entry["id"]}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/v1/books/{book}/reports/trial-balance")).StatusCode);

        var before = await App.SnapshotAsync(book);
        await (await reader.PostEntryAsync(book, "2026-02-02", "nope", ("1010", "1", null), ("4000", null, "1")))
            .AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await reader.PostAsJsonAsync($"/v1/books/{book}/accounts", new { code = "9999", name = "x", type = "asset" }))
            .AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await reader.PatchJsonAsync($"/v1/books/{book}/accounts/1010", new { name = "renamed" }))
            .AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await reader.DeleteAsync($"/v1/books/{book}/accounts/1400")).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await reader.PostRawAsync($"/v1/books/{book}/journal-entries/{entry["id"]}/reverse", "{}"))
            .AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal(before, await App.SnapshotAsync(book));
    }

    [Fact]
    public async Task A_write_key_posts_to_its_own_book()
    {
        var book = await StandardBookAsync();
        var writer = App.Client(await App.CreateKeyAsync(book, "read", "write"));
        var response = await writer.PostEntryAsync(book, "2026-02-02", "by a write key", ("1010", "5.00", null), ("4000", null, "5.00"));
        var entry = await response.AssertCreatedAsync();
        Assert.Equal(1, entry["number"]!.GetValue<long>());
        Assert.Equal(HttpStatusCode.Created, (await writer.PostAsJsonAsync($"/v1/books/{book}/accounts",
            new { code = "1020", name = "Petty cash", type = "asset" })).StatusCode);
    }
}
