using Microsoft.Extensions.Options;

namespace Ledger.Api.Features.Webhooks;

/// <summary>
/// <c>Ledger:Webhooks:*</c>: where deliveries may go, how the secrets are kept, and how often and for how long a failing
/// receiver is retried. Checked at start: a value out of range stops the process with the setting's name.
/// </summary>
public sealed class WebhookOptions
{
    public const string Section = "Ledger:Webhooks";

    /// <summary>Lets webhooks reach private, loopback and link-local addresses (tests, or receivers inside one network).</summary>
    public bool AllowPrivateTargets { get; set; }

    /// <summary>
    /// The AES-256 key the secrets are encrypted with, 32 bytes in base64. Required on PostgreSQL (every process must
    /// hold the same key); on SQLite a key is generated into a file beside the database when this is not set.
    /// </summary>
    public string? SecretKey { get; set; }

    /// <summary>The delay after a first failure; it doubles with every further one (with jitter) up to <see cref="MaxDelaySeconds"/>.</summary>
    public double BaseDelaySeconds { get; set; } = 5;

    public double MaxDelaySeconds { get; set; } = 3600;

    /// <summary>A subscription failing without a break for this long is paused (not dropped).</summary>
    public double PauseAfterHours { get; set; } = 24;

    /// <summary>How long one delivery may take, connecting included.</summary>
    public double TimeoutSeconds { get; set; } = 10;

    /// <summary>How often each process looks for subscriptions with something to deliver.</summary>
    public int PollIntervalMilliseconds { get; set; } = 250;

    /// <summary>How long a process holds a subscription without writing; renewed with every delivery it records.</summary>
    public double LeaseSeconds { get; set; } = 60;

    /// <summary>Subscriptions one process delivers at once (each one event at a time).</summary>
    public int MaxConcurrentDeliveries { get; set; } = 8;

    /// <summary>Events one process goes through for a subscription before giving it up for the next poll (fairness).</summary>
    public int EventsPerLease { get; set; } = 100;

    /// <summary>Delivery attempts kept per subscription; older ones are pruned.</summary>
    public int DeliveriesKept { get; set; } = 1000;

    /// <summary>Subscriptions a book may have (deleted ones not counted).</summary>
    public int MaxPerBook { get; set; } = 50;

    public TimeSpan BaseDelay => TimeSpan.FromSeconds(BaseDelaySeconds);
    public TimeSpan MaxDelay => TimeSpan.FromSeconds(MaxDelaySeconds);
    public TimeSpan PauseAfter => TimeSpan.FromHours(PauseAfterHours);
    public TimeSpan Timeout => TimeSpan.FromSeconds(TimeoutSeconds);
    public TimeSpan PollInterval => TimeSpan.FromMilliseconds(PollIntervalMilliseconds);
    public TimeSpan Lease => TimeSpan.FromSeconds(LeaseSeconds);

    /// <summary>What is wrong with the settings, naming each, or nothing.</summary>
    public IEnumerable<string> Problems()
    {
        if (!(BaseDelaySeconds > 0 && BaseDelaySeconds <= 86_400)) yield return $"{Section}:BaseDelaySeconds must be above 0 and at most 86400.";
        if (!(MaxDelaySeconds >= BaseDelaySeconds && MaxDelaySeconds <= 86_400)) yield return $"{Section}:MaxDelaySeconds must be from BaseDelaySeconds to 86400.";
        if (!(PauseAfterHours > 0 && PauseAfterHours <= 24 * 365)) yield return $"{Section}:PauseAfterHours must be above 0 and at most 8760.";
        if (!(TimeoutSeconds > 0 && TimeoutSeconds <= 300)) yield return $"{Section}:TimeoutSeconds must be above 0 and at most 300.";
        if (PollIntervalMilliseconds is < 10 or > 60_000) yield return $"{Section}:PollIntervalMilliseconds must be from 10 to 60000.";
        // A lease must outlast the longest delivery, or a second process could take the subscription in the middle of one.
        if (!(LeaseSeconds >= TimeoutSeconds + 5 && LeaseSeconds <= 3600)) yield return $"{Section}:LeaseSeconds must be at least TimeoutSeconds + 5 and at most 3600.";
        if (MaxConcurrentDeliveries is < 1 or > 256) yield return $"{Section}:MaxConcurrentDeliveries must be from 1 to 256.";
        if (EventsPerLease is < 1 or > 10_000) yield return $"{Section}:EventsPerLease must be from 1 to 10000.";
        if (DeliveriesKept is < 10 or > 1_000_000) yield return $"{Section}:DeliveriesKept must be from 10 to 1000000.";
        if (MaxPerBook is < 1 or > 10_000) yield return $"{Section}:MaxPerBook must be from 1 to 10000.";
        if (SecretKey is { Length: > 0 } key && !WebhookSecrets.TryParseKey(key, out _))
            yield return $"{Section}:SecretKey must be 32 bytes in base64 (for example the output of `openssl rand -base64 32`).";
    }
}

public static class WebhookServices
{
    /// <summary>The settings (checked at start), the secrets' key, the URL checks and the delivery service of this process.</summary>
    public static IServiceCollection AddWebhooks(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<WebhookOptions>().Bind(configuration.GetSection(WebhookOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<WebhookOptions>, WebhookOptionsValidation>();
        services.AddSingleton<WebhookSecrets>();
        services.AddSingleton<WebhookTargets>();
        services.AddHostedService<WebhookDelivery>();
        return services;
    }

    /// <summary>Names every setting that is wrong.</summary>
    private sealed class WebhookOptionsValidation : IValidateOptions<WebhookOptions>
    {
        public ValidateOptionsResult Validate(string? name, WebhookOptions options) =>
            options.Problems().ToList() is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
    }
}
