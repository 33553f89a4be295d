namespace Ledger.Api.Tests.Support;

/// <summary>
/// A test class whose every test has an app (and database) of its own, started before the test and disposed after it
/// (xunit makes a new instance of the class per test). For tests that restart the app, run it on a fake clock or other
/// settings, or look at the whole database; every other test class derives from <see cref="SharedAppTest"/>, which
/// starts far fewer apps.
/// </summary>
public abstract class AppTest : ApiTest, IAsyncLifetime
{
    protected LedgerApp App { get; set; } = null!;

    protected HttpClient Admin => App.Admin;

    public virtual Task InitializeAsync()
    {
        App = StartApp();
        return Task.CompletedTask;
    }

    /// <summary>Starts this test's app; override to start it with a fake clock, say.</summary>
    protected virtual LedgerApp StartApp() => LedgerApp.Start();

    public virtual async Task DisposeAsync() => await App.DisposeAsync();

    /// <summary>A book with the standard chart (1000 Cash, 1010 Bank, 2000 AP, 3000 Equity, 4000 Sales, 6000 Rent, ...).</summary>
    protected Task<string> StandardBookAsync(string currency = "EUR") => App.CreateBookAsync(currency);
}
