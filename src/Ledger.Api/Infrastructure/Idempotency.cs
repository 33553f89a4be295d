using Microsoft.AspNetCore.Http.HttpResults;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using NodaTime;

namespace Ledger.Api.Infrastructure;

/// <summary>
/// Idempotency-Key support for posting endpoints. Runs inside the writer, so the check, the write and the
/// remembered response commit together: the same new key sent concurrently yields exactly one write.
/// </summary>
public static class Idempotency
{
    public const string HeaderName = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotency-Replayed";
    public const int MaxKeyLength = 255;
    public static readonly Duration Retention = Duration.FromDays(30);

    /// <summary>
    /// A 400 message for a malformed key, or null when the key is acceptable (or absent). Read from the headers
    /// themselves: binding turns an empty header into no key, and a script that sent one must not get a post it
    /// cannot safely retry.
    /// </summary>
    public static string? Problem(HttpRequest request)
    {
        if (!request.Headers.TryGetValue(HeaderName, out var values)) return null;
        if (values.Count != 1) return "must be sent once.";
        var key = values[0];
        return string.IsNullOrWhiteSpace(key) ? "must not be empty when sent."
            : key.Length > MaxKeyLength ? $"must be at most {MaxKeyLength} characters."
            : ControlCharacters.Problem(key);
    }

    /// <summary>
    /// A fingerprint of what was asked: the operation and the request as parsed (not its whitespace), hashed as it is
    /// serialized so a 10,000-entry batch is never held as one large buffer.
    /// </summary>
    public static string Fingerprint<T>(string operation, T request, JsonSerializerOptions options)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(operation + "\n"));
        using (var stream = new HashingStream(hash)) JsonSerializer.Serialize(stream, request, options);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private sealed class HashingStream(IncrementalHash hash) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Write(byte[] buffer, int offset, int count) => hash.AppendData(buffer, offset, count);
        public override void Write(ReadOnlySpan<byte> buffer) => hash.AppendData(buffer);
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }

    /// <summary>
    /// The response to replay if this key was used before with the same request; throws a 422 problem if it was
    /// used with a different one; null if the key is new.
    /// </summary>
    /// <remarks>The request's fingerprint is asked for only when the key was used before.</remarks>
    public static StoredResponse? Replay(WriteSession session, string bookId, string key, Func<string> fingerprint)
    {
        var cache = session.GroupState<KeyCache>();
        if (!cache.TryGet(key, out var stored))
        {
            using var reader = session.Command(SelectSql).Bind("@book_id", bookId).Bind("@key", key).ExecuteReader();
            stored = reader.Read() ? Read(reader) : null;
        }
        if (stored is null) return null;
        if (stored.Fingerprint != fingerprint())
            throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "Idempotency key reused",
                $"Idempotency-Key '{key}' was already used with a different request. Use a new key for a new request.");
        return stored.Response;
    }

    /// <summary>
    /// Tells the group which of its requests' keys are stored, as looked up when it began (PostgreSQL, where each query is
    /// a round trip; see <see cref="LedgerDatabase.BeginBookGroup"/>). The group holds its book's lock, so no other process
    /// can add a key of the book before it commits.
    /// </summary>
    internal static void Known(WriteSession session, IReadOnlyList<string> keys, IReadOnlyList<LedgerDatabase.StoredKey> stored)
    {
        if (keys.Count == 0) return;
        var cache = session.GroupState<KeyCache>();
        var found = new Dictionary<string, KeyCache.Stored>(StringComparer.Ordinal);
        foreach (var row in stored) found[row.Key] = new KeyCache.Stored(row.RequestHash, new StoredResponse(row.StatusCode, row.Location, row.ResponseBody));
        foreach (var key in keys) cache.Known(key, found.GetValueOrDefault(key));
    }

    private static KeyCache.Stored Read(System.Data.Common.DbDataReader reader) =>
        new(reader.GetString(0), new StoredResponse((int)reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetString(3)));

    /// <summary>
    /// The keys of one group whose answer is known without a query: looked up together at the start of the group, or
    /// remembered by a request of the group that was kept. Forgotten when the group ends or rolls back.
    /// </summary>
    public sealed class KeyCache : IGroupState
    {
        public sealed record Stored(string Fingerprint, StoredResponse Response);

        private readonly StagedMap<string, Stored?> _stored = new(StringComparer.Ordinal);

        public bool TryGet(string key, out Stored? stored) => _stored.TryGetValue(key, out stored);

        public void Known(string key, Stored? stored) => _stored.SetKnown(key, stored);

        /// <summary>A key the running request stores: kept for the group only if the request is.</summary>
        public void Remembered(string key, Stored stored)
        {
            if (_stored.Known.Count > 0) _stored.Stage(key, stored); // only groups that prefetched consult the cache
        }

        public void KeepRequest() => _stored.KeepRequest();

        public void DiscardRequest() => _stored.DiscardRequest();

        // What it holds stays true when other state is written out: the rows are in the transaction.
        public void Flush(WriteSession session) { }

        public void Reset() => _stored.Clear();
    }

    public static void Remember(WriteSession session, string bookId, string key, string fingerprint, StoredResponse response)
    {
        session.InsertRows("idempotency_keys", KeyColumns,
            [[bookId, key, fingerprint, (long)response.StatusCode, response.Location, response.Body, Timestamps.Format(session.Now)]]);
        session.GroupState<KeyCache>().Remembered(key, new KeyCache.Stored(fingerprint, response));
    }

    private static readonly string[] KeyColumns =
        ["book_id", "idempotency_key", "request_hash", "status_code", "location", "response_body", "created_at"];

    /// <summary>Forgets keys older than the retention period.</summary>
    public static int Purge(WriteSession session) =>
        session.Connection.Execute(PurgeSql, new { cutoff = Timestamps.Format(session.Now - Retention) });

    private const string SelectSql = """
        SELECT request_hash, status_code, location, response_body FROM idempotency_keys
        WHERE book_id = @book_id AND idempotency_key = @key
        """;

    private const string PurgeSql = "DELETE FROM idempotency_keys WHERE created_at < @cutoff";
}

/// <summary>A response kept for replay: answered again byte for byte, marked Idempotency-Replayed.</summary>
public sealed record StoredResponse(int StatusCode, string? Location, string Body) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = StatusCode;
        httpContext.Response.Headers[Idempotency.ReplayedHeader] = "true";
        if (Location is not null) httpContext.Response.Headers.Location = Location;
        httpContext.Response.ContentType = "application/json; charset=utf-8";
        await httpContext.Response.WriteAsync(Body);
    }
}

/// <summary>Purges expired idempotency keys at start-up and then hourly.</summary>
public sealed class IdempotencyJanitor(LedgerWriter writer, ILogger<IdempotencyJanitor> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromHours(1));
        do
        {
            try
            {
                var purged = await writer.WriteAsync(Idempotency.Purge);
                if (purged > 0) logger.LogInformation("Purged {Count} idempotency keys older than 30 days.", purged);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Purging idempotency keys failed; will retry.");
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}

/// <summary>What an idempotent write produced: a fresh result, or the stored answer to an earlier identical request.</summary>
public readonly record struct IdempotentOutcome<T>(T? Fresh, StoredResponse? Replayed);

public static class IdempotentWrites
{
    /// <summary>
    /// Runs <paramref name="work"/> in the writer unless <paramref name="key"/> was already used for the same request,
    /// in which case nothing is written and the stored answer comes back. The fresh answer is stored in the same
    /// transaction as the write.
    /// </summary>
    /// <param name="fingerprintInWriter">
    /// For a large request: its fingerprint is computed in the writer, and only when needed (the key was used before, or
    /// once the work is done), not before the write is queued. A 10,000-entry batch takes 20-25 ms to serialize and hash;
    /// done last in the writer, that overlaps the server storing the batch's rows instead of delaying their start. A small
    /// request's is computed before, on the request's own thread, where many run in parallel.
    /// </param>
    public static Task<IdempotentOutcome<T>> WriteIdempotentAsync<T>(
        this LedgerWriter writer, string bookId, string? key, Func<string> fingerprint,
        Func<WriteSession, T> work, Func<T, StoredResponse> toStored, bool defersGroupState = false, WriteHints? hints = null,
        bool fingerprintInWriter = false)
    {
        string? hash = key is null || fingerprintInWriter ? null : fingerprint();
        string Hash() => hash ??= fingerprint(); // the writer's thread only, once the write is queued
        return writer.WriteBookAsync(bookId, session =>
        {
            if (key is not null && Idempotency.Replay(session, bookId, key, Hash) is { } replay)
                return new IdempotentOutcome<T>(default, replay);
            var result = work(session);
            if (key is not null) Idempotency.Remember(session, bookId, key, Hash(), toStored(result));
            return new IdempotentOutcome<T>(result, null);
        }, defersGroupState, idempotencyKey: key, hints: hints);
    }

    /// <summary>
    /// Creates something through the writer under an optional Idempotency-Key: 201 with it and its Location, or on a retry
    /// with the same key and request the stored answer (422 for the same key with another request).
    /// </summary>
    public static async Task<Results<Created<T>, StoredResponse>> CreateIdempotentAsync<TRequest, T>(
        this LedgerWriter writer, string bookId, string? key, string operation, TRequest request, JsonSerializerOptions options,
        Func<WriteSession, T> work, Func<T, string?> location, bool defersGroupState = false, WriteHints? hints = null,
        bool fingerprintInWriter = false)
    {
        var outcome = await writer.WriteIdempotentAsync(bookId, key, () => Idempotency.Fingerprint(operation, request, options), work,
            created => new StoredResponse(StatusCodes.Status201Created, location(created), JsonSerializer.Serialize(created, options)),
            defersGroupState, hints, fingerprintInWriter);
        if (outcome.Replayed is { } replay) return replay;
        return TypedResults.Created(location(outcome.Fresh!), outcome.Fresh);
    }
}
