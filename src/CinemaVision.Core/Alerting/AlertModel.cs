using System.Globalization;
using System.Text.Json.Serialization;
using CinemaVision.Core.Events;

namespace CinemaVision.Core.Alerting;

[JsonConverter(typeof(JsonStringEnumConverter<AlertSeverity>))]
public enum AlertSeverity
{
    Info = 0,
    Warning = 1,
    Critical = 2,
}

[JsonConverter(typeof(JsonStringEnumConverter<AlertStatus>))]
public enum AlertStatus
{
    Open = 0,
    Acknowledged = 1,
    Resolved = 2,
}

[JsonConverter(typeof(JsonStringEnumConverter<EventCategory>))]
public enum EventCategory
{
    Anomaly = 0,
    Piracy = 1,
    CameraHealth = 2,
}

/// <summary>An incident event, whatever its kind, as the alerting engine sees it.</summary>
public sealed record AlertSignal(
    string EventId,
    string IncidentId,
    EventCategory Category,
    string Kind,
    IncidentPhase Phase,
    string SiteId,
    string AuditoriumId,
    string CameraId,
    string? SeatId,
    DateTimeOffset At,
    double Confidence,
    string? EvidenceId,
    string Summary)
{
    public static AlertSignal From(AnomalyEvent e) => new(e.Id, e.IncidentId, EventCategory.Anomaly, e.Kind.ToString(), e.Phase, e.SiteId, e.AuditoriumId, e.CameraId, e.SeatId ?? e.ZoneId, e.Timestamp, e.Confidence, e.EvidenceId,
        string.Create(CultureInfo.InvariantCulture, $"{Words(e.Kind.ToString())} in auditorium {e.AuditoriumId}{(e.ZoneId is null ? "" : $", {e.ZoneId}")} ({e.People} people, {e.Duration.TotalSeconds:0} s){(e.Detail is null ? "" : $": {e.Detail}")}"));

    public static AlertSignal From(PiracySuspicion e) => new(e.Id, e.IncidentId, EventCategory.Piracy, e.Device.ToString(), e.Phase, e.SiteId, e.AuditoriumId, e.CameraId, e.SeatId, e.Timestamp, e.Confidence, e.EvidenceId,
        string.Create(CultureInfo.InvariantCulture, $"Possible recording ({Words(e.Device.ToString()).ToLowerInvariant()}) at seat {e.SeatId ?? "?"} in auditorium {e.AuditoriumId}, held up {e.HeldUpSeconds:0} s, confidence {e.Confidence:P0}"));

    public static AlertSignal From(CameraHealthEvent e) => new(e.Id, e.IncidentId, EventCategory.CameraHealth, e.Kind.ToString(), e.Phase, e.SiteId, e.AuditoriumId, e.CameraId, null, e.Timestamp, 1, null,
        string.Create(CultureInfo.InvariantCulture, $"Camera {e.CameraId} in auditorium {e.AuditoriumId}: {Words(e.Kind.ToString()).ToLowerInvariant()} (measured {e.MeasuredValue:0.##}, threshold {e.Threshold:0.##}){(e.Detail is null ? "" : $": {e.Detail}")}"));

    /// <summary>The incident events of a batch as signals, in batch order (a start before its end).</summary>
    public static IEnumerable<AlertSignal> From(IngestBatch batch) => batch.Events.Select(e => e switch
    {
        AnomalyEvent a => From(a),
        PiracySuspicion p => From(p),
        CameraHealthEvent c => From(c),
        _ => null,
    }).OfType<AlertSignal>();

    private static string Words(string pascal) =>
        string.Concat(pascal.Select((c, i) => i > 0 && char.IsUpper(c) ? " " + char.ToLowerInvariant(c) : c.ToString()));
}

/// <summary>
/// Maps events to alerts: which events (category, kinds), how severe, who sees them, and the channels in
/// escalation order (the first is notified at once, the next when nobody acknowledged within <see cref="EscalateAfter"/>).
/// </summary>
public sealed record AlertRule
{
    public required string Name { get; init; }
    public required EventCategory Category { get; init; }

    /// <summary>Event kinds (e.g. <c>AisleStanding</c>, <c>Phone</c>, <c>Frozen</c>); empty = all of the category.</summary>
    public IReadOnlyList<string> Kinds { get; init; } = [];

    public AlertSeverity Severity { get; init; } = AlertSeverity.Warning;

    /// <summary>Channel names in escalation order: <c>live</c>, <c>email</c>, <c>webhook:NAME</c>, <c>mqtt</c>.</summary>
    public IReadOnlyList<string> Channels { get; init; } = ["live"];

    public IReadOnlyList<string> Roles { get; init; } = ["Security"];

    /// <summary>After an alert of the same group ended, new incidents within this time join it without a new notification.</summary>
    public TimeSpan Cooldown { get; init; } = TimeSpan.FromMinutes(10);

    public TimeSpan EscalateAfter { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Resolve the alert when its incident ends (camera health); otherwise a person resolves it.</summary>
    public bool ResolveOnEnd { get; init; }

    public bool Matches(AlertSignal s) => s.Category == Category && (Kinds.Count == 0 || Kinds.Contains(s.Kind, StringComparer.OrdinalIgnoreCase));

    /// <summary>One incident is one alert; incidents in the same place within the cooldown also join it.</summary>
    public string GroupKey(AlertSignal s) => $"{Name}|{s.SiteId}|{s.AuditoriumId}|{s.CameraId}|{s.SeatId ?? "-"}";
}

/// <summary>No notification for an auditorium (or all, when null) during a window (maintenance, a private screening).</summary>
public sealed record AlertMute(string Id, string? SiteId, string? AuditoriumId, DateTimeOffset From, DateTimeOffset Until, string Reason, string CreatedBy)
{
    public bool Covers(AlertSignal s, DateTimeOffset at) =>
        at >= From && at < Until && (SiteId is null || SiteId == s.SiteId) && (AuditoriumId is null || AuditoriumId == s.AuditoriumId);
}

/// <summary>An alert and its lifecycle.</summary>
public sealed record Alert
{
    public required string Id { get; init; }
    public required string GroupKey { get; init; }
    public required string RuleName { get; init; }
    public required AlertSeverity Severity { get; init; }
    public AlertStatus Status { get; init; }
    public required DateTimeOffset OpenedAt { get; init; }
    public required DateTimeOffset LastEventAt { get; init; }
    public int EventCount { get; init; } = 1;
    public int EscalationLevel { get; init; }
    public DateTimeOffset? LastNotifiedAt { get; init; }
    public bool Muted { get; init; }
    public string? AcknowledgedBy { get; init; }
    public DateTimeOffset? AcknowledgedAt { get; init; }
    public string? ResolvedBy { get; init; }
    public DateTimeOffset? ResolvedAt { get; init; }
    public string? ResolutionNote { get; init; }
    public IReadOnlyList<string> IncidentIds { get; init; } = [];
    public required AlertSignal Latest { get; init; }
}

/// <summary>Something the engine must do after a decision.</summary>
public sealed record AlertNotification(Alert Alert, string Channel, string Reason);
