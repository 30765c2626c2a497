using CinemaVision.Core.Auditoriums;
using CinemaVision.Core.Cameras;
using CinemaVision.Core.Detections;
using CinemaVision.Core.Events;
using CinemaVision.Core.Geometry;
using CinemaVision.Core.Pipeline;
using CinemaVision.Core.Showings;

namespace CinemaVision.Core.Tests.Pipeline;

public class CameraPipelineTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 20, 0, 0, TimeSpan.Zero);
    private static readonly FrameMeasurements Good = new(40, 900, 4, 0.05);

    // Two seats side by side, an aisle to their right.
    private static readonly CameraView View = new()
    {
        Id = "cam-1",
        Reference = new ReferenceFrame(400, 300),
        Seats =
        [
            new Seat("A1", "A", 1, [new(100, 100), new(160, 100), new(160, 200), new(100, 200)]),
            new Seat("A2", "A", 2, [new(170, 100), new(230, 100), new(230, 200), new(170, 200)]),
        ],
        Zones = [new Zone("aisle", ZoneKind.Aisle, [new(300, 0), new(400, 0), new(400, 300), new(300, 300)])],
    };

    // A person whose upper body lies in seat A1 (anchor 40 % down the box).
    private static Detection PersonIn(string seat, float score) => new(seat == "A1" ? new BoxF(105, 80, 50, 110) : new BoxF(175, 80, 50, 110), 0, score, ObjectClass.Person);

    private static FrameObservation Frame(int second, PassKind pass, params Detection[] detections) => new(T0.AddSeconds(second), pass, detections, Good);

    private static CameraPipeline Pipeline(CameraPipelineOptions? options = null) => new("site", "aud-1", View, options);

    [Fact]
    public void OccupancyPasses_SettleSeatsAndSample_WatchPassesLeaveSeatsAlone()
    {
        var pipeline = Pipeline();
        PipelineResult? last = null;
        for (int i = 0; i < 5; i++) last = pipeline.Observe(Frame(i * 30, PassKind.Occupancy, PersonIn("A1", 0.9f)), ShowingContext.Feature);

        Assert.Equal(SeatState.Occupied, last!.Seats["A1"]);
        Assert.Equal(SeatState.Empty, last.Seats["A2"]);
        Assert.Equal(1, last.Occupancy!.SeatsOccupied);
        Assert.Equal(1, last.People);

        // Watching passes that no longer see anyone change no seat and send no sample.
        for (int i = 0; i < 10; i++)
        {
            var watch = pipeline.Observe(Frame(150 + i, PassKind.Watch), ShowingContext.Feature);
            Assert.Null(watch.Occupancy);
            Assert.Empty(watch.SeatChanges);
        }

        Assert.Equal(SeatState.Occupied, pipeline.Seats["A1"]);
    }

    [Fact]
    public void SeatConditionedThreshold_CountsALowScoreInASeatButNotOverTheAisle()
    {
        var options = CameraPipelineOptions.Default with { Scores = DetectionThresholds.Default with { SeatedPerson = 0.35f } };
        var standing = new Detection(new BoxF(320, 50, 50, 150), 0, 0.4f, ObjectClass.Person);

        var result = Pipeline(options).Observe(Frame(0, PassKind.Occupancy, PersonIn("A1", 0.4f), standing), ShowingContext.Feature);

        var counted = Assert.Single(result.Audience);
        Assert.Equal(105, counted.Box.X);
        Assert.Equal("A1", Assert.Single(result.Assignments).SeatId);

        // With the default (the seat prior no lower than the person threshold) neither counts.
        Assert.Empty(Pipeline().Observe(Frame(0, PassKind.Occupancy, PersonIn("A1", 0.4f), standing), ShowingContext.Feature).Audience);
    }

    [Fact]
    public void CoveredCamera_SeatsBecomeUnknownAndConfidenceZero()
    {
        var pipeline = Pipeline();
        for (int i = 0; i < 5; i++) pipeline.Observe(Frame(i * 30, PassKind.Occupancy, PersonIn("A1", 0.9f)), ShowingContext.Feature);

        var covered = Good with { Uniformity = 0.99 };
        PipelineResult? last = null;
        var events = new List<EdgeEvent>();
        for (int i = 0; i < 6; i++)
        {
            last = pipeline.Observe(new FrameObservation(T0.AddSeconds(200 + (i * 30)), PassKind.Occupancy, [], covered), ShowingContext.Feature);
            events.AddRange(last.Events);
        }

        Assert.Contains(events, e => e is CameraHealthEvent { Kind: CameraHealthKind.Covered, Phase: IncidentPhase.Start });
        Assert.All(last!.Seats.Values, s => Assert.Equal(SeatState.Unknown, s));
        Assert.Equal(0, last.Occupancy!.Confidence);
    }

    [Fact]
    public void PhoneHeldUpDuringTheFeature_OneSuspicionWithEvidenceRequested()
    {
        var pipeline = Pipeline();
        var phone = new Detection(new BoxF(120, 100, 12, 20), 67, 0.5f, ObjectClass.Phone);
        var suspicions = new List<PiracySuspicion>();
        var requests = new List<EvidenceRequest>();
        for (int i = 0; i < 40; i++)
        {
            var r = pipeline.Observe(Frame(i, PassKind.Watch, PersonIn("A1", 0.9f), phone), new ShowingContext(ShowingState.Feature, "show-1"));
            suspicions.AddRange(r.Piracy);
            requests.AddRange(r.Evidence);
        }

        var start = Assert.Single(suspicions, s => s.Phase == IncidentPhase.Start);
        Assert.Equal("A1", start.SeatId);
        Assert.Equal("show-1", start.ShowingId);
        var request = Assert.Single(requests);
        Assert.Equal(start.EvidenceId, request.EvidenceId);
        Assert.Equal("A1", request.SeatId);
    }

    [Fact]
    public void PhoneBelowItsThreshold_NoSuspicion()
    {
        var pipeline = Pipeline(CameraPipelineOptions.Default with { Scores = DetectionThresholds.Default with { Phone = 0.6f } });
        var phone = new Detection(new BoxF(120, 100, 12, 20), 67, 0.5f, ObjectClass.Phone);
        for (int i = 0; i < 40; i++) Assert.Empty(pipeline.Observe(Frame(i, PassKind.Watch, PersonIn("A1", 0.9f), phone), ShowingContext.Feature).Piracy);
    }

    [Fact]
    public void HealthPass_MeasuresOnlyAndNoFrameRaisesOffline()
    {
        var pipeline = Pipeline();
        var health = pipeline.Observe(Frame(0, PassKind.Health, PersonIn("A1", 0.9f)), new ShowingContext(ShowingState.Closed));
        Assert.Empty(health.Audience);
        Assert.Null(health.Occupancy);

        Assert.Empty(pipeline.NoFrame(T0.AddSeconds(5), T0, "stalled"));
        var offline = Assert.IsType<CameraHealthEvent>(Assert.Single(pipeline.NoFrame(T0.AddSeconds(20), T0, "Connection refused")));
        Assert.Equal(CameraHealthKind.Offline, offline.Kind);
    }

    [Fact]
    public void SameObservations_SameEventsAndIds()
    {
        List<string> Run()
        {
            var pipeline = Pipeline();
            var ids = new List<string>();
            for (int i = 0; i < 60; i++)
            {
                var walker = new Detection(new BoxF(320, 100, 40, 120), 0, 0.9f, ObjectClass.Person);
                ids.AddRange(pipeline.Observe(Frame(i, i % 30 == 0 ? PassKind.Occupancy : PassKind.Watch, PersonIn("A1", 0.9f), walker), ShowingContext.Feature).Events.Select(e => e.Id));
            }

            return ids;
        }

        var first = Run();
        Assert.Contains(first, id => id.Contains("aisle", StringComparison.Ordinal));
        Assert.Equal(first, Run());
    }

    [Fact]
    public void AuditoriumOverrides_AppliedOverTheDefaults()
    {
        var json = """
            { "siteId": "s", "auditoriumId": "a", "pipeline": { "scores": { "person": 0.4 }, "anomalies": { "aisleSeconds": 5 } },
              "cameras": [ { "id": "c", "reference": { "width": 400, "height": 300 }, "seats": [], "zones": [] } ] }
            """;
        var auditorium = AuditoriumFile.Parse(json).GetOrThrow();

        var pipeline = CameraPipeline.For(auditorium, auditorium.Cameras[0]);

        Assert.Equal(0.4f, pipeline.Options.Scores.Person);
        Assert.Equal(0.4f, pipeline.Options.EffectiveTracker.HighScore);
        Assert.Equal(TimeSpan.FromSeconds(5), pipeline.Options.Anomalies.Aisle.MinDuration);
        Assert.Equal(DetectionThresholds.Default.Phone, pipeline.Options.Scores.Phone);
    }
}
