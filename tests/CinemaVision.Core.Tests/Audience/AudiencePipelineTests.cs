using CinemaVision.Core.Audience;
using CinemaVision.Core.Auditoriums;
using CinemaVision.Core.Cameras;
using CinemaVision.Core.Detections;
using CinemaVision.Core.Events;
using CinemaVision.Core.Geometry;
using CinemaVision.Core.Pipeline;
using CinemaVision.Core.Seating;
using CinemaVision.Core.Showings;

namespace CinemaVision.Core.Tests.Audience;

/// <summary>The camera pipeline counting an audience from heads, with the empty hall's second signal.</summary>
public class AudiencePipelineTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 20, 0, 0, TimeSpan.Zero);
    private static readonly FrameMeasurements Good = new(90, 900, 4, 0.05);

    // Three seats in a row; a head sits above its seat (its shoulders, the anchor, on the seat).
    private static readonly CameraView View = new()
    {
        Id = "cam-1",
        Reference = new ReferenceFrame(400, 300),
        Seats =
        [
            new Seat("A1", "A", 1, [new(100, 100), new(160, 100), new(160, 200), new(100, 200)]),
            new Seat("A2", "A", 2, [new(170, 100), new(230, 100), new(230, 200), new(170, 200)]),
            new Seat("A3", "A", 3, [new(240, 100), new(300, 100), new(300, 200), new(240, 200)]),
        ],
        Zones = [new Zone("aisle", ZoneKind.Aisle, [new(320, 0), new(400, 0), new(400, 300), new(320, 300)])],
    };

    private static Detection HeadOver(string seat, float score)
    {
        float x = seat switch { "A1" => 130, "A2" => 200, _ => 270 };
        return new Detection(BoxF.FromCenter(x, 100, 24, 24), 0, score, ObjectClass.Head);
    }

    private static PipelineResult Settle(CameraPipeline pipeline, Func<int, FrameObservation> frame)
    {
        PipelineResult? last = null;
        for (int i = 0; i < 5; i++) last = pipeline.Observe(frame(i), ShowingContext.Feature);
        return last!;
    }

    [Fact]
    public void Heads_AreTheDefaultAudience_SeatPriorCountsAWeakHeadInASeatNotInTheAisle()
    {
        var pipeline = new CameraPipeline("site", "aud-1", View);
        var scores = pipeline.Options.Scores;
        var weak = (scores.SeatedHead + scores.Head) / 2;
        var inAisle = new Detection(BoxF.FromCenter(360, 150, 24, 24), 0, weak, ObjectClass.Head);

        var last = Settle(pipeline, i => new FrameObservation(T0.AddSeconds(i * 30), PassKind.Occupancy, [HeadOver("A1", weak), inAisle], Good));

        Assert.Equal(ObjectClass.Head, pipeline.Options.SeatsFrom);
        Assert.Equal(SeatState.Occupied, last.Seats["A1"]);
        Assert.Equal(1, last.People);
    }

    [Fact]
    public void ChangedSeat_WithAWeakHead_IsOccupied_WithoutOne_HoldsAnObject_UnchangedStaysEmpty()
    {
        var pipeline = new CameraPipeline("site", "aud-1", View);
        var scores = pipeline.Options.Scores;
        var faint = new Detection(HeadOver("A1", 0).Box, 0, (scores.ChangedSeatHead + scores.SeatedHead) / 2, ObjectClass.Head);
        var changes = new Dictionary<string, float> { ["A1"] = 0.8f, ["A2"] = 0.8f, ["A3"] = 0.05f };

        var last = Settle(pipeline, i => new FrameObservation(T0.AddSeconds(i * 30), PassKind.Occupancy, [faint], Good, SeatChanges: changes));

        Assert.Equal(SeatState.Occupied, last.Seats["A1"]);      // weak evidence made credible by the change
        Assert.Equal(SeatState.ObjectOnSeat, last.Seats["A2"]);  // a coat: changed, nobody there
        Assert.Equal(SeatState.Empty, last.Seats["A3"]);
        Assert.Equal(1, last.People);
        Assert.Equal(1, last.Occupancy!.SeatsOccupied);
    }

    [Fact]
    public void WithoutAReference_AFaintHeadCountsNowhere()
    {
        var pipeline = new CameraPipeline("site", "aud-1", View);
        var faint = new Detection(HeadOver("A1", 0).Box, 0, (pipeline.Options.Scores.ChangedSeatHead + pipeline.Options.Scores.SeatedHead) / 2, ObjectClass.Head);
        var last = Settle(pipeline, i => new FrameObservation(T0.AddSeconds(i * 30), PassKind.Occupancy, [faint], Good));
        Assert.Equal(SeatState.Empty, last.Seats["A1"]);
        Assert.Equal(0, last.People);
    }

    [Fact]
    public void Lighting_ReportedAfterSeveralFramesAgree()
    {
        var pipeline = new CameraPipeline("site", "aud-1", View);
        var lit = new LightingMeasurements(140, 12, 50);
        var infrared = new LightingMeasurements(120, 0.2, 45);

        Assert.Equal(LightingMode.Colour, pipeline.Observe(new FrameObservation(T0, PassKind.Health, [], Good, Lighting: lit), ShowingContext.Feature).Lighting);
        PipelineResult? last = null;
        for (int i = 1; i <= 3; i++) last = pipeline.Observe(new FrameObservation(T0.AddSeconds(i), PassKind.Health, [], Good, Lighting: infrared), ShowingContext.Feature);
        Assert.Equal(LightingMode.Infrared, last!.Lighting);
    }

    [Fact]
    public void EmptyHallCapture_ClosedStillAndNobodyForLongEnough_OncePerModeUntilOld()
    {
        var rule = new EmptyHallCaptureRule(new EmptyHallCaptureOptions { StableFor = TimeSpan.FromMinutes(3), RenewAfter = TimeSpan.FromDays(7) });
        LightingMode? Step(int minute, ShowingState state = ShowingState.Closed, int? people = 0, double difference = 0.5, LightingMode mode = LightingMode.Colour, bool healthy = true) =>
            rule.Observe(T0.AddMinutes(minute), state, people, difference, mode, healthy);

        Assert.Null(Step(0, ShowingState.Feature));           // a showing: never
        Assert.Null(Step(1));                                  // closed, still: the clock starts
        Assert.Null(Step(2, people: 1));                       // a cleaner: starts again
        Assert.Null(Step(3));
        Assert.Null(Step(5, difference: 9));                   // the picture moved: starts again
        Assert.Null(Step(6));
        Assert.Equal(LightingMode.Colour, Step(9));            // three still, empty minutes
        Assert.Null(Step(13));                                 // already captured for lit
        Assert.Null(Step(20, mode: LightingMode.Infrared));    // the lights went off: the clock starts for infrared
        Assert.Equal(LightingMode.Infrared, Step(24, mode: LightingMode.Infrared));
        Assert.Null(Step(30, healthy: false));
        Assert.Null(Step(8 * 24 * 60, people: null));
        Assert.Equal(LightingMode.Colour, Step((8 * 24 * 60) + 10, people: null)); // a week later, renewed (health passes count no one)
    }

    [Fact]
    public void Smoother_ObjectObservations_ObjectOnSeat_NotOccupied()
    {
        var history = SeatStateSmoother.SeatHistory.Of(SeatObservation.Object, SeatObservation.Object, SeatObservation.Object, SeatObservation.Empty, SeatObservation.Empty);
        Assert.Equal(SeatState.ObjectOnSeat, SeatStateSmoother.Decide(history, SeatState.Empty, new SeatSmoothingOptions()));
        var person = SeatStateSmoother.SeatHistory.Of(SeatObservation.Object, SeatObservation.Occupied, SeatObservation.Occupied, SeatObservation.Occupied, SeatObservation.Empty);
        Assert.Equal(SeatState.Occupied, SeatStateSmoother.Decide(person, SeatState.ObjectOnSeat, new SeatSmoothingOptions()));
    }

    [Fact]
    public void SceneFromSeatMap_HeadPerspectiveFromSeatSpacing_SeatsAndMasks()
    {
        var view = View with { Masks = [new Mask("clock", MaskKind.Text, [new(0, 0), new(100, 0), new(100, 20), new(0, 20)])] };
        var scene = AudienceScene.Of(view, new AudienceOptions { HeadHeightPerSeatWidth = 0.4f });

        Assert.Single(scene.Masks);
        Assert.Equal(3, scene.Seats.Count);
        // One seat row only: no perspective from it.
        Assert.Null(scene.Perspective);
        var twoRows = view with { Seats = [.. view.Seats, new Seat("B1", "B", 1, [new(100, 220), new(200, 220), new(200, 290), new(100, 290)])] };
        var perspective = AudienceScene.Of(twoRows, new AudienceOptions()).Perspective!;
        Assert.Equal(0.4f * 60, perspective.ExpectedHeightAt(150), 1);
        Assert.Equal(0.4f * 100, perspective.ExpectedHeightAt(255), 1);
    }
}
