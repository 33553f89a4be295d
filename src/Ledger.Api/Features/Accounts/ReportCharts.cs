using System.Collections.Concurrent;
using System.Data.Common;
using Dapper;

namespace Ledger.Api.Features.Accounts;

/// <summary>
/// Each book's chart of accounts as reports last read it, so that a report reads only what changes with every post: each
/// account's id, archived flag and totals. Reading the codes, names, types, parents, descriptions and creation times of
/// 1,000 accounts as strings took SQLite's reader 3-5 ms a report, most of a trial balance's time (twelfth session);
/// the integers take about 1 ms.
/// <para>
/// A cached chart is used only when the book's chart version, read in the report's own snapshot, is the one it was read
/// at. Every change to the chart (an account created, renamed, re-described, archived or deleted; totals are not the
/// chart) records a row in <c>account_versions</c> in the same transaction, with an id higher than any before it in
/// the book (ids grow in commit order within a book, on both engines), so the highest id is the chart's version in
/// every API process.
/// </para>
/// </summary>
public sealed class ReportCharts
{
    // Bounded: at most this many books' charts are held (a few hundred KB for a chart of 1,000 accounts); past it one is
    // dropped to make room, which costs that book one full read when it is next reported on.
    private const int MaxBooks = 256;

    private readonly ConcurrentDictionary<string, (long Version, AccountRow[] Accounts)> _charts = new(StringComparer.Ordinal);

    /// <summary>The book's accounts by code, with their totals, as <paramref name="connection"/>'s snapshot holds them.</summary>
    public async Task<IReadOnlyList<AccountRow>> ListAsync(DbConnection connection, string bookId)
    {
        var current = (await connection.QueryAsync<AccountState>(StatesSql, new { bookId })).AsList();
        if (current.Count == 0) return [];
        // The same in every row (one scalar subquery); null only for a chart older than its history, never cached.
        var version = current[0].Version;
        if (version is { } v && _charts.TryGetValue(bookId, out var cached) && cached.Version == v
            && FromCache(cached.Accounts, current) is { } fromCache)
            return fromCache;

        var chart = (await AccountQueries.ListAsync(connection, bookId)).ToArray();
        if (version is { } read)
        {
            // Any one is dropped: which does not matter for correctness, and a book reported on often is soon read again.
            if (!_charts.ContainsKey(bookId) && _charts.Count >= MaxBooks)
                foreach (var held in _charts.Keys) { _charts.TryRemove(held, out _); break; }
            _charts[bookId] = (read, chart);
        }
        return Array.AsReadOnly(chart);
    }

    // The cached accounts with this snapshot's flags and totals; null if the accounts are not the same ones, which the
    // version rules out, but a wrong chart in a report would cost more than this check.
    private static List<AccountRow>? FromCache(AccountRow[] accounts, List<AccountState> current)
    {
        if (accounts.Length != current.Count) return null;
        var byId = new Dictionary<long, AccountState>(current.Count);
        foreach (var state in current) byId[state.Id] = state;
        var rows = new List<AccountRow>(accounts.Length);
        foreach (var account in accounts)
        {
            if (!byId.TryGetValue(account.Id, out var state)) return null;
            rows.Add(account with { Archived = state.Archived, DebitTotal = state.DebitTotal, CreditTotal = state.CreditTotal });
        }
        return rows;
    }

    // A class with setters: the version is null in an old chart, and Dapper matches constructors by exact column type.
    private sealed class AccountState
    {
        public long Id { get; init; }
        public long Archived { get; init; }
        public long DebitTotal { get; init; }
        public long CreditTotal { get; init; }
        public long? Version { get; init; }
    }

    private const string StatesSql = """
        SELECT id AS Id, archived AS Archived, debit_total AS DebitTotal, credit_total AS CreditTotal,
               (SELECT MAX(v.id) FROM account_versions v WHERE v.book_id = @bookId) AS Version
        FROM accounts WHERE book_id = @bookId
        """;
}
