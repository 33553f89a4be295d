using System.Globalization;
using Dapper;
using FluentValidation;
using Ledger.Api.Features.Books;
using Ledger.Api.Infrastructure;
using Ledger.Domain;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using NodaTime;

namespace Ledger.Api.Features.Reports;

/// <summary>Query of an aging report: the date, the instant, what items are aged from, the buckets, and whether to list items.</summary>
public sealed record AgingQuery(
    [property: FromQuery(Name = "asOf")] string? AsOf,
    [property: FromQuery(Name = "knownAt")] string? KnownAt,
    [property: FromQuery(Name = "basis")] string? Basis,
    [property: FromQuery(Name = "buckets")] string? Buckets,
    [property: FromQuery(Name = "detail")] bool? Detail,
    [property: FromQuery(Name = "format")] string? Format);

public sealed class AgingQueryValidator : AbstractValidator<AgingQuery>
{
    public AgingQueryValidator()
    {
        RuleFor(x => x.AsOf).IsDate();
        RuleFor(x => x.KnownAt).IsInstant();
        RuleFor(x => x.Basis).Must(b => b is null or "dueDate" or "documentDate").WithMessage("must be 'dueDate' or 'documentDate'.");
        RuleFor(x => x.Buckets).Custom((text, context) =>
        {
            if (!AgingBuckets.TryParse(text, out _, out var error)) context.AddFailure("buckets", error!);
        });
        RuleFor(x => x.Format).IsReportFormat();
    }
}

public sealed record AgingParty(long Id, string Code, string Name, IReadOnlyDictionary<string, string> Columns, string Total);

public sealed record AgingTotals(IReadOnlyDictionary<string, string> Columns, string Total);

public sealed record AgingControlAccount(string? Account, string Balance);

/// <summary>
/// One open item (detail=true): what posted it, its dates, how late it is, what of it is open, and its id (the one
/// <c>open-items</c> lists and allocations accept as documentItem or againstItem).
/// </summary>
public sealed record AgingItem(long Party, string SourceType, long? SourceId, string? Number, string Date, string DueDate, int DaysOverdue,
    string Column, string Amount, string Open, long Item);

public sealed record AgingResponse(
    string AsOf,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? KnownAt,
    string Basis,
    IReadOnlyList<int> Buckets,
    string Currency,
    IReadOnlyList<AgingParty> Parties,
    AgingTotals Totals,
    AgingControlAccount ControlAccount,
    string Difference,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<AgingItem>? Items);

/// <summary>
/// Aged receivables and payables: what each party owes (or is owed) as of a date, split by how overdue it is. Open items
/// are the lines posted to the control account up to the date; allocations count only when dated on or before it and,
/// with knownAt, recorded by then and not undone by then. Credits (payments, credit notes not yet allocated) are aged by
/// their own date. Every line on the control account is an open item, and allocations match a debit with a credit of
/// the same party, so the total equals the control account's balance: "difference" is that check, and is zero.
/// </summary>
public static class AgingEndpoints
{
    public static async Task<Results<Ok<AgingResponse>, CsvResult, ValidationProblem>> GetAgedReceivables(
        string bookId, [AsParameters] AgingQuery query, HttpRequest http, BookCatalog books, LedgerDatabase database, IClock clock, LedgerWriter writer) =>
        await GetAsync("receivables", bookId, query, http, books, database, clock, writer);

    public static async Task<Results<Ok<AgingResponse>, CsvResult, ValidationProblem>> GetAgedPayables(
        string bookId, [AsParameters] AgingQuery query, HttpRequest http, BookCatalog books, LedgerDatabase database, IClock clock, LedgerWriter writer) =>
        await GetAsync("payables", bookId, query, http, books, database, clock, writer);

    private static async Task<Results<Ok<AgingResponse>, CsvResult, ValidationProblem>> GetAsync(string ledger, string bookId, AgingQuery query,
        HttpRequest http, BookCatalog books, LedgerDatabase database, IClock clock, LedgerWriter writer)
    {
        var asOf = ReportQueryRules.DateOr(query.AsOf, clock.Today());
        var knownAt = ReportQueryRules.InstantOrNull(query.KnownAt);
        if (await ReportQueryRules.SettleKnownAtAsync(bookId, knownAt, writer) is { } unsettled) return unsettled;
        AgingBuckets.TryParse(query.Buckets, out var buckets, out _);
        var byDueDate = query.Basis != "documentDate";

        await using var report = await ReportSnapshot.OpenAsync(bookId, books, database, knownAt);
        var (book, connection) = (report.Book, report.Connection);
        // Receivables are owed to the book (debit-positive); payables are owed by it, shown credit-positive.
        var sign = ledger == "receivables" ? 1 : -1;
        var control = await connection.ExecuteScalarAsync<string?>(
            $"SELECT {ledger}_account FROM books WHERE id = @bookId", new { bookId });
        var controlBalance = 0L;
        if (control is not null)
        {
            var accountId = await connection.ExecuteScalarAsync<long?>("SELECT id FROM accounts WHERE book_id = @bookId AND code = @code",
                new { bookId, code = control });
            var net = await Balances.NetAsOfAsync(database, connection, bookId, asOf, report.ThroughEntry);
            controlBalance = accountId is { } id ? net.GetValueOrDefault(id) * sign : 0;
        }

        // Each boundary date: an item whose base date is on or after it is at most that many days overdue.
        var boundaries = new[] { 0 }.Concat(buckets.UpperBounds).Select(days => DateText.Format(asOf.PlusDays(-days))).ToArray();
        var parameters = new DynamicParameters(new
        {
            bookId, ledger, asOf = DateText.Format(asOf), lastKnown = report.ThroughEntry ?? long.MaxValue,
            knownAt = knownAt is { } k ? Timestamps.Format(k) : null, byDueDate = byDueDate ? 1 : 0,
        });
        for (var i = 0; i < boundaries.Length; i++) parameters.Add($"b{i}", boundaries[i]);

        var columns = buckets.ColumnNames;
        // Summed here rather than by GROUP BY, and the allocations subtracted here rather than joined: the items come
        // straight off the covering index in date order, while grouping 200,000 of them by party and bucket made SQLite
        // sort them in a temporary B-tree, a GROUP BY on the party made its planner walk the party index and fetch every
        // row from the table instead, and the join looked every item up in the allocations (a third of the query).
        var allocated = new Dictionary<long, long>();
        await using (var reader = await connection.ExecuteReaderAsync(AllocatedSql, parameters))
        {
            while (await reader.ReadAsync()) allocated[reader.GetInt64(0)] = reader.GetInt64(1);
        }
        var itemBucketSql = "CASE " + string.Concat(boundaries.Select((_, i) => $"WHEN {BaseDateSql} >= @b{i} THEN {i} ")) + $"ELSE {boundaries.Length} END";
        // Per party, its open amount in each column: one lookup by party per item (200,000 of them), not by party and bucket.
        var byParty = new Dictionary<long, long[]>();
        var values = new Dictionary<string, object?>
        {
            ["@bookId"] = bookId, ["@ledger"] = ledger, ["@asOf"] = DateText.Format(asOf), ["@lastKnown"] = report.ThroughEntry ?? long.MaxValue,
            ["@byDueDate"] = byDueDate ? 1L : 0L,
        };
        for (var i = 0; i < boundaries.Length; i++) values[$"@b{i}"] = boundaries[i];
        await database.ReadIntegerRowsAsync(connection,
            $"SELECT o.id, o.party_id, CAST({itemBucketSql} AS BIGINT) AS bucket, o.amount FROM open_items o WHERE {ItemsWhereSql}", values, 4, row =>
            {
                var open = allocated.TryGetValue(row[0], out var counted) ? checked(row[3] - counted) : row[3];
                if (open == 0) return;
                ref var amounts = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(byParty, row[1], out _);
                amounts ??= new long[columns.Count];
                amounts[(int)row[2]] = checked(amounts[(int)row[2]] + open * sign);
            });
        var parties = (await connection.QueryAsync<(long Id, string Code, string Name)>(
            "SELECT id, code, name FROM parties WHERE book_id = @bookId AND kind = @kind ORDER BY code",
            new { bookId, kind = ledger == "receivables" ? "customer" : "vendor" })).AsList();
        parties.Sort((x, y) => string.CompareOrdinal(x.Code, y.Code));

        string F(long minor) => new Amount(minor).Format(book.Digits);
        var totalColumns = new long[columns.Count];
        var partyLines = new List<AgingParty>(byParty.Count);
        foreach (var party in parties)
        {
            if (!byParty.TryGetValue(party.Id, out var amounts)) continue;
            var partyTotal = 0L;
            for (var c = 0; c < amounts.Length; c++)
            {
                totalColumns[c] = checked(totalColumns[c] + amounts[c]);
                partyTotal = checked(partyTotal + amounts[c]);
            }
            partyLines.Add(new AgingParty(party.Id, party.Code, party.Name, ColumnsOf(columns, amounts, F), F(partyTotal)));
        }
        var total = totalColumns.Sum();
        // The invariant the subledger is built on: its open items are exactly the control account's lines.
        var difference = checked(controlBalance - total);

        List<AgingItem>? items = null;
        if (query.Detail == true)
        {
            items = [];
            var detail = await connection.QueryAsync<(long Party, string SourceType, long? SourceId, string? Number, string ItemDate, string DueDate, string BaseDate, long Amount, long Open, long Id)>(
                OpenItemsSql + "SELECT i.party_id, i.source_type, i.source_id, d.number, i.item_date, i.due_date, i.base_date, i.amount, i.open_amount, i.id FROM items i " +
                "LEFT JOIN documents d ON d.book_id = @bookId AND d.id = i.source_id AND i.source_type <> 'payment' " +
                "WHERE i.open_amount <> 0 ORDER BY i.party_id, i.base_date, i.id", parameters);
            foreach (var item in detail)
            {
                var days = Period.Between(DateText.TryParseDate(item.BaseDate, out var baseDate) ? baseDate : asOf, asOf, PeriodUnits.Days).Days;
                items.Add(new AgingItem(item.Party, item.SourceType, item.SourceId, item.Number, item.ItemDate, item.DueDate, days,
                    buckets.ColumnOf(days), F(item.Amount * sign), F(item.Open * sign), item.Id));
            }
        }

        var response = new AgingResponse(DateText.Format(asOf), knownAt is null ? null : DateText.Format(knownAt.Value),
            byDueDate ? "dueDate" : "documentDate", buckets.UpperBounds, book.Currency.Code, partyLines,
            new AgingTotals(ColumnsOf(columns, totalColumns, F), F(total)), new AgingControlAccount(control, F(controlBalance)),
            F(difference), items);
        if (!ReportFormat.WantsCsv(http, query.Format)) return TypedResults.Ok(response);
        var table = new CsvTable(["code", "name", .. columns, "total"]);
        foreach (var party in partyLines) table.Row([party.Code, party.Name, .. columns.Select(c => party.Columns[c]), party.Total]);
        table.Row(["", "total", .. columns.Select(c => response.Totals.Columns[c]), response.Totals.Total]);
        return new CsvResult($"aged-{ledger}-{response.AsOf}.csv", table);
    }

    private static IReadOnlyDictionary<string, string> ColumnsOf(IReadOnlyList<string> columns, long[] amounts, Func<long, string> format)
    {
        var result = new Dictionary<string, string>(columns.Count);
        for (var c = 0; c < columns.Count; c++) result[columns[c]] = format(amounts[c]);
        return result;
    }

    // The open items of one ledger as of @asOf (known at @lastKnown / @knownAt), each with what the counted
    // allocations leave open (signed as posted: debit positive) and the date it is aged from: its due date (or its date,
    // with basis=documentDate), and its own date for a credit on receivables or a debit on payables (advances, credits).
    private const string OpenItemsSql =
        "WITH allocated AS (" + AllocatedSql + "), items AS (" +
        "SELECT o.id, o.party_id, o.source_type, o.source_id, o.item_date, o.due_date, o.amount, " +
        "o.amount - COALESCE(al.amount, 0) AS open_amount, " + BaseDateSql + " AS base_date " +
        "FROM open_items o LEFT JOIN allocated al ON al.item_id = o.id WHERE " + ItemsWhereSql + ") ";

    // What the allocations counted as of @asOf (known at @knownAt) take off each item (signed as posted: debit positive).
    private const string AllocatedSql = """
        SELECT item_id, CAST(SUM(amount) AS BIGINT) AS amount FROM (
            SELECT a.debit_item_id AS item_id, a.amount FROM allocations a
            WHERE a.book_id = @bookId AND a.ledger = @ledger AND a.allocation_date <= @asOf
              AND (@knownAt IS NULL OR a.recorded_at <= @knownAt)
              AND (a.undone_at IS NULL OR (@knownAt IS NOT NULL AND a.undone_at > @knownAt))
            UNION ALL
            SELECT a.credit_item_id, -a.amount FROM allocations a
            WHERE a.book_id = @bookId AND a.ledger = @ledger AND a.allocation_date <= @asOf
              AND (@knownAt IS NULL OR a.recorded_at <= @knownAt)
              AND (a.undone_at IS NULL OR (@knownAt IS NOT NULL AND a.undone_at > @knownAt))
        ) counted GROUP BY item_id
        """;

    // The date an item is aged from: its due date (or its date, with basis=documentDate), and its own date for a credit
    // on receivables or a debit on payables (advances, credits).
    private const string BaseDateSql = """
        CASE WHEN @byDueDate = 1 AND ((@ledger = 'receivables' AND o.amount > 0) OR (@ledger = 'payables' AND o.amount < 0))
             THEN o.due_date ELSE o.item_date END
        """;

    // The items of one ledger dated up to @asOf, posted by entries known at @lastKnown.
    private const string ItemsWhereSql = "o.book_id = @bookId AND o.ledger = @ledger AND o.item_date <= @asOf AND o.entry_id <= @lastKnown";
}
