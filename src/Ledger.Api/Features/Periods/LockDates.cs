using Ledger.Api.Features.Audit;
using Dapper;
using Ledger.Api.Infrastructure;
using Ledger.Domain;
using NodaTime;

namespace Ledger.Api.Features.Periods;

/// <summary>Reads and moves a book's lock date inside the writer, recording every change.</summary>
public static class LockDates
{
    public const string ByHand = "lock-date";
    public const string ByYearEndClose = "year-end-close";

    public static LocalDate? Read(WriteSession session, string bookId) =>
        Parse(session.Connection.ExecuteScalar<string?>(SelectLockDateSql, new { bookId }));

    /// <summary>Sets the lock date to <paramref name="to"/> and records who changed it from what, and why.</summary>
    public static void Change(WriteSession session, string bookId, LocalDate? from, LocalDate? to, string changedBy, string source)
    {
        var toText = to is null ? null : DateText.Format(to.Value);
        session.Connection.Execute(UpdateLockDateSql, new { bookId, lockDate = toText });
        session.Connection.Execute(InsertChangeSql, new
        {
            id = session.NextId("lock_date_changes"),
            bookId,
            changedAt = Timestamps.Format(session.Now),
            changedBy,
            from = from is null ? null : DateText.Format(from.Value),
            to = toText,
            source,
        });
        EventLog.Append(session, bookId, "lock_date.moved", "book", bookId, EventData.Of(
            ("from", from is null ? null : DateText.Format(from.Value)), ("to", toText), ("source", source)));
    }

    public static LocalDate? Parse(string? text) => DateText.TryParseDate(text, out var date) ? date : null;

    private const string SelectLockDateSql = "SELECT lock_date FROM books WHERE id = @bookId";

    private const string UpdateLockDateSql = "UPDATE books SET lock_date = @lockDate WHERE id = @bookId";

    private const string InsertChangeSql = """
        INSERT INTO lock_date_changes (id, book_id, changed_at, changed_by, from_date, to_date, source)
        VALUES (@id, @bookId, @changedAt, @changedBy, @from, @to, @source)
        """;
}
