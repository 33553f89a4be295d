using Ledger.Api.Features.Books;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace Ledger.Api.Infrastructure.Security;

/// <summary>
/// The three authorization policies. Each needs an authenticated API key (401 otherwise). Where the route names a
/// book, a key scoped to another book gets 404 (it learns nothing, not even that the book exists); a read key that
/// tries to change anything gets 403; only admin keys create books and keys (403).
/// </summary>
public static class LedgerPolicies
{
    /// <summary>Reads a book: any key that can see the book named by the route (or any key, where none is named).</summary>
    public const string BookRead = "book-read";

    /// <summary>Changes a book: a key that can see the book and has the 'write' scope.</summary>
    public const string BookWrite = "book-write";

    /// <summary>Admin keys only: creating books, creating, listing and revoking keys.</summary>
    public const string Admin = "admin";

    public static IServiceCollection AddLedgerSecurity(this IServiceCollection services)
    {
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(BookRead, policy => policy.RequireAuthenticatedUser().AddRequirements(new BookAccessRequirement(Write: false)))
            .AddPolicy(BookWrite, policy => policy.RequireAuthenticatedUser().AddRequirements(new BookAccessRequirement(Write: true)))
            .AddPolicy(Admin, policy => policy.RequireAuthenticatedUser().AddRequirements(new AdminRequirement()));
        services.AddSingleton<IAuthorizationHandler, BookAccessHandler>();
        services.AddSingleton<IAuthorizationHandler, AdminHandler>();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, ProblemAuthorizationResultHandler>();
        return services;
    }

    /// <summary>
    /// Every endpoint of the group reads or changes the book its route names: GET and HEAD need
    /// <see cref="BookRead"/>, every other method <see cref="BookWrite"/>, decided per endpoint when the app is built.
    /// </summary>
    public static RouteGroupBuilder RequireBookAccess(this RouteGroupBuilder group)
    {
        ((IEndpointConventionBuilder)group).Add(endpoint =>
        {
            var methods = endpoint.Metadata.OfType<HttpMethodMetadata>().SelectMany(m => m.HttpMethods).ToList();
            var reads = methods.Count > 0 && methods.All(m => HttpMethods.IsGet(m) || HttpMethods.IsHead(m));
            endpoint.Metadata.Add(new AuthorizeAttribute(reads ? BookRead : BookWrite));
        });
        return group;
    }
}

public sealed record BookAccessRequirement(bool Write) : IAuthorizationRequirement;

public sealed record AdminRequirement : IAuthorizationRequirement;

/// <summary>Why a key was refused: answered as 404, so a key of another book learns nothing about this one.</summary>
public sealed class BookNotVisible(IAuthorizationHandler handler, string bookId)
    : AuthorizationFailureReason(handler, $"No book '{bookId}' is visible to this key.");

public sealed class BookAccessHandler(BookCatalog books) : AuthorizationHandler<BookAccessRequirement>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, BookAccessRequirement requirement)
    {
        if (context.User.ToCaller() is not { } caller || context.Resource is not HttpContext http) return;
        if (http.Request.RouteValues.TryGetValue("bookId", out var value) && value is string bookId)
        {
            // The book first: a key of another book gets 404 whatever it tried, never a 403 that confirms the book.
            if (!caller.CanSee(bookId) || await books.FindAsync(bookId) is null)
            {
                context.Fail(new BookNotVisible(this, bookId));
                return;
            }
            if (requirement.Write && !caller.CanWrite)
            {
                context.Fail(new AuthorizationFailureReason(this,
                    "This key may only read; posting and changes need a key with the 'write' scope."));
                return;
            }
        }
        context.Succeed(requirement);
    }
}

public sealed class AdminHandler : AuthorizationHandler<AdminRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, AdminRequirement requirement)
    {
        if (context.User.ToCaller() is { IsAdmin: true }) context.Succeed(requirement);
        else if (context.User.ToCaller() is not null) context.Fail(new AuthorizationFailureReason(this, "Only an admin key may do this."));
        return Task.CompletedTask;
    }
}

/// <summary>
/// Turns refusals into problems in one place: an anonymous caller is challenged (401, by the scheme); a key that
/// may not see the book gets 404; any other refusal 403 with the reason the policy gave.
/// </summary>
public sealed class ProblemAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (!authorizeResult.Forbidden) return _default.HandleAsync(next, context, policy, authorizeResult);
        var reasons = authorizeResult.AuthorizationFailure?.FailureReasons ?? [];
        var problem = reasons.OfType<BookNotVisible>().FirstOrDefault() is { } notVisible
            ? Problems.NotFound(notVisible.Message)
            : Problems.Forbidden(reasons.FirstOrDefault()?.Message ?? "This key may not do this.");
        return problem.ExecuteAsync(context);
    }
}
