using System.Text.Json;
using CinemaVision.Tools.Tests.Infrastructure;
using CinemaVision.Vision.Assets;

namespace CinemaVision.Tools.Tests;

/// <summary>`cvtools eval` is an interface users and CI rely on: its options and JSON keys are pinned here.</summary>
[Collection("Console")]
public sealed class EvalCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cv-eval-").FullName;

    private static Task<(int Exit, string Out, string Err)> RunAsync(params string[] args) => Cli.RunAsync(args);

    [Fact]
    public async Task Eval_CompareOnPets_WritesOneObjectPerConfigurationWithTheStableKeys()
    {
        var json = Path.Combine(_dir, "pets.json");
        var (exit, output, error) = await RunAsync("eval", "--input", AssetLocator.Resolve("data/pets09-s2l1/vtest_first100.avi"),
            "--gt", AssetLocator.Resolve("data/pets09-s2l1/gt_first100.txt"), "--gt-format", "mot", "--compare", "full,tiled",
            "--step", "10", "--ignore-region", "0,0,330,150", "--json", json);

        Assert.True(exit == 0, error);
        Assert.Contains("tiled", output, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        foreach (var name in new[] { "full", "tiled" })
        {
            var r = doc.RootElement.GetProperty(name);
            foreach (var key in new[] { "precision", "recall", "f1", "count_mae", "frames", "ms_per_frame" }) Assert.True(r.TryGetProperty(key, out _), $"{name}.{key} missing");
            Assert.Equal(10, r.GetProperty("frames").GetInt32());
            Assert.InRange(r.GetProperty("precision").GetDouble(), 0.8, 1.0);
        }

        Assert.True(doc.RootElement.GetProperty("tiled").GetProperty("tiles_per_frame").GetDouble() > 1);
    }

    [Fact]
    public async Task Eval_SingleImageWithCsvLabels_TiledRecallAboveFullFrame()
    {
        var json = Path.Combine(_dir, "solvay.json");
        var (exit, _, error) = await RunAsync("eval", "--input", AssetLocator.Resolve("data/solvay-1927/1280px-Solvay_conference_1927.png"),
            "--gt", AssetLocator.Resolve("data/solvay-1927/faces_1280x926.csv"), "--match", "center", "--compare", "full,tiled", "--json", json);

        Assert.True(exit == 0, error);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        double full = doc.RootElement.GetProperty("full").GetProperty("recall").GetDouble();
        double tiled = doc.RootElement.GetProperty("tiled").GetProperty("recall").GetDouble();
        Assert.True(tiled >= full + 0.5, $"tiled {tiled} vs full {full}");
    }

    [Fact]
    public async Task Eval_MalformedGroundTruth_ExitsWithAClearMessageNamingTheLine()
    {
        var gt = Path.Combine(_dir, "bad.txt");
        File.WriteAllText(gt, "1,1,10,10,20,40,1,0,0,0\n2,1,ten,10,20,40,1,0,0,0\n");
        var (exit, _, error) = await RunAsync("eval", "--input", AssetLocator.Resolve("data/pets09-s2l1/vtest_first100.avi"), "--gt", gt, "--frames", "3");

        Assert.Equal(2, exit);
        Assert.Contains("line 2", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Eval_UnknownModel_ListsTheKnownModels()
    {
        var (exit, _, error) = await RunAsync("eval", "--input", AssetLocator.Resolve("data/photos/kite.jpg"), "--gt", AssetLocator.Resolve("data/solvay-1927/faces_1280x926.csv"), "--model", "yolov99");
        Assert.Equal(2, exit);
        Assert.Contains("yolov99", error, StringComparison.Ordinal);
        Assert.Contains("yolox_nano_coco_416", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Detect_Image_WritesAnAnnotatedImage()
    {
        var outPath = Path.Combine(_dir, "kite.png");
        var (exit, output, error) = await RunAsync("detect", AssetLocator.Resolve("data/photos/kite.jpg"), "--out", outPath);
        Assert.True(exit == 0, error);
        Assert.True(new FileInfo(outPath).Length > 10_000);
        Assert.Contains("people", output, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
