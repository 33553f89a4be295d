namespace Ledger.Api.Tests.Support;

/// <summary>
/// What every test class on a <see cref="LedgerApp"/> may use, whether its tests share one app
/// (<see cref="SharedAppTest"/>) or each start their own (<see cref="AppTest"/>).
/// </summary>
public abstract class ApiTest
{
    protected static string EntriesUrl(string bookId) => $"/v1/books/{bookId}/journal-entries";

    protected static string AccountsUrl(string bookId) => $"/v1/books/{bookId}/accounts";
}
