using CinemaVision.Core.Cameras;
using CinemaVision.Core.Events;
using CinemaVision.Core.Showings;

namespace CinemaVision.Core.Tests.Cameras;

public class CameraRulesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 18, 0, 0, TimeSpan.Zero);
    private static readonly FrameMeasurements Good = new(120, 900, 4, 0.05);

    [Theory]
    [InlineData(0, 500)]
    [InlineData(1, 1000)]
    [InlineData(2, 2000)]
    [InlineData(3, 4000)]
    [InlineData(10, 4000)]
    public void Backoff_DoublesUpToTheMaximum(int attempt, double expectedMs)
    {
        var delay = ReconnectBackoff.Delay(attempt, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(4), jitter01: 0.5);
        Assert.Equal(expectedMs, delay.TotalMilliseconds, 1);
    }

    [Fact]
    public void Backoff_Jitter_StaysWithin20Percent()
    {
        var low = ReconnectBackoff.Delay(2, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), 0);
        var high = ReconnectBackoff.Delay(2, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), 1);
        Assert.Equal(3200, low.TotalMilliseconds, 1);
        Assert.Equal(4800, high.TotalMilliseconds, 1);
    }

    [Theory]
    [InlineData("rtsp://10.0.0.5/stream", CameraSourceKind.Stream)]
    [InlineData("http://cam/mjpg/video.mjpg", CameraSourceKind.Stream)]
    [InlineData("http://cam/snapshot.jpg", CameraSourceKind.Snapshot)]
    [InlineData("/dev/video0", CameraSourceKind.Device)]
    [InlineData("samples/clip.mp4", CameraSourceKind.File)]
    public void Kind_InferredFromTheUrl(string url, CameraSourceKind kind) => Assert.Equal(kind, CameraSource.Infer(url));

    [Fact]
    public void Validate_NamesEveryBadKeyAtOnce()
    {
        var problems = new CameraSource { CameraId = "", Url = "rtsp://", AnalysisFps = -1, Width = 640 }.Validate("cameras[2].").ToList();
        Assert.Contains(problems, p => p.StartsWith("cameras[2].CameraId", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("cameras[2].Url", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("cameras[2].AnalysisFps", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("cameras[2].Width/Height", StringComparison.Ordinal));
    }

    private static List<CameraHealthEvent> Feed(CameraHealthRules rules, IEnumerable<FrameMeasurements> frames, ShowingState state = ShowingState.Trailers)
    {
        var events = new List<CameraHealthEvent>();
        int i = 0;
        foreach (var m in frames) events.AddRange(rules.Observe(T0.AddSeconds(i++), m, state));
        return events;
    }

    [Fact]
    public void Blurred_EntersAfterThreeAndLeavesAfterThreeGood_OneIncident()
    {
        var rules = new CameraHealthRules(new CameraRef("s", "a", "c"), referenceSharpness: 900);
        var blurred = Good with { Sharpness = 100 };
        var events = Feed(rules, [Good, blurred, blurred, blurred, blurred, Good, blurred, Good, Good, Good]);

        Assert.Equal([IncidentPhase.Start, IncidentPhase.End], events.Where(e => e.Kind == CameraHealthKind.Blurred).Select(e => e.Phase));
        var start = events.First();
        Assert.Equal(100, start.MeasuredValue);
        Assert.Equal(900 * 0.35, start.Threshold, 3);
    }

    [Fact]
    public void Dark_DuringFeatureIsNormal_LightsOnIsNot()
    {
        var rules = new CameraHealthRules(new CameraRef("s", "a", "c"));
        var dark = Good with { Brightness = 10 };
        Assert.Empty(Feed(rules, Enumerable.Repeat(dark, 10), ShowingState.Feature));
        var bright = Feed(new CameraHealthRules(new CameraRef("s", "a", "c")), Enumerable.Repeat(Good with { Brightness = 160 }, 5), ShowingState.Feature);
        Assert.Equal(CameraHealthKind.LightsOn, Assert.Single(bright).Kind);
    }

    [Fact]
    public void Offline_AfterSilence_EndsWhenFramesReturn()
    {
        var rules = new CameraHealthRules(new CameraRef("s", "a", "c"), new CameraHealthOptions { OfflineAfter = TimeSpan.FromSeconds(15) });
        Assert.Empty(rules.ObserveNoFrame(T0.AddSeconds(10), T0, "stalled"));
        var start = Assert.Single(rules.ObserveNoFrame(T0.AddSeconds(20), T0, "Connection refused"));
        Assert.Equal(CameraHealthKind.Offline, start.Kind);
        Assert.Equal("Connection refused", start.Detail);
        Assert.Contains(rules.Observe(T0.AddSeconds(21), Good, ShowingState.Trailers), e => e.Kind == CameraHealthKind.Offline && e.Phase == IncidentPhase.End);
    }
}
