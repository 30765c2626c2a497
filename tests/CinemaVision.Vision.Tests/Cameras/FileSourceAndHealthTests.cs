using CinemaVision.Core.Cameras;
using CinemaVision.Core.Events;
using CinemaVision.Core.Showings;
using CinemaVision.Vision.Assets;
using CinemaVision.Vision.Cameras;
using CinemaVision.Vision.Frames;
using OpenCvSharp;

namespace CinemaVision.Vision.Tests.Cameras;

public sealed class FileSourceAndHealthTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 18, 0, 0, TimeSpan.Zero);
    private static string Pets => AssetLocator.Resolve("data/pets09-s2l1/vtest_first100.avi");

    [Fact]
    public async Task FileSource_LoopedRun_ReusesPooledBuffersAndCountsSkippedFrames()
    {
        var config = new CameraSource { CameraId = "file", Url = Pets, Loop = true, AnalysisFps = 100 };
        await using var source = FrameSources.Create(config);
        for (int i = 0; i < 300; i++)
        {
            using var frame = await source.NextFrameAsync(TimeSpan.FromSeconds(10));
            Assert.NotNull(frame);
        }

        var status = source.Status;
        Assert.True(status.FramesRead >= 300);
        Assert.True(status.FramesSkipped > 0, "a fast decoder and a slower consumer must skip, not queue");
        Assert.InRange(status.FramesSkipped, status.FramesRead - 302, status.FramesRead - 300);
        Assert.Equal(0, status.Reconnects);
    }

    [Fact]
    public async Task FileSource_MissingFile_ClearReasonThenKeepsRetrying()
    {
        var config = new CameraSource { CameraId = "file", Url = "/nonexistent/clip.avi", BackoffInitial = TimeSpan.FromMilliseconds(100), BackoffMax = TimeSpan.FromMilliseconds(200) };
        await using var source = FrameSources.Create(config);
        source.Start();
        await Task.Delay(1500);
        Assert.Contains("does not exist", source.Status.LastError, StringComparison.Ordinal);
        Assert.True(source.Status.Reconnects >= 2);
    }

    [Fact]
    public void Create_BadConfig_NamesEveryBadKey()
    {
        var ex = Assert.Throws<ArgumentException>(() => FrameSources.Create(new CameraSource { CameraId = "c", Url = "rtsp://", AnalysisFps = 0, StallTimeout = TimeSpan.Zero }));
        Assert.Contains("AnalysisFps", ex.Message, StringComparison.Ordinal);
        Assert.Contains("StallTimeout", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Url", ex.Message, StringComparison.Ordinal);
    }

    private static List<Mat> PetsFrames(int count)
    {
        var frames = new List<Mat>();
        using var capture = new VideoCapture(Pets);
        for (int i = 0; i < count; i++)
        {
            var m = new Mat();
            if (!capture.Read(m)) break;
            frames.Add(m);
        }

        return frames;
    }

    /// <summary>Feeds real PETS frames, altered by <paramref name="alter"/>, through the probes and the rules.</summary>
    private static List<CameraHealthEvent> Run(Func<Mat, int, Mat> alter, ShowingState state = ShowingState.Trailers, int frames = 30, bool frozen = false)
    {
        var source = PetsFrames(frames);
        using var probe = new FrameProbe();
        probe.SetReference(source[0]);
        var rules = new CameraHealthRules(new CameraRef("s", "a", "c"), new CameraHealthOptions { FrozenAfter = TimeSpan.FromSeconds(5) }, probe.ReferenceSharpness);
        var events = new List<CameraHealthEvent>();
        for (int i = 0; i < source.Count; i++)
        {
            using var altered = alter(frozen ? source[0] : source[i], i);
            events.AddRange(rules.Observe(T0.AddSeconds(i), probe.Measure(altered), state));
        }

        foreach (var m in source) m.Dispose();
        return events;
    }

    private static HashSet<CameraHealthKind> Started(List<CameraHealthEvent> events) => events.Where(e => e.Phase == IncidentPhase.Start).Select(e => e.Kind).ToHashSet();

    [Fact]
    public void Health_NormalPetsFrames_NoIncident() => Assert.Empty(Run((m, _) => m.Clone()));

    [Fact]
    public void Health_DarkenedRealFrames_TooDarkOutsideTheFeatureOnly()
    {
        static Mat Dark(Mat m, int _) { var d = new Mat(); m.ConvertTo(d, -1, 0.08); return d; }
        Assert.Equal([CameraHealthKind.TooDark], Started(Run(Dark, ShowingState.Trailers)));
        Assert.Empty(Started(Run(Dark, ShowingState.Feature)));
    }

    [Fact]
    public void Health_LightsOnDuringTheFeature_Reported() =>
        Assert.Contains(CameraHealthKind.LightsOn, Started(Run((m, _) => m.Clone(), ShowingState.Feature)));

    [Fact]
    public void Health_BlurredRealFrames_Blurred()
    {
        var events = Run((m, _) => { var b = new Mat(); Cv2.GaussianBlur(m, b, new Size(21, 21), 8); return b; });
        Assert.Contains(CameraHealthKind.Blurred, Started(events));
        var start = events.First(e => e.Kind == CameraHealthKind.Blurred);
        Assert.True(start.MeasuredValue < start.Threshold);
    }

    [Fact]
    public void Health_FrozenRealFrame_FrozenAfterItsTime()
    {
        var events = Run((m, _) => m.Clone(), frozen: true);
        var start = Assert.Single(events, e => e.Kind == CameraHealthKind.Frozen && e.Phase == IncidentPhase.Start);
        Assert.True((start.Timestamp - T0).TotalSeconds >= 5);
    }

    [Fact]
    public void Health_CoveredLens_CoveredNotDarkOrBlurred()
    {
        var events = Run((m, _) => { var c = m.Clone(); c.SetTo(new Scalar(20, 20, 25)); Cv2.Rectangle(c, new Rect(0, 0, 60, 40), Scalar.All(90), -1); return c; });
        Assert.Equal([CameraHealthKind.Covered], Started(events).Where(k => k != CameraHealthKind.Frozen).ToHashSet());
    }

    [Fact]
    public void Health_CameraShiftedFromTheReference_Moved()
    {
        var events = Run((m, i) =>
        {
            if (i < 10) return m.Clone();
            using var t = Mat.FromArray(new float[,] { { 1, 0, 60 }, { 0, 1, 35 } });
            var s = new Mat();
            Cv2.WarpAffine(m, s, t, m.Size(), borderMode: BorderTypes.Reflect);
            return s;
        });
        var start = Assert.Single(events, e => e.Kind == CameraHealthKind.Moved && e.Phase == IncidentPhase.Start);
        Assert.True(start.MeasuredValue > start.Threshold);
    }

    [Fact]
    public void Health_DarkForOneFrameOnly_HysteresisDoesNotFlap()
    {
        var events = Run((m, i) => { var d = new Mat(); m.ConvertTo(d, -1, i == 10 ? 0.05 : 1); return d; });
        Assert.DoesNotContain(CameraHealthKind.TooDark, Started(events));
    }
}
