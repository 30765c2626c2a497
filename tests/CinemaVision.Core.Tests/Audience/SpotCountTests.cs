using CinemaVision.Core.Audience;
using CinemaVision.Core.Events;

namespace CinemaVision.Core.Tests.Audience;

public class SpotCountTests
{
    private static readonly DateTimeOffset T = new(2026, 11, 24, 20, 0, 0, TimeSpan.Zero);

    private static OccupancySample Sample(DateTimeOffset at, int people) => new("o", "s", "a", null, at, people, people, 100, 0, 1);

    [Fact]
    public void Compare_NearestSampleInTheWindow_ErrorAndSeatAgreement()
    {
        var spot = new SpotCount("s", "a", T, 40, ["A1", "A2", "A3"]);
        var samples = new[] { Sample(T.AddMinutes(-3), 10), Sample(T.AddSeconds(-40), 36), Sample(T.AddSeconds(70), 38) };
        var seats = new Dictionary<string, SeatState> { ["A1"] = SeatState.Occupied, ["A2"] = SeatState.Empty, ["A3"] = SeatState.Occupied, ["B1"] = SeatState.Occupied };

        var result = SpotCountComparer.Compare(spot, samples, seats, TimeSpan.FromMinutes(2));

        Assert.Equal(36, result.ReportedPeople);
        Assert.Equal(-4, result.Error);
        Assert.Equal((2, 1, 1), (result.SeatsAgreed!.Value, result.SeatsMissed!.Value, result.SeatsFalse!.Value));
    }

    [Fact]
    public void Compare_NothingReportedNearby_NoError()
    {
        var result = SpotCountComparer.Compare(new SpotCount("s", "a", T, 40), [Sample(T.AddMinutes(-30), 40)], null, TimeSpan.FromMinutes(2));
        Assert.Null(result.Error);
    }

    [Fact]
    public void Calibration_ConsistentUndercount_LowersOneStep_OvercountRaises_SmallErrorsLeaveIt()
    {
        var under = Enumerable.Range(0, 4).Select(i => (T.AddHours(i), 50, -8)).ToList();
        var over = Enumerable.Range(0, 4).Select(i => (T.AddHours(i), 50, +6)).ToList();
        var fine = Enumerable.Range(0, 4).Select(i => (T.AddHours(i), 50, i % 2 == 0 ? 1 : -2)).ToList();

        var lowered = SeatPriorCalibration.Decide(under, 0.25f, T.AddHours(5), null);
        var raised = SeatPriorCalibration.Decide(over, 0.25f, T.AddHours(5), null);

        Assert.Equal(0.22f, lowered!.To, 3);
        Assert.Equal(0.28f, raised!.To, 3);
        Assert.Contains("too few", lowered.Reason, StringComparison.Ordinal);
        Assert.Null(SeatPriorCalibration.Decide(fine, 0.25f, T.AddHours(5), null));
    }

    [Fact]
    public void Calibration_NeverLeavesTheBounds_NorAdjustsTooSoonOrOnOldCounts()
    {
        var under = Enumerable.Range(0, 5).Select(i => (T.AddHours(i), 50, -20)).ToList();
        var options = new SeatPriorCalibrationOptions { Minimum = 0.2f, Step = 0.05f };

        Assert.Equal(0.2f, SeatPriorCalibration.Decide(under, 0.22f, T.AddHours(6), null, options)!.To, 3);
        Assert.Null(SeatPriorCalibration.Decide(under, 0.2f, T.AddHours(6), null, options)); // already at the bound
        Assert.Null(SeatPriorCalibration.Decide(under, 0.3f, T.AddHours(6), lastAdjusted: T.AddHours(1), options)); // within the interval
        // After the interval only counts made since the last adjustment count: two are too few.
        Assert.Null(SeatPriorCalibration.Decide(under, 0.3f, T.AddDays(1), lastAdjusted: T.AddHours(2.5), options));
    }

    [Fact]
    public void Calibration_FewerSpotCountsThanNeeded_NoChange()
    {
        Assert.Null(SeatPriorCalibration.Decide([(T, 50, -30), (T.AddHours(1), 50, -30)], 0.25f, T.AddHours(2), null));
    }
}
