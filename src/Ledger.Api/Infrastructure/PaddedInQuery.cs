using System.Data.Common;
using System.Numerics;

namespace Ledger.Api.Infrastructure;

/// <summary>
/// A read of one book's rows by a list of keys inside the writer, on its prepared commands: one statement per 256 keys,
/// the IN list padded to a power of two by repeating the last key, so that at most nine statements are ever prepared for
/// it however many keys a request names.
/// </summary>
public sealed class PaddedInQuery
{
    public const int MaxKeysPerStatement = 256;

    private readonly string[] _sql;

    /// <param name="selectUpToList">The query up to its IN list, binding @book_id and ending with the key column,
    /// "SELECT … FROM accounts WHERE book_id = @book_id AND code".</param>
    public PaddedInQuery(string selectUpToList) =>
        _sql = Enumerable.Range(0, BitOperations.Log2(MaxKeysPerStatement) + 1).Select(p => 1 << p)
            .Select(n => selectUpToList + " IN (" + string.Join(", ", Enumerable.Range(0, n).Select(i => $"@k{i}")) + ")")
            .ToArray();

    /// <summary>Runs the query for the distinct <paramref name="keys"/>, handing each row found to <paramref name="read"/>.</summary>
    public void Read<TKey>(WriteSession session, string bookId, IEnumerable<TKey> keys, Action<DbDataReader> read)
    {
        foreach (var chunk in keys.Distinct().Chunk(MaxKeysPerStatement))
        {
            var size = (int)BitOperations.RoundUpToPowerOf2((uint)chunk.Length);
            // ReadCommand: callers read rows a request never leaves waiting (books' accounts, parties, rates).
            var command = session.ReadCommand(_sql[BitOperations.Log2((uint)size)]).Bind("@book_id", bookId);
            for (var i = 0; i < size; i++) command.Bind($"@k{i}", chunk[Math.Min(i, chunk.Length - 1)]);
            using var reader = command.ExecuteReader();
            while (reader.Read()) read(reader);
        }
    }
}
