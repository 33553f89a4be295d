using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.ApiKeys;

public sealed class AuthenticationTests(SharedApp shared) : SharedAppTest(shared)
{
    public static TheoryData<string, string> V1Routes => new()
    {
        { "GET", "/v1/books" },
        { "POST", "/v1/books" },
        { "GET", "/v1/books/{book}" },
        { "GET", "/v1/books/{book}/accounts" },
        { "POST", "/v1/books/{book}/accounts" },
        { "GET", "/v1/books/{book}/accounts/1000" },
        { "PATCH", "/v1/books/{book}/accounts/1000" },
        { "DELETE", "/v1/books/{book}/accounts/1000" },
        { "GET", "/v1/books/{book}/journal-entries" },
        { "POST", "/v1/books/{book}/journal-entries" },
        { "GET", "/v1/books/{book}/journal-entries/1" },
        { "POST", "/v1/books/{book}/journal-entries/1/reverse" },
        { "PUT", "/v1/books/{book}/journal-entries/1" },
        { "GET", "/v1/books/{book}/reports/trial-balance" },
        { "GET", "/v1/api-keys" },
        { "POST", "/v1/api-keys" },
        { "DELETE", "/v1/api-keys/some-id" },
    };

    private static string BodyFor(string method, string route) => (method, route) switch
    {
        ("POST", "/v1/books") => """{"name":"x","currency":"EUR"}""",
        ("POST", "/v1/api-keys") => """{"name":"x","bookId":"b","scopes":["read"]}""",
        ("POST", var r) when r.EndsWith("/accounts", StringComparison.Ordinal) => """{"code":"9999","name":"x","type":"asset"}""",
        ("POST", var r) when r.EndsWith("/journal-entries", StringComparison.Ordinal) =>
            """{"date":"2026-01-05","description":"x","lines":[{"account":"1000","debit":"1"},{"account":"4000","credit":"1"}]}""",
        ("PATCH", _) => """{"name":"x"}""",
        _ => "{}",
    };

    [Theory]
    [MemberData(nameof(V1Routes))]
    public async Task Every_v1_route_refuses_a_request_without_a_key_with_401(string method, string route)
    {
        var book = await StandardBookAsync();
        var before = await App.SnapshotAsync(book);
        var url = route.Replace("{book}", book, StringComparison.Ordinal);

        var anonymous = App.Client(key: null);
        var response = await anonymous.SendRawAsync(new HttpMethod(method), url, method is "GET" or "DELETE" ? null : BodyFor(method, route));
        await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
        Assert.Equal(before, await App.SnapshotAsync(book));
    }

    [Theory]
    [MemberData(nameof(V1Routes))]
    public async Task Every_v1_route_refuses_an_unknown_key_with_401(string method, string route)
    {
        var book = await StandardBookAsync();
        var before = await App.SnapshotAsync(book);
        var url = route.Replace("{book}", book, StringComparison.Ordinal);

        var stranger = App.Client("ldg_not-a-key-anyone-was-given");
        var response = await stranger.SendRawAsync(new HttpMethod(method), url, method is "GET" or "DELETE" ? null : BodyFor(method, route));
        await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Equal(before, await App.SnapshotAsync(book));
    }

    [Fact]
    public async Task A_key_must_be_sent_with_the_Bearer_scheme()
    {
        var client = App.Client(key: null);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", LedgerApp.AdminKey);
        await (await client.GetAsync("/v1/books")).AssertProblemAsync(HttpStatusCode.Unauthorized);

        var raw = App.Client(key: null);
        raw.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", LedgerApp.AdminKey);
        await (await raw.GetAsync("/v1/books")).AssertProblemAsync(HttpStatusCode.Unauthorized);

        var empty = App.Client(key: null);
        empty.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer ");
        await (await empty.GetAsync("/v1/books")).AssertProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_near_miss_of_the_admin_key_is_refused()
    {
        var client = App.Client(LedgerApp.AdminKey + "x");
        await (await client.GetAsync("/v1/books")).AssertProblemAsync(HttpStatusCode.Unauthorized);
        var upper = App.Client(LedgerApp.AdminKey.ToUpperInvariant());
        await (await upper.GetAsync("/v1/books")).AssertProblemAsync(HttpStatusCode.Unauthorized);
    }

    // The key is checked before anything else about the request: an anonymous caller learns nothing from
    // validation messages and gets 401 however malformed the request is.
    [Theory]
    [InlineData("POST", "/v1/books/{book}/journal-entries", "{ this is not json")]
    [InlineData("POST", "/v1/books/{book}/journal-entries", """{"date":"2026-01-05","description":"x","lines":[],"hack":1}""")]
    [InlineData("POST", "/v1/books", "[1,2")]
    [InlineData("GET", "/v1/books/{book}/journal-entries?limit=abc", null)]
    public async Task A_request_without_a_key_gets_401_even_when_it_is_malformed(string method, string route, string? body)
    {
        var book = await StandardBookAsync();
        var anonymous = App.Client(key: null);
        var response = await anonymous.SendRawAsync(new HttpMethod(method), route.Replace("{book}", book, StringComparison.Ordinal), body);
        await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task The_admin_key_is_accepted_on_every_book()
    {
        var one = await StandardBookAsync();
        var two = await StandardBookAsync("JPY");
        Assert.Equal(HttpStatusCode.OK, (await Admin.GetAsync($"/v1/books/{one}/accounts")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Admin.GetAsync($"/v1/books/{two}/accounts")).StatusCode);
        var books = await Admin.GetJsonAsync("/v1/books");
        var ids = books.AsArray().Select(b => b!["id"]!.GetValue<string>()).ToList();
        Assert.Contains(one, ids);
        Assert.Contains(two, ids);
    }

    [Fact]
    public async Task Health_and_the_OpenAPI_document_need_no_key()
    {
        var anonymous = App.Client(key: null);
        var health = await anonymous.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);

        var swagger = await anonymous.GetAsync("/swagger/v1/swagger.json");
        Assert.Equal(HttpStatusCode.OK, swagger.StatusCode);
        var doc = await swagger.ReadJsonAsync();
        Assert.NotNull(doc["paths"]!["/v1/books/{bookId}/journal-entries"]);
    }

    [Fact]
    public async Task An_unauthorized_problem_does_not_echo_the_presented_key()
    {
        const string secret = "ldg_secret-value-that-must-not-be-echoed";
        var response = await App.Client(secret).PostAsJsonAsync("/v1/books", new { name = "x", currency = "EUR" });
        await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.DoesNotContain(secret, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Head_answers_as_get_does_without_a_body()
    {
        var book = await StandardBookAsync();
        static HttpRequestMessage Head(string url) => new(HttpMethod.Head, url);
        var anonymous = App.Client(null);
        var health = await anonymous.SendAsync(Head("/health"));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Empty(await health.Content.ReadAsByteArrayAsync());
        // Still only with a key.
        var refused = await anonymous.SendAsync(Head($"/v1/books/{book}/accounts"));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Empty(await refused.Content.ReadAsByteArrayAsync());

        var get = await Admin.GetAsync($"/v1/books/{book}/accounts");
        var head = await Admin.SendAsync(Head($"/v1/books/{book}/accounts"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(get.Content.Headers.ContentType, head.Content.Headers.ContentType);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.SendAsync(Head($"/v1/books/{book}/accounts/9999"))).StatusCode);
        // A route without GET has no HEAD either.
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await Admin.SendAsync(Head($"/v1/books/{book}/journal-entries/batch"))).StatusCode);
    }
}
