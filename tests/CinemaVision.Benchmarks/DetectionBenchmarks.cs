using BenchmarkDotNet.Attributes;
using CinemaVision.Core.Geometry;
using CinemaVision.Vision.Assets;
using CinemaVision.Vision.Detectors;
using OpenCvSharp;

namespace CinemaVision.Benchmarks;

/// <summary>
/// End-to-end tiled detection per frame size (letterbox + inference + decode + merge), with allocations.
/// Run: dotnet run -c Release --project tests/CinemaVision.Benchmarks -- --filter '*Detection*'
/// The quicker `./cvtools bench` prints the same figures plus raw ms per tile and efficiency.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 2, iterationCount: 8)]
public class DetectionBenchmarks
{
    private TiledDetector _detector = null!;
    private Mat _frame = null!;

    [Params("768x576", "1920x1080")]
    public string FrameSize { get; set; } = "768x576";

    [GlobalSetup]
    public void Setup()
    {
        _detector = DetectorFactory.Create(new DetectionOptions { Tiling = TilingMode.Tiled, TileSizes = [416] });
        using var capture = new VideoCapture(AssetLocator.Resolve("data/pets09-s2l1/vtest_first100.avi"));
        using var first = new Mat();
        capture.Read(first);
        var wh = FrameSize.Split('x');
        _frame = new Mat();
        Cv2.Resize(first, _frame, new Size(int.Parse(wh[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(wh[1], System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Benchmark(Baseline = true)]
    public int FullFrameOnly() => _detector.Model is { } ? DetectFull() : 0;

    [Benchmark]
    public int NativeTilesPlusFullFrame() => _detector.Detect(_frame).Count;

    private TiledDetector? _full;

    private int DetectFull()
    {
        _full ??= DetectorFactory.Create(new DetectionOptions { Tiling = TilingMode.Full });
        return _full.Detect(_frame).Count;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _detector.Dispose();
        _full?.Dispose();
        _frame.Dispose();
    }
}
