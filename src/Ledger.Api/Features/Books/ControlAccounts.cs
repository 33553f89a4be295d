using System.Data.Common;
using Dapper;
using Ledger.Domain;

namespace Ledger.Api.Features.Books;

/// <summary>
/// A book's receivables and payables control accounts (codes; null until set). Every line on one names its customer or
/// vendor, so documents, payments and tax rates all ask which accounts they are.
/// </summary>
public sealed record ControlAccounts(string? Receivables, string? Payables)
{
    public static ControlAccounts Read(DbConnection connection, string bookId) =>
        connection.QuerySingle<ControlAccounts>(
            "SELECT receivables_account AS Receivables, payables_account AS Payables FROM books WHERE id = @bookId", new { bookId });

    /// <summary>The control account of a kind of party: receivables for customers, payables for vendors.</summary>
    public string? For(PartyKind kind) => kind == PartyKind.Customer ? Receivables : Payables;

    public bool Contains(string? code) => code is not null && (code == Receivables || code == Payables);
}
