using CinemaVision.Core.Models;
using CinemaVision.Tools.Models;
using CinemaVision.Tools.Tests.Infrastructure;
using CinemaVision.Vision.Assets;
using CinemaVision.Vision.Models;

namespace CinemaVision.Tools.Tests.Models;

/// <summary>
/// `cvtools models import` with real models on the real PETS footage (full-frame passes, every 10th frame): the gate
/// promotes the 416 px YOLOX-nano over the 192 px person model and refuses the reverse.
/// </summary>
[Collection("Console")]
public sealed class ModelImportTests : IDisposable
{
    private readonly string _registry = Directory.CreateTempSubdirectory("cv-registry-").FullName;
    private readonly string? _previous = Environment.GetEnvironmentVariable(ModelRegistry.Variable);

    public ModelImportTests() => Environment.SetEnvironmentVariable(ModelRegistry.Variable, _registry);

    private static string[] Gate(string current) =>
        ["--eval-input", RealData.PetsVideo, "--eval-gt", RealData.PetsGroundTruth, "--tiling", "full", "--step", "10", "--ignore-region", "0,0,330,150", "--current", current];

    [Fact]
    public async Task Import_BetterModel_IsPromoted_AndEvalUsesItByName()
    {
        var (exit, output, error) = await Cli.RunAsync(["models", "import", AssetLocator.Resolve("models/yolox_nano_coco_416.onnx"), "--name", "pets_person", "--version", "1",
            "--like", "yolox_nano_coco_416", "--data", "COCO (the shipped weights)", "--epochs", "300", .. Gate("person_yolox_192")]);

        Assert.True(exit == 0, error + output);
        Assert.Contains("promoted", output, StringComparison.Ordinal);
        Assert.Contains("gate margins: ap50 -0.005", output, StringComparison.Ordinal);
        var registered = Assert.Single(ModelRegistry.Default.Models);
        Assert.Equal(ModelStatus.Promoted, registered.Status);
        Assert.Equal(300, registered.Card.Epochs);
        Assert.True(registered.Card.Results["ap50"] > 0.85);
        Assert.True(registered.Card.Gate!.Promote);

        var (evalExit, evalOut, evalErr) = await Cli.RunAsync("eval", "--input", RealData.PetsVideo, "--gt", RealData.PetsGroundTruth, "--model", "pets_person", "--tiling", "full", "--frames", "2");
        Assert.True(evalExit == 0, evalErr);
        Assert.Contains("full", evalOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_WorseModel_IsRefusedNamingTheFigures_AndRecordedAsRejected()
    {
        var (exit, output, _) = await Cli.RunAsync(["models", "import", AssetLocator.Resolve("models/person_yolox_192.onnx"), "--name", "pets_small", "--version", "1",
            "--like", "person_yolox_192", .. Gate("yolox_nano_coco_416")]);

        Assert.Equal(3, exit);
        Assert.Contains("refused: worse than the current model on ap50", output, StringComparison.Ordinal);
        Assert.Equal(ModelStatus.Rejected, Assert.Single(ModelRegistry.Default.Models).Status);
    }

    [Fact]
    public async Task Import_InputNotAsDeclared_RegistersNothingAndNamesTheMismatch()
    {
        var (exit, _, error) = await Cli.RunAsync("models", "import", AssetLocator.Resolve("models/person_yolox_192.onnx"), "--name", "wrong", "--like", "yolox_nano_coco_416");
        Assert.Equal(2, exit);
        Assert.Contains("[1,3,192,192] but the manifest says [1,3,416,416]", error, StringComparison.Ordinal);
        Assert.Empty(ModelRegistry.Default.Models);
        Assert.Empty(Directory.GetFiles(_registry, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public void RegisterApi_TrainingCodeRecordsItsModelCard()
    {
        var manifest = ModelCatalog.Default.Get("person_yolox_192") with { Name = "hall_person", Version = "2026.11.30" };
        var card = new ModelCard { Name = "hall_person", Version = "2026.11.30", BaseModel = "person_yolox_192", Data = "hall 3, 412 frames", DataManifest = "tiles.csv sha256 ab12", Epochs = 12, Results = new Dictionary<string, double> { ["ap50"] = 0.93 } };
        var result = ModelImport.Run(AssetLocator.Resolve("models/person_yolox_192.onnx"), manifest, card, gate: null, current: null);

        Assert.Null(result.Decision);
        var stored = ModelRegistry.Default.Find("hall_person", "2026.11.30")!;
        Assert.Equal(("person_yolox_192", "tiles.csv sha256 ab12", 12), (stored.Card.BaseModel, stored.Card.DataManifest, stored.Card.Epochs));
        Assert.Equal(0.93, stored.Card.Results["ap50"]);
        Assert.Equal(ModelCatalog.Default.Get("person_yolox_192").Sha256, stored.Manifest.Sha256);
        Assert.Throws<ModelAssetException>(() => ModelImport.Run(AssetLocator.Resolve("models/person_yolox_192.onnx"), manifest, card, null, null)); // versions are immutable
        Assert.Throws<ModelAssetException>(() => ModelImport.Run(AssetLocator.Resolve("models/person_yolox_192.onnx"), manifest with { Name = "person_yolox_192" }, card, null, null)); // shipped names are reserved
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(ModelRegistry.Variable, _previous);
        Directory.Delete(_registry, recursive: true);
    }
}
