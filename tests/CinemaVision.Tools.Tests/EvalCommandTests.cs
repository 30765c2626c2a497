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

        // AP, the precision-recall curve, sizes and count error sit beside the stable keys; charts beside the JSON.
        foreach (var name in new[] { "full", "tiled" })
        {
            var r = doc.RootElement.GetProperty(name);
            Assert.InRange(r.GetProperty("ap50").GetDouble(), 0.7, 1.0);
            Assert.InRange(r.GetProperty("ap50_95").GetDouble(), 0.2, r.GetProperty("ap50").GetDouble());
            Assert.Equal(101, r.GetProperty("pr_curve").GetProperty("precision").GetArrayLength());
            Assert.Equal(51, r.GetProperty("sizes").GetProperty("medium").GetProperty("labels").GetInt32());
            Assert.Equal(r.GetProperty("count_mae").GetDouble(), r.GetProperty("count_error").GetProperty("mean_absolute").GetDouble(), 3);
        }

        Assert.True(new FileInfo(Path.Combine(_dir, "pets_pr.png")).Length > 10_000);
        Assert.True(new FileInfo(Path.Combine(_dir, "pets_sizes.png")).Length > 10_000);
    }

    [Fact]
    public async Task Eval_SeatMapWithFourFacesRemovedFromTheLabels_SeatAccuracyCountsThoseSeats()
    {
        // The labels are edited (4 of the 29 real face boxes dropped, as if those people had left); the photo is real.
        var lines = File.ReadAllLines(AssetLocator.Resolve("data/solvay-1927/faces_1280x926.csv")).Where(l => !l.StartsWith('#')).ToList();
        var gt = Path.Combine(_dir, "faces-minus-4.csv");
        File.WriteAllLines(gt, lines.Skip(4));
        var json = Path.Combine(_dir, "seats.json");
        var (exit, output, error) = await RunAsync("eval", "--input", AssetLocator.Resolve("data/solvay-1927/1280px-Solvay_conference_1927.png"), "--gt", gt,
            "--class", "face", "--model", "ultraface_rfb_320", "--match", "center", "--auditorium", Path.Combine(AssetLocator.RepositoryRoot!, "samples", "solvay.auditorium.json"), "--json", json);

        Assert.True(exit == 0, error);
        Assert.Contains("seats 29 x 1 frames", output, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var seats = doc.RootElement.GetProperty("seats");
        Assert.Equal(25, seats.GetProperty("occupied_both").GetInt32());
        Assert.Equal(4, seats.GetProperty("occupied_detections_only").GetInt32());
        Assert.Equal(0, seats.GetProperty("occupied_labels_only").GetInt32());
        Assert.Equal(25.0 / 29, seats.GetProperty("accuracy").GetDouble(), 3);
        Assert.True(doc.RootElement.TryGetProperty("ap_center", out _));
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
