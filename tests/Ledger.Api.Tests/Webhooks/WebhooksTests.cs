using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Ledger.Api.Tests.Banking;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Webhooks;

/// <summary>One app with fast webhook settings and one receiver, shared by the tests of <see cref="WebhooksTests"/>.</summary>
public sealed class WebhookFixture : IAsyncLifetime
{
    public LedgerApp App { get; private set; } = null!;
    public WebhookReceiver Receiver { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Receiver = await WebhookReceiver.StartAsync();
        App = LedgerApp.Start(settings: WebhookTesting.Settings());
    }

    public async Task DisposeAsync()
    {
        if (App is not null)
        {
            await App.DisposeAsync();
            WebhookTesting.DeleteKeyFile(App.DatabasePath);
        }
        if (Receiver is not null) await Receiver.DisposeAsync();
    }
}

/// <summary>
/// Webhooks on one shared app: each test uses books it creates and receiver paths of its own, so tests do not see each
/// other's deliveries.
/// </summary>
public sealed class WebhooksTests(WebhookFixture fixture) : IClassFixture<WebhookFixture>
{
    private LedgerApp App => fixture.App;
    private HttpClient Admin => fixture.App.Admin;
    private WebhookReceiver Receiver => fixture.Receiver;

    private static string Path() => "/" + Guid.NewGuid().ToString("N");

    private static string Hooks(string book) => $"/v1/books/{book}/webhooks";

    [Fact]
    public async Task Events_arrive_one_at_a_time_in_order_signed_and_exactly_as_the_feed_shows_them()
    {
        var book = await App.CreateBookAsync();
        var path = Path();
        var created = await Admin.CreateWebhookAsync(book, new { url = Receiver.Url(path) });
        var id = created.Id();
        var secret = created.Str("secret");
        Assert.Matches("^[A-Za-z0-9_-]{43}$", secret); // 32 random bytes, base64url
        Assert.Equal("active", created.Str("status"));
        Assert.Equal(["*"], created["types"]!.AsArray().Select(t => t!.GetValue<string>()));
        // It starts after its own event: changes from now on.
        var start = await Admin.LastSequenceAsync(book);
        Assert.Equal(start, created["lastDeliveredSequence"]!.GetValue<long>());
        Assert.Equal("webhook.created", (await Admin.EventsAsync(book, start - 1)).Single().Str("type"));

        await App.PostEntryOkAsync(book, "2026-01-05", "Capital", ("1010", "5000.00", null), ("3000", null, "5000.00"));
        await App.CreateCustomerAsync(book, "Globex");
        await App.PostEntryOkAsync(book, "2026-01-06", "Rent", ("6000", "800.00", null), ("1010", null, "800.00"));
        var expected = await Admin.EventsAsync(book, start);
        Assert.Equal(3, expected.Count);

        await WebhookTesting.WaitUntilAsync(() => Receiver.At(path).Count >= expected.Count, "the three events arrived");
        var received = Receiver.At(path);
        Assert.Equal(expected.Select(e => e["sequence"]!.GetValue<long>()), received.Select(r => r.Sequence));
        for (var i = 0; i < expected.Count; i++)
        {
            var delivery = received[i];
            Assert.True(JsonNode.DeepEquals(expected[i], delivery.Json), $"Delivery {i} differs from the feed: {delivery.Text}");
            Assert.Equal(expected[i].Str("type"), delivery.Type);
            Assert.Equal(id.ToString(), delivery.Headers["Ledger-Webhook-Id"]);
            Assert.Equal(book, delivery.Headers["Ledger-Book-Id"]);
            Assert.Equal("1", delivery.Headers["Ledger-Delivery-Attempt"]);
            Assert.StartsWith("application/json", delivery.Headers["Content-Type"]);
            var signature = delivery.Headers["Ledger-Signature"];
            Assert.Matches("^t=[0-9]+,v1=[0-9a-f]{64}$", signature);
            Assert.True(WebhookTesting.SignatureIsValid(secret, signature, delivery.Body), "The signature does not verify with the secret.");
            Assert.False(WebhookTesting.SignatureIsValid(secret + "x", signature, delivery.Body), "The signature verifies with a wrong secret.");
            Assert.False(WebhookTesting.SignatureIsValid(secret, signature, [.. delivery.Body, (byte)' ']), "The signature verifies a changed body.");
        }

        var last = expected[^1]["sequence"]!.GetValue<long>();
        await WebhookTesting.WaitUntilAsync(async () => (await Admin.WebhookAsync(book, id))["lastDeliveredSequence"]!.GetValue<long>() == last,
            "the cursor reached the last event");
        var hook = await Admin.WebhookAsync(book, id);
        Assert.Null(hook["failingSince"]);
        Assert.Null(hook["secret"]); // shown only when created
        var deliveries = await Admin.DeliveriesAsync(book, id);
        Assert.Equal(expected.Select(e => e["sequence"]!.GetValue<long>()).Reverse(), deliveries.Select(d => d["sequence"]!.GetValue<long>()));
        Assert.All(deliveries, d =>
        {
            Assert.Equal("delivered", d.Str("outcome"));
            Assert.Equal(200, d["statusCode"]!.GetValue<int>());
            Assert.Equal(1, d["attempt"]!.GetValue<long>());
            Assert.Null(d["error"]);
        });
    }

    [Fact]
    public async Task Types_keep_some_events_and_the_cursor_moves_past_the_others()
    {
        var book = await App.CreateBookAsync();
        var path = Path();
        var id = (await Admin.CreateWebhookAsync(book, new { url = Receiver.Url(path), types = new[] { "customer.*", "vendor.created" } })).Id();
        await App.CreateCustomerAsync(book, "Globex");
        await App.PostEntryOkAsync(book, "2026-01-05", "Capital", ("1010", "5000.00", null), ("3000", null, "5000.00"));
        await App.CreateVendorAsync(book, "Initech");
        await App.PostEntryOkAsync(book, "2026-01-06", "Rent", ("6000", "800.00", null), ("1010", null, "800.00"));
        var last = await Admin.LastSequenceAsync(book);

        await WebhookTesting.WaitUntilAsync(async () => (await Admin.WebhookAsync(book, id))["lastDeliveredSequence"]!.GetValue<long>() == last,
            "the cursor passed every event, delivered or not");
        Assert.Equal(["customer.created", "vendor.created"], Receiver.At(path).Select(r => r.Type));
        Assert.Equal(2, (await Admin.DeliveriesAsync(book, id)).Count);
    }

    [Fact]
    public async Task Failed_deliveries_are_retried_until_delivered_in_order_and_every_attempt_is_recorded()
    {
        var book = await App.CreateBookAsync();
        var path = Path();
        var id = (await Admin.CreateWebhookAsync(book, new { url = Receiver.Url(path) })).Id();
        var start = await Admin.LastSequenceAsync(book);
        Receiver.FailFirst(path, 3);
        await App.PostEntryOkAsync(book, "2026-01-05", "Capital", ("1010", "5000.00", null), ("3000", null, "5000.00"));
        await App.PostEntryOkAsync(book, "2026-01-06", "Rent", ("6000", "800.00", null), ("1010", null, "800.00"));

        await WebhookTesting.WaitUntilAsync(() => Receiver.At(path).Count(r => r.Delivered) == 2, "both events were delivered");
        var first = start + 1;
        var second = start + 2;
        Assert.Equal([first, first, first, first, second], Receiver.At(path).Select(r => r.Sequence));
        Assert.Equal(["1", "2", "3", "4", "1"], Receiver.At(path).Select(r => r.Headers["Ledger-Delivery-Attempt"]));

        await WebhookTesting.WaitUntilAsync(async () => (await Admin.DeliveriesAsync(book, id)).Count == 5, "every attempt was recorded");
        var deliveries = await Admin.DeliveriesAsync(book, id); // newest first
        Assert.Equal([second, first, first, first, first], deliveries.Select(d => d["sequence"]!.GetValue<long>()));
        Assert.Equal([1L, 4, 3, 2, 1], deliveries.Select(d => d["attempt"]!.GetValue<long>()));
        Assert.Equal(["delivered", "delivered", "failed", "failed", "failed"], deliveries.Select(d => d.Str("outcome")));
        Assert.Equal([200, 200, 500, 500, 500], deliveries.Select(d => d["statusCode"]!.GetValue<int>()));
        Assert.Contains("500", deliveries[2].Str("error"));
        var hook = await Admin.WebhookAsync(book, id);
        Assert.Equal("active", hook.Str("status"));
        Assert.Null(hook["failingSince"]);
        Assert.Equal(0, hook["failedAttempts"]!.GetValue<long>());

        // Pages, newest first, resumable by cursor.
        var page = await Admin.GetJsonAsync($"{Hooks(book)}/{id}/deliveries?limit=2");
        Assert.Equal(2, page["items"]!.AsArray().Count);
        var next = await Admin.GetJsonAsync($"{Hooks(book)}/{id}/deliveries?limit=10&cursor={page.Str("nextCursor")}");
        Assert.Equal(3, next["items"]!.AsArray().Count);
        Assert.Null(next["nextCursor"]);
        Assert.Equal([3L, 2, 1], next["items"]!.AsArray().Select(d => d!["attempt"]!.GetValue<long>()));
    }

    [Fact]
    public async Task From_after_zero_a_webhook_replays_the_books_whole_history_first()
    {
        var book = await App.CreateBookAsync();
        await App.PostEntryOkAsync(book, "2026-01-05", "Capital", ("1010", "5000.00", null), ("3000", null, "5000.00"));
        var path = Path();
        var created = await Admin.CreateWebhookAsync(book, new { url = Receiver.Url(path), after = 0 });
        Assert.Equal(0, created["lastDeliveredSequence"]!.GetValue<long>());
        var last = await Admin.LastSequenceAsync(book);
        await WebhookTesting.WaitUntilAsync(() => Receiver.At(path).Count == last, "the whole history arrived");
        Assert.Equal(Enumerable.Range(1, (int)last).Select(i => (long)i), Receiver.At(path).Select(r => r.Sequence));
        Assert.Equal("book.created", Receiver.At(path)[0].Type);
        Assert.Equal("webhook.created", Receiver.At(path)[^1].Type);
    }

    [Fact]
    public async Task A_deleted_webhook_gets_nothing_more_and_keeps_its_history_without_its_secret()
    {
        var book = await App.CreateBookAsync();
        var (gone, kept) = (Path(), Path());
        var goneId = (await Admin.CreateWebhookAsync(book, new { url = Receiver.Url(gone) })).Id();
        var keptId = (await Admin.CreateWebhookAsync(book, new { url = Receiver.Url(kept) })).Id();
        Assert.Equal(HttpStatusCode.NoContent, (await Admin.DeleteAsync($"{Hooks(book)}/{goneId}")).StatusCode);
        await (await Admin.DeleteAsync($"{Hooks(book)}/{goneId}")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await Admin.PostJsonAsync($"{Hooks(book)}/{goneId}/resume", new { })).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal("deleted", (await Admin.WebhookAsync(book, goneId)).Str("status"));
        Assert.Equal([keptId], (await Admin.GetJsonAsync(Hooks(book))).AsArray().Select(w => w.Id()));

        var entry = await App.PostEntryOkAsync(book, "2026-01-05", "Capital", ("1010", "5000.00", null), ("3000", null, "5000.00"));
        await WebhookTesting.WaitUntilAsync(() => Receiver.At(kept).Any(r => r.Type == "journal_entry.posted"), "the other webhook got the entry");
        Assert.DoesNotContain(Receiver.At(gone), r => r.Type == "journal_entry.posted");
        var types = (await Admin.EventsAsync(book)).Select(e => e.Str("type")).ToList();
        Assert.Contains("webhook.deleted", types);

        await using var connection = await TestDatabase.OpenAsync(App.DatabasePath);
        Assert.Equal("", await connection.ExecuteScalarAsync<string>("SELECT secret FROM webhooks WHERE book_id = @book AND id = @goneId", new { book, goneId }));
    }

    [Fact]
    public async Task The_secret_is_answered_once_stored_encrypted_and_never_put_in_an_event()
    {
        var book = await App.CreateBookAsync();
        const string chosen = "receiver-chosen-secret-0123456789";
        var body = new { url = Receiver.Url(Path()), secret = chosen, types = new[] { "journal_entry.posted" } };
        var created = await Admin.CreateWebhookAsync(book, body, idempotencyKey: "hook-1");
        Assert.Equal(chosen, created.Str("secret"));
        var generated = await Admin.CreateWebhookAsync(book, new { url = Receiver.Url(Path()) }, idempotencyKey: "hook-2");

        // A retry with the same key answers the same webhook and secret again, writing nothing.
        var replay = await Admin.PostJsonAsync(Hooks(book), new { url = generated.Str("url") }, "hook-2");
        Assert.Equal(HttpStatusCode.Created, replay.StatusCode);
        Assert.Equal("true", replay.Headers.GetValues("Idempotency-Replayed").Single());
        var replayed = await replay.ReadJsonAsync();
        Assert.Equal((generated.Id(), generated.Str("secret")), (replayed.Id(), replayed.Str("secret")));
        Assert.Equal(2, (await Admin.GetJsonAsync(Hooks(book))).AsArray().Count);
        await (await Admin.PostJsonAsync(Hooks(book), new { url = Receiver.Url("/other") }, "hook-2")).AssertProblemAsync(HttpStatusCode.UnprocessableEntity);
        await (await Admin.PostJsonAsync(Hooks(book), body with { secret = chosen + "!" }, "hook-1")).AssertProblemAsync(HttpStatusCode.UnprocessableEntity);

        foreach (var e in await Admin.EventsAsync(book))
        {
            Assert.DoesNotContain(chosen, e.ToJsonString());
            Assert.DoesNotContain(generated.Str("secret"), e.ToJsonString());
        }
        await using var connection = await TestDatabase.OpenAsync(App.DatabasePath);
        var stored = (await connection.QueryAsync<string>("SELECT secret FROM webhooks WHERE book_id = @book", new { book })).ToList();
        Assert.Equal(2, stored.Count);
        Assert.All(stored, s =>
        {
            Assert.StartsWith("v1:", s);
            Assert.DoesNotContain(chosen, s);
            Assert.DoesNotContain(generated.Str("secret"), s);
        });
        var keys = (await connection.QueryAsync<string>("SELECT response_body FROM idempotency_keys WHERE book_id = @book", new { book })).ToList();
        Assert.All(keys, k => Assert.DoesNotContain(generated.Str("secret"), k));
        Assert.All(keys, k => Assert.DoesNotContain(chosen, k));
        if (!WebhookTesting.OnPostgres && !OperatingSystem.IsWindows())
        {
            var keyFile = App.DatabasePath + ".webhook-key";
            Assert.True(File.Exists(keyFile));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
        }

        // The chosen secret signs the deliveries.
        var path = Path();
        var signed = await Admin.CreateWebhookAsync(book, new { url = Receiver.Url(path), secret = chosen });
        await App.PostEntryOkAsync(book, "2026-01-05", "Capital", ("1010", "5000.00", null), ("3000", null, "5000.00"));
        await WebhookTesting.WaitUntilAsync(() => Receiver.At(path).Count > 0, "a delivery arrived");
        var delivery = Receiver.At(path)[0];
        Assert.True(WebhookTesting.SignatureIsValid(chosen, delivery.Headers["Ledger-Signature"], delivery.Body));
        Assert.Equal(signed.Id().ToString(), delivery.Headers["Ledger-Webhook-Id"]);
    }

    [Fact]
    public async Task Requests_are_checked_field_by_field()
    {
        var book = await App.CreateBookAsync();
        var url = Receiver.Url(Path());
        await (await Admin.PostJsonAsync(Hooks(book), new { url = "ftp://example.com/hook" })).AssertValidationErrorAsync("url");
        await (await Admin.PostJsonAsync(Hooks(book), new { url = "example.com/hook" })).AssertValidationErrorAsync("url");
        await (await Admin.PostJsonAsync(Hooks(book), new { url = "https://user:pw@example.com/hook" })).AssertValidationErrorAsync("url");
        await (await Admin.PostJsonAsync(Hooks(book), new { url = "https://example.com/a b" })).AssertValidationErrorAsync("url");
        await (await Admin.PostJsonAsync(Hooks(book), new { types = new[] { "*" } })).AssertValidationErrorAsync("url");
        await (await Admin.PostJsonAsync(Hooks(book), new { url, types = new[] { "Journal Entry" } })).AssertValidationErrorAsync("types[0]");
        await (await Admin.PostJsonAsync(Hooks(book), new { url, secret = "short" })).AssertValidationErrorAsync("secret");
        await (await Admin.PostJsonAsync(Hooks(book), new { url, after = -1 })).AssertValidationErrorAsync("after");
        var last = await Admin.LastSequenceAsync(book);
        await (await Admin.PostJsonAsync(Hooks(book), new { url, after = last + 1 })).AssertValidationErrorAsync("after");
        await (await Admin.PostJsonAsync(Hooks(book), new { url, extra = 1 })).AssertValidationErrorAsync("extra");
        await (await Admin.GetAsync($"{Hooks(book)}/999999")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await Admin.GetAsync($"{Hooks(book)}/999999/deliveries")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await Admin.GetAsync($"{Hooks(book)}/1/deliveries?limit=0")).AssertValidationErrorAsync("limit");
        Assert.Equal(last, await Admin.LastSequenceAsync(book)); // nothing refused was written

        // A read key may look, not change; another book's key sees nothing.
        var id = (await Admin.CreateWebhookAsync(book, new { url })).Id();
        var reader = App.Client(await App.CreateKeyAsync(book, "read"));
        Assert.Single((await reader.GetJsonAsync(Hooks(book))).AsArray());
        await (await reader.PostJsonAsync(Hooks(book), new { url })).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await reader.DeleteAsync($"{Hooks(book)}/{id}")).AssertProblemAsync(HttpStatusCode.Forbidden);
        var stranger = App.Client(await App.CreateKeyAsync(await App.CreateBookAsync(), "read", "write"));
        await (await stranger.GetAsync(Hooks(book))).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await stranger.GetAsync($"{Hooks(book)}/{id}/deliveries")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Resuming_an_active_webhook_changes_nothing_but_its_next_attempt()
    {
        var book = await App.CreateBookAsync();
        var id = (await Admin.CreateWebhookAsync(book, new { url = Receiver.Url(Path()) })).Id();
        var before = await Admin.LastSequenceAsync(book);
        var resumed = await (await Admin.PostJsonAsync($"{Hooks(book)}/{id}/resume", new { })).Content.ReadAsStringAsync();
        Assert.Equal("active", JsonNode.Parse(resumed)!.Str("status"));
        Assert.Equal(before, await Admin.LastSequenceAsync(book)); // no event: nothing about the subscription changed
    }
}
