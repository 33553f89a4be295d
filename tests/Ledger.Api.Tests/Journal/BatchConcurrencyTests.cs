using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Journal;

/// <summary>
/// Batches are taken in a few at a time; beyond the queue a client gets 429 problem+json and nothing is written.
/// Over real HTTP (the API as its own process), so a batch whose body is still arriving really holds its permit.
/// </summary>
public sealed class BatchConcurrencyTests : IAsyncLifetime
{
    private readonly string _databasePath = TestDatabase.Create();
    private ApiProcess _api = null!;

    public async Task InitializeAsync() => _api = await ApiProcess.StartAsync(_databasePath, new Dictionary<string, string>
    {
        ["Ledger__MaxConcurrentBatches"] = "1",
        ["Ledger__BatchQueueLimit"] = "0",
    });

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        TestDatabase.Delete(_databasePath);
    }

    private const string Entry = """{"date":"2026-03-01","description":"Sale","lines":[{"account":"1010","debit":"1.00"},{"account":"4000","credit":"1.00"}]}""";

    [Fact]
    public async Task A_batch_beyond_the_limit_and_queue_is_429_and_the_next_one_after_it_posts()
    {
        using var client = _api.Client();
        var created = await client.PostAsJsonAsync("/v1/books", new { name = "Batches", currency = "EUR", chart = "standard" });
        var book = (await created.ReadJsonAsync())["id"]!.GetValue<string>();
        var url = $"/v1/books/{book}/journal-entries/batch";

        // The first batch holds the only permit: sent by hand, its chunked body stops half way until the test finishes it.
        using var slow = new System.Net.Sockets.TcpClient();
        await slow.ConnectAsync(_api.BaseAddress.Host, _api.BaseAddress.Port);
        var stream = slow.GetStream();
        var head = "{\"entries\":[" + Entry;
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST {url} HTTP/1.1\r\nHost: {_api.BaseAddress.Authority}\r\nAuthorization: Bearer {LedgerApp.AdminKey}\r\n" +
            $"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{Encoding.UTF8.GetByteCount(head):X}\r\n{head}\r\n"));
        await Task.Delay(500); // the server has the headers and waits inside the endpoint for the rest of the body

        var refused = await client.PostAsync(url, new StringContent($"{{\"entries\":[{Entry}]}}", Encoding.UTF8, "application/json"));
        var problem = await refused.AssertProblemAsync(HttpStatusCode.TooManyRequests);
        Assert.Equal("1", refused.Headers.RetryAfter?.ToString());
        Assert.Contains("batches", problem["title"]!.GetValue<string>());
        Assert.Empty(await EntriesAsync());

        await stream.WriteAsync(Encoding.ASCII.GetBytes("2\r\n]}\r\n0\r\n\r\n"));
        var answer = new byte[4096];
        var read = await stream.ReadAsync(answer);
        Assert.StartsWith("HTTP/1.1 201", Encoding.ASCII.GetString(answer, 0, read));
        // The permit goes back as the first request's pipeline ends, a moment after its answer is on the wire: a client
        // that is told 429 then retries (briefly here, bounded), as Retry-After asks.
        HttpResponseMessage next;
        var tries = 0;
        do
        {
            if (tries > 0) await Task.Delay(50);
            next = await client.PostAsync(url, new StringContent($"{{\"entries\":[{Entry}]}}", Encoding.UTF8, "application/json"));
        } while (next.StatusCode == HttpStatusCode.TooManyRequests && ++tries < 40);
        Assert.Equal(HttpStatusCode.Created, next.StatusCode);
        Assert.Equal(2, (await EntriesAsync()).Count);

        async Task<JsonArray> EntriesAsync() =>
            (await (await client.GetAsync($"/v1/books/{book}/journal-entries")).ReadJsonAsync())["items"]!.AsArray();
    }
}
