using CinemaVision.Core.Events;
using CinemaVision.Core.Occupancy;
using CinemaVision.Edge.Analysis;

namespace CinemaVision.Edge.Tests;

public class AuditoriumRoundsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 20, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(30);

    private static CameraOccupancy Seen(string camera, params (string Seat, SeatState State)[] seats) =>
        new(camera, seats.Count(s => s.State == SeatState.Occupied), seats.ToDictionary(s => s.Seat, s => s.State));

    [Fact]
    public void RoundComplete_OneMergedSampleWithEachSeatOnce()
    {
        var rounds = new AuditoriumRounds("s", "aud", ["a", "b"], seatsTotal: 3);
        Assert.True(rounds.Due("a", T0, Period).Due);
        Assert.Null(rounds.Report("a", Seen("a", ("A1", SeatState.Occupied), ("A2", SeatState.Empty)), T0, "show"));
        Assert.False(rounds.Due("a", T0.AddSeconds(5), Period).Due);

        var merged = rounds.Report("b", Seen("b", ("A2", SeatState.Occupied), ("A3", SeatState.Empty)), T0.AddSeconds(6), "show");

        Assert.NotNull(merged);
        Assert.Null(merged.CameraId);
        Assert.Equal(2, merged.SeatsOccupied);
        Assert.Equal(3, merged.SeatsTotal);
        Assert.Equal("show", merged.ShowingId);
        Assert.True(rounds.Due("a", T0.AddSeconds(30), Period).Due);
    }

    [Fact]
    public void CameraThatNeverReports_TheNextRoundClosesTheRoundWithItsSeatsUnknown()
    {
        var rounds = new AuditoriumRounds("s", "aud", ["a", "b"], seatsTotal: 2);
        rounds.Due("a", T0, Period);
        rounds.Report("a", Seen("a", ("A1", SeatState.Occupied)), T0, null);

        var (_, closed) = rounds.Due("a", T0.AddSeconds(31), Period);

        Assert.NotNull(closed);
        Assert.Equal(1, closed.SeatsOccupied);
        Assert.Equal(1, closed.SeatsUnknown);
        Assert.True(closed.Confidence < 1);
    }

    [Fact]
    public void Phase_SpreadsAuditoriumsOverThePeriod()
    {
        var late = new AuditoriumRounds("s", "aud-2", ["a"], seatsTotal: 1, phase: 0.5);
        Assert.False(late.Due("a", T0, Period).Due);
        Assert.Equal(T0.AddSeconds(15), late.NextRound(Period));
        Assert.True(late.Due("a", T0.AddSeconds(15), Period).Due);
    }
}
