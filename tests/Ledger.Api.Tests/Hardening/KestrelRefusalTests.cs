using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Ledger.Api.Infrastructure;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Hardening;

/// <summary>The API as its own process, shared by the tests of <see cref="KestrelRefusalTests"/>.</summary>
public sealed class ApiProcessFixture : IAsyncLifetime
{
    private readonly string _databasePath = TestDatabase.Create();
    public ApiProcess Api { get; private set; } = null!;

    public async Task InitializeAsync() => Api = await ApiProcess.StartAsync(_databasePath);

    public async Task DisposeAsync()
    {
        if (Api is not null) await Api.DisposeAsync();
        TestDatabase.Delete(_databasePath);
    }
}

/// <summary>
/// Requests Kestrel parses but the API refuses, sent as raw bytes to a real Kestrel (HttpClient would refuse to send
/// most of them): a long URL (414), large headers (431) and a control character in a header (400) are answered
/// problem+json. Beyond Kestrel's own limits, and for bytes Kestrel's parser refuses itself, Kestrel answers before any
/// application code runs, with an empty body nothing can change: those are asserted as they are, as the README says.
/// </summary>
public sealed class KestrelRefusalTests(ApiProcessFixture fixture) : IClassFixture<ApiProcessFixture>
{
    private static readonly string Auth = $"Authorization: Bearer {LedgerApp.AdminKey}\r\n";

    private sealed record RawResponse(int Status, Dictionary<string, string> Headers, string Body)
    {
        public JsonNode Problem()
        {
            Assert.Equal("application/problem+json", Headers.GetValueOrDefault("content-type"));
            var problem = JsonNode.Parse(Body)!;
            Assert.Equal(Status, problem["status"]!.GetValue<int>());
            return problem;
        }
    }

    [Fact]
    public async Task Answers_are_not_cached_or_sniffed_and_name_no_server()
    {
        // An answer with data, a problem, and a refusal before any key is checked: each carries the same headers.
        foreach (var request in new[]
                 {
                     $"GET /v1/books HTTP/1.1\r\nHost: localhost\r\n{Auth}\r\n",
                     $"GET /v1/books/nope HTTP/1.1\r\nHost: localhost\r\n{Auth}\r\n",
                     "GET /v1/books HTTP/1.1\r\nHost: localhost\r\n\r\n",
                 })
        {
            var response = await SendAsync(request);
            Assert.Equal("no-store", response.Headers.GetValueOrDefault("cache-control"));
            Assert.Equal("nosniff", response.Headers.GetValueOrDefault("x-content-type-options"));
            Assert.False(response.Headers.ContainsKey("server"), $"{response.Status} names its server");
        }
    }

    [Fact]
    public async Task A_20_KB_URL_is_414_problem_json()
    {
        var response = await SendAsync($"GET /v1/books?q={new string('a', 20_000)} HTTP/1.1\r\nHost: localhost\r\n{Auth}\r\n");
        Assert.Equal(414, response.Status);
        Assert.Contains($"at most {RequestHeadLimits.MaxTargetBytes:N0} are accepted", response.Problem()["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_40_KB_header_is_431_problem_json()
    {
        var response = await SendAsync($"GET /v1/books HTTP/1.1\r\nHost: localhost\r\n{Auth}X-Large: {new string('a', 40_000)}\r\n\r\n");
        Assert.Equal(431, response.Status);
        var problem = response.Problem();
        Assert.Equal("https://tools.ietf.org/html/rfc6585#section-5", problem["type"]!.GetValue<string>());
        Assert.Contains("headers come to", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_header_with_the_byte_0x01_is_400_problem_json_naming_the_header()
    {
        var response = await SendAsync($"GET /v1/books HTTP/1.1\r\nHost: localhost\r\n{Auth}X-Note: a\u0001b\r\n\r\n");
        Assert.Equal(400, response.Status);
        Assert.NotNull(response.Problem()["errors"]!["X-Note"]);
    }

    [Fact]
    public async Task What_Kestrel_refuses_itself_gets_its_status_with_an_empty_body()
    {
        // Beyond Kestrel's request line and header limits, which are set above the API's own.
        var line = await SendAsync($"GET /v1/books?q={new string('a', RequestHeadLimits.KestrelRequestLineBytes + 1)} HTTP/1.1\r\nHost: localhost\r\n{Auth}\r\n");
        Assert.Equal((414, ""), (line.Status, line.Body));
        var headers = await SendAsync($"GET /v1/books HTTP/1.1\r\nHost: localhost\r\n{Auth}X-Large: {new string('a', RequestHeadLimits.KestrelHeaderBytes + 1)}\r\n\r\n");
        Assert.Equal((431, ""), (headers.Status, headers.Body));
        // NUL in a header value, and a request line Kestrel cannot parse.
        var nul = await SendAsync($"GET /v1/books HTTP/1.1\r\nHost: localhost\r\n{Auth}X-Note: a\0b\r\n\r\n");
        Assert.Equal((400, ""), (nul.Status, nul.Body));
        var malformed = await SendAsync("GET /v1/books HTTP/1.1 extra\r\nHost: localhost\r\n\r\n");
        Assert.Equal((400, ""), (malformed.Status, malformed.Body));
        var version = await SendAsync("GET /v1/books HTTP/9.9\r\nHost: localhost\r\n\r\n");
        Assert.Equal((505, ""), (version.Status, version.Body));
        // The server is still there.
        Assert.Equal(200, (await SendAsync("GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")).Status);
    }

    /// <summary>Sends <paramref name="request"/> as raw bytes (Latin-1, one byte per char) and reads one response.</summary>
    private async Task<RawResponse> SendAsync(string request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(fixture.Api.BaseAddress.Host, fixture.Api.BaseAddress.Port);
        var stream = client.GetStream();
        // Ask the server to close after answering, so the response ends where the stream does. Kestrel may answer and
        // close before it has read everything sent; what it answered is still there to read.
        var bytes = Encoding.Latin1.GetBytes(request.Replace("Host: localhost\r\n", "Host: localhost\r\nConnection: close\r\n", StringComparison.Ordinal));
        try
        {
            await stream.WriteAsync(bytes);
        }
        catch (IOException) { }
        var received = new MemoryStream();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await stream.CopyToAsync(received, timeout.Token);
        }
        catch (IOException) when (received.Length > 0) { }
        return Parse(received.ToArray());
    }

    private static RawResponse Parse(byte[] raw)
    {
        var head = Encoding.Latin1.GetString(raw);
        var headEnd = head.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(headEnd > 0, $"No complete response head in: {head[..Math.Min(head.Length, 300)]}");
        var lines = head[..headEnd].Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = lines.Skip(1).Select(l => l.Split(':', 2)).ToDictionary(p => p[0].Trim().ToLowerInvariant(), p => p[1].Trim());
        var body = raw.AsSpan(headEnd + 4).ToArray(); // Latin-1: one char per byte, so the offset is the same
        if (headers.GetValueOrDefault("transfer-encoding") == "chunked") body = Dechunk(body);
        if (headers.GetValueOrDefault("content-type") is { } type) headers["content-type"] = type.Split(';')[0];
        return new RawResponse(status, headers, Encoding.UTF8.GetString(body));
    }

    private static byte[] Dechunk(byte[] chunked)
    {
        var body = new MemoryStream();
        var at = 0;
        while (true)
        {
            var lineEnd = at + chunked.AsSpan(at).IndexOf("\r\n"u8);
            var size = Convert.ToInt32(Encoding.ASCII.GetString(chunked, at, lineEnd - at).Split(';')[0], 16);
            if (size == 0) return body.ToArray();
            body.Write(chunked, lineEnd + 2, size);
            at = lineEnd + 2 + size + 2;
        }
    }
}
