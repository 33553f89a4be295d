using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace Ledger.Api.Tests.Support;

/// <summary>
/// The real API, in process, over the real HTTP pipeline, on a fresh database of its own: a SQLite file, or a
/// PostgreSQL database when the tests are built as Ledger.Api.Tests.Postgres (see <see cref="TestDatabase"/>).
/// </summary>
public sealed class LedgerApp : IAsyncDisposable
{
    public const string AdminKey = "test-admin-key-0123456789";

    private readonly WebApplicationFactory<Program> _factory;
    private readonly IReadOnlyDictionary<string, string>? _settings;
    private bool _ownsFile;
    private bool _disposed;

    /// <summary>The database: a SQLite file path, or a PostgreSQL connection string (<see cref="TestDatabase"/>).</summary>
    public string DatabasePath { get; }
    public HttpClient Admin { get; }

    private LedgerApp(string databasePath, bool ownsFile, IClock? clock, IReadOnlyDictionary<string, string>? settings = null)
    {
        DatabasePath = databasePath;
        _ownsFile = ownsFile;
        _settings = settings;
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.UseEnvironment("Test");
            builder.UseSetting("ConnectionStrings:Ledger", TestDatabase.ConnectionString(databasePath));
            builder.UseSetting("Ledger:AdminKey", AdminKey);
            foreach (var (key, value) in settings ?? new Dictionary<string, string>()) builder.UseSetting(key, value);
            if (clock is not null)
                builder.ConfigureTestServices(services => services.AddSingleton(clock));
        });
        Admin = Client(AdminKey);
    }

    public static LedgerApp Start(IClock? clock = null, IReadOnlyDictionary<string, string>? settings = null) =>
        new(TestDatabase.Create(), ownsFile: true, clock, settings);

    /// <summary>A second app on the same database file, as after a restart.</summary>
    public static LedgerApp OnExistingFile(string databasePath, IClock? clock = null, IReadOnlyDictionary<string, string>? settings = null) =>
        new(databasePath, ownsFile: false, clock, settings);

    public IServiceProvider Services => _factory.Services;

    /// <summary>
    /// Posts with headers exactly as given, below HttpClient, which drops a header with an empty value that a real
    /// client such as curl does send. Answers the status and the body.
    /// </summary>
    public async Task<(int Status, JsonNode? Body)> PostWithRawHeadersAsync(string url, string json, string header, Microsoft.Extensions.Primitives.StringValues values)
    {
        var context = await _factory.Server.SendAsync(http =>
        {
            http.Request.Method = "POST";
            http.Request.Path = url;
            http.Request.Headers.Authorization = $"Bearer {AdminKey}";
            http.Request.Headers[header] = values;
            http.Request.ContentType = "application/json";
            var bytes = Encoding.UTF8.GetBytes(json);
            http.Request.Body = new MemoryStream(bytes);
            http.Request.ContentLength = bytes.Length;
            http.Features.Set<Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature>(new HasBody());
        });
        var text = await new StreamReader(context.Response.Body).ReadToEndAsync();
        return (context.Response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    private sealed class HasBody : Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature
    {
        public bool CanHaveBody => true;
    }

    public HttpClient Client(string? key)
    {
        var client = _factory.CreateClient();
        if (key is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    public async Task<string> CreateBookAsync(string currency = "EUR", string? chart = "standard", string name = "Test book")
    {
        var response = await Admin.PostAsJsonAsync("/v1/books", new { name, currency, chart });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.ReadJsonAsync())["id"]!.GetValue<string>();
    }

    public async Task<string> CreateKeyAsync(string bookId, params string[] scopes)
    {
        var response = await Admin.PostAsJsonAsync("/v1/api-keys", new { name = "test key", bookId, scopes });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.ReadJsonAsync())["key"]!.GetValue<string>();
    }

    public async Task CreateAccountAsync(string bookId, string code, string type, string? parent = null, HttpClient? client = null)
    {
        var response = await (client ?? Admin).PostAsJsonAsync($"/v1/books/{bookId}/accounts", new { code, name = $"Account {code}", type, parent });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    /// <summary>
    /// Stops this app (as a process exit would) and starts a new one on the same database file. The new app takes
    /// over the file, with the same settings: disposing it deletes the file if this app would have.
    /// </summary>
    public async Task<LedgerApp> RestartAsync(IClock? clock = null)
    {
        var ownsFile = _ownsFile;
        _ownsFile = false;
        await DisposeAsync();
        return new LedgerApp(DatabasePath, ownsFile, clock, _settings);
    }

    /// <summary>Creates accounts (code, type) in a book, asserting each is created.</summary>
    public async Task CreateAccountsAsync(string bookId, params (string Code, string Type)[] accounts)
    {
        foreach (var (code, type) in accounts) await CreateAccountAsync(bookId, code, type);
    }

    /// <summary>Posts an entry and asserts it was created; returns the entry as answered.</summary>
    public async Task<JsonNode> PostEntryOkAsync(string bookId, string date, string description,
        params (string Account, string? Debit, string? Credit)[] lines)
    {
        var response = await Admin.PostEntryAsync(bookId, date, description, lines);
        return await response.AssertCreatedAsync();
    }

    /// <summary>Creates a customer and returns its id.</summary>
    public async Task<long> CreateCustomerAsync(string bookId, string name = "Customer") =>
        (await (await Admin.PostJsonAsync($"/v1/books/{bookId}/customers", new { name })).AssertCreatedAsync())["id"]!.GetValue<long>();

    /// <summary>Creates a vendor and returns its id.</summary>
    public async Task<long> CreateVendorAsync(string bookId, string name = "Vendor") =>
        (await (await Admin.PostJsonAsync($"/v1/books/{bookId}/vendors", new { name })).AssertCreatedAsync())["id"]!.GetValue<long>();

    public Task<JsonNode> TrialBalanceAsync(string bookId, string? asOf = null) =>
        Admin.GetJsonAsync($"/v1/books/{bookId}/reports/trial-balance" + (asOf is null ? "" : $"?asOf={asOf}"));

    public Task<JsonNode> AccountAsync(string bookId, string code) =>
        Admin.GetJsonAsync($"/v1/books/{bookId}/accounts/{Uri.EscapeDataString(code)}");

    /// <summary>Every journal entry the list endpoint serves for <paramref name="query"/>, walking all pages.</summary>
    public Task<List<JsonNode>> AllEntriesAsync(string bookId, string query = "", int? limit = null, HttpClient? client = null)
    {
        var parts = new List<string>();
        if (query.Length > 0) parts.Add(query);
        if (limit is not null) parts.Add($"limit={limit}");
        return (client ?? Admin).AllPagesAsync($"/v1/books/{bookId}/journal-entries?{string.Join('&', parts)}");
    }

    /// <summary>
    /// Everything a reader can see of a book (accounts with totals, every entry, the trial balance now), as one
    /// string: equal snapshots mean nothing was written in between.
    /// </summary>
    public async Task<string> SnapshotAsync(string bookId)
    {
        var accounts = await Admin.GetJsonAsync($"/v1/books/{bookId}/accounts");
        var entries = new JsonArray([.. await AllEntriesAsync(bookId)]);
        var trialBalance = await TrialBalanceAsync(bookId, "9999-12-31");
        var book = await Admin.GetJsonAsync($"/v1/books/{bookId}");
        return new JsonObject { ["book"] = book, ["accounts"] = accounts, ["entries"] = entries, ["trialBalance"] = trialBalance }
            .ToJsonString();
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        await _factory.DisposeAsync();
        if (!_ownsFile) return;
        TestDatabase.Delete(DatabasePath);
    }
}

public static class HttpTestExtensions
{
    public static async Task<JsonNode> ReadJsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonNode.Parse(text) ?? throw new InvalidOperationException("Empty JSON body.");
    }

    /// <summary>Sends raw JSON text, to test exactly what a client puts on the wire.</summary>
    public static Task<HttpResponseMessage> PostRawAsync(this HttpClient client, string url, string json, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        return client.SendAsync(request);
    }

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string url, object body, string? idempotencyKey = null) =>
        client.PostRawAsync(url, JsonSerializer.Serialize(body), idempotencyKey);

    public static Task<HttpResponseMessage> PostEntryAsync(this HttpClient client, string bookId, string date, string description,
        params (string Account, string? Debit, string? Credit)[] lines) =>
        client.PostJsonAsync($"/v1/books/{bookId}/journal-entries", Entry(date, description, lines));

    /// <summary>
    /// An entry's JSON. A line on a control account names its party after a slash: "1200/customer:7", "2000/vendor:3".
    /// </summary>
    public static object Entry(string date, string description, params (string Account, string? Debit, string? Credit)[] lines) =>
        new
        {
            date,
            description,
            lines = lines.Select(Line).ToArray(),
        };

    private static object Line((string Account, string? Debit, string? Credit) line)
    {
        var parts = line.Account.Split('/');
        var node = new JsonObject { ["account"] = parts[0] };
        if (line.Debit is not null) node["debit"] = line.Debit; else node["credit"] = line.Credit;
        if (parts.Length == 2)
        {
            var party = parts[1].Split(':');
            node[party[0]] = long.Parse(party[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        return node;
    }

    /// <summary>Asserts a 400 problem+json whose errors name exactly the field path given.</summary>
    public static async Task<JsonNode> AssertValidationErrorAsync(this HttpResponseMessage response, string fieldPath)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"Expected 400, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var json = JsonNode.Parse(body)!;
        var errors = json["errors"]!.AsObject();
        Assert.True(errors.ContainsKey(fieldPath), $"Expected an error on '{fieldPath}', got: {body}");
        return json;
    }

    /// <summary>
    /// Every item a list answers for <paramref name="url"/> (its query included), following nextCursor page by page;
    /// fails if the list has not ended after <paramref name="maxPages"/> pages.
    /// </summary>
    public static async Task<List<JsonNode>> AllPagesAsync(this HttpClient client, string url, int maxPages = 10_000)
    {
        var items = new List<JsonNode>();
        string? cursor = null;
        for (var page = 0; ; page++)
        {
            Assert.True(page < maxPages, $"GET {url}: the list does not end.");
            var pageUrl = cursor is null ? url : $"{url}{(url.Contains('?') ? '&' : '?')}cursor={Uri.EscapeDataString(cursor)}";
            var json = await client.GetJsonAsync(pageUrl);
            items.AddRange(json["items"]!.AsArray().Select(i => i!.DeepClone()));
            cursor = json["nextCursor"]?.GetValue<string>();
            if (cursor is null) return items;
        }
    }

    /// <summary>GETs JSON, asserting 200.</summary>
    public static async Task<JsonNode> GetJsonAsync(this HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {url}: expected 200, got {(int)response.StatusCode}: {body}");
        return JsonNode.Parse(body) ?? throw new InvalidOperationException("Empty JSON body.");
    }

    /// <summary>Sends any method with optional raw JSON text.</summary>
    public static Task<HttpResponseMessage> SendRawAsync(this HttpClient client, HttpMethod method, string url, string? json = null,
        string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(method, url);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        return client.SendAsync(request);
    }

    public static Task<HttpResponseMessage> PatchJsonAsync(this HttpClient client, string url, object body) =>
        client.SendRawAsync(HttpMethod.Patch, url, JsonSerializer.Serialize(body));

    /// <summary>Asserts 201 Created and returns the body.</summary>
    public static async Task<JsonNode> AssertCreatedAsync(this HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"Expected 201, got {(int)response.StatusCode}: {body}");
        return JsonNode.Parse(body) ?? throw new InvalidOperationException("Empty JSON body.");
    }

    /// <summary>Asserts a 400 problem+json whose errors name one of the field paths given.</summary>
    public static async Task<JsonNode> AssertValidationErrorOnAnyAsync(this HttpResponseMessage response, params string[] fieldPaths)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"Expected 400, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var json = JsonNode.Parse(body)!;
        var errors = json["errors"]!.AsObject();
        Assert.True(fieldPaths.Any(errors.ContainsKey), $"Expected an error on one of '{string.Join("', '", fieldPaths)}', got: {body}");
        return json;
    }

    public static async Task<JsonNode> AssertProblemAsync(this HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"Expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("   at ", body); // no stack traces
        var json = JsonNode.Parse(body)!;
        Assert.Equal((int)status, json["status"]?.GetValue<int>());
        return json;
    }
}
