using System.Text.Json.Serialization;
using FluentValidation;
using Ledger.Api.Infrastructure.Security;
using Ledger.Api.Infrastructure.OpenApi;
using NodaTime;

namespace Ledger.Api.Infrastructure;

public static class LedgerServices
{
    public static IServiceCollection AddLedger(this IServiceCollection services, IConfiguration configuration)
    {
        var connectionString = configuration.GetConnectionString("Ledger") ?? "Data Source=ledger.db";
        // Made by the container, so the container disposes it (PostgreSQL's connection pools) when the host stops.
        var replica = configuration.GetConnectionString("LedgerReplica");
        var writerCacheMiB = configuration.GetValue("Ledger:WriterCacheMiB", 32);
        services.AddSingleton(_ => LedgerDatabase.Create(connectionString, replica, writerCacheMiB));
        services.AddSingleton<IClock>(SystemClock.Instance);
        services.AddSingleton<RecordingClock>();
        services.AddHttpContextAccessor();
        services.AddSingleton<LedgerWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<LedgerWriter>());
        services.AddHostedService<IdempotencyJanitor>();
        Features.Webhooks.WebhookServices.AddWebhooks(services, configuration);
        if (!LedgerDatabase.IsPostgres(connectionString)) services.AddHostedService<WalCheckpointer>();
        services.AddSingleton<ApiKeyStore>();
        services.AddLedgerSecurity();
        services.AddSingleton<Features.Books.BookCatalog>();

        services.AddValidatorsFromAssemblyContaining<LedgerJsonContext>(ServiceLifetime.Singleton);
        ValidationExtensions.UseJsonFieldNames();

        services.ConfigureHttpJsonOptions(options =>
        {
            options.SerializerOptions.TypeInfoResolverChain.Insert(0, LedgerJsonContext.Default);
            options.SerializerOptions.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
            // Numbers are JSON numbers ("7" is not a month), and a field sent twice is an error rather than last-one-wins.
            // Amounts accept strings through their own converter.
            options.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
            options.SerializerOptions.AllowDuplicateProperties = false;
            options.SerializerOptions.Converters.Add(new TextWithoutControlCharactersConverter());
        });
        // Binding failures (malformed JSON, unknown fields) throw, so the exception handler can answer
        // them as problem+json naming the field instead of an empty 400.
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        services.AddProblemDetails();
        services.AddBatchConcurrencyLimit(configuration);
        services.AddKeyRateLimits(configuration);
        services.AddRequestHeadLimits();
        services.AddResponseHeaders();
        services.AddExceptionHandler<LedgerExceptionHandler>();

        services.AddLedgerOpenApi();
        return services;
    }

    public static WebApplication UseLedgerPipeline(this WebApplication app)
    {
        // Outermost, so that whatever answers a HEAD (an error's problem details too) writes no body.
        app.UseHeadAsGet();
        app.UseResponseHeaders();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        // A target or headers too large for the API, below Kestrel's own limits: 414 and 431 with a problem body.
        app.UseRequestHeadLimits();
        app.UseRouting();
        // Control characters in route, query and header values: a 400 before anything looks them up.
        app.UseRequestTextChecks();
        // After routing and before the endpoint binds its body or query: a caller without the right key learns
        // nothing about what a valid request looks like.
        app.UseAuthentication();
        app.UseAuthorization();
        RequestBodyLimit.UseRequestBodyLimits(app);
        app.UseRateLimiter();
        app.UseLedgerOpenApi();
        return app;
    }

    /// <summary>Brings the database schema up to date and makes sure an admin key exists, before serving.</summary>
    public static async Task InitializeLedgerAsync(this WebApplication app)
    {
        var database = app.Services.GetRequiredService<LedgerDatabase>();
        if (database is SqliteLedgerDatabase sqlite)
            foreach (var change in sqlite.FileModeChanges)
                app.Logger.LogWarning("Database files are owner-only: {Change}", change);
        database.Migrate();
        // One empty group before serving: the writer has resumed its clock from what is stored, so no report can settle
        // an instant before the writer knows where its stamps must start.
        await app.Services.GetRequiredService<LedgerWriter>().WriteAsync(_ => true);
        await AdminKeyBootstrap.EnsureAdminKeyAsync(app.Services);
    }
}
