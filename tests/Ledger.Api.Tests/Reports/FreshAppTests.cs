using Ledger.Api.Tests.Support;

namespace Ledger.Api.Tests.Reports;

/// <summary>A test class whose every test gets its own app and database (xunit makes a new instance per test).</summary>
public abstract class FreshAppTests : IAsyncLifetime
{
    protected LedgerApp App { get; private set; } = null!;

    protected virtual LedgerApp StartApp() => LedgerApp.Start();

    public virtual Task InitializeAsync()
    {
        App = StartApp();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await App.DisposeAsync();
}
