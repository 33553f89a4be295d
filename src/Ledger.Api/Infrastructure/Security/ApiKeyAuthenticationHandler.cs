using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Ledger.Api.Infrastructure.Security;

/// <summary>
/// The API-key authentication scheme: <c>Authorization: Bearer &lt;key&gt;</c> becomes a principal whose claims say which
/// key it is, whether it is an admin key, which book it is scoped to and whether it may write. Unknown, revoked or
/// missing keys are challenged with a 401 problem; what a known key may do is decided by the policies in
/// <see cref="LedgerPolicies"/>.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyStore keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    private const string BearerPrefix = "Bearer ";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase)) return Task.FromResult(AuthenticateResult.NoResult());
        var caller = keys.Find(header[BearerPrefix.Length..].Trim());
        if (caller is null) return Task.FromResult(AuthenticateResult.Fail("Unknown or revoked API key."));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(CallerClaims.From(caller), SchemeName));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer";
        return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized",
            detail: "Send a valid API key as 'Authorization: Bearer <key>'.").ExecuteAsync(Context);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Problems.Forbidden("This key may not do this.").ExecuteAsync(Context);
}

/// <summary>How a <see cref="Caller"/> is carried in <see cref="HttpContext.User"/>.</summary>
public static class CallerClaims
{
    public const string Book = "ledger:book";
    public const string Admin = "ledger:admin";
    public const string Write = "ledger:write";

    public static IEnumerable<Claim> From(Caller caller)
    {
        yield return new Claim(ClaimTypes.NameIdentifier, caller.KeyId);
        if (caller.IsAdmin) yield return new Claim(Admin, "true");
        if (caller.BookId is not null) yield return new Claim(Book, caller.BookId);
        if (caller.CanWrite) yield return new Claim(Write, "true");
    }

    /// <summary>The authenticated caller, or null for an anonymous principal.</summary>
    public static Caller? ToCaller(this ClaimsPrincipal user) =>
        user.FindFirstValue(ClaimTypes.NameIdentifier) is { } keyId
            ? new Caller(keyId, user.HasClaim(Admin, "true"), user.FindFirstValue(Book), user.HasClaim(Write, "true"))
            : null;

    /// <summary>The caller of a request that passed authorization (every /v1 endpoint requires it).</summary>
    public static Caller Caller(this HttpContext context) =>
        context.User.ToCaller() ?? throw new InvalidOperationException("No authenticated caller on this request.");
}
