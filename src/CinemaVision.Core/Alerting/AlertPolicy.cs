namespace CinemaVision.Core.Alerting;

/// <summary>The outcome of one decision: the alert as it now is (null when nothing is kept) and who to notify.</summary>
public sealed record AlertDecision(Alert? Alert, IReadOnlyList<AlertNotification> Notifications, string? History)
{
    public static AlertDecision None { get; } = new(null, [], null);
}

/// <summary>
/// The alert lifecycle as pure functions: an event opens, joins or resolves an alert; time escalates it; people
/// acknowledge and resolve it. Grouping: one incident is one alert, and incidents in the same place within the
/// rule's cooldown after it join it silently. Mutes suppress notifications (the alert is still recorded).
/// </summary>
public static class AlertPolicy
{
    public static AlertDecision OnSignal(Alert? existing, AlertRule rule, AlertSignal s, IReadOnlyList<AlertMute> mutes, DateTimeOffset now)
    {
        bool muted = mutes.Any(m => m.Covers(s, now));
        var incidentIds = existing?.IncidentIds.Contains(s.IncidentId, StringComparer.Ordinal) == true ? existing.IncidentIds : [.. existing?.IncidentIds ?? [], s.IncidentId];

        if (existing is { Status: not AlertStatus.Resolved })
        {
            var updated = existing with { LastEventAt = s.At, EventCount = existing.EventCount + 1, Latest = s, IncidentIds = incidentIds };
            if (s.Phase == Events.IncidentPhase.End && rule.ResolveOnEnd && existing.IncidentIds.Count <= 1)
            {
                updated = updated with { Status = AlertStatus.Resolved, ResolvedAt = now, ResolvedBy = "system", ResolutionNote = "the incident ended" };
                return new(updated, [], "resolved: the incident ended");
            }

            return new(updated, [], $"event {s.Phase.ToString().ToLowerInvariant()} joined");
        }

        if (existing is { Status: AlertStatus.Resolved } resolved && resolved.ResolvedAt is { } at && now - at < rule.Cooldown)
        {
            if (s.Phase == Events.IncidentPhase.End) return new(resolved with { EventCount = resolved.EventCount + 1, Latest = s, IncidentIds = incidentIds }, [], "event after resolution (cooldown)");
            // The same trouble again shortly after: reopen the alert rather than send a new one.
            var reopened = resolved with { Status = AlertStatus.Open, LastEventAt = s.At, EventCount = resolved.EventCount + 1, Latest = s, IncidentIds = incidentIds, ResolvedAt = null, ResolvedBy = null, ResolutionNote = null };
            return new(reopened, [], "reopened within the cooldown (no new notification)");
        }

        // An end with nothing open is old news; an update or start opens an alert.
        if (s.Phase == Events.IncidentPhase.End) return AlertDecision.None;
        var alert = new Alert
        {
            Id = $"al-{s.SiteId}-{s.AuditoriumId}-{s.IncidentId}",
            GroupKey = rule.GroupKey(s),
            RuleName = rule.Name,
            Severity = rule.Severity,
            Status = AlertStatus.Open,
            OpenedAt = now,
            LastEventAt = s.At,
            Muted = muted,
            LastNotifiedAt = muted || rule.Channels.Count == 0 ? null : now,
            IncidentIds = [s.IncidentId],
            Latest = s,
        };
        return muted || rule.Channels.Count == 0
            ? new(alert, [], muted ? "opened while muted: no notification" : "opened")
            : new(alert, [new AlertNotification(alert, rule.Channels[0], "opened")], "opened");
    }

    /// <summary>Moves an unacknowledged alert to the next channel once its escalation time has passed.</summary>
    public static AlertDecision Escalate(Alert alert, AlertRule rule, DateTimeOffset now)
    {
        if (alert.Status != AlertStatus.Open || alert.Muted || alert.LastNotifiedAt is not { } last) return AlertDecision.None;
        if (now - last < rule.EscalateAfter || alert.EscalationLevel + 1 >= rule.Channels.Count) return AlertDecision.None;
        var escalated = alert with { EscalationLevel = alert.EscalationLevel + 1, LastNotifiedAt = now };
        var channel = rule.Channels[escalated.EscalationLevel];
        return new(escalated, [new AlertNotification(escalated, channel, $"not acknowledged within {rule.EscalateAfter.TotalMinutes:0.#} min")], $"escalated to {channel}");
    }

    public static Alert Acknowledge(Alert alert, string by, DateTimeOffset now) => alert.Status switch
    {
        AlertStatus.Open => alert with { Status = AlertStatus.Acknowledged, AcknowledgedBy = by, AcknowledgedAt = now },
        AlertStatus.Acknowledged => alert,
        _ => throw new InvalidOperationException($"Alert {alert.Id} is resolved; it cannot be acknowledged."),
    };

    public static Alert Resolve(Alert alert, string by, string note, DateTimeOffset now)
    {
        if (alert.Status == AlertStatus.Resolved) throw new InvalidOperationException($"Alert {alert.Id} is already resolved.");
        if (string.IsNullOrWhiteSpace(note)) throw new ArgumentException("A resolution needs a note saying what was done.", nameof(note));
        return alert with { Status = AlertStatus.Resolved, ResolvedBy = by, ResolvedAt = now, ResolutionNote = note, AcknowledgedBy = alert.AcknowledgedBy ?? by, AcknowledgedAt = alert.AcknowledgedAt ?? now };
    }
}
