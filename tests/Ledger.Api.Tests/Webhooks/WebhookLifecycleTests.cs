using System.Net;
using Ledger.Api.Tests.Banking;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Webhooks;

/// <summary>
/// Webhooks across a restart, a pause, and settings that change between two runs on one database: each test has its
/// own database, apps and receiver.
/// </summary>
public sealed class WebhookLifecycleTests : IAsyncLifetime
{
    private readonly string _database = TestDatabase.Create();
    private readonly List<LedgerApp> _apps = [];
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync();

    public async Task DisposeAsync()
    {
        foreach (var app in _apps) await app.DisposeAsync();
        await _receiver.DisposeAsync();
        TestDatabase.Delete(_database);
        WebhookTesting.DeleteKeyFile(_database);
    }

    /// <summary>Starts an app on this test's database; the one before must be stopped (SQLite has one process).</summary>
    private LedgerApp Start(params (string Key, string Value)[] settings)
    {
        var app = LedgerApp.OnExistingFile(_database, settings: WebhookTesting.Settings(settings));
        _apps.Add(app);
        return app;
    }

    private async Task StopAsync(LedgerApp app)
    {
        await app.DisposeAsync();
        _apps.Remove(app);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_restart_while_the_receiver_fails_loses_and_skips_nothing()
    {
        var app = Start();
        var book = await app.CreateBookAsync();
        var created = await app.Admin.CreateWebhookAsync(book, new { url = _receiver.Url() });
        var id = created.Id();
        var secret = created.Str("secret");
        var start = created["lastDeliveredSequence"]!.GetValue<long>();
        _receiver.Failing = true;
        for (var i = 1; i <= 3; i++)
            await app.PostEntryOkAsync(book, $"2026-01-0{i}", $"Entry {i}", ("6000", "10.00", null), ("1010", null, "10.00"));
        await WebhookTesting.WaitUntilAsync(async () => (await app.Admin.DeliveriesAsync(book, id)).Count >= 3, "a few attempts failed");

        // Stop mid-delivery, start again (the same secret key is found again), and let the receiver recover.
        await StopAsync(app);
        app = Start();
        await app.PostEntryOkAsync(book, "2026-01-04", "Entry 4", ("6000", "10.00", null), ("1010", null, "10.00"));
        _receiver.Failing = false;
        var expected = (await app.Admin.EventsAsync(book, start)).Select(e => e["sequence"]!.GetValue<long>()).ToList();
        Assert.Equal(4, expected.Count);

        await WebhookTesting.WaitUntilAsync(() => _receiver.Received.Count(r => r.Delivered) >= expected.Count, "every event was delivered");
        var received = _receiver.Received;
        // Never ahead of an unacknowledged event: the sequences sent only ever stay or grow, and each was acknowledged once.
        Assert.Equal(received.Select(r => r.Sequence).Order(), received.Select(r => r.Sequence));
        Assert.Equal(expected, received.Where(r => r.Delivered).Select(r => r.Sequence));
        Assert.Equal(expected[0], received[0].Sequence);
        Assert.All(received, r => Assert.True(WebhookTesting.SignatureIsValid(secret, r.Headers["Ledger-Signature"], r.Body)));
        await WebhookTesting.WaitUntilAsync(async () => (await app.Admin.WebhookAsync(book, id))["lastDeliveredSequence"]!.GetValue<long>() == expected[^1],
            "the cursor reached the last event");
        var deliveries = await app.Admin.DeliveriesAsync(book, id);
        Assert.Equal(received.Count, deliveries.Count);
        Assert.Equal(received.Count(r => !r.Delivered), deliveries.Count(d => d.Str("outcome") == "failed"));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_webhook_failing_for_the_whole_window_is_paused_and_resume_delivers_what_waited()
    {
        // About two seconds of failures pause it.
        var app = Start(("Ledger:Webhooks:PauseAfterHours", "0.0006"));
        var book = await app.CreateBookAsync();
        var id = (await app.Admin.CreateWebhookAsync(book, new { url = _receiver.Url() })).Id();
        var start = await app.Admin.LastSequenceAsync(book);
        _receiver.Failing = true;
        await app.PostEntryOkAsync(book, "2026-01-05", "Capital", ("1010", "5000.00", null), ("3000", null, "5000.00"));

        await WebhookTesting.WaitUntilAsync(async () => (await app.Admin.WebhookAsync(book, id)).Str("status") == "paused", "the webhook was paused");
        var paused = await app.Admin.WebhookAsync(book, id);
        Assert.NotNull(paused["failingSince"]);
        Assert.Null(paused["nextAttemptAt"]);
        Assert.Contains("500", paused.Str("lastError"));
        Assert.Equal(start, paused["lastDeliveredSequence"]!.GetValue<long>());
        var pausedEvent = (await app.Admin.EventsAsync(book, start)).Single(e => e.Str("type") == "webhook.paused");
        Assert.Null(pausedEvent["actor"]); // the server's own doing
        var attempts = (await app.Admin.DeliveriesAsync(book, id)).Count;
        Assert.True(attempts >= 2, $"Only {attempts} attempts before the pause.");
        Assert.Equal(attempts, _receiver.Received.Count);

        _receiver.Failing = false;
        var resumed = await (await app.Admin.PostJsonAsync($"/v1/books/{book}/webhooks/{id}/resume", new { })).Content.ReadAsStringAsync();
        Assert.Contains("\"status\":\"active\"", resumed);
        var expected = (await app.Admin.EventsAsync(book, start)).Select(e => e["sequence"]!.GetValue<long>()).ToList();
        Assert.Equal(["journal_entry.posted", "webhook.paused", "webhook.resumed"],
            (await app.Admin.EventsAsync(book, start)).Select(e => e.Str("type")));
        await WebhookTesting.WaitUntilAsync(() => _receiver.Received.Count(r => r.Delivered) == expected.Count, "what waited was delivered");
        Assert.Equal(expected, _receiver.Received.Where(r => r.Delivered).Select(r => r.Sequence));
        var hook = await app.Admin.WebhookAsync(book, id);
        Assert.Equal("active", hook.Str("status"));
        Assert.Null(hook["failingSince"]);
    }

    [Fact]
    public async Task Private_targets_are_refused_at_creation_and_again_at_connection_unless_allowed()
    {
        // Allowed: a webhook to the loopback receiver is created and delivers.
        var app = Start();
        var book = await app.CreateBookAsync();
        var id = (await app.Admin.CreateWebhookAsync(book, new { url = _receiver.Url() })).Id();
        await app.PostEntryOkAsync(book, "2026-01-05", "Capital", ("1010", "5000.00", null), ("3000", null, "5000.00"));
        await WebhookTesting.WaitUntilAsync(() => _receiver.Received.Count == 1, "the allowed delivery arrived");

        // Not allowed: such URLs are refused, however they are written, and the existing webhook can no longer connect
        // (as when a host's DNS answer turns private after it was registered).
        await StopAsync(app);
        app = Start(("Ledger:Webhooks:AllowPrivateTargets", "false"));
        foreach (var url in new[]
                 {
                     _receiver.Url(), "http://localhost/hook", "http://[::1]/hook", "http://[::ffff:127.0.0.1]/hook", "http://10.1.2.3/hook",
                     "http://192.168.0.10/hook", "http://172.16.0.1/hook", "http://169.254.169.254/latest/meta-data", "http://0.0.0.0/hook",
                     "http://[fd00::1]/hook", "http://[fe80::1]/hook", "http://224.0.0.1/hook", "http://2130706433/hook", "http://0x7f.1/hook",
                 })
        {
            var refused = await (await app.Admin.PostJsonAsync($"/v1/books/{book}/webhooks", new { url })).AssertValidationErrorAsync("url");
            Assert.Contains("address", refused["errors"]!["url"]![0]!.GetValue<string>());
        }
        var before = _receiver.Received.Count;
        await app.PostEntryOkAsync(book, "2026-01-06", "Rent", ("6000", "800.00", null), ("1010", null, "800.00"));
        await WebhookTesting.WaitUntilAsync(async () => (await app.Admin.DeliveriesAsync(book, id)).Any(d => d.Str("outcome") == "failed"),
            "the delivery to a loopback address was refused");
        var failed = (await app.Admin.DeliveriesAsync(book, id)).First(d => d.Str("outcome") == "failed");
        Assert.Contains("loopback", failed.Str("error"));
        Assert.Null(failed["statusCode"]);
        Assert.Equal(before, _receiver.Received.Count);
    }

    [Fact]
    public async Task The_secret_key_is_required_on_PostgreSQL_and_generated_beside_a_SQLite_file()
    {
        // No key configured (on PostgreSQL the test settings would configure one).
        var app = LedgerApp.OnExistingFile(_database, settings: new Dictionary<string, string> { ["Ledger:Webhooks:AllowPrivateTargets"] = "true" });
        _apps.Add(app);
        var book = await app.CreateBookAsync();
        var response = await app.Admin.PostJsonAsync($"/v1/books/{book}/webhooks", new { url = _receiver.Url() });
        if (WebhookTesting.OnPostgres)
        {
            var problem = await response.AssertProblemAsync(HttpStatusCode.Conflict);
            Assert.Contains("Ledger:Webhooks:SecretKey", problem.Str("detail"));
            Assert.Empty((await app.Admin.GetJsonAsync($"/v1/books/{book}/webhooks")).AsArray());
            return;
        }
        await response.AssertCreatedAsync();
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_database + ".webhook-key"));
        var key = await File.ReadAllTextAsync(_database + ".webhook-key");

        // A restart reads the same key; it is never replaced.
        await StopAsync(app);
        app = Start();
        await app.Admin.CreateWebhookAsync(book, new { url = _receiver.Url() });
        Assert.Equal(key, await File.ReadAllTextAsync(_database + ".webhook-key"));
    }

    [Fact]
    public void Settings_out_of_range_stop_the_start_naming_the_setting()
    {
        var failure = Assert.ThrowsAny<Exception>(() => Start(("Ledger:Webhooks:BaseDelaySeconds", "0")));
        Assert.Contains("Ledger:Webhooks:BaseDelaySeconds", failure.ToString());
    }
}
