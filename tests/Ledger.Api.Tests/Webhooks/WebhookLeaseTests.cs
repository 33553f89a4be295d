#if POSTGRES
using Ledger.Api.Tests.Banking;
using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Webhooks;

/// <summary>
/// Two API processes on one PostgreSQL database both run the delivery service: the lease lets one deliver a subscription
/// at a time, so every event arrives once, in order, whichever process sends it.
/// </summary>
[Trait("Category", "Slow")]
public sealed class WebhookLeaseTests : IAsyncLifetime
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
    }

    [Fact]
    public async Task Two_processes_deliver_each_event_once_and_in_order()
    {
        _apps.Add(LedgerApp.OnExistingFile(_database, settings: WebhookTesting.Settings()));
        _apps.Add(LedgerApp.OnExistingFile(_database, settings: WebhookTesting.Settings()));
        var (first, second) = (_apps[0], _apps[1]);
        var book = await first.CreateBookAsync();
        var hooks = new List<(string Path, long Id)>();
        for (var i = 0; i < 3; i++)
        {
            var path = $"/hook-{i}";
            hooks.Add((path, (await first.Admin.CreateWebhookAsync(book, new { url = _receiver.Url(path), after = 0 })).Id()));
        }
        // Entries posted through both processes; a receiver that fails now and then makes the processes trade leases.
        _receiver.FailFirst(hooks[1].Path, 5);
        for (var i = 1; i <= 20; i++)
            await (i % 2 == 0 ? first : second).PostEntryOkAsync(book, "2026-01-05", $"Entry {i}", ("6000", "10.00", null), ("1010", null, "10.00"));
        var expected = (await first.Admin.EventsAsync(book)).Select(e => e["sequence"]!.GetValue<long>()).ToList();

        foreach (var (path, id) in hooks)
        {
            await WebhookTesting.WaitUntilAsync(() => _receiver.At(path).Count(r => r.Delivered) >= expected.Count, $"{path} got every event");
            Assert.Equal(expected, _receiver.At(path).Where(r => r.Delivered).Select(r => r.Sequence));
            Assert.Equal(_receiver.At(path).Select(r => r.Sequence).Order(), _receiver.At(path).Select(r => r.Sequence));
        }
    }
}
#endif
