using CinemaVision.Core.Events;
using CinemaVision.Core.Showings;

namespace CinemaVision.Core.Tests.Auditoriums;

public class ReconciliationTests
{
    private static readonly DateTimeOffset Doors = new(2026, 11, 24, 18, 0, 0, TimeSpan.Zero);
    private static readonly Showing Show = new("s1", "aud-1", "Film", Doors, Doors.AddMinutes(15), Doors.AddHours(2));

    private static OccupancySample Sample(int minuteAfterFeature, int people) =>
        new($"o{minuteAfterFeature}", "site", "aud-1", null, Show.FeatureStart.AddMinutes(minuteAfterFeature), people, people, 10, 0, 0.9, "s1");

    [Fact]
    public void Reconcile_CountAtCheckpointPeakAndSeatDifferences()
    {
        var states = new Dictionary<string, SeatState> { ["A1"] = SeatState.Occupied, ["A2"] = SeatState.Empty, ["A3"] = SeatState.Occupied, ["A4"] = SeatState.Unknown };
        var r = ShowingReconciler.Reconcile(Show, new HashSet<string> { "A1", "A2", "A4" }, [Sample(-5, 9), Sample(10, 2), Sample(16, 3), Sample(60, 5)], states, TimeSpan.FromMinutes(15));

        Assert.Equal(3, r.TicketsSold);
        Assert.Equal(3, r.PeopleAtCheckpoint);
        Assert.Equal(5, r.PeakPeople);   // the sample before the feature does not count
        Assert.Equal(0, r.Difference);
        Assert.Equal(["A3"], r.OccupiedButUnsold);
        Assert.Equal(["A2"], r.SoldButEmpty);
        Assert.Equal(["A4"], r.SeatsUnknown);
    }

    [Fact]
    public void Reconcile_NoSamples_CountUnknown()
    {
        var r = ShowingReconciler.Reconcile(Show, new HashSet<string> { "A1" }, [], new Dictionary<string, SeatState>(), TimeSpan.FromMinutes(15));
        Assert.Null(r.PeopleAtCheckpoint);
        Assert.Null(r.Difference);
        Assert.Equal(["A1"], r.SeatsUnknown);
    }
}
