using System.Collections.Concurrent;
using Stopwatch = System.Diagnostics.Stopwatch;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Dapper;
using Ledger.Api.Features.Audit;
using Ledger.Api.Infrastructure;
using Microsoft.Extensions.Options;
using NodaTime;

namespace Ledger.Api.Features.Webhooks;

/// <summary>
/// Sends the events, in every API process. Driven from the event log and the webhooks table only, so a restart (or
/// another process) picks up exactly where the last acknowledged delivery left off:
/// <list type="bullet">
/// <item>Every poll interval the process looks for active subscriptions that are due (not waiting out a backoff), not
/// leased by a live process, and have an event after their cursor; it takes up to <c>MaxConcurrentDeliveries</c> of them.</item>
/// <item>It leases one with an UPDATE whose WHERE requires the lease to be free or expired, so of several processes only
/// one gets it; every write it then makes requires the lease to still be its own and the subscription active.</item>
/// <item>It sends the events after the cursor one at a time, in sequence order. A 2xx moves the cursor to the event (in
/// the same transaction as the attempt's record); events that do not match the types move it without a request; any
/// other answer, a timeout or a connection error records a failed attempt, sets the next attempt after an exponential
/// backoff with jitter, gives up the lease, and leaves the cursor before the event, so the same event goes first again.</item>
/// <item>A subscription failing without a break for the pause window is paused, with a webhook.paused event.</item>
/// </list>
/// At least once: a receiver's 2xx whose record never commits (a crash just then) is followed by the same event again.
/// </summary>
public sealed class WebhookDelivery : BackgroundService
{
    private const int EventsPerRead = 100;
    private const int MaxErrorLength = 500;

    private readonly LedgerDatabase _database;
    private readonly LedgerWriter _writer;
    private readonly WebhookSecrets _secrets;
    private readonly WebhookOptions _options;
    private readonly JsonSerializerOptions _json;
    private readonly IClock _clock;
    private readonly ILogger<WebhookDelivery> _logger;
    private readonly HttpClient _http;
    private readonly ConcurrentDictionary<long, Task?> _running = new();
    private DateTime _lastPollWarning = DateTime.MinValue;

    /// <summary>Who holds a lease: this process, told apart from any other (and from itself before a restart).</summary>
    public string Owner { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    public WebhookDelivery(LedgerDatabase database, LedgerWriter writer, WebhookSecrets secrets, WebhookTargets targets,
        IOptions<WebhookOptions> options, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, IClock clock, ILogger<WebhookDelivery> logger)
    {
        _database = database;
        _writer = writer;
        _secrets = secrets;
        _options = options.Value;
        _json = json.Value.SerializerOptions;
        _clock = clock;
        _logger = logger;
        var handler = new SocketsHttpHandler
        {
            // Every connection resolves the host itself and checks the address it connects to (DNS rebinding).
            ConnectCallback = targets.ConnectAsync,
            ConnectTimeout = _options.Timeout,
            // A redirect could lead anywhere; a proxy would connect for us, unchecked. Neither is used.
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            // Connections are renewed, so a host's changed DNS answer is checked again.
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            MaxConnectionsPerServer = 16,
        };
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("Ledger-Webhooks/1");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        // SQLite is served by this process alone: a lease left by a process that stopped (killed) belongs to nobody.
        if (_database.SingleWriterProcess)
        {
            try
            {
                // Read first: a Ledger without webhooks writes nothing at start.
                bool leased;
                await using (var connection = await _database.OpenReadAsync(stoppingToken))
                    leased = await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM webhooks WHERE lease_owner IS NOT NULL") > 0;
                if (leased)
                    await _writer.WriteAsync(session => session.Connection.Execute(
                        "UPDATE webhooks SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL"));
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                _logger.LogWarning(ex, "Could not clear the webhook leases of an earlier run; they expire on their own.");
            }
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await PollAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // Once a minute at most: a database that is down would otherwise fill the log four times a second.
                if (DateTime.UtcNow - _lastPollWarning > TimeSpan.FromMinutes(1))
                {
                    _lastPollWarning = DateTime.UtcNow;
                    _logger.LogWarning(ex, "Looking for webhook deliveries failed; will retry.");
                }
            }
            try
            {
                await Task.Delay(_options.PollInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        // Deliveries under way see the same token: they record nothing more and give their leases back.
        await Task.WhenAll(_running.Values.OfType<Task>());
    }

    public override void Dispose()
    {
        base.Dispose();
        _http.Dispose();
    }

    /// <summary>Takes up due subscriptions while this process has room for them.</summary>
    private async Task PollAsync(CancellationToken ct)
    {
        var room = _options.MaxConcurrentDeliveries - _running.Count;
        if (room <= 0) return;
        var now = Timestamps.Format(_clock.GetCurrentInstant());
        List<(long Id, string BookId)> due;
        await using (var connection = await _database.OpenReadAsync(ct))
            due = (await connection.QueryAsync<(long, string)>(DueSql, new { now, take = _options.MaxConcurrentDeliveries * 2 })).AsList();
        foreach (var (id, bookId) in due)
        {
            if (room == 0) break;
            if (!_running.TryAdd(id, null)) continue;
            room--;
            var task = Task.Run(() => RunAsync(id, bookId, ct), CancellationToken.None);
            _running.TryUpdate(id, task, null); // unless it already finished and left
        }
    }

    private async Task RunAsync(long id, string bookId, CancellationToken ct)
    {
        try
        {
            var now = _clock.GetCurrentInstant();
            var leased = await _writer.WriteAsync(session => session.Connection.Execute(AcquireSql,
                new { bookId, id, owner = Owner, now = Timestamps.Format(now), until = Timestamps.Format(now + Duration.FromTimeSpan(_options.Lease)) }));
            if (leased != 1) return;
            var held = true;
            try
            {
                held = await DeliverAsync(id, bookId, ct);
            }
            finally
            {
                if (held)
                    await _writer.WriteAsync(session => session.Connection.Execute(ReleaseSql, new { bookId, id, owner = Owner }));
            }
        }
        catch (Exception ex) when (!(ex is OperationCanceledException && ct.IsCancellationRequested))
        {
            _logger.LogWarning(ex, "Delivering webhook {WebhookId} of book {BookId} failed; it is retried after its lease.", id, bookId);
        }
        finally
        {
            _running.TryRemove(id, out _);
        }
    }

    /// <summary>Mutable copy of where a leased subscription stands, kept in step with what this process wrote.</summary>
    private sealed class Progress(WebhookStore.Row row)
    {
        public long Cursor = row.LastDeliveredSequence;
        public long FailedAttempts = row.FailedAttempts;
        public string? FailingSince = row.FailingSince;
        public long Attempts = row.Attempts;
    }

    private sealed record Attempt(Instant At, int? StatusCode, bool Delivered, string? Error, long DurationMs);

    /// <summary>
    /// Works through the leased subscription's events, at most <c>EventsPerLease</c>. Answers whether this process still
    /// holds the lease (false once a failure or a lost lease ended the run).
    /// </summary>
    private async Task<bool> DeliverAsync(long id, string bookId, CancellationToken ct)
    {
        string? secret = null;
        string? secretProblem = null;
        var handled = 0;
        while (handled < _options.EventsPerLease && !ct.IsCancellationRequested)
        {
            WebhookStore.Row? row;
            List<AuditEndpoints.StoredEvent> events;
            await using (var connection = await _database.OpenReadAsync(ct))
            {
                row = WebhookStore.Find(connection, bookId, id);
                if (row is null || row.Status != WebhookStore.Active || row.LeaseOwner != Owner) return false;
                events = (await EventReader.ReadAsync(connection, bookId, row.LastDeliveredSequence,
                    Math.Min(EventsPerRead, _options.EventsPerLease - handled))).Select(read => read.Event).ToList();
            }
            if (events.Count == 0) return true;
            var progress = new Progress(row);
            var types = row.TypeList;
            var skippedTo = progress.Cursor;
            foreach (var stored in events)
            {
                handled++;
                if (!WebhookStore.Matches(types, stored.Type))
                {
                    skippedTo = stored.Sequence;
                    continue;
                }
                if (secret is null && secretProblem is null)
                {
                    try
                    {
                        secret = _secrets.Decrypt(row.Secret, bookId, id);
                    }
                    catch (WebhookSecretException ex)
                    {
                        secretProblem = ex.Message;
                    }
                }
                var attempt = secret is null
                    ? new Attempt(_clock.GetCurrentInstant(), null, false, "Not sent: " + secretProblem, 0)
                    : await SendAsync(row, stored, progress.FailedAttempts + 1, secret, ct);
                if (attempt is null) return true; // stopping: nothing recorded, the event is first again next time
                var kept = await RecordAsync(row, progress, skippedTo, stored, attempt);
                if (!kept) return false;
                if (!attempt.Delivered) return false; // the failure's record gave the lease back
                skippedTo = stored.Sequence;
            }
            if (skippedTo > progress.Cursor)
            {
                var until = Timestamps.Format(_clock.GetCurrentInstant() + Duration.FromTimeSpan(_options.Lease));
                var advanced = await _writer.WriteAsync(session => session.Connection.Execute(AdvanceSql,
                    new { bookId, id, owner = Owner, to = skippedTo, until }));
                if (advanced != 1) return false;
            }
        }
        return true;
    }

    /// <summary>One POST of one event; null when the process is stopping.</summary>
    private async Task<Attempt?> SendAsync(WebhookStore.Row row, AuditEndpoints.StoredEvent stored, long attemptAtEvent, string secret, CancellationToken ct)
    {
        // The body is the event exactly as the feed serializes it; the signature covers these bytes.
        var body = JsonSerializer.SerializeToUtf8Bytes(stored.ToEvent(), _json);
        var at = _clock.GetCurrentInstant();
        using var request = new HttpRequestMessage(HttpMethod.Post, row.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.TryAddWithoutValidation("Ledger-Signature", WebhookSecrets.Signature(secret, at.ToUnixTimeSeconds(), body));
        request.Headers.TryAddWithoutValidation("Ledger-Event-Sequence", stored.Sequence.ToString(CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("Ledger-Event-Type", stored.Type);
        request.Headers.TryAddWithoutValidation("Ledger-Webhook-Id", row.Id.ToString(CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("Ledger-Book-Id", row.BookId);
        request.Headers.TryAddWithoutValidation("Ledger-Delivery-Attempt", attemptAtEvent.ToString(CultureInfo.InvariantCulture));
        var watch = Stopwatch.StartNew();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.Timeout);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var status = (int)response.StatusCode;
            var delivered = status is >= 200 and <= 299;
            return new Attempt(at, status, delivered,
                delivered ? null : Truncate($"The receiver answered {status}{(response.ReasonPhrase is { Length: > 0 } reason ? " " + reason : "")}."),
                watch.ElapsedMilliseconds);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return null;
        }
        catch (OperationCanceledException)
        {
            return new Attempt(at, null, false, $"No answer within {_options.TimeoutSeconds.ToString(CultureInfo.InvariantCulture)} s.", watch.ElapsedMilliseconds);
        }
        catch (HttpRequestException ex)
        {
            return new Attempt(at, null, false, Truncate(Describe(ex)), watch.ElapsedMilliseconds);
        }
    }

    private static string Describe(HttpRequestException ex)
    {
        // The refusal of a private address is the reason worth showing, not the wrapper around it.
        for (Exception? inner = ex; inner is not null; inner = inner.InnerException)
            if (inner is WebhookTargetRefusedException refused) return refused.Message;
        return ex.InnerException is { } cause && !ex.Message.Contains(cause.Message, StringComparison.Ordinal)
            ? $"{ex.Message} {cause.Message}"
            : ex.Message;
    }

    // What a receiver sends back (its reason phrase) reaches the deliveries and a webhook.paused event, which the log keeps
    // for ever: control characters are dropped, as the API refuses them in anything a client sends.
    private static string Truncate(string text)
    {
        var clean = new string(text.Where(c => !char.IsControl(c)).ToArray());
        return clean.Length <= MaxErrorLength ? clean : clean[..(MaxErrorLength - 1)] + "…";
    }

    /// <summary>
    /// Records one attempt with what it changes: the cursor and a renewed lease after a 2xx; after a failure the next
    /// attempt's time, the lease given back, and a pause once the failures have lasted the whole window. Nothing is
    /// recorded once the lease is lost or the subscription was deleted or paused meanwhile. Answers whether it was.
    /// </summary>
    private async Task<bool> RecordAsync(WebhookStore.Row row, Progress progress, long skippedTo, AuditEndpoints.StoredEvent stored, Attempt attempt)
    {
        var bookId = row.BookId;
        var id = row.Id;
        var attemptNo = progress.Attempts + 1;
        var at = Timestamps.Format(attempt.At);
        var delivery = new
        {
            bookId, id, attemptNo, sequence = stored.Sequence, attempt = progress.FailedAttempts + 1, at, statusCode = (long?)attempt.StatusCode,
            outcome = attempt.Delivered ? "delivered" : "failed", error = attempt.Error, durationMs = attempt.DurationMs,
        };
        var prune = attemptNo % 100 == 0;
        var kept = _options.DeliveriesKept;

        if (attempt.Delivered)
        {
            var until = Timestamps.Format(_clock.GetCurrentInstant() + Duration.FromTimeSpan(_options.Lease));
            var recorded = await _writer.WriteAsync(session =>
            {
                if (session.Connection.Execute(DeliveredSql, new { bookId, id, owner = Owner, sequence = stored.Sequence, at, attemptNo, until }) != 1) return false;
                session.Connection.Execute(InsertDeliverySql, delivery);
                if (prune) session.Connection.Execute(PruneSql, new { bookId, id, oldest = attemptNo - kept });
                return true;
            });
            if (recorded)
            {
                progress.Cursor = stored.Sequence;
                progress.FailedAttempts = 0;
                progress.FailingSince = null;
                progress.Attempts = attemptNo;
            }
            return recorded;
        }

        var failed = progress.FailedAttempts + 1;
        var failingSince = progress.FailingSince ?? at;
        var pause = attempt.At - Timestamps.Parse(failingSince) >= Duration.FromTimeSpan(_options.PauseAfter);
        // Counted from when the attempt failed, not from when it began: a receiver that times out would otherwise be
        // tried again the moment its timeout ended, holding a delivery slot other subscriptions need.
        var next = Timestamps.Format(attempt.At + Duration.FromMilliseconds(attempt.DurationMs) + Duration.FromTimeSpan(Backoff(failed)));
        var update = new
        {
            bookId, id, owner = Owner, skippedTo, failed, failingSince, next, error = attempt.Error, attemptNo,
            status = pause ? WebhookStore.Paused : WebhookStore.Active, pausedAt = pause ? at : null,
        };
        bool Record(WriteSession session)
        {
            if (session.Connection.Execute(FailedSql, update) != 1) return false;
            session.Connection.Execute(InsertDeliverySql, delivery);
            if (prune) session.Connection.Execute(PruneSql, new { bookId, id, oldest = attemptNo - kept });
            if (pause)
                EventLog.Append(session, bookId, "webhook.paused", "webhook", id.ToString(CultureInfo.InvariantCulture),
                    EventData.Of(("id", id), ("failingSince", failingSince), ("lastError", attempt.Error), ("lastDeliveredSequence", skippedTo)));
            return true;
        }
        // A pause appends an event, which takes the book's turn to write; the other records touch the subscription only.
        var written = pause ? await _writer.WriteBookAsync(bookId, Record) : await _writer.WriteAsync(Record);
        if (written && pause)
            _logger.LogWarning("Webhook {WebhookId} of book {BookId} is paused: its deliveries have failed since {FailingSince} ({Error}).",
                id, bookId, failingSince, attempt.Error);
        else if (written)
            _logger.LogDebug("Webhook {WebhookId} of book {BookId}: event {Sequence} failed ({Error}); attempt {Attempt} at {Next}.",
                id, bookId, stored.Sequence, attempt.Error, failed + 1, next);
        return written;
    }

    /// <summary>Exponential backoff with jitter: base × 2^(failures − 1), capped, then a random point in its upper half.</summary>
    public TimeSpan Backoff(long failures)
    {
        var exponent = (int)Math.Min(Math.Max(failures - 1, 0), 40);
        var seconds = Math.Min(_options.MaxDelaySeconds, _options.BaseDelaySeconds * Math.Pow(2, exponent));
        return TimeSpan.FromSeconds(seconds / 2 + Random.Shared.NextDouble() * seconds / 2);
    }

    // Due: active, its backoff over, nobody's live lease, and something after its cursor (one index probe of the log: its
    // last row, whose last sequence is the head when it is a run of entry events).
    private const string DueSql = """
        SELECT w.id, w.book_id FROM webhooks w
        WHERE w.status = 'active' AND w.next_attempt_at <= @now AND (w.lease_until IS NULL OR w.lease_until < @now)
          AND (SELECT COALESCE(e.through_sequence, e.sequence) FROM events e WHERE e.book_id = w.book_id ORDER BY e.sequence DESC LIMIT 1)
              > w.last_delivered_sequence
        ORDER BY w.next_attempt_at, w.id LIMIT @take
        """;

    // The lease is taken only if it is free or expired when the row is written: of two processes, one updates the row.
    private const string AcquireSql = """
        UPDATE webhooks SET lease_owner = @owner, lease_until = @until
        WHERE book_id = @bookId AND id = @id AND status = 'active' AND next_attempt_at <= @now
          AND (lease_until IS NULL OR lease_until < @now)
        """;

    private const string ReleaseSql =
        "UPDATE webhooks SET lease_owner = NULL, lease_until = NULL WHERE book_id = @bookId AND id = @id AND lease_owner = @owner";

    private const string AdvanceSql = """
        UPDATE webhooks SET last_delivered_sequence = @to, lease_until = @until
        WHERE book_id = @bookId AND id = @id AND lease_owner = @owner AND status = 'active' AND last_delivered_sequence < @to
        """;

    private const string DeliveredSql = """
        UPDATE webhooks SET last_delivered_sequence = @sequence, failed_attempts = 0, failing_since = NULL, next_attempt_at = @at,
                            last_error = NULL, attempts = @attemptNo, lease_until = @until
        WHERE book_id = @bookId AND id = @id AND lease_owner = @owner AND status = 'active'
        """;

    private const string FailedSql = """
        UPDATE webhooks SET last_delivered_sequence = @skippedTo, failed_attempts = @failed, failing_since = @failingSince,
                            next_attempt_at = @next, last_error = @error, attempts = @attemptNo, status = @status, paused_at = @pausedAt,
                            lease_owner = NULL, lease_until = NULL
        WHERE book_id = @bookId AND id = @id AND lease_owner = @owner AND status = 'active'
        """;

    private const string InsertDeliverySql = """
        INSERT INTO webhook_deliveries (book_id, webhook_id, attempt_no, sequence, attempt, attempted_at, status_code, outcome, error, duration_ms)
        VALUES (@bookId, @id, @attemptNo, @sequence, @attempt, @at, @statusCode, @outcome, @error, @durationMs)
        """;

    private const string PruneSql = "DELETE FROM webhook_deliveries WHERE book_id = @bookId AND webhook_id = @id AND attempt_no <= @oldest";
}
