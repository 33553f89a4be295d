using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Ledger.Api.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Ledger.Api.Tests.Webhooks;

/// <summary>One request a <see cref="WebhookReceiver"/> took, and what it answered.</summary>
public sealed record ReceivedDelivery(string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body, int Answered)
{
    public string Text => Encoding.UTF8.GetString(Body);
    public JsonNode Json => JsonNode.Parse(Body)!;
    public long Sequence => long.Parse(Headers["Ledger-Event-Sequence"], CultureInfo.InvariantCulture);
    public string Type => Headers["Ledger-Event-Type"];
    public bool Delivered => Answered is >= 200 and <= 299;
}

/// <summary>
/// A webhook receiver in the test process: Kestrel on 127.0.0.1 and a free port, recording every POST and answering it
/// as the test says (200, or 500 while failing, or for the first N requests).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedDelivery> _received = new();
    private readonly ConcurrentDictionary<string, int> _failFirst = new(StringComparer.Ordinal);

    private WebhookReceiver(WebApplication app) => _app = app;

    public string BaseAddress { get; private set; } = "";

    /// <summary>Answers 500 to everything while true.</summary>
    public volatile bool Failing;

    /// <summary>Answers 500 to this many more requests at <paramref name="path"/>, then as usual.</summary>
    public void FailFirst(string path, int count) => _failFirst[path] = count;

    private bool TakeFailure(string path)
    {
        while (_failFirst.TryGetValue(path, out var left) && left > 0)
            if (_failFirst.TryUpdate(path, left - 1, left)) return true;
        return false;
    }

    public string Url(string path = "/hook") => BaseAddress + path;

    public IReadOnlyList<ReceivedDelivery> Received => _received.ToArray();

    public IReadOnlyList<ReceivedDelivery> At(string path) => _received.Where(r => r.Path == path).ToList();

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/{**path}", async (HttpContext http) =>
        {
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body);
            var path = http.Request.Path.Value ?? "";
            var status = receiver.Failing || receiver.TakeFailure(path) ? 500 : 200;
            var headers = http.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            receiver._received.Enqueue(new ReceivedDelivery(path, headers, body.ToArray(), status));
            http.Response.StatusCode = status;
        });
        await app.StartAsync();
        receiver.BaseAddress = app.Urls.First().TrimEnd('/');
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public static class WebhookTesting
{
    /// <summary><see cref="TestDatabase.IsPostgres"/>, read at run time (a constant would leave one branch unreachable in each build).</summary>
    public static readonly bool OnPostgres = TestDatabase.IsPostgres;

    /// <summary>A fixed key for PostgreSQL, where webhooks need one configured (SQLite generates its key file).</summary>
    public const string TestSecretKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    /// <summary>Settings for fast tests: private targets allowed (the receiver is on loopback), short delays and polls.</summary>
    public static Dictionary<string, string> Settings(params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string>
        {
            ["Ledger:Webhooks:AllowPrivateTargets"] = "true",
            ["Ledger:Webhooks:BaseDelaySeconds"] = "0.05",
            ["Ledger:Webhooks:MaxDelaySeconds"] = "0.4",
            ["Ledger:Webhooks:PollIntervalMilliseconds"] = "40",
            ["Ledger:Webhooks:TimeoutSeconds"] = "5",
            ["Ledger:Webhooks:LeaseSeconds"] = "15",
        };
        if (OnPostgres) settings["Ledger:Webhooks:SecretKey"] = TestSecretKey;
        foreach (var (key, value) in more) settings[key] = value;
        return settings;
    }

    /// <summary>Deletes what a test app left beside a SQLite file besides the database (the generated key file).</summary>
    public static void DeleteKeyFile(string databasePath)
    {
        if (!OnPostgres) File.Delete(databasePath + ".webhook-key");
    }

    /// <summary>Waits (generously) until <paramref name="condition"/> holds; fails with <paramref name="what"/> if it never does.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting until {what}.");
            await Task.Delay(25);
        }
    }

    public static Task WaitUntilAsync(Func<bool> condition, string what, int seconds = 60) =>
        WaitUntilAsync(() => Task.FromResult(condition()), what, seconds);

    public static async Task<JsonNode> CreateWebhookAsync(this HttpClient client, string book, object body, string? idempotencyKey = null) =>
        await (await client.PostJsonAsync($"/v1/books/{book}/webhooks", body, idempotencyKey)).AssertCreatedAsync();

    public static Task<JsonNode> WebhookAsync(this HttpClient client, string book, long id) =>
        client.GetJsonAsync($"/v1/books/{book}/webhooks/{id}");

    public static async Task<List<JsonNode>> DeliveriesAsync(this HttpClient client, string book, long id) =>
        (await client.GetJsonAsync($"/v1/books/{book}/webhooks/{id}/deliveries?limit=1000"))["items"]!.AsArray().Select(i => i!).ToList();

    /// <summary>The book's events after <paramref name="after"/>, as the feed serves them.</summary>
    public static async Task<List<JsonNode>> EventsAsync(this HttpClient client, string book, long after = 0) =>
        (await client.GetJsonAsync($"/v1/books/{book}/events?after={after}&limit=1000"))["items"]!.AsArray().Select(i => i!).ToList();

    public static async Task<long> LastSequenceAsync(this HttpClient client, string book) =>
        (await client.EventsAsync(book)).Select(e => e["sequence"]!.GetValue<long>()).DefaultIfEmpty(0).Max();

    /// <summary>
    /// Checks a delivery's Ledger-Signature as a receiver would, written here from the README's description rather than
    /// with the server's code: HMAC-SHA256 keyed with the secret's UTF-8 bytes over "t.body", compared in constant time,
    /// and a timestamp within five minutes.
    /// </summary>
    public static bool SignatureIsValid(string secret, string header, byte[] body)
    {
        var parts = header.Split(',').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        if (!parts.TryGetValue("t", out var t) || !parts.TryGetValue("v1", out var v1)) return false;
        if (!long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)) return false;
        if (Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - seconds) > 300) return false;
        byte[] signed = [.. Encoding.ASCII.GetBytes(t + "."), .. body];
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed);
        var expected = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(mac));
        return CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(v1));
    }
}
