using System.Globalization;
using System.Text.Json;
using CinemaVision.Server.Auth;
using CinemaVision.Server.Evidence;
using CinemaVision.Server.Http;
using CinemaVision.Server.Storage;
using Microsoft.Extensions.Options;

namespace CinemaVision.Server.Alerting;

/// <summary>Channel settings an administrator changed at runtime, by channel name (<c>email</c>, <c>mqtt</c>, <c>webhook:NAME</c>).</summary>
public sealed class AlertChannelSchema : IStateSchema
{
    public string Name => "alert-channel-overrides";

    public string CreateSql => """
        CREATE TABLE IF NOT EXISTS alert_channel_overrides (
            name TEXT PRIMARY KEY,
            settings TEXT NOT NULL,
            updated_by TEXT NOT NULL,
            updated_at INTEGER NOT NULL);
        """;
}

/// <summary>Who last changed a channel on the dashboard, and when.</summary>
public sealed record ChannelChange(string By, DateTimeOffset At);

/// <summary>
/// The notification channels in force: <c>live</c> always, and e-mail, webhooks and MQTT from the configuration with an
/// administrator's changes from the state database laid over them by name. The engine looks a channel up for every
/// delivery, so a saved change is used by the next notification without a restart. Secrets (SMTP and MQTT passwords,
/// webhook URLs, which carry robot keys, and DingTalk signing secrets) are write-only: a change that leaves them empty
/// keeps the stored one, and the audit log and problems never repeat them.
/// </summary>
public sealed class NotificationChannels(IOptions<AlertingOptions> options, StateDatabase db, AuditLog audit, IAlertFeed feed, EvidenceStore evidence, IHttpClientFactory http, TimeProvider time)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly Lock _gate = new();
    private readonly OverrideTable _overrides = new(db, "alert_channel_overrides", "settings", time);
    private State? _state;

    private sealed record State(
        EmailChannelOptions? Email,
        IReadOnlyList<WebhookChannelOptions> Webhooks,
        MqttChannelOptions? Mqtt,
        IReadOnlyList<INotificationChannel> Channels,
        IReadOnlyDictionary<string, ChannelChange> Changes);

    /// <summary>Every channel, <c>live</c> first.</summary>
    public IReadOnlyList<INotificationChannel> All => Current.Channels;

    public IReadOnlyList<string> Names => [.. Current.Channels.Select(c => c.Name)];

    public INotificationChannel? Find(string name) => Current.Channels.FirstOrDefault(c => c.Name == name);

    /// <summary>A copy of the e-mail settings in force (its password must never be shown).</summary>
    public EmailChannelOptions? Email => Current.Email?.Copy();

    public IReadOnlyList<WebhookChannelOptions> Webhooks => [.. Current.Webhooks.Select(w => w.Copy())];

    public MqttChannelOptions? Mqtt => Current.Mqtt?.Copy();

    public ChannelChange? ChangeOf(string name) => Current.Changes.GetValueOrDefault(name);

    /// <summary>Whether the configuration has this channel (reverting a change restores it) or an administrator added it (reverting removes it).</summary>
    public bool IsConfigured(string name) => options.Value.ChannelNames().Contains(name, StringComparer.Ordinal);

    /// <summary>Saves the e-mail channel when valid (an empty password keeps the stored one); audit-logged without the password.</summary>
    public IReadOnlyDictionary<string, string[]> SaveEmail(EmailChannelOptions edit, string by)
    {
        var merged = edit.Copy();
        bool newPassword = !string.IsNullOrEmpty(edit.Password);
        if (!newPassword) merged.Password = Current.Email?.Password;
        var problems = Problems(merged.Problems());
        if (problems.Count > 0) return problems;
        Write("email", JsonSerializer.Serialize(merged, Json), by);
        audit.Write(by, "alert.channel-set", "email", string.Create(CultureInfo.InvariantCulture, $"{merged.Host}:{merged.Port}, from {merged.From} to {string.Join(", ", merged.To)}{(newPassword ? ", password changed" : "")}"));
        return problems;
    }

    /// <summary>Saves (or adds) a webhook when valid (an empty URL or secret keeps the stored one); audit-logged without the URL or the secret.</summary>
    public IReadOnlyDictionary<string, string[]> SaveWebhook(WebhookChannelOptions edit, string by)
    {
        var merged = edit.Copy();
        var current = Current.Webhooks.FirstOrDefault(w => w.Name == edit.Name);
        bool newUrl = !string.IsNullOrEmpty(edit.Url), newSecret = !string.IsNullOrEmpty(edit.Secret);
        if (!newUrl) merged.Url = current?.Url ?? "";
        if (!newSecret) merged.Secret = current?.Secret;
        var found = merged.Problems().ToList();
        if (!string.IsNullOrWhiteSpace(merged.Name) && InputRules.IdProblem(merged.Name, 64) is { } bad) found.Add(("name", bad));
        var problems = Problems(found);
        if (problems.Count > 0) return problems;
        Write("webhook:" + merged.Name, JsonSerializer.Serialize(merged, Json), by);
        audit.Write(by, "alert.channel-set", "webhook:" + merged.Name, $"{merged.Format}{(newUrl ? ", URL changed" : "")}{(newSecret ? ", secret changed" : "")}");
        return problems;
    }

    /// <summary>Saves the MQTT channel when valid (an empty password keeps the stored one); audit-logged without the password.</summary>
    public IReadOnlyDictionary<string, string[]> SaveMqtt(MqttChannelOptions edit, string by)
    {
        var merged = edit.Copy();
        bool newPassword = !string.IsNullOrEmpty(edit.Password);
        if (!newPassword) merged.Password = Current.Mqtt?.Password;
        var problems = Problems(merged.Problems());
        if (problems.Count > 0) return problems;
        Write("mqtt", JsonSerializer.Serialize(merged, Json), by);
        audit.Write(by, "alert.channel-set", "mqtt", string.Create(CultureInfo.InvariantCulture, $"{merged.Host}:{merged.Port} {merged.Topic}{(newPassword ? ", password changed" : "")}"));
        return problems;
    }

    /// <summary>Drops an administrator's change: the channel is as configured again (or gone when it was added). Audit-logged.</summary>
    public bool Revert(string name, string by)
    {
        bool removed;
        lock (_gate)
        {
            removed = _overrides.Remove(name);
            _state = null;
        }

        if (removed) audit.Write(by, "alert.channel-revert", name);
        return removed;
    }

    private static Dictionary<string, string[]> Problems(IEnumerable<(string Field, string Message)> found) =>
        found.GroupBy(p => p.Field, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Select(p => p.Message).ToArray(), StringComparer.Ordinal);

    private void Write(string name, string settings, string by)
    {
        lock (_gate)
        {
            _overrides.Write(name, settings, by);
            _state = null;
        }
    }

    private State Current
    {
        get
        {
            lock (_gate)
            {
                return _state ??= Load();
            }
        }
    }

    private State Load()
    {
        var o = options.Value;
        var email = o.Email?.Copy();
        var webhooks = o.Webhooks.Select(w => w.Copy()).ToList();
        var mqtt = o.Mqtt?.Copy();
        var changes = new Dictionary<string, ChannelChange>(StringComparer.Ordinal);
        foreach (var row in _overrides.All().OrderBy(r => r.Name, StringComparer.Ordinal))
        {
            changes[row.Name] = new ChannelChange(row.By, row.At);
            if (row.Name == "email")
            {
                email = JsonSerializer.Deserialize<EmailChannelOptions>(row.Value, Json);
            }
            else if (row.Name == "mqtt")
            {
                mqtt = JsonSerializer.Deserialize<MqttChannelOptions>(row.Value, Json);
            }
            else if (JsonSerializer.Deserialize<WebhookChannelOptions>(row.Value, Json) is { } hook)
            {
                var i = webhooks.FindIndex(w => w.Name == hook.Name);
                if (i >= 0) webhooks[i] = hook;
                else webhooks.Add(hook);
            }
        }

        var channels = new List<INotificationChannel> { new LiveChannel(feed) };
        if (email is not null) channels.Add(new EmailChannel(email, evidence));
        foreach (var w in webhooks) channels.Add(new WebhookChannel(w, http.CreateClient("webhooks"), time));
        if (mqtt is not null) channels.Add(new MqttChannel(mqtt));
        return new State(email, webhooks, mqtt, channels, changes);
    }
}
