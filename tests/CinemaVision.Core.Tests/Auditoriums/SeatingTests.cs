using CinemaVision.Core.Auditoriums;
using CinemaVision.Core.Detections;
using CinemaVision.Core.Events;
using CinemaVision.Core.Geometry;
using CinemaVision.Core.Occupancy;
using CinemaVision.Core.Seating;
using CinemaVision.Core.Showings;
using static CinemaVision.Core.Seating.SeatObservation;

namespace CinemaVision.Core.Tests.Auditoriums;

public class SeatingTests
{
    private static Seat Square(string id, float x, float y, float size = 60) =>
        new(id, id[..1], int.Parse(id[1..], System.Globalization.CultureInfo.InvariantCulture), [new(x, y), new(x + size, y), new(x + size, y + size), new(x, y + size)]);

    private static Detection Person(float x, float y, float w, float h, float score = 0.9f) => new(new BoxF(x, y, w, h), 0, score, ObjectClass.Person);

    [Fact]
    public void Assign_PersonUpperBodyInSeat_TakesThatSeat()
    {
        Seat[] seats = [Square("A1", 0, 100), Square("A2", 60, 100)];
        // Head at y=80, upper body over A2.
        var result = SeatAssigner.Assign([Person(70, 80, 40, 120)], seats);
        Assert.Equal("A2", Assert.Single(result).SeatId);
    }

    [Fact]
    public void Assign_TwoDetectionsOverOneSeat_OnlyOnePersonPerSeat()
    {
        Seat[] seats = [Square("A1", 0, 100)];
        var result = SeatAssigner.Assign([Person(10, 80, 40, 120, 0.9f), Person(15, 85, 40, 120, 0.6f)], seats);
        Assert.Single(result);
    }

    [Fact]
    public void Assign_PhonesAndOtherClasses_AreNotSeated()
    {
        var phone = new Detection(new BoxF(20, 110, 10, 15), 67, 0.9f, ObjectClass.Phone);
        Assert.Empty(SeatAssigner.Assign([phone], [Square("A1", 0, 100)]));
    }

    [Fact]
    public void Assign_FaceAnchor_IsBelowTheFace()
    {
        var face = new Detection(new BoxF(20, 60, 20, 25), 1, 0.99f, ObjectClass.Face);
        var anchor = SeatAssigner.Anchor(face, new SeatAssignmentOptions());
        Assert.True(anchor.Y > face.Box.Bottom);
        Assert.Equal("A1", Assert.Single(SeatAssigner.Assign([face], [Square("A1", 0, 70)])).SeatId);
    }

    public static TheoryData<SeatObservation[], SeatState, SeatState> SmoothingCases() => new()
    {
        // history (oldest first), current state, expected
        { [Occupied, Occupied, Occupied, Empty, Empty], SeatState.Empty, SeatState.Occupied },          // 3 of 5: occupied
        { [Occupied, Occupied, Empty, Empty, Empty], SeatState.Empty, SeatState.Empty },                // 2 of 5 from empty: stays empty
        { [Occupied, Occupied, Empty, Empty, Empty], SeatState.Occupied, SeatState.Occupied },          // hysteresis: 2 of 5 keeps occupied
        { [Occupied, Empty, Empty, Empty, Empty], SeatState.Occupied, SeatState.Empty },                // 1 of 5: empty again
        { [Unknown, Unknown, Unknown, Occupied, Occupied], SeatState.Occupied, SeatState.Unknown },     // camera unhealthy most of the window
        { [Occupied], SeatState.Unknown, SeatState.Unknown },                                          // just started: not enough evidence
        { [Empty, Empty, Empty], SeatState.Unknown, SeatState.Empty },
    };

    [Theory]
    [MemberData(nameof(SmoothingCases))]
    public void Decide_Table(SeatObservation[] history, SeatState current, SeatState expected)
    {
        var h = new SeatStateSmoother.SeatHistory(5);
        foreach (var o in history) h.Push(o);
        Assert.Equal(expected, SeatStateSmoother.Decide(h, current, new SeatSmoothingOptions()));
    }

    [Fact]
    public void Smoother_HeadTurnsForOneFrame_SeatDoesNotFlicker()
    {
        var smoother = new SeatStateSmoother(["A1"]);
        var occupied = new HashSet<string> { "A1" };
        var none = new HashSet<string>();
        for (int i = 0; i < 5; i++) smoother.Observe(occupied);
        Assert.Equal(SeatState.Occupied, smoother.StateOf("A1"));

        var changes = smoother.Observe(none).Concat(smoother.Observe(occupied)).Concat(smoother.Observe(none)).ToList();

        Assert.Empty(changes);
        Assert.Equal(SeatState.Occupied, smoother.StateOf("A1"));
    }

    [Fact]
    public void Smoother_InvalidOptions_Rejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => new SeatStateSmoother(["A1"], new SeatSmoothingOptions { OccupiedWhenAtLeast = 2, EmptyWhenAtMost = 2 }));
        Assert.Contains("flicker", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Merge_SeatSeenByTwoCameras_CountedOnce()
    {
        var left = new CameraOccupancy("left", 2, new Dictionary<string, SeatState> { ["A1"] = SeatState.Occupied, ["A2"] = SeatState.Occupied });
        var right = new CameraOccupancy("right", 1, new Dictionary<string, SeatState> { ["A2"] = SeatState.Empty, ["A3"] = SeatState.Occupied });

        var merged = OccupancyCalculator.Merge([left, right]);

        Assert.Equal(3, merged.SeatsTotal);
        Assert.Equal(3, merged.SeatsOccupied);
        Assert.Equal(3, merged.People);
        Assert.Equal(1.0, merged.Confidence);
    }

    [Fact]
    public void Merge_UnhealthyCamera_SeatsUnknownAndConfidenceDrops()
    {
        var ok = new CameraOccupancy("a", 1, new Dictionary<string, SeatState> { ["A1"] = SeatState.Occupied });
        var bad = new CameraOccupancy("b", 0, new Dictionary<string, SeatState> { ["B1"] = SeatState.Empty }, CameraHealthy: false);

        var merged = OccupancyCalculator.Merge([ok, bad]);

        Assert.Equal(SeatState.Unknown, merged.Seats["B1"]);
        Assert.Equal(1, merged.SeatsUnknown);
        Assert.True(merged.Confidence < 0.5);
    }

    [Fact]
    public void ShowingAccumulator_CheckpointPeakMeanAndEmptySeats()
    {
        var feature = new DateTimeOffset(2026, 11, 24, 20, 0, 0, TimeSpan.Zero);
        var acc = new ShowingOccupancyAccumulator("show-1", feature, TimeSpan.FromMinutes(10));
        AuditoriumOccupancy Occ(int n, params string[] empty) => new(n, 3, n, 0, 1, new Dictionary<string, SeatState>(empty.Select(e => KeyValuePair.Create(e, SeatState.Empty))));

        acc.Add(feature.AddMinutes(-5), Occ(1, "A1", "A2"));     // before the feature: ignored
        acc.Add(feature.AddMinutes(1), Occ(2, "A3"));
        acc.Add(feature.AddMinutes(10), Occ(3));
        acc.Add(feature.AddMinutes(20), Occ(1, "A1", "A2"));

        var s = acc.Summary();
        Assert.Equal(3, s.CountAtCheckpoint);
        Assert.Equal(3, s.Peak);
        Assert.Equal(2.0, s.Mean);
        Assert.Empty(s.EmptySeatsAtCheckpoint);
    }

    public static TheoryData<int, ShowingState> ScheduleCases() => new()
    {
        { -30, ShowingState.Closed },
        { 5, ShowingState.Trailers },
        { 20, ShowingState.Feature },
        { 134, ShowingState.Feature },
        { 140, ShowingState.LightsUp },
        { 150, ShowingState.Cleaning },
        { 200, ShowingState.Closed },
    };

    [Theory]
    [MemberData(nameof(ScheduleCases))]
    public void ShowingState_FromTheSchedule(int minutesAfterDoors, ShowingState expected)
    {
        var doors = new DateTimeOffset(2026, 11, 24, 18, 0, 0, TimeSpan.Zero);
        var showing = new Showing("s1", "aud-1", "Film", doors, doors.AddMinutes(15), doors.AddMinutes(135));
        Assert.Equal(expected, ShowingSchedule.StateAt([showing], doors.AddMinutes(minutesAfterDoors)).State);
    }
}
