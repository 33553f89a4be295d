namespace Ledger.Api.Tests.Support;

/// <summary>
/// One app (and database) for all the tests of a class: an xunit class fixture, started before the class's first test
/// and disposed after its last. Sharing is safe because every test works in books it creates itself, and xunit runs
/// the tests of one class one after another (classes run in parallel, each with its own app).
/// </summary>
public sealed class SharedApp : IAsyncLifetime
{
    public LedgerApp App { get; private set; } = null!;

    public Task InitializeAsync()
    {
        App = LedgerApp.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        // Null when the start itself failed; xunit still disposes the fixture.
        if (App is not null) await App.DisposeAsync();
    }
}
