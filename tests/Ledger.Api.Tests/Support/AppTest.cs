namespace Ledger.Api.Tests.Support;

/// <summary>A test class with an app of its own, started before its tests and disposed after them.</summary>
public abstract class AppTest : IAsyncLifetime
{
    protected LedgerApp App { get; set; } = null!;

    protected HttpClient Admin => App.Admin;

    public virtual Task InitializeAsync()
    {
        App = StartApp();
        return Task.CompletedTask;
    }

    /// <summary>Starts this class's app; override to start it with a fake clock, say.</summary>
    protected virtual LedgerApp StartApp() => LedgerApp.Start();

    public virtual async Task DisposeAsync() => await App.DisposeAsync();

    protected static string EntriesUrl(string bookId) => $"/v1/books/{bookId}/journal-entries";

    protected static string AccountsUrl(string bookId) => $"/v1/books/{bookId}/accounts";

    /// <summary>A book with the standard chart (1000 Cash, 1010 Bank, 2000 AP, 3000 Equity, 4000 Sales, 6000 Rent, ...).</summary>
    protected Task<string> StandardBookAsync(string currency = "EUR") => App.CreateBookAsync(currency);
}
