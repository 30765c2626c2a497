using CinemaVision.Core.Detections;
using CinemaVision.Core.Geometry;
using CinemaVision.Core.Tracking;

namespace CinemaVision.Core.Tests.Rules;

public class TrackingTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.UnixEpoch;

    private static Detection P(float x, float y, float score = 0.9f) => new(new BoxF(x, y, 30, 80), 0, score, ObjectClass.Person);

    [Fact]
    public void TwoPeopleWalkingPast_KeepTheirIds()
    {
        var tracker = new ByteTracker();
        for (int f = 0; f < 30; f++)
        {
            tracker.Update([P(100 + (5 * f), 100), P(400 - (5 * f), 300)], T0.AddSeconds(f));
        }

        var ids = tracker.Tracks.Where(t => t.State == TrackState.Confirmed).Select(t => t.Id).Order().ToList();
        Assert.Equal([1, 2], ids);
        Assert.True(tracker.Tracks.Single(t => t.Id == 1).Velocity.X > 3);
    }

    [Fact]
    public void OccludedPersonAtLowScore_KeepsTheTrack()
    {
        var tracker = new ByteTracker();
        for (int f = 0; f < 10; f++) tracker.Update([P(100 + (2 * f), 100)], T0.AddSeconds(f));
        for (int f = 10; f < 15; f++) tracker.Update([P(100 + (2 * f), 100, 0.3f)], T0.AddSeconds(f));
        for (int f = 15; f < 20; f++) tracker.Update([P(100 + (2 * f), 100)], T0.AddSeconds(f));

        var track = Assert.Single(tracker.Tracks);
        Assert.Equal(1, track.Id);
        Assert.Equal(0, track.LostFrames);
    }

    [Fact]
    public void ShortMiss_SameIdAfterwards()
    {
        var tracker = new ByteTracker();
        for (int f = 0; f < 10; f++) tracker.Update([P(100, 100)], T0.AddSeconds(f));
        for (int f = 10; f < 13; f++) tracker.Update([], T0.AddSeconds(f));
        tracker.Update([P(100, 100)], T0.AddSeconds(13));
        Assert.Equal(1, Assert.Single(tracker.Tracks).Id);
    }

    [Fact]
    public void MotMetrics_CountsAnIdSwitch()
    {
        var m = new MotMetrics();
        var box = new BoxF(0, 0, 30, 80);
        m.AddFrame([(1, box)], [(10, box)]);
        m.AddFrame([(1, box)], [(11, box)]);
        m.AddFrame([(1, box)], []);
        Assert.Equal(1, m.IdSwitches);
        Assert.Equal(1, m.Misses);
        Assert.Equal(1 - (2.0 / 3), m.Mota, 5);
    }

    [Fact]
    public void Hungarian_FindsTheCheapestAssignment()
    {
        var cost = new double[,] { { 4, 1, 3 }, { 2, 0, 5 }, { 3, 2, 2 } };
        Assert.Equal([1, 0, 2], Hungarian.Solve(cost, 10));
        Assert.Equal([-1, 0], Hungarian.Solve(new double[,] { { 9, 9 }, { 0.1, 9 } }, 1));
    }
}
