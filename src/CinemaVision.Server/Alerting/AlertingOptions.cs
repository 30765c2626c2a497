using CinemaVision.Core.Alerting;
using Microsoft.Extensions.Options;

namespace CinemaVision.Server.Alerting;

/// <summary>Alert rules and notification channels (section <c>CinemaVision:Alerting</c>).</summary>
public sealed class AlertingOptions
{
    public const string Section = "CinemaVision:Alerting";

    public List<AlertRuleOptions> Rules { get; set; } = [];
    public EmailChannelOptions? Email { get; set; }
    public List<WebhookChannelOptions> Webhooks { get; set; } = [];
    public MqttChannelOptions? Mqtt { get; set; }

    /// <summary>Attempts per notification before it is marked failed (each recorded), with doubling delays from <see cref="RetryDelaySeconds"/>.</summary>
    public int MaxAttempts { get; set; } = 6;
    public double RetryDelaySeconds { get; set; } = 1;
    public double EscalationCheckSeconds { get; set; } = 15;

    /// <summary>Longest window one mute may cover (a mute is for a private screening or maintenance, not for years).</summary>
    public double MaxMuteDays { get; set; } = 14;

    /// <summary>Notifications delivered at the same time (one bounded pool for every channel).</summary>
    public int MaxConcurrentDeliveries { get; set; } = 8;

    /// <summary>A delivery that takes longer counts as failed (and is retried).</summary>
    public int DeliveryTimeoutSeconds { get; set; } = 30;

    /// <summary>The default rules when none are configured: every piracy suspicion, anomaly and camera fault alerts the security staff on screen.</summary>
    public IReadOnlyList<AlertRule> EffectiveRules() => Rules.Count > 0
        ? [.. Rules.Select(r => r.ToRule())]
        :
        [
            new AlertRule { Name = "piracy", Category = EventCategory.Piracy, Severity = AlertSeverity.Critical, Channels = ["live", .. DefaultChannels()], EscalateAfter = TimeSpan.FromMinutes(3) },
            new AlertRule { Name = "anomaly", Category = EventCategory.Anomaly, Severity = AlertSeverity.Warning, Channels = ["live", .. DefaultChannels()] },
            new AlertRule { Name = "camera", Category = EventCategory.CameraHealth, Severity = AlertSeverity.Warning, Channels = ["live", .. DefaultChannels()], ResolveOnEnd = true, Roles = ["Admin", "Security"] },
        ];

    private IEnumerable<string> DefaultChannels()
    {
        if (Email is not null) yield return "email";
        foreach (var w in Webhooks) yield return "webhook:" + w.Name;
        if (Mqtt is not null) yield return "mqtt";
    }

    private static readonly string[] Live = ["live"];

    public IEnumerable<string> ChannelNames() => Live.Concat(DefaultChannels());
}

public sealed class AlertRuleOptions
{
    public string Name { get; set; } = "";
    public EventCategory Category { get; set; }
    public List<string> Kinds { get; set; } = [];
    public AlertSeverity Severity { get; set; } = AlertSeverity.Warning;
    // Empty by default: the configuration binder appends to a non-empty list instead of replacing it.
    public List<string> Channels { get; set; } = [];
    public List<string> Roles { get; set; } = [];
    public double CooldownMinutes { get; set; } = 10;
    public double EscalateAfterMinutes { get; set; } = 5;
    public bool ResolveOnEnd { get; set; }

    public AlertRule ToRule() => new()
    {
        Name = Name,
        Category = Category,
        Kinds = Kinds,
        Severity = Severity,
        Channels = Channels.Count > 0 ? Channels : ["live"],
        Roles = Roles.Count > 0 ? Roles : ["Security"],
        Cooldown = TimeSpan.FromMinutes(CooldownMinutes),
        EscalateAfter = TimeSpan.FromMinutes(EscalateAfterMinutes),
        ResolveOnEnd = ResolveOnEnd,
    };
}

public sealed class EmailChannelOptions
{
    public string Host { get; set; } = "";
    public int Port { get; set; } = 25;
    public bool UseStartTls { get; set; }
    public string? UserName { get; set; }
    public string? Password { get; set; }
    public string From { get; set; } = "";
    public List<string> To { get; set; } = [];

    /// <summary>What is wrong, by field (camelCase): one check for the configuration and for a change on the dashboard.</summary>
    public IEnumerable<(string Field, string Message)> Problems()
    {
        if (string.IsNullOrWhiteSpace(Host)) yield return ("host", "is required.");
        if (Port is <= 0 or > 65535) yield return ("port", $"must be 1-65535 (was {Port}).");
        if (!From.Contains('@', StringComparison.Ordinal)) yield return ("from", $"must be an e-mail address (was '{From}').");
        if (To.Count == 0 || To.Any(t => !t.Contains('@', StringComparison.Ordinal))) yield return ("to", "needs one or more e-mail addresses.");
    }

    public EmailChannelOptions Copy()
    {
        var copy = (EmailChannelOptions)MemberwiseClone();
        copy.To = [.. To];
        return copy;
    }
}

public enum WebhookFormat
{
    Generic = 0,
    WeCom = 1,
    DingTalk = 2,
    Slack = 3,
}

/// <summary>A webhook. Its URL is a secret (robot keys ride in it): never logged, never shown back.</summary>
public sealed class WebhookChannelOptions
{
    public string Name { get; set; } = "";
    public string Url { get; set; } = "";
    public WebhookFormat Format { get; set; } = WebhookFormat.Generic;

    /// <summary>DingTalk robot signing secret (HMAC-SHA256 of timestamp + secret), if the robot uses one.</summary>
    public string? Secret { get; set; }

    /// <summary>What is wrong, by field (camelCase). The URL is a secret (robot keys ride in its query): never repeated in a message.</summary>
    public IEnumerable<(string Field, string Message)> Problems()
    {
        if (string.IsNullOrWhiteSpace(Name)) yield return ("name", "is required.");
        if (!Uri.TryCreate(Url, UriKind.Absolute, out var u) || (u.Scheme != Uri.UriSchemeHttp && u.Scheme != Uri.UriSchemeHttps)) yield return ("url", "must be an absolute http(s) URL.");
        if (!Enum.IsDefined(Format)) yield return ("format", "one of Generic, WeCom, DingTalk, Slack.");
    }

    public WebhookChannelOptions Copy() => (WebhookChannelOptions)MemberwiseClone();
}

public sealed class MqttChannelOptions
{
    public string Host { get; set; } = "";
    public int Port { get; set; } = 1883;
    public string Topic { get; set; } = "cinemavision/alerts";
    public string? UserName { get; set; }
    public string? Password { get; set; }

    /// <summary>What is wrong, by field (camelCase).</summary>
    public IEnumerable<(string Field, string Message)> Problems()
    {
        if (string.IsNullOrWhiteSpace(Host)) yield return ("host", "is required.");
        if (Port is <= 0 or > 65535) yield return ("port", $"must be 1-65535 (was {Port}).");
        if (string.IsNullOrWhiteSpace(Topic) || Topic.Contains('#', StringComparison.Ordinal) || Topic.Contains('+', StringComparison.Ordinal)) yield return ("topic", $"must be a plain topic without wildcards (was '{Topic}').");
    }

    public MqttChannelOptions Copy() => (MqttChannelOptions)MemberwiseClone();
}

/// <summary>Names every bad alerting key at once.</summary>
public sealed class AlertingOptionsValidator : IValidateOptions<AlertingOptions>
{
    public ValidateOptionsResult Validate(string? name, AlertingOptions o)
    {
        var errors = new List<string>();
        const string P = AlertingOptions.Section;
        // The same checks as a change made on the dashboard (ChannelProblems), named by configuration key here.
        if (o.Email is { } e) errors.AddRange(e.Problems().Select(p => $"{P}:Email:{Key(p.Field)} {p.Message}"));
        for (int i = 0; i < o.Webhooks.Count; i++) errors.AddRange(o.Webhooks[i].Problems().Select(p => $"{P}:Webhooks:{i}:{Key(p.Field)} {p.Message}"));
        if (o.Mqtt is { } m) errors.AddRange(m.Problems().Select(p => $"{P}:Mqtt:{Key(p.Field)} {p.Message}"));

        if (o.MaxAttempts is < 1 or > 50) errors.Add($"{P}:MaxAttempts must be 1-50 (was {o.MaxAttempts}).");
        if (o.RetryDelaySeconds <= 0) errors.Add($"{P}:RetryDelaySeconds must be positive.");
        if (!double.IsFinite(o.MaxMuteDays) || o.MaxMuteDays is <= 0 or > 366) errors.Add($"{P}:MaxMuteDays must be more than 0 and at most 366 (was {o.MaxMuteDays}).");
        if (o.MaxConcurrentDeliveries is < 1 or > 256) errors.Add($"{P}:MaxConcurrentDeliveries must be 1-256 (was {o.MaxConcurrentDeliveries}).");
        if (o.DeliveryTimeoutSeconds is < 1 or > 600) errors.Add($"{P}:DeliveryTimeoutSeconds must be 1-600 (was {o.DeliveryTimeoutSeconds}).");
        var known = o.ChannelNames().ToHashSet(StringComparer.Ordinal);
        for (int i = 0; i < o.Rules.Count; i++)
        {
            var r = o.Rules[i];
            if (string.IsNullOrWhiteSpace(r.Name)) errors.Add($"{P}:Rules:{i}:Name is required.");
            foreach (var c in r.Channels.Where(c => !known.Contains(c))) errors.Add($"{P}:Rules:{i}:Channels: '{c}' is not a configured channel (configured: {string.Join(", ", known)}).");
            if (r.EscalateAfterMinutes <= 0) errors.Add($"{P}:Rules:{i}:EscalateAfterMinutes must be positive.");
        }

        foreach (var dup in o.Rules.GroupBy(r => r.Name, StringComparer.Ordinal).Where(g => g.Count() > 1)) errors.Add($"{P}:Rules: duplicate rule name '{dup.Key}'.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static string Key(string field) => char.ToUpperInvariant(field[0]) + field[1..];
}
