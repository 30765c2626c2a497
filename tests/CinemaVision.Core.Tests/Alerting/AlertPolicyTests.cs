using CinemaVision.Core.Alerting;
using CinemaVision.Core.Events;

namespace CinemaVision.Core.Tests.Alerting;

public class AlertPolicyTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 20, 0, 0, TimeSpan.Zero);

    private static readonly AlertRule Piracy = new()
    {
        Name = "piracy",
        Category = EventCategory.Piracy,
        Severity = AlertSeverity.Critical,
        Channels = ["live", "email", "webhook:duty"],
        Cooldown = TimeSpan.FromMinutes(10),
        EscalateAfter = TimeSpan.FromMinutes(3),
    };

    private static AlertSignal Signal(string incident, IncidentPhase phase = IncidentPhase.Start, string seat = "F12", string auditorium = "aud-1", EventCategory category = EventCategory.Piracy, string kind = "Phone") =>
        new("ev-" + incident + phase, incident, category, kind, phase, "site", auditorium, "cam", seat, T0, 0.8, null, "phone held up");

    [Fact]
    public void FirstEvent_OpensAnAlertAndNotifiesTheFirstChannel()
    {
        var d = AlertPolicy.OnSignal(null, Piracy, Signal("i1"), [], T0);
        Assert.Equal(AlertStatus.Open, d.Alert!.Status);
        Assert.Equal(AlertSeverity.Critical, d.Alert.Severity);
        Assert.Equal("live", Assert.Single(d.Notifications).Channel);
    }

    [Fact]
    public void UpdatesOfTheSameIncident_JoinWithoutNotifying()
    {
        var open = AlertPolicy.OnSignal(null, Piracy, Signal("i1"), [], T0).Alert;
        var d = AlertPolicy.OnSignal(open, Piracy, Signal("i1", IncidentPhase.Update), [], T0.AddSeconds(30));
        Assert.Empty(d.Notifications);
        Assert.Equal(2, d.Alert!.EventCount);
        Assert.Equal(open!.Id, d.Alert.Id);
    }

    [Fact]
    public void NewIncidentAtTheSameSeatWithinCooldownAfterResolution_ReopensSilently()
    {
        var open = AlertPolicy.OnSignal(null, Piracy, Signal("i1"), [], T0).Alert!;
        var resolved = AlertPolicy.Resolve(open, "guard", "spoke to the guest", T0.AddMinutes(2));
        var d = AlertPolicy.OnSignal(resolved, Piracy, Signal("i2"), [], T0.AddMinutes(5));
        Assert.Empty(d.Notifications);
        Assert.Equal(AlertStatus.Open, d.Alert!.Status);
        Assert.Equal(["i1", "i2"], d.Alert.IncidentIds);
    }

    [Fact]
    public void NewIncidentAfterCooldown_IsANewAlert()
    {
        var open = AlertPolicy.OnSignal(null, Piracy, Signal("i1"), [], T0).Alert!;
        var resolved = AlertPolicy.Resolve(open, "guard", "false alarm", T0.AddMinutes(1));
        var d = AlertPolicy.OnSignal(resolved, Piracy, Signal("i3"), [], T0.AddMinutes(30));
        Assert.NotEqual(open.Id, d.Alert!.Id);
        Assert.Single(d.Notifications);
    }

    [Fact]
    public void Unacknowledged_EscalatesChannelByChannelThenStops()
    {
        var a = AlertPolicy.OnSignal(null, Piracy, Signal("i1"), [], T0).Alert!;
        Assert.Null(AlertPolicy.Escalate(a, Piracy, T0.AddMinutes(2)).Alert);
        var first = AlertPolicy.Escalate(a, Piracy, T0.AddMinutes(3));
        Assert.Equal("email", Assert.Single(first.Notifications).Channel);
        var second = AlertPolicy.Escalate(first.Alert!, Piracy, T0.AddMinutes(6));
        Assert.Equal("webhook:duty", Assert.Single(second.Notifications).Channel);
        Assert.Null(AlertPolicy.Escalate(second.Alert!, Piracy, T0.AddMinutes(60)).Alert);
    }

    [Fact]
    public void Acknowledged_DoesNotEscalate()
    {
        var a = AlertPolicy.Acknowledge(AlertPolicy.OnSignal(null, Piracy, Signal("i1"), [], T0).Alert!, "guard", T0.AddMinutes(1));
        Assert.Equal("guard", a.AcknowledgedBy);
        Assert.Null(AlertPolicy.Escalate(a, Piracy, T0.AddMinutes(10)).Alert);
    }

    [Fact]
    public void Resolve_NeedsANoteAndOnlyOnce()
    {
        var a = AlertPolicy.OnSignal(null, Piracy, Signal("i1"), [], T0).Alert!;
        Assert.Throws<ArgumentException>(() => AlertPolicy.Resolve(a, "guard", " ", T0));
        var r = AlertPolicy.Resolve(a, "guard", "guest put the phone away", T0);
        Assert.Equal(AlertStatus.Resolved, r.Status);
        Assert.Throws<InvalidOperationException>(() => AlertPolicy.Resolve(r, "guard", "again", T0));
        Assert.Throws<InvalidOperationException>(() => AlertPolicy.Acknowledge(r, "guard", T0));
    }

    [Fact]
    public void MutedAuditorium_AlertRecordedButNobodyNotified()
    {
        var mute = new AlertMute("m1", null, "aud-1", T0.AddHours(-1), T0.AddHours(1), "private screening", "manager");
        var d = AlertPolicy.OnSignal(null, Piracy, Signal("i1"), [mute], T0);
        Assert.True(d.Alert!.Muted);
        Assert.Empty(d.Notifications);
        Assert.Null(AlertPolicy.Escalate(d.Alert, Piracy, T0.AddHours(1)).Alert);
        Assert.Single(AlertPolicy.OnSignal(null, Piracy, Signal("i9", auditorium: "aud-2"), [mute], T0).Notifications);
    }

    [Fact]
    public void CameraIncidentEnd_ResolvesWhenTheRuleSaysSo()
    {
        var camera = new AlertRule { Name = "camera", Category = EventCategory.CameraHealth, ResolveOnEnd = true };
        var s = Signal("c1", category: EventCategory.CameraHealth, kind: "Frozen");
        var open = AlertPolicy.OnSignal(null, camera, s, [], T0).Alert;
        var d = AlertPolicy.OnSignal(open, camera, s with { Phase = IncidentPhase.End }, [], T0.AddMinutes(1));
        Assert.Equal(AlertStatus.Resolved, d.Alert!.Status);
        Assert.Equal("system", d.Alert.ResolvedBy);
    }

    [Fact]
    public void EndWithoutAnAlert_IsIgnored() => Assert.Null(AlertPolicy.OnSignal(null, Piracy, Signal("i1", IncidentPhase.End), [], T0).Alert);

    [Fact]
    public void RuleMatching_ByCategoryAndKind()
    {
        var aisle = new AlertRule { Name = "aisle", Category = EventCategory.Anomaly, Kinds = ["AisleStanding"] };
        Assert.True(aisle.Matches(Signal("a", category: EventCategory.Anomaly, kind: "AisleStanding")));
        Assert.False(aisle.Matches(Signal("a", category: EventCategory.Anomaly, kind: "ExitCrowding")));
        Assert.False(aisle.Matches(Signal("a")));
    }

    [Fact]
    public void Signals_FromEventContracts_CarrySeatAndSummary()
    {
        var e = new PiracySuspicion("p1", "inc", IncidentPhase.Start, RecordingDevice.Phone, "s", "a", "c", "G7", T0, T0.AddSeconds(25), 25, 0.8, "ev.jpg");
        var s = AlertSignal.From(e);
        Assert.Equal("G7", s.SeatId);
        Assert.Equal("ev.jpg", s.EvidenceId);
        Assert.Contains("seat G7", s.Summary, StringComparison.Ordinal);
    }
}
