using System.Net;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Hardening;

/// <summary>
/// Per-key rate limits: a key over its class's limit gets 429 problem+json with Retry-After, naming the limit; other
/// keys, and the same key's other kind of request, are not affected. The limits here refill one token every 10 to 20
/// seconds, so a slow machine cannot refill a bucket between two requests of a test.
/// </summary>
public sealed class RateLimitTests : AppTest
{
    protected override LedgerApp StartApp() => LedgerApp.Start(settings: new Dictionary<string, string>
    {
        ["Ledger:RateLimits:BookWrite:WritesPerSecond"] = "0.1",
        ["Ledger:RateLimits:BookWrite:ReadsPerSecond"] = "0.05",
        ["Ledger:RateLimits:BookWrite:Burst"] = "3",
    });

    private static object Entry(string description) => HttpTestExtensions.Entry("2026-05-01", description, ("1010", "1.00", null), ("4000", null, "1.00"));

    [Fact]
    public async Task A_key_over_its_write_limit_gets_429_with_Retry_After_while_other_keys_and_its_reads_go_on()
    {
        var book = await StandardBookAsync();
        using var writer = App.Client(await App.CreateKeyAsync(book, "read", "write"));
        using var other = App.Client(await App.CreateKeyAsync(book, "read", "write"));

        for (var i = 0; i < 3; i++) await (await writer.PostJsonAsync(EntriesUrl(book), Entry($"burst {i}"))).AssertCreatedAsync();
        var refused = await writer.PostJsonAsync(EntriesUrl(book), Entry("one too many"));
        var problem = await refused.AssertProblemAsync(HttpStatusCode.TooManyRequests);
        var retryAfter = Assert.Single(refused.Headers.GetValues("Retry-After"));
        Assert.InRange(int.Parse(retryAfter, System.Globalization.CultureInfo.InvariantCulture), 1, 10);
        Assert.Equal("https://tools.ietf.org/html/rfc6585#section-4", problem["type"]!.GetValue<string>());
        Assert.Equal("writes", problem["limit"]!.GetValue<string>());
        Assert.Equal("bookWrite", problem["keyClass"]!.GetValue<string>());
        Assert.Contains("writes", problem["detail"]!.GetValue<string>());
        Assert.Contains($"retry after {retryAfter} s", problem["detail"]!.GetValue<string>());

        // Reads have a bucket of their own; another key of the same class, and the admin key (not limited by
        // default), are not affected.
        Assert.Equal(HttpStatusCode.OK, (await writer.GetAsync(EntriesUrl(book))).StatusCode);
        await (await other.PostJsonAsync(EntriesUrl(book), Entry("another key"))).AssertCreatedAsync();
        for (var i = 0; i < 5; i++) await (await Admin.PostJsonAsync(EntriesUrl(book), Entry($"admin {i}"))).AssertCreatedAsync();

        // The refused post wrote nothing.
        Assert.DoesNotContain(await App.AllEntriesAsync(book), e => e["description"]!.GetValue<string>() == "one too many");
        Assert.Equal(9, (await App.AllEntriesAsync(book)).Count);
    }

    [Fact]
    public async Task Reads_are_counted_apart_from_writes()
    {
        var book = await StandardBookAsync();
        using var key = App.Client(await App.CreateKeyAsync(book, "read", "write"));
        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.OK, (await key.GetAsync(EntriesUrl(book))).StatusCode);
        var refused = await key.GetAsync(AccountsUrl(book));
        var problem = await refused.AssertProblemAsync(HttpStatusCode.TooManyRequests);
        Assert.Equal("reads", problem["limit"]!.GetValue<string>());
        Assert.InRange(int.Parse(Assert.Single(refused.Headers.GetValues("Retry-After")), System.Globalization.CultureInfo.InvariantCulture), 1, 20);
        // Its writes are untouched by the reads it spent.
        await (await key.PostJsonAsync(EntriesUrl(book), Entry("still writes"))).AssertCreatedAsync();
    }

    [Fact]
    public async Task Requests_without_a_key_and_health_are_never_limited()
    {
        using var anonymous = App.Client(null);
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/v1/books")).StatusCode);
        }
    }
}
