using System.Globalization;
using System.Text.Json;
using CinemaVision.Core.Alerting;
using CinemaVision.Core.Events;
using CinemaVision.Server.Auth;
using CinemaVision.Server.Http;
using CinemaVision.Server.Storage;
using Microsoft.Extensions.Options;

namespace CinemaVision.Server.Alerting;

/// <summary>Rules an administrator changed at runtime: one row per rule name, replacing (or adding to) the configured rules.</summary>
public sealed class AlertRuleSchema : IStateSchema
{
    public string Name => "alert-rule-overrides";

    public string CreateSql => """
        CREATE TABLE IF NOT EXISTS alert_rule_overrides (
            name TEXT PRIMARY KEY,
            rule TEXT NOT NULL,
            updated_by TEXT NOT NULL,
            updated_at INTEGER NOT NULL);
        """;
}

/// <summary>
/// A rule as an administrator edits it (and as <c>PUT /api/v1/alerts/rules/{name}</c> takes it): the configuration's
/// shape (<see cref="AlertRuleOptions"/>, minutes as numbers) plus <see cref="Enabled"/>, so a rule can be switched off
/// without losing its settings.
/// </summary>
public sealed record AlertRuleEdit
{
    public string Name { get; init; } = "";
    public EventCategory Category { get; init; }
    public IReadOnlyList<string> Kinds { get; init; } = [];
    public AlertSeverity Severity { get; init; } = AlertSeverity.Warning;
    public IReadOnlyList<string> Channels { get; init; } = ["live"];
    public IReadOnlyList<string> Roles { get; init; } = ["Security"];
    public double CooldownMinutes { get; init; } = 10;
    public double EscalateAfterMinutes { get; init; } = 5;
    public bool ResolveOnEnd { get; init; }
    public bool Enabled { get; init; } = true;

    public AlertRule ToRule() => new()
    {
        Name = Name,
        Category = Category,
        Kinds = Kinds,
        Severity = Severity,
        Channels = Channels,
        Roles = Roles,
        Cooldown = TimeSpan.FromMinutes(CooldownMinutes),
        EscalateAfter = TimeSpan.FromMinutes(EscalateAfterMinutes),
        ResolveOnEnd = ResolveOnEnd,
    };

    public static AlertRuleEdit From(AlertRule r, bool enabled = true) => new()
    {
        Name = r.Name,
        Category = r.Category,
        Kinds = r.Kinds,
        Severity = r.Severity,
        Channels = r.Channels,
        Roles = r.Roles,
        CooldownMinutes = r.Cooldown.TotalMinutes,
        EscalateAfterMinutes = r.EscalateAfter.TotalMinutes,
        ResolveOnEnd = r.ResolveOnEnd,
        Enabled = enabled,
    };
}

/// <summary>One rule as the settings page lists it: what is in force, and whether it comes from the configuration or an administrator.</summary>
public sealed record AlertRuleEntry(AlertRuleEdit Rule, bool Configured, bool Changed, string? ChangedBy, DateTimeOffset? ChangedAt);

/// <summary>
/// The alert rules in force: the configured ones (<see cref="AlertingOptions.EffectiveRules"/>) with an administrator's
/// changes from the state database laid over them by name. The engine reads <see cref="Rules"/> for every decision,
/// so a saved change applies to the next event without a restart. Every change is validated field by field and
/// audit-logged (<c>alert.rule-set</c>, <c>alert.rule-revert</c>).
/// </summary>
public sealed class AlertRuleSettings(StateDatabase db, IOptions<AlertingOptions> options, NotificationChannels channels, AuditLog audit, TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly OverrideTable _overrides = new(db, "alert_rule_overrides", "rule", time);
    private IReadOnlyList<AlertRuleEntry>? _entries;
    private IReadOnlyList<AlertRule>? _rules;

    /// <summary>Minutes a cooldown or an escalation may be set to (a week).</summary>
    public const double MaxMinutes = 7 * 24 * 60;

    /// <summary>The event kinds a rule of a category can name (the wire contract's enums).</summary>
    public static IReadOnlyList<string> KindsOf(EventCategory category) => category switch
    {
        EventCategory.Anomaly => Enum.GetNames<AnomalyKind>(),
        EventCategory.Piracy => Enum.GetNames<RecordingDevice>(),
        EventCategory.CameraHealth => Enum.GetNames<CameraHealthKind>(),
        _ => [],
    };

    /// <summary>The categories that raise alerts (those <see cref="AlertSignal.From(IngestBatch)"/> produces).</summary>
    public static IReadOnlyList<EventCategory> Categories { get; } = [EventCategory.Piracy, EventCategory.Anomaly, EventCategory.CameraHealth];

    /// <summary>The channels a rule may name: those in force (configured, or added by an administrator).</summary>
    public IReadOnlyList<string> ChannelNames => channels.Names;

    /// <summary>The enabled rules in force, in order: configured rules first (changed in place), then added ones.</summary>
    public IReadOnlyList<AlertRule> Rules
    {
        get
        {
            lock (_gate)
            {
                Load();
                return _rules!;
            }
        }
    }

    /// <summary>Every rule, enabled or not, with where it comes from.</summary>
    public IReadOnlyList<AlertRuleEntry> Entries
    {
        get
        {
            lock (_gate)
            {
                Load();
                return _entries!;
            }
        }
    }

    /// <summary>Problems by field (camelCase, as the JSON and the page name them); empty when the rule can be saved.</summary>
    public IReadOnlyDictionary<string, string[]> Validate(AlertRuleEdit rule)
    {
        var problems = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        void Add(string field, string message)
        {
            if (!problems.TryGetValue(field, out var list)) problems[field] = list = [];
            list.Add(message);
        }

        if (InputRules.IdProblem(rule.Name, 64) is { } name) Add("name", name);
        if (!Categories.Contains(rule.Category)) Add("category", $"one of {string.Join(", ", Categories)}.");
        var kinds = KindsOf(rule.Category);
        foreach (var k in rule.Kinds.Where(k => !kinds.Contains(k, StringComparer.OrdinalIgnoreCase)))
        {
            Add("kinds", $"'{k}' is not a {rule.Category} kind (known: {string.Join(", ", kinds)}).");
        }

        if (!Enum.IsDefined(rule.Severity)) Add("severity", "one of Info, Warning, Critical.");
        if (rule.Channels.Count == 0) Add("channels", "at least one channel (live shows the alert on the dashboards).");
        var known = ChannelNames;
        foreach (var c in rule.Channels.Where(c => !known.Contains(c, StringComparer.Ordinal)))
        {
            Add("channels", $"'{c}' is not a configured channel (configured: {string.Join(", ", known)}).");
        }

        foreach (var c in rule.Channels.GroupBy(c => c, StringComparer.Ordinal).Where(g => g.Count() > 1)) Add("channels", $"'{c.Key}' is named twice.");
        if (rule.Roles.Count == 0) Add("roles", "at least one role sees the alert.");
        foreach (var r in rule.Roles.Where(r => !Auth.Roles.All.Contains(r, StringComparer.Ordinal))) Add("roles", $"'{r}' is not a role (roles: {string.Join(", ", Auth.Roles.All)}).");
        if (!double.IsFinite(rule.CooldownMinutes) || rule.CooldownMinutes < 0 || rule.CooldownMinutes > MaxMinutes)
        {
            Add("cooldownMinutes", string.Create(CultureInfo.InvariantCulture, $"0 to {MaxMinutes:0} minutes (was {rule.CooldownMinutes})."));
        }

        if (!double.IsFinite(rule.EscalateAfterMinutes) || rule.EscalateAfterMinutes <= 0 || rule.EscalateAfterMinutes > MaxMinutes)
        {
            Add("escalateAfterMinutes", string.Create(CultureInfo.InvariantCulture, $"more than 0 and at most {MaxMinutes:0} minutes (was {rule.EscalateAfterMinutes})."));
        }

        return problems.ToDictionary(p => p.Key, p => p.Value.ToArray(), StringComparer.Ordinal);
    }

    /// <summary>Saves a rule (a change to a configured one, or a new one) when it is valid; audit-logged. Returns the problems otherwise.</summary>
    public IReadOnlyDictionary<string, string[]> Save(AlertRuleEdit rule, string by)
    {
        var problems = Validate(rule);
        if (problems.Count > 0) return problems;
        lock (_gate)
        {
            _overrides.Write(rule.Name, JsonSerializer.Serialize(rule, IngestJson.Options), by);
            _entries = null;
        }

        audit.Write(by, "alert.rule-set", rule.Name, Describe(rule));
        return problems;
    }

    /// <summary>Drops an administrator's change: a configured rule is as configured again, an added one is gone. Audit-logged.</summary>
    public bool Revert(string name, string by)
    {
        bool removed;
        lock (_gate)
        {
            removed = _overrides.Remove(name);
            _entries = null;
        }

        if (removed) audit.Write(by, "alert.rule-revert", name);
        return removed;
    }

    private static string Describe(AlertRuleEdit r) => string.Create(CultureInfo.InvariantCulture,
        $"{(r.Enabled ? "on" : "off")}; {r.Category} [{string.Join(",", r.Kinds)}] {r.Severity}; channels {string.Join(">", r.Channels)}; roles {string.Join(",", r.Roles)}; cooldown {r.CooldownMinutes} min; escalate {r.EscalateAfterMinutes} min; resolveOnEnd {r.ResolveOnEnd}");

    private void Load()
    {
        if (_entries is not null) return;
        var changes = new Dictionary<string, (AlertRuleEdit Rule, string By, DateTimeOffset At)>(StringComparer.Ordinal);
        foreach (var row in _overrides.All())
        {
            var rule = JsonSerializer.Deserialize<AlertRuleEdit>(row.Value, IngestJson.Options)!;
            changes[rule.Name] = (rule, row.By, row.At);
        }

        var entries = new List<AlertRuleEntry>();
        var configured = options.Value.EffectiveRules();
        foreach (var rule in configured)
        {
            entries.Add(changes.Remove(rule.Name, out var change)
                ? new AlertRuleEntry(change.Rule, true, true, change.By, change.At)
                : new AlertRuleEntry(AlertRuleEdit.From(rule), true, false, null, null));
        }

        entries.AddRange(changes.Values.Select(change => new AlertRuleEntry(change.Rule, false, true, change.By, change.At)));
        _entries = entries;
        _rules = [.. entries.Where(e => e.Rule.Enabled).Select(e => e.Rule.ToRule())];
    }
}
