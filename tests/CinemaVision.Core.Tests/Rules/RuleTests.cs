using CinemaVision.Core.Auditoriums;
using CinemaVision.Core.Detections;
using CinemaVision.Core.Events;
using CinemaVision.Core.Geometry;
using CinemaVision.Core.Piracy;
using CinemaVision.Core.Rules;
using CinemaVision.Core.Showings;

namespace CinemaVision.Core.Tests.Rules;

public class IncidentTrackerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 20, 0, 0, TimeSpan.Zero);
    private readonly IncidentTracker<string> _tracker = new("x", new IncidentOptions { MinDuration = TimeSpan.FromSeconds(10), EndGrace = TimeSpan.FromSeconds(3), UpdateEvery = TimeSpan.FromSeconds(10) });

    private List<IncidentTransition<string>> Run(int seconds, Func<int, bool> active)
    {
        var all = new List<IncidentTransition<string>>();
        for (int s = 0; s <= seconds; s++) all.AddRange(_tracker.Step(T0.AddSeconds(s), active(s) ? ["k"] : Array.Empty<string>()));
        return all;
    }

    [Fact]
    public void ShorterThanMinimum_NoIncident() => Assert.Empty(Run(30, s => s < 8));

    [Fact]
    public void LongCondition_OneStartUpdatesOneEnd()
    {
        var t = Run(60, s => s < 35);
        Assert.Single(t, x => x.Phase == IncidentPhase.Start);
        Assert.Single(t, x => x.Phase == IncidentPhase.End);
        Assert.Equal(2, t.Count(x => x.Phase == IncidentPhase.Update));
        Assert.All(t, x => Assert.Equal(t[0].IncidentId, x.IncidentId));
        var end = t.Single(x => x.Phase == IncidentPhase.End);
        Assert.Equal(T0, end.StartedAt);
        Assert.Equal(T0.AddSeconds(34), end.At);
    }

    [Fact]
    public void MissedDetectionShorterThanGrace_SameIncident()
    {
        var t = Run(40, s => s < 30 && s != 15 && s != 16);
        Assert.Single(t, x => x.Phase == IncidentPhase.Start);
        Assert.Single(t, x => x.Phase == IncidentPhase.End);
    }
}

public class AnomalyRuleTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 20, 0, 0, TimeSpan.Zero);
    private static readonly CameraRef Cam = new("site", "aud-1", "cam-a");

    private static AnomalyRules Rules() => new(Cam, [("aisle", ZoneKind.Aisle), ("exit", ZoneKind.Exit), ("staff", ZoneKind.StaffOnly)], new AnomalyRuleOptions
    {
        Aisle = new IncidentOptions { MinDuration = TimeSpan.FromSeconds(30), EndGrace = TimeSpan.FromSeconds(5) },
        AfterShow = new IncidentOptions { MinDuration = TimeSpan.FromMinutes(5), EndGrace = TimeSpan.FromSeconds(30) },
    });

    private static ObservedPerson P(int id, string? zone, string? seat = null) => new(id, new BoxF(0, 0, 10, 30), zone is null ? [] : [zone], seat);

    private static List<AnomalyEvent> Run(AnomalyRules rules, int seconds, Func<int, AuditoriumObservation> at)
    {
        var events = new List<AnomalyEvent>();
        for (int s = 0; s <= seconds; s++) events.AddRange(rules.Evaluate(at(s)));
        return events;
    }

    [Fact]
    public void StandingInAisleDuringFeature_OneIncidentWithItsDuration()
    {
        var events = Run(Rules(), 100, s => new(T0.AddSeconds(s), ShowingState.Feature, "show", s < 60 ? [P(7, "aisle")] : [], 100));

        var start = Assert.Single(events, e => e.Phase == IncidentPhase.Start);
        var end = Assert.Single(events, e => e.Phase == IncidentPhase.End);
        Assert.Equal(AnomalyKind.AisleStanding, start.Kind);
        Assert.Equal("aisle", start.ZoneId);
        Assert.Equal(TimeSpan.FromSeconds(59), end.Duration);
        Assert.Equal("show", end.ShowingId);
    }

    [Fact]
    public void WalkingThroughTheAisleBriefly_NoIncident() =>
        Assert.Empty(Run(Rules(), 60, s => new(T0.AddSeconds(s), ShowingState.Feature, null, s is > 10 and < 25 ? [P(7, "aisle")] : [], 100)));

    [Fact]
    public void AisleDuringTrailers_NotArmed() =>
        Assert.Empty(Run(Rules(), 100, s => new(T0.AddSeconds(s), ShowingState.Trailers, null, [P(7, "aisle")], 100)));

    [Fact]
    public void SeatedPersonWhoseFeetReachTheAisle_NotAnIncident() =>
        Assert.Empty(Run(Rules(), 100, s => new(T0.AddSeconds(s), ShowingState.Feature, null, [P(7, "aisle", seat: "A1")], 100)));

    [Fact]
    public void CrowdInTheExit_OneIncident()
    {
        var events = Run(Rules(), 60, s => new(T0.AddSeconds(s), ShowingState.Feature, null, [P(1, "exit"), P(2, "exit"), P(3, "exit"), P(4, "exit")], 100));
        var start = Assert.Single(events, e => e.Phase == IncidentPhase.Start);
        Assert.Equal(AnomalyKind.ExitCrowding, start.Kind);
        Assert.Equal(4, start.People);
    }

    [Fact]
    public void PeopleLeftAfterTheShow_AfterFiveMinutes()
    {
        var events = Run(Rules(), 400, s => new(T0.AddSeconds(s), ShowingState.LightsUp, null, [P(1, null, "F12")], 100));
        var start = Assert.Single(events, e => e.Phase == IncidentPhase.Start);
        Assert.Equal(AnomalyKind.PresentAfterShow, start.Kind);
        Assert.Equal(T0.AddSeconds(300), start.Timestamp);
    }

    [Fact]
    public void StaffOnlyZone_EnteredDuringFeature()
    {
        var events = Run(Rules(), 10, s => new(T0.AddSeconds(s), ShowingState.Feature, null, [P(3, "staff")], 100));
        Assert.Equal(AnomalyKind.StaffZoneEntry, Assert.Single(events, e => e.Phase == IncidentPhase.Start).Kind);
    }

    [Fact]
    public void MorePeopleThanSeats_ForAMinute()
    {
        var events = Run(Rules(), 70, s => new(T0.AddSeconds(s), ShowingState.Feature, null, [P(1, null), P(2, null), P(3, null)], 2));
        Assert.Equal(AnomalyKind.MoreThanSeats, Assert.Single(events, e => e.Phase == IncidentPhase.Start).Kind);
    }
}

public class PiracyRuleTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 20, 0, 0, TimeSpan.Zero);
    private static readonly CameraRef Cam = new("site", "aud-1", "cam-a");
    private static readonly BoxF Holder = new(100, 100, 60, 150);

    private static DeviceSighting Held(string seat = "F12") => new(seat, RecordingDevice.Phone, 0.6f, new BoxF(120, 120, 15, 25), Holder);

    private static List<PiracySuspicion> Run(PiracyRule rule, double seconds, double every, Func<double, bool> held, ShowingState state = ShowingState.Feature)
    {
        var events = new List<PiracySuspicion>();
        for (double s = 0; s <= seconds; s += every) events.AddRange(rule.Evaluate(T0.AddSeconds(s), state, "show", held(s) ? [Held()] : []));
        return events;
    }

    [Fact]
    public void GlanceAtThePhone_NoSuspicion() => Assert.Empty(Run(new PiracyRule(Cam), 120, 0.5, s => s is > 10 and < 16));

    [Fact]
    public void SeveralGlancesApart_DoNotAddUp() =>
        Assert.Empty(Run(new PiracyRule(Cam), 300, 0.5, s => (s % 60) < 6));

    [Fact]
    public void PhoneHeldUpLongerThanThreshold_OneSuspicionNamingTheSeat()
    {
        var events = Run(new PiracyRule(Cam), 120, 0.5, s => s < 60);
        var start = Assert.Single(events, e => e.Phase == IncidentPhase.Start);
        Assert.Equal("F12", start.SeatId);
        Assert.InRange((start.Timestamp - T0).TotalSeconds, 20, 22);
        Assert.True(start.HeldUpSeconds >= 20);
        var end = Assert.Single(events, e => e.Phase == IncidentPhase.End);
        Assert.Equal(start.IncidentId, end.IncidentId);
    }

    [Fact]
    public void RecordingWithShortDetectorDropouts_StillCounts()
    {
        var events = Run(new PiracyRule(Cam), 90, 0.5, s => s < 80 && (s % 10) > 2);
        Assert.Single(events, e => e.Phase == IncidentPhase.Start);
    }

    [Fact]
    public void DuringTrailers_NotArmed() => Assert.Empty(Run(new PiracyRule(Cam), 120, 0.5, _ => true, ShowingState.Trailers));

    [Fact]
    public void Sightings_PhoneOnTheLap_NotHeldUp()
    {
        var person = new Detection(Holder, 0, 0.9f, ObjectClass.Person);
        var onLap = new Detection(new BoxF(120, 230, 15, 10), 67, 0.6f, ObjectClass.Phone);
        var raised = new Detection(new BoxF(120, 130, 15, 25), 67, 0.6f, ObjectClass.Phone);
        var seats = new Dictionary<int, string> { [0] = "F12" };

        Assert.Empty(PiracyRule.Sightings([person, onLap], seats, new PiracyRuleOptions()));
        Assert.Equal("F12", Assert.Single(PiracyRule.Sightings([person, raised], seats, new PiracyRuleOptions())).SeatId);
    }

    [Fact]
    public void Sightings_PhoneWithNoSeatedHolder_Ignored()
    {
        var phone = new Detection(new BoxF(500, 500, 15, 25), 67, 0.9f, ObjectClass.Phone);
        Assert.Empty(PiracyRule.Sightings([phone], new Dictionary<int, string>(), new PiracyRuleOptions()));
    }

    [Fact]
    public void ScreenGlow_SteadyGlowInDarkness_Suspicion()
    {
        var rule = new ScreenGlowRule(Cam);
        var events = new List<PiracySuspicion>();
        for (int s = 0; s < 40; s++)
        {
            double scene = 20 + (10 * Math.Sin(s));   // the film's light changes
            events.AddRange(rule.Evaluate(T0.AddSeconds(s), ShowingState.Feature, scene, [new GlowBlob("F12", new PointF(10, 10), 30, 200 + (s % 2))]));
        }

        var start = Assert.Single(events, e => e.Phase == IncidentPhase.Start);
        Assert.Equal(RecordingDevice.ScreenGlow, start.Device);
    }

    [Fact]
    public void ScreenGlow_ReflectionFollowingTheFilm_NoSuspicion()
    {
        var rule = new ScreenGlowRule(Cam);
        var events = new List<PiracySuspicion>();
        for (int s = 0; s < 60; s++)
        {
            double scene = 20 + (10 * Math.Sin(s));
            events.AddRange(rule.Evaluate(T0.AddSeconds(s), ShowingState.Feature, scene, [new GlowBlob("F12", new PointF(10, 10), 30, (float)(150 + (8 * scene)))]));
        }

        Assert.Empty(events);
    }
}
