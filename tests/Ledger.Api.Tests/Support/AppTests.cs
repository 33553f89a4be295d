namespace Ledger.Api.Tests.Support;

/// <summary>A test class with an API of its own on a fresh database, started before and disposed after its tests.</summary>
public abstract class AppTests : IAsyncLifetime
{
    protected LedgerApp App { get; private set; } = null!;

    public virtual Task InitializeAsync()
    {
        App = LedgerApp.Start();
        return Task.CompletedTask;
    }

    public virtual async Task DisposeAsync() => await App.DisposeAsync();
}
