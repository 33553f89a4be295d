namespace Ledger.Api.Tests.Support;

/// <summary>
/// A test class whose tests share one app (<see cref="SharedApp"/>, started once per class): the default for API tests.
/// A test here works only in books it creates, and must not restart, dispose or reconfigure the app, nor assert on what
/// other tests of the class leave behind (every book or key listed, rows counted across the whole database, entry ids,
/// which the whole database numbers). Tests that need any of that derive from <see cref="AppTest"/> instead.
/// </summary>
public abstract class SharedAppTest(SharedApp shared) : ApiTest, IClassFixture<SharedApp>, IAsyncLifetime
{
    protected LedgerApp App { get; } = shared.App;

    protected HttpClient Admin => App.Admin;

    /// <summary>Runs before each test, on the shared app; override to create a test's book, say.</summary>
    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual Task DisposeAsync() => Task.CompletedTask;

    /// <summary>A book with the standard chart (1000 Cash, 1010 Bank, 2000 AP, 3000 Equity, 4000 Sales, 6000 Rent, ...).</summary>
    protected Task<string> StandardBookAsync(string currency = "EUR") => App.CreateBookAsync(currency);
}
