using CinemaVision.Vision.Detectors;
using CinemaVision.Vision.Models;

namespace CinemaVision.Vision.Tests.Models;

public sealed class ModelAssetTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cv-models-").FullName;

    private static ModelManifest Nano => ModelCatalog.Default.Get("yolox_nano_coco_416");

    [Fact]
    public void Catalog_ListsTheThreeShippedModelFamilies()
    {
        var names = ModelCatalog.Default.Models.Select(m => m.Name).ToList();
        Assert.Contains("yolox_nano_coco_416", names);
        Assert.Contains("person_yolox_192", names);
        Assert.Contains("ultraface_rfb_320", names);
        Assert.All(ModelCatalog.Default.Models, m => Assert.Matches("^[0-9a-f]{64}$", m.Sha256));
    }

    [Fact]
    public void Open_TruncatedWeights_FailsNamingTheModelAndTheHashMismatch()
    {
        var path = Path.Combine(_dir, "truncated.onnx");
        var bytes = File.ReadAllBytes(ModelCatalog.ResolveFile(Nano));
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        var ex = Assert.Throws<ModelAssetException>(() => OnnxModelSession.Open(Nano, path));

        Assert.Equal("yolox_nano_coco_416", ex.AssetName);
        Assert.Contains("sha256", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_CorruptWeightsWithoutHashCheck_IsALoadErrorNotACrash()
    {
        var path = Path.Combine(_dir, "corrupt.onnx");
        File.WriteAllBytes(path, [.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 7))]);

        var ex = Assert.Throws<ModelAssetException>(() => OnnxModelSession.Open(Nano, path, verifyHash: false));

        Assert.Contains("ONNX Runtime cannot load", ex.Message, StringComparison.Ordinal);
        Assert.Contains("yolox_nano_coco_416", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_ManifestInputNameWrong_NamesExpectedAndActualInputs()
    {
        var wrong = Nano with { Input = Nano.Input with { Name = "input_1" } };
        var ex = Assert.Throws<ModelAssetException>(() => OnnxModelSession.Open(wrong));
        Assert.Contains("input_1", ex.Message, StringComparison.Ordinal);
        Assert.Contains("images", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_ManifestShapeWrong_NamesTheMismatch()
    {
        var wrong = Nano with { Input = Nano.Input with { Shape = [1, 3, 640, 640] } };
        var ex = Assert.Throws<ModelAssetException>(() => OnnxModelSession.Open(wrong));
        Assert.Contains("[1,3,640,640]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_ManifestClassCountWrong_NamesBothCounts()
    {
        var wrong = Nano with { ClassNames = ["person"] };
        var ex = Assert.Throws<ModelAssetException>(() => OnnxModelSession.Open(wrong));
        Assert.Contains("80 classes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_RealModels_ReadInputSizeAndClassesFromTheGraph()
    {
        using var nano = OnnxModelSession.Open(Nano);
        using var person = OnnxModelSession.Open(ModelCatalog.Default.Get("person_yolox_192"));
        using var face = OnnxModelSession.Open(ModelCatalog.Default.Get("ultraface_rfb_320"));

        Assert.Equal(new(416, 416), nano.InputSize);
        Assert.Equal(80, nano.ClassCount);
        Assert.Equal(new(192, 192), person.InputSize);
        Assert.Equal(1, person.ClassCount);
        Assert.Equal(new(320, 240), face.InputSize);
    }

    [Fact]
    public async Task Fetch_FromMirror_VerifiesAndPublishesOnlyAMatchingFile()
    {
        var mirror = Directory.CreateDirectory(Path.Combine(_dir, "mirror", "models")).Parent!.FullName;
        var cache = Path.Combine(_dir, "cache");
        var good = ModelCatalog.ResolveFile(Nano);
        File.Copy(good, Path.Combine(mirror, "models", "nano.onnx"));
        File.WriteAllBytes(Path.Combine(mirror, "models", "bad.onnx"), File.ReadAllBytes(good)[..1000]);
        using var http = new HttpClient();
        var fetcher = new AssetFetcher(http, cache, mirror);

        var ok = await fetcher.FetchAsync("nano", "models/nano.onnx", Nano.Sha256, url: null, CancellationToken.None);
        var ex = await Assert.ThrowsAsync<ModelAssetException>(() => fetcher.FetchAsync("bad", "models/bad.onnx", Nano.Sha256, url: null, CancellationToken.None));

        Assert.True(File.Exists(ok.Path));
        Assert.Contains("sha256 mismatch", ex.Message, StringComparison.Ordinal);
        Assert.Contains("1000 bytes", ex.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(cache, "models", "bad.onnx")));
        Assert.False(File.Exists(Path.Combine(cache, "models", "bad.onnx.partial")));
        Assert.True((await fetcher.FetchAsync("nano", "models/nano.onnx", Nano.Sha256, null, CancellationToken.None)).AlreadyCached);
    }

    [Fact]
    public async Task Fetch_NoMirrorNoUrl_SaysHowToProvideIt()
    {
        using var http = new HttpClient();
        var fetcher = new AssetFetcher(http, Path.Combine(_dir, "cache"), mirrorRoot: null);
        var ex = await Assert.ThrowsAsync<ModelAssetException>(() => fetcher.FetchAsync("x", "models/x.onnx", Nano.Sha256, null, CancellationToken.None));
        Assert.Contains("CINEMAVISION_ASSET_MIRROR", ex.Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
