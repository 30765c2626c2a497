using System.Diagnostics;
using CinemaVision.Core.Detections;
using CinemaVision.Core.Tiling;
using CinemaVision.Vision.Detectors;
using CinemaVision.Vision.Models;
using OpenCvSharp;

namespace CinemaVision.Vision.Tests.Detectors;

/// <summary>
/// Small ONNX graphs in the Ultralytics output layouts, built by Debian's python3-onnx (ultralytics_graphs.py), with
/// known candidates. No Ultralytics model is shipped here; a data team's own YOLOv5/v8/11 head or person model drops
/// in through a manifest entry, and these graphs prove the decoders read those layouts as the exporter writes them.
/// </summary>
public sealed class UltralyticsGraphs : IDisposable
{
    public UltralyticsGraphs()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("cv-ultralytics-").FullName;
        var script = Path.Combine(AppContext.BaseDirectory, "Detectors", "ultralytics_graphs.py");
        var psi = new ProcessStartInfo("/usr/bin/python3", [script, Directory]) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start /usr/bin/python3");
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"building the test graphs needs Debian python3-onnx (scripts/setup --with-test-deps installs it): {error}");
    }

    public string Directory { get; }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

public sealed class UltralyticsDecoderTests(UltralyticsGraphs graphs) : IClassFixture<UltralyticsGraphs>
{
    private static ModelManifest Manifest(string decoder) => new()
    {
        Name = $"test_{decoder}",
        Version = "test",
        File = "models/none.onnx",
        Sha256 = new string('0', 64),
        Decoder = decoder,
        // Ultralytics' convention: RGB, x / 255, letterbox centred, pad 114.
        Input = new ModelInput { Name = "images", Shape = [1, 3, 64, 64], ColorOrder = "rgb", Mean = [0, 0, 0], Std = [255, 255, 255], Resize = "letterbox", Anchor = "center", PadValue = 114 },
        ClassNames = ["person", "head"],
        ClassMap = new Dictionary<string, string> { ["person"] = "Person", ["head"] = "Head" },
    };

    private TiledDetector Open(string file, string decoder)
    {
        var model = OnnxModelSession.Open(Manifest(decoder), Path.Combine(graphs.Directory, file), verifyHash: false);
        var merge = DetectionOptions.DefaultMerge with { DefaultScoreThreshold = 0.5f, ScoreThresholds = new Dictionary<ObjectClass, float>() };
        return new TiledDetector(model, model.Decoder, new DetectionOptions { Model = model.Manifest.Name, Tiling = TilingMode.Full, Merge = merge });
    }

    [Theory]
    [InlineData("yolov5.onnx", "ultralytics-v5", 0.855f, 0.72f)]
    [InlineData("yolov8.onnx", "ultralytics-v8", 0.90f, 0.80f)]
    [InlineData("yolov8.onnx", "yolo11", 0.90f, 0.80f)]
    public void Decode_KnownCandidates_PersonAndHeadInFramePixels(string file, string decoder, float personScore, float headScore)
    {
        using var detector = Open(file, decoder);
        // 128 x 128 into 64 x 64: scale 0.5, no padding, so frame = input x 2.
        using var frame = new Mat(128, 128, MatType.CV_8UC3, Scalar.All(90));

        var found = detector.Detect(frame).OrderBy(d => d.Class).ToList();

        Assert.Equal(2, found.Count); // the weak candidate is under the threshold
        var person = found[0];
        Assert.Equal(ObjectClass.Person, person.Class);
        Assert.Equal(personScore, person.Score, 3);
        Assert.Equal(64, person.Box.CenterX, 1);
        Assert.Equal(60, person.Box.CenterY, 1);
        Assert.Equal(20, person.Box.Width, 1);
        Assert.Equal(40, person.Box.Height, 1);
        var head = found[1];
        Assert.Equal(ObjectClass.Head, head.Class);
        Assert.Equal(1, head.ClassId);
        Assert.Equal(headScore, head.Score, 3);
        Assert.Equal(24, head.Box.CenterX, 1);
        Assert.Equal(20, head.Box.CenterY, 1);
        Assert.Equal(12, head.Box.Width, 1);
    }

    [Fact]
    public void Info_DeclaresTheProductClassesTheModelGives()
    {
        using var detector = Open("yolov8.onnx", "ultralytics-v8");
        Assert.True(detector.Info.Gives(ObjectClass.Head));
        Assert.True(detector.Info.Gives(ObjectClass.Person));
        Assert.False(detector.Info.Gives(ObjectClass.Phone));
    }

    [Fact]
    public void Open_V8GraphDeclaredAsV5_NamesTheLayoutMismatch()
    {
        var ex = Assert.Throws<ModelAssetException>(() => OnnxModelSession.Open(Manifest("ultralytics-v5"), Path.Combine(graphs.Directory, "yolov8.onnx"), verifyHash: false));
        Assert.Contains("YOLOv5", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_UnknownDecoderKind_ListsTheKnownOnes()
    {
        var ex = Assert.Throws<ModelAssetException>(() => OnnxModelSession.Open(Manifest("yolov12"), Path.Combine(graphs.Directory, "yolov8.onnx"), verifyHash: false));
        Assert.Contains("ultralytics-v8", ex.Message, StringComparison.Ordinal);
        Assert.Contains("lffd", ex.Message, StringComparison.Ordinal);
    }
}
