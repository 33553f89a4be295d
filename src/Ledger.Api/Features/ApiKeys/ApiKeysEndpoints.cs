using Ledger.Api.Features.Audit;
using Dapper;
using FluentValidation;
using Ledger.Api.Infrastructure;
using Ledger.Api.Infrastructure.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Ledger.Api.Features.ApiKeys;

public sealed record CreateApiKeyRequest(string? Name, string? BookId, IReadOnlyList<string>? Scopes);

/// <summary>A key as listed: never its secret.</summary>
public sealed record ApiKeyResponse(string Id, string Name, string? BookId, IReadOnlyList<string> Scopes, string Prefix, string CreatedAt, string? RevokedAt);

/// <summary>The one answer that carries the secret: it is not stored and cannot be shown again.</summary>
public sealed record CreatedApiKeyResponse(string Id, string Key, string Name, string BookId, IReadOnlyList<string> Scopes, string CreatedAt);

public sealed class CreateApiKeyRequestValidator : AbstractValidator<CreateApiKeyRequest>
{
    public CreateApiKeyRequestValidator()
    {
        RuleFor(x => x.Name).NotEmpty().MaximumLength(200);
        RuleFor(x => x.BookId).NotEmpty();
        RuleFor(x => x.Scopes).NotNull()
            .Must(s => ApiKeysEndpoints.TryParseScopes(s!, out _)).When(x => x.Scopes is not null, ApplyConditionTo.CurrentValidator)
            .WithMessage("must be [\"read\"] or [\"read\", \"write\"].");
    }
}

public static class ApiKeysEndpoints
{
    public static void MapApiKeys(this IEndpointRouteBuilder app)
    {
        var keys = app.MapGroup("/v1/api-keys").RequireAuthorization(LedgerPolicies.Admin).ValidateRequests().WithTags("API keys");
        keys.MapPost("/", CreateKey).WithName("createApiKey").WithSummary("Create a book key")
            .WithDescription("Creates a key scoped to one book, [\"read\"] or [\"read\", \"write\"]. The answer carries the secret " +
                             "once: only its SHA-256 hash is stored. Admin keys only.");
        keys.MapGet("/", ListKeys).WithName("listApiKeys").WithSummary("List API keys")
            .WithDescription("Every key with its scopes, display prefix and revocation time; never a secret. Admin keys only.");
        keys.MapDelete("/{id}", RevokeKey).WithName("revokeApiKey").WithSummary("Revoke an API key")
            .WithDescription("Revokes a key: it is refused (401) from its next request on. The only active admin key, with no " +
                             "Ledger:AdminKey configured, is not revoked (409). Admin keys only.")
            .ProducesProblem(StatusCodes.Status409Conflict);
    }

    public static async Task<Created<CreatedApiKeyResponse>> CreateKey(CreateApiKeyRequest request, HttpContext http, LedgerWriter writer)
    {
        // Refused, not ignored: a script that retries with the header expects one key, and this answer cannot be replayed
        // (it holds the secret, and only the secret's hash is ever stored).
        if (http.Request.Headers.ContainsKey(Idempotency.HeaderName))
            throw new ValidationFailedException(Idempotency.HeaderName,
                "is not taken when creating a key: the answer holds the key's secret, which is never stored, so a retry cannot be " +
                "answered again. Send the request without it; if a retry made a second key, revoke the one you did not keep.");
        TryParseScopes(request.Scopes!, out var canWrite);

        var secret = ApiKeyStore.NewSecret();
        // Under the book's lock: the key's event joins the book's log in order.
        var created = await writer.WriteBookAsync(request.BookId!, session =>
        {
            if (session.Connection.ExecuteScalar<long>("SELECT COUNT(*) FROM books WHERE id = @bookId", new { bookId = request.BookId }) == 0)
                throw new ValidationFailedException("bookId", $"No book '{request.BookId}'.");
            var id = Guid.CreateVersion7().ToString();
            var createdAt = Timestamps.Format(session.Now);
            session.Connection.Execute(InsertKeySql, new
            {
                id,
                name = request.Name,
                bookId = request.BookId,
                canWrite = canWrite ? 1 : 0,
                hash = ApiKeyStore.Hash(secret),
                prefix = ApiKeyStore.DisplayPrefix(secret),
                createdAt,
            });
            EventLog.Append(session, request.BookId!, "api_key.created", "api_key", id, EventData.Of(
                ("id", id), ("name", request.Name), ("scopes", new System.Text.Json.Nodes.JsonArray(ScopeNames(canWrite).Select(s => (System.Text.Json.Nodes.JsonNode?)s).ToArray())),
                ("prefix", ApiKeyStore.DisplayPrefix(secret))));
            return new CreatedApiKeyResponse(id, secret, request.Name!, request.BookId!, ScopeNames(canWrite), createdAt);
        });
        return TypedResults.Created($"/v1/api-keys/{created.Id}", created);
    }

    public static async Task<Ok<ApiKeyResponse[]>> ListKeys(LedgerDatabase database)
    {
        await using var connection = await database.OpenReadAsync();
        var rows = await connection.QueryAsync<KeyRow>(ListKeysSql);
        return TypedResults.Ok(rows.Select(r => new ApiKeyResponse(r.Id, r.Name, r.BookId,
            r.IsAdmin != 0 ? ["admin"] : ScopeNames(r.CanWrite != 0), r.KeyPrefix, r.CreatedAt, r.RevokedAt)).ToArray());
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeKey(string id, LedgerWriter writer, ApiKeyStore store, LedgerDatabase database)
    {
        // A book's key is revoked under the book's lock, so its event takes its place in the book's log; admin keys have no book.
        string? bookId;
        await using (var connection = await database.OpenReadAsync())
            bookId = await connection.ExecuteScalarAsync<string?>("SELECT book_id FROM api_keys WHERE id = @id", new { id });
        int Revoke(WriteSession session)
        {
            // The last admin key would leave nobody able to create books or keys, or to reopen a period, until the
            // process is restarted (which then generates a new one). Create the next one first: a configured
            // Ledger:AdminKey, which cannot be revoked.
            if (bookId is null && !store.HasConfiguredAdminKey
                && session.Connection.ExecuteScalar<long>(ActiveAdminKeysIfAdminSql, new { id }) == 1)
                throw new ConflictException(
                    $"API key '{id}' is the only active admin key: revoking it would leave no key that can administer Ledger. " +
                    "Configure Ledger:AdminKey (and restart) before revoking it.");
            var count = session.Connection.Execute(RevokeKeySql, new { id, revokedAt = Timestamps.Format(session.Now) });
            if (count == 1 && bookId is not null)
                EventLog.Append(session, bookId, "api_key.revoked", "api_key", id, EventData.Of(("id", id)));
            session.AfterCommit(store.Forget);
            return count;
        }
        var revoked = bookId is null ? await writer.WriteAsync(Revoke) : await writer.WriteBookAsync(bookId, Revoke);
        return revoked == 0 ? Problems.NotFound($"No active API key '{id}'.") : TypedResults.NoContent();
    }

    public static bool TryParseScopes(IReadOnlyList<string> scopes, out bool canWrite)
    {
        var set = scopes.ToHashSet(StringComparer.Ordinal);
        canWrite = set.Contains("write");
        return set.Count == scopes.Count && set.Contains("read") && set.IsSubsetOf(["read", "write"]);
    }

    private static string[] ScopeNames(bool canWrite) => canWrite ? ["read", "write"] : ["read"];

    private sealed record KeyRow(string Id, string Name, string? BookId, long IsAdmin, long CanWrite, string KeyPrefix, string CreatedAt, string? RevokedAt);

    private const string InsertKeySql = """
        INSERT INTO api_keys (id, name, book_id, is_admin, can_write, key_hash, key_prefix, created_at)
        VALUES (@id, @name, @bookId, 0, @canWrite, @hash, @prefix, @createdAt)
        """;

    private const string ListKeysSql = """
        SELECT id AS Id, name AS Name, book_id AS BookId, is_admin AS IsAdmin, can_write AS CanWrite,
               key_prefix AS KeyPrefix, created_at AS CreatedAt, revoked_at AS RevokedAt
        FROM api_keys ORDER BY created_at, id
        """;

    // How many admin keys are active, when the key named is one of them (0 otherwise).
    private const string ActiveAdminKeysIfAdminSql = """
        SELECT COUNT(*) FROM api_keys
        WHERE is_admin = 1 AND revoked_at IS NULL
          AND EXISTS (SELECT 1 FROM api_keys k WHERE k.id = @id AND k.is_admin = 1 AND k.revoked_at IS NULL)
        """;

    private const string RevokeKeySql = "UPDATE api_keys SET revoked_at = @revokedAt WHERE id = @id AND revoked_at IS NULL";
}
