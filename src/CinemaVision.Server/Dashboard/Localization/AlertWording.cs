using CinemaVision.Core.Alerting;
using CinemaVision.Core.Events;

namespace CinemaVision.Server.Dashboard.Localization;

/// <summary>
/// What an alert is about, in the reader's language. Built from the alert's structured fields (category, kind,
/// seat, zone, camera), not from the English summary the notification channels send.
/// </summary>
public static class AlertWording
{
    public static string Title(DashboardText l, AlertSignal s) => s.Category switch
    {
        EventCategory.Piracy => s.SeatId is { } seat ? l["alert.piracyAtSeat", Kind(l, s), seat] : l["alert.piracy", Kind(l, s)],
        EventCategory.Anomaly => s.SeatId is { } where ? l["alert.anomalyAt", Kind(l, s), where] : Kind(l, s),
        _ => l["alert.camera", s.CameraId, Kind(l, s)],
    };

    public static string Kind(DashboardText l, AlertSignal s) => l[$"kind.{s.Category}.{s.Kind}"];

    public static string Category(DashboardText l, EventCategory c) => l["category." + c];

    public static string Severity(DashboardText l, AlertSeverity s) => l["severity." + s];

    public static string Status(DashboardText l, AlertStatus s) => l["status." + s];

    /// <summary>A history line's action in the reader's language (the engine records them in English).</summary>
    public static string HistoryAction(DashboardText l, string action) => action switch
    {
        _ when action.StartsWith("opened while muted", StringComparison.Ordinal) => l["history.openedMuted"],
        _ when action.StartsWith("opened", StringComparison.Ordinal) => l["history.opened"],
        _ when action.StartsWith("reopened", StringComparison.Ordinal) => l["history.reopened"],
        _ when action.StartsWith("escalated to ", StringComparison.Ordinal) => l["history.escalated", action["escalated to ".Length..]],
        _ when action.StartsWith("acknowledged", StringComparison.Ordinal) => l["history.acknowledged"],
        _ when action.StartsWith("resolved: the incident ended", StringComparison.Ordinal) => l["history.incidentEnded"],
        _ when action.StartsWith("resolved", StringComparison.Ordinal) => l["history.resolved"],
        _ when action.StartsWith("notification failed", StringComparison.Ordinal) => l["history.notificationFailed"],
        _ when action.StartsWith("event after resolution", StringComparison.Ordinal) => l["history.afterResolution"],
        _ when action.StartsWith("event ", StringComparison.Ordinal) => l["history.joined", l["phase." + char.ToUpperInvariant(action[6]) + action[7..].Split(' ')[0]]],
        _ => action,
    };

    public static string Phase(DashboardText l, IncidentPhase p) => l["phase." + p];
}
