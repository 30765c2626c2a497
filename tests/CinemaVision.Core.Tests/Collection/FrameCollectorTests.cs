using CinemaVision.Core.Collection;
using CinemaVision.Core.Detections;
using CinemaVision.Core.Geometry;
using CinemaVision.Core.Models;

namespace CinemaVision.Core.Tests.Collection;

public class FrameCollectorTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 19, 0, 0, TimeSpan.Zero);

    private static Detection Person(float score) => new(new BoxF(0, 0, 10, 20), 0, score, ObjectClass.Person);

    private static FrameObservation Frame(double minutes, float[]? scores = null, int? full = null, int? tiled = null, int? spot = null, string[]? events = null, DateTimeOffset[]? flips = null) =>
        new(T0.AddMinutes(minutes), (scores ?? [0.9f]).Select(Person).ToList(), _ => 0.55f, full, tiled, flips, spot, events);

    [Fact]
    public void Off_ByDefault_KeepsNothing()
    {
        var collector = new FrameCollector(new FrameCollectionPolicy());
        Assert.False(collector.Observe(Frame(0, events: ["aisle"])).Keep);
    }

    [Fact]
    public void Schedule_KeepsOneFrameEveryInterval()
    {
        var collector = new FrameCollector(new FrameCollectionPolicy { Enabled = true, ScheduleMinutes = 30 });
        var kept = Enumerable.Range(0, 120).Where(m => collector.Observe(Frame(m)).Keep).ToList();
        Assert.Equal([0, 30, 60, 90], kept);
    }

    [Theory]
    [InlineData(new[] { 0.5f, 0.6f, 0.58f, 0.9f }, null, null, null, "near-threshold")]
    [InlineData(new[] { 0.9f }, 12, 17, null, "tiled-vs-full")]
    [InlineData(new[] { 0.9f }, null, null, -4, "spot-count")]
    public void Unsure_Frames_AreKeptWithTheirReason(float[] scores, int? full, int? tiled, int? spot, string reason)
    {
        var collector = new FrameCollector(new FrameCollectionPolicy { Enabled = true, ScheduleMinutes = 0 });
        var d = collector.Observe(Frame(1, scores, full, tiled, spot));
        Assert.True(d.Keep);
        Assert.Equal([reason], d.Reasons);
        Assert.True(d.Uncertainty > 0.5);
    }

    [Fact]
    public void Sure_Frame_IsNotKeptOffSchedule()
    {
        var collector = new FrameCollector(new FrameCollectionPolicy { Enabled = true, ScheduleMinutes = 0 });
        var d = collector.Observe(Frame(1, [0.95f, 0.9f, 0.3f], full: 12, tiled: 13, spot: 1));
        Assert.False(d.Keep);
    }

    [Fact]
    public void SeatFlipping_WithinTheWindow_IsKept()
    {
        var collector = new FrameCollector(new FrameCollectionPolicy { Enabled = true, ScheduleMinutes = 0, SeatFlips = 4, FlipWindowMinutes = 5 });
        var recent = Enumerable.Range(0, 4).Select(i => T0.AddMinutes(8 + i)).ToArray();
        var old = Enumerable.Range(0, 4).Select(i => T0.AddMinutes(i)).ToArray();
        Assert.False(collector.Observe(Frame(12, flips: old)).Keep);
        Assert.Equal([CollectionReasons.SeatFlipping], collector.Observe(Frame(12, flips: recent)).Reasons);
    }

    [Fact]
    public void Events_OfTheChosenKinds_AreKeptEachTime()
    {
        var collector = new FrameCollector(new FrameCollectionPolicy { Enabled = true, ScheduleMinutes = 0, EventKinds = ["piracy"] });
        Assert.False(collector.Observe(Frame(1, events: ["aisle"])).Keep);
        var d = collector.Observe(Frame(2, events: ["piracy"]));
        Assert.Equal(("piracy", true), (d.EventKind, d.Keep));
        Assert.True(collector.Observe(Frame(2.5, events: ["piracy"])).Keep);
    }

    [Fact]
    public void CooldownAndHourlyBudget_LimitWhatIsKept()
    {
        var collector = new FrameCollector(new FrameCollectionPolicy { Enabled = true, ScheduleMinutes = 0, ReasonCooldownMinutes = 10, MaxFramesPerHour = 3 });
        var unsure = new[] { 0.5f, 0.56f, 0.6f };
        var kept = Enumerable.Range(0, 60).Where(m => collector.Observe(Frame(m, unsure)).Keep).ToList();
        Assert.Equal([0, 10, 20], kept);
        Assert.True(collector.Observe(Frame(61, unsure)).Keep); // the first hour's frames have left the budget
    }

    [Fact]
    public void InvalidPolicy_IsRefusedNamingTheField()
    {
        var ex = Assert.Throws<ArgumentException>(() => new FrameCollector(new FrameCollectionPolicy { RetentionDays = 0, MaxBytes = 10 }));
        Assert.Contains("retentionDays", ex.Message, StringComparison.Ordinal);
        Assert.Contains("maxBytes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Retention_OlderThanTheLimitFirst_ThenOldestUntilUnderTheCap()
    {
        var now = T0.AddDays(20);
        StoredFrame[] frames = [new("old", T0, 100), new("a", now.AddDays(-3), 400), new("b", now.AddDays(-2), 400), new("c", now.AddDays(-1), 400)];
        Assert.Equal(["old", "a"], FrameRetention.ToDelete(frames, now, retentionDays: 14, maxBytes: 900));
        Assert.Equal(["old"], FrameRetention.ToDelete(frames, now, retentionDays: 14, maxBytes: 5000));
    }
}

public class PromotionGateTests
{
    private static GateFigures F(double ap50, double precision, double recall, double mae, double ap = 0.4) => new(ap50, ap, precision, recall, mae, 100);

    [Fact]
    public void Better_IsPromoted()
    {
        var d = PromotionGate.Decide(F(0.90, 0.91, 0.88, 1.2), F(0.85, 0.90, 0.84, 1.8));
        Assert.True(d.Promote, d.Summary);
        Assert.All(d.Checks, c => Assert.True(c.Passed));
    }

    [Theory]
    [InlineData(0.84, 0.91, 0.88, 1.2, "ap50")]
    [InlineData(0.90, 0.85, 0.88, 1.2, "precision")]
    [InlineData(0.90, 0.91, 0.80, 1.2, "recall")]
    [InlineData(0.90, 0.91, 0.88, 2.5, "count_mae")]
    public void WorseOnAnyFigureBeyondItsMargin_IsRefusedNamingIt(double ap50, double p, double r, double mae, string figure)
    {
        var d = PromotionGate.Decide(F(ap50, p, r, mae), F(0.85, 0.90, 0.84, 1.8));
        Assert.False(d.Promote);
        Assert.Contains(figure, d.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void WithinMargins_AndAMinimumGain_Decides()
    {
        var current = F(0.850, 0.90, 0.84, 1.8);
        Assert.True(PromotionGate.Decide(F(0.848, 0.89, 0.835, 1.9), current).Promote);
        Assert.False(PromotionGate.Decide(F(0.855, 0.90, 0.84, 1.8), current, new GateMargins { MinimumGain = 0.01 }).Promote);
    }

    [Fact]
    public void DifferentSets_AreNotCompared()
    {
        var d = PromotionGate.Decide(F(0.9, 0.9, 0.9, 1) with { Frames = 50 }, F(0.8, 0.8, 0.8, 2));
        Assert.False(d.Promote);
        Assert.Contains("different sets", d.Summary, StringComparison.Ordinal);
    }
}
