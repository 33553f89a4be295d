using System.ComponentModel;
using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Dapper;
using FluentValidation;
using Ledger.Api.Features.Audit;
using Ledger.Api.Features.Books;
using Ledger.Api.Infrastructure;
using Ledger.Api.Infrastructure.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Ledger.Api.Features.Webhooks;

/// <summary>A subscription to the book's events.</summary>
public sealed record CreateWebhookRequest(
    [property: Description("Where deliveries are POSTed: an http or https URL whose host resolves to public addresses.")] string? Url,
    [property: Description("Event types to deliver, exact (journal_entry.posted) or by prefix (document.*); empty, left out or [\"*\"]: all.")] IReadOnlyList<string?>? Types,
    [property: Description("The secret deliveries are signed with (16 to 256 printable ASCII characters); left out, one is generated and answered once.")] string? Secret,
    [property: Description("Deliver the events after this sequence (0: the book's whole history); left out, only changes made after this webhook.")] long? After);

/// <summary>A subscription. Its secret is answered only when it is created.</summary>
public sealed record WebhookResponse(long Id, string Url, IReadOnlyList<string> Types,
    [property: Description("active, paused (after failing for the whole pause window; resume it) or deleted.")] string Status,
    string CreatedAt,
    [property: Description("The last event sequence the receiver acknowledged (or that did not match types).")] long LastDeliveredSequence,
    [property: Description("When the current run of failures began; null while deliveries succeed.")] string? FailingSince,
    [property: Description("Failed attempts in a row on the next event.")] long FailedAttempts,
    [property: Description("When the next attempt is due, while failing; null otherwise.")] string? NextAttemptAt,
    [property: Description("What the last failed attempt met, while failing.")] string? LastError);

/// <summary>A new subscription, with its secret: shown only in this answer (and its replays).</summary>
public sealed record CreatedWebhookResponse(long Id, string Url, IReadOnlyList<string> Types, string Status,
    [property: Description("The signing secret. Shown only here: keep it with the receiver.")] string? Secret,
    string CreatedAt, long LastDeliveredSequence, string? FailingSince, long FailedAttempts, string? NextAttemptAt, string? LastError);

/// <summary>One delivery attempt of one event.</summary>
public sealed record WebhookDeliveryResponse(
    [property: Description("The event's sequence.")] long Sequence,
    [property: Description("1 for the first attempt at this event, 2 for the first retry, …")] long Attempt,
    string AttemptedAt,
    [property: Description("The receiver's HTTP status; null when no answer came (connection refused, timeout).")] int? StatusCode,
    [property: Description("delivered (a 2xx) or failed.")] string Outcome,
    string? Error,
    long DurationMs);

public sealed record WebhookDeliveryPage(IReadOnlyList<WebhookDeliveryResponse> Items, string? NextCursor);

public sealed record WebhookDeliveriesQuery(
    [property: FromQuery(Name = "limit"), Description("Largest page wanted, 1 to 1000 (100 when left out).")] int? Limit,
    [property: FromQuery(Name = "cursor")] string? Cursor);

public sealed partial class CreateWebhookRequestValidator : AbstractValidator<CreateWebhookRequest>
{
    public const int MaxTypes = 50;

    public CreateWebhookRequestValidator()
    {
        RuleFor(x => x.Url).NotEmpty().WithMessage("is required.")
            .Custom((url, context) =>
            {
                if (!string.IsNullOrEmpty(url) && WebhookTargets.SyntaxProblem(url) is { } problem) context.AddFailure("url", problem);
            });
        RuleFor(x => x.Types).Must(t => t!.Count <= MaxTypes).When(x => x.Types is not null).WithMessage($"must list at most {MaxTypes} types.");
        RuleForEach(x => x.Types).Must(t => t is { Length: <= 100 } && TypePattern().IsMatch(t))
            .WithMessage("must be an event type (journal_entry.posted), a prefix (document.*) or *.");
        RuleFor(x => x.Secret).Length(16, 256).Must(s => s!.All(c => c is >= '!' and <= '~')).When(x => x.Secret is not null)
            .WithMessage("must be 16 to 256 printable ASCII characters without spaces.");
        RuleFor(x => x.After).GreaterThanOrEqualTo(0).WithMessage("must be a sequence, 0 or more.");
    }

    [GeneratedRegex(@"^(\*|[a-z_]+(\.[a-z_]+)*(\.\*)?)$")]
    private static partial Regex TypePattern();
}

public sealed class WebhookDeliveriesQueryValidator : AbstractValidator<WebhookDeliveriesQuery>
{
    public WebhookDeliveriesQueryValidator()
    {
        RuleFor(x => x.Limit).InclusiveBetween(1, 1000).WithMessage("must be from 1 to 1000.");
        RuleFor(x => x.Cursor).IsIdCursor();
    }
}

/// <summary>
/// Webhooks: a book's events pushed to a URL, one at a time in sequence order, signed, retried with backoff, paused
/// (never dropped) after failing for a day. The subscription is configuration of the book, so creating, deleting,
/// resuming and pausing one are events too; delivering is not. See <see cref="WebhookDelivery"/> for the sending side.
/// </summary>
public static class WebhooksEndpoints
{
    public static void MapWebhooks(this IEndpointRouteBuilder app)
    {
        var hooks = app.MapGroup("/v1/books/{bookId}/webhooks").RequireBookAccess().ValidateRequests().WithTags("Webhooks");
        hooks.MapPost("/", CreateAsync).WithName("createWebhook").WithSummary("Subscribe a URL to the book's events")
            .WithDescription("Events are POSTed to the URL one at a time, in sequence order, each body one event as the feed shows it, signed " +
                             "in Ledger-Signature (t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<body>\")>). Delivery starts after the " +
                             "book's current last event, or after `after`. Answers the secret once: generated when none is given. " +
                             "The URL must be http or https and resolve to public addresses.")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        hooks.MapGet("/", ListAsync).WithName("listWebhooks").WithSummary("List webhooks")
            .WithDescription("The book's subscriptions that are not deleted, oldest first, with where each delivery stands (no secrets).");
        hooks.MapGet("/{id:long}", GetAsync).WithName("getWebhook").WithSummary("Get a webhook")
            .WithDescription("One subscription (deleted ones too), with where its delivery stands (no secret).");
        hooks.MapDelete("/{id:long}", DeleteAsync).WithName("deleteWebhook").WithSummary("Delete a webhook")
            .WithDescription("Stops its deliveries (an attempt under way still finishes) and forgets its secret; the subscription " +
                             "and its delivery history stay readable with status deleted.");
        hooks.MapPost("/{id:long}/resume", ResumeAsync).WithName("resumeWebhook").WithSummary("Resume a webhook")
            .WithDescription("Makes a paused subscription active and due now, with a fresh pause window; on an active one, makes its next " +
                             "attempt due now. Delivery resumes at the first event not yet acknowledged.")
            .ProducesProblem(StatusCodes.Status409Conflict);
        hooks.MapGet("/{id:long}/deliveries", DeliveriesAsync).WithName("listWebhookDeliveries").WithSummary("List delivery attempts")
            .WithDescription("Every attempt, newest first: the event's sequence, the attempt at it, when, the receiver's status, delivered " +
                             "or failed, and why. The most recent attempts are kept (1,000 per webhook by default).");
    }

    private static string Location(string bookId, long id) => $"/v1/books/{bookId}/webhooks/{id}";

    private static async Task<Results<Created<CreatedWebhookResponse>, StoredResponse>> CreateAsync(string bookId, CreateWebhookRequest request,
        [FromHeader(Name = Idempotency.HeaderName)] string? idempotencyKey, BookCatalog books, LedgerWriter writer, WebhookSecrets secrets,
        WebhookTargets targets, LedgerDatabase database, IOptions<WebhookOptions> settings,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, CancellationToken ct)
    {
        _ = await books.GetAsync(bookId);
        var options = json.Value.SerializerOptions;
        secrets.EnsureUsable();
        var url = request.Url!;
        await targets.CheckHostAsync(new Uri(url, UriKind.Absolute), ct);
        var types = NormalizeTypes(request.Types);
        var secret = request.Secret ?? WebhookSecrets.NewSecret();
        var max = settings.Value.MaxPerBook;
        // The fingerprint holds a keyed hash of a chosen secret, never the secret; a generated one is not part of the request.
        var fingerprinted = request with { Secret = request.Secret is null ? null : secrets.Fingerprint(request.Secret) };
        var outcome = await writer.WriteIdempotentAsync(bookId, idempotencyKey,
            () => Idempotency.Fingerprint("create-webhook", fingerprinted, options),
            session =>
            {
                var (head, _) = session.GroupState<EventLog.EventChain>().Head(session, bookId);
                if (request.After is { } after && after > head)
                    throw new ValidationFailedException("after", $"must be at most {head}, the book's last event sequence.");
                var count = session.Connection.ExecuteScalar<long>(
                    "SELECT COUNT(*) FROM webhooks WHERE book_id = @bookId AND status <> 'deleted'", new { bookId });
                if (count >= max) throw new ConflictException($"The book has {count} webhooks, the most it may have; delete one first.");
                var id = session.NextId("webhooks");
                // Left out: from the webhook's own event on, which is the next sequence of the book.
                var startsAfter = request.After ?? head + 1;
                EventLog.Append(session, bookId, "webhook.created", "webhook", id.ToString(CultureInfo.InvariantCulture),
                    EventData.Of(("id", id), ("url", url), ("types", new JsonArray([.. types.Select(t => (JsonNode?)JsonValue.Create(t))])),
                        ("startsAfter", startsAfter)));
                var now = Timestamps.Format(session.Now);
                session.Connection.Execute("""
                    INSERT INTO webhooks (id, book_id, url, types, secret, status, created_at, last_delivered_sequence, failed_attempts,
                                          failing_since, next_attempt_at, last_error, attempts, paused_at, deleted_at, lease_owner, lease_until)
                    VALUES (@id, @bookId, @url, @types, @secret, 'active', @now, @startsAfter, 0, NULL, @now, NULL, 0, NULL, NULL, NULL, NULL)
                    """, new { id, bookId, url, types = JsonSerializer.Serialize(types), secret = secrets.Encrypt(secret, bookId, id), now, startsAfter });
                var created = WebhookStore.Find(session.Connection, bookId, id)!.ToResponse();
                return Created(created, secret);
            },
            created => new StoredResponse(StatusCodes.Status201Created, Location(bookId, created.Id),
                JsonSerializer.Serialize(created with { Secret = null }, options)));
        if (outcome.Replayed is { } replay) return await WithSecretAsync(replay, bookId, database, secrets, options);
        return TypedResults.Created(Location(bookId, outcome.Fresh!.Id), outcome.Fresh);
    }

    /// <summary>
    /// A replayed creation answers the secret again, as the first answer did: the stored answer holds none (idempotency
    /// keys are kept in the clear), so it is decrypted from the subscription. A deleted subscription has none left.
    /// </summary>
    private static async Task<StoredResponse> WithSecretAsync(StoredResponse replay, string bookId, LedgerDatabase database, WebhookSecrets secrets,
        JsonSerializerOptions options)
    {
        if (replay.StatusCode != StatusCodes.Status201Created || JsonNode.Parse(replay.Body) is not JsonObject body
            || body["id"]?.GetValue<long>() is not { } id) return replay;
        await using var connection = await database.OpenReadAsync();
        var stored = await connection.ExecuteScalarAsync<string?>("SELECT secret FROM webhooks WHERE book_id = @bookId AND id = @id", new { bookId, id });
        string? secret = null;
        try
        {
            if (!string.IsNullOrEmpty(stored)) secret = secrets.Decrypt(stored, bookId, id);
        }
        catch (WebhookSecretException)
        {
            // Answered without it, as after a deletion; the deliveries report the same problem.
        }
        body["secret"] = secret;
        return replay with { Body = body.ToJsonString(options) };
    }

    private static CreatedWebhookResponse Created(WebhookResponse r, string secret) =>
        new(r.Id, r.Url, r.Types, r.Status, secret, r.CreatedAt, r.LastDeliveredSequence, r.FailingSince, r.FailedAttempts, r.NextAttemptAt, r.LastError);

    /// <summary>The types as kept: all ("*") when none, or when "*" is among them; otherwise each once, in the order given.</summary>
    public static IReadOnlyList<string> NormalizeTypes(IReadOnlyList<string?>? types)
    {
        var given = (types ?? []).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        return given.Count == 0 || given.Contains("*") ? ["*"] : given;
    }

    private static async Task<Ok<WebhookResponse[]>> ListAsync(string bookId, BookCatalog books, LedgerDatabase database)
    {
        _ = await books.GetAsync(bookId);
        await using var connection = await database.OpenReadAsync();
        var rows = await connection.QueryAsync<WebhookStore.Row>(WebhookStore.SelectSql + " WHERE book_id = @bookId AND status <> 'deleted' ORDER BY id",
            new { bookId });
        return TypedResults.Ok(rows.Select(r => r.ToResponse()).ToArray());
    }

    private static async Task<Ok<WebhookResponse>> GetAsync(string bookId, long id, BookCatalog books, LedgerDatabase database)
    {
        _ = await books.GetAsync(bookId);
        await using var connection = await database.OpenReadAsync();
        return TypedResults.Ok((WebhookStore.Find(connection, bookId, id) ?? throw NotFound(id)).ToResponse());
    }

    private static ProblemException NotFound(long id) =>
        new(StatusCodes.Status404NotFound, "Not found", $"No webhook {id} in this book.");

    private static async Task<NoContent> DeleteAsync(string bookId, long id, BookCatalog books, LedgerWriter writer)
    {
        _ = await books.GetAsync(bookId);
        await writer.WriteBookAsync(bookId, session =>
        {
            // The secret goes with it: a deleted subscription signs nothing any more. A delivery under way finds the row
            // no longer active (or no longer its lease) when it records, and stops.
            var deleted = session.Connection.Execute("""
                UPDATE webhooks SET status = 'deleted', deleted_at = @at, secret = '', lease_owner = NULL, lease_until = NULL
                WHERE book_id = @bookId AND id = @id AND status <> 'deleted'
                """, new { at = Timestamps.Format(session.Now), bookId, id });
            if (deleted == 0) throw NotFound(id);
            EventLog.Append(session, bookId, "webhook.deleted", "webhook", id.ToString(CultureInfo.InvariantCulture), EventData.Of(("id", id)));
            return deleted;
        });
        return TypedResults.NoContent();
    }

    private static async Task<Ok<WebhookResponse>> ResumeAsync(string bookId, long id, BookCatalog books, LedgerWriter writer)
    {
        _ = await books.GetAsync(bookId);
        var resumed = await writer.WriteBookAsync(bookId, session =>
        {
            var row = WebhookStore.Find(session.Connection, bookId, id) ?? throw NotFound(id);
            var now = Timestamps.Format(session.Now);
            switch (row.Status)
            {
                case WebhookStore.Deleted:
                    throw new ConflictException($"Webhook {id} is deleted; create a new one.");
                case WebhookStore.Paused:
                    // A fresh start: the pause window counts again from the next failure.
                    session.Connection.Execute("""
                        UPDATE webhooks SET status = 'active', paused_at = NULL, failing_since = NULL, failed_attempts = 0, next_attempt_at = @now
                        WHERE book_id = @bookId AND id = @id AND status = 'paused'
                        """, new { bookId, id, now });
                    EventLog.Append(session, bookId, "webhook.resumed", "webhook", id.ToString(CultureInfo.InvariantCulture),
                        EventData.Of(("id", id), ("lastDeliveredSequence", row.LastDeliveredSequence)));
                    break;
                default:
                    // Active: only the wait for the next retry is cut short; the run of failures goes on counting.
                    session.Connection.Execute("UPDATE webhooks SET next_attempt_at = @now WHERE book_id = @bookId AND id = @id AND status = 'active'",
                        new { bookId, id, now });
                    break;
            }
            return WebhookStore.Find(session.Connection, bookId, id)!.ToResponse();
        });
        return TypedResults.Ok(resumed);
    }

    private static async Task<Ok<WebhookDeliveryPage>> DeliveriesAsync(string bookId, long id, [AsParameters] WebhookDeliveriesQuery query,
        BookCatalog books, LedgerDatabase database)
    {
        _ = await books.GetAsync(bookId);
        var limit = query.Limit ?? 100;
        var before = IdCursor.TryDecode(query.Cursor, out var cursorId) ? cursorId : long.MaxValue;
        await using var connection = await database.OpenReadAsync();
        if (WebhookStore.Find(connection, bookId, id) is null) throw NotFound(id);
        var rows = (await connection.QueryAsync<WebhookStore.DeliveryRow>("""
            SELECT attempt_no AS AttemptNo, sequence AS Sequence, attempt AS Attempt, attempted_at AS AttemptedAt, status_code AS StatusCode,
                   outcome AS Outcome, error AS Error, duration_ms AS DurationMs
            FROM webhook_deliveries WHERE book_id = @bookId AND webhook_id = @id AND attempt_no < @before
            ORDER BY attempt_no DESC LIMIT @take
            """, new { bookId, id, before, take = limit + 1 })).AsList();
        var more = rows.Count > limit;
        if (more) rows.RemoveAt(rows.Count - 1);
        var items = rows.Select(r => new WebhookDeliveryResponse(r.Sequence, r.Attempt, r.AttemptedAt, (int?)r.StatusCode, r.Outcome, r.Error, r.DurationMs))
            .ToList();
        return TypedResults.Ok(new WebhookDeliveryPage(items,
            more ? IdCursor.Encode(rows[^1].AttemptNo) : null));
    }
}

/// <summary>The webhooks table as the endpoints and the delivery service read it.</summary>
public static class WebhookStore
{
    public const string Active = "active";
    public const string Paused = "paused";
    public const string Deleted = "deleted";

    public sealed record Row(long Id, string BookId, string Url, string Types, string Secret, string Status, string CreatedAt,
        long LastDeliveredSequence, long FailedAttempts, string? FailingSince, string NextAttemptAt, string? LastError, long Attempts,
        string? LeaseOwner, string? LeaseUntil)
    {
        public IReadOnlyList<string> TypeList => JsonSerializer.Deserialize<List<string>>(Types) ?? ["*"];

        public WebhookResponse ToResponse()
        {
            var failing = FailedAttempts > 0;
            return new WebhookResponse(Id, Url, TypeList, Status, CreatedAt, LastDeliveredSequence, FailingSince, FailedAttempts,
                failing && Status == Active ? NextAttemptAt : null, failing ? LastError : null);
        }
    }

    public sealed record DeliveryRow(long AttemptNo, long Sequence, long Attempt, string AttemptedAt, long? StatusCode, string Outcome, string? Error,
        long DurationMs);

    public const string SelectSql = """
        SELECT id AS Id, book_id AS BookId, url AS Url, types AS Types, secret AS Secret, status AS Status, created_at AS CreatedAt,
               last_delivered_sequence AS LastDeliveredSequence, failed_attempts AS FailedAttempts, failing_since AS FailingSince,
               next_attempt_at AS NextAttemptAt, last_error AS LastError, attempts AS Attempts, lease_owner AS LeaseOwner, lease_until AS LeaseUntil
        FROM webhooks
        """;

    public static Row? Find(DbConnection connection, string bookId, long id) =>
        connection.QuerySingleOrDefault<Row>(SelectSql + " WHERE book_id = @bookId AND id = @id", new { bookId, id });

    /// <summary>Whether an event of <paramref name="type"/> is one the subscription's types ask for (as the feed's filter).</summary>
    public static bool Matches(IReadOnlyList<string> types, string type)
    {
        foreach (var wanted in types)
        {
            if (wanted == "*" || wanted == type) return true;
            if (wanted.EndsWith(".*", StringComparison.Ordinal) && type.StartsWith(wanted[..^1], StringComparison.Ordinal)) return true;
        }
        return false;
    }
}
