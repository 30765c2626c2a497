using CinemaVision.Vision.Models;

namespace CinemaVision.Vision.Tests.Models;

/// <summary>The catalog reads the site registry (models trained or imported here) beside the shipped manifest.</summary>
public sealed class SiteRegistryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cv-registry-").FullName;

    [Fact]
    public void Load_WithARegistry_AddsItsModels_FilesAndCardsRelativeToTheRegistry()
    {
        var registry = Write("hall3_heads");
        var catalog = ModelCatalog.Load(ModelCatalog.DefaultManifestPath, registry);

        var model = catalog.Get("hall3_heads");
        Assert.True(catalog.IsRegistered(model));
        Assert.False(catalog.IsRegistered(catalog.Get("lffd_head")));
        Assert.Equal(Path.Combine(_dir, "hall3_heads", "hall3_heads.onnx"), model.File);
        Assert.Equal(Path.Combine(_dir, "hall3_heads", "card.md"), model.Card);
        Assert.Equal(catalog.Models.Count - 1, ModelCatalog.Load(ModelCatalog.DefaultManifestPath).Models.Count);
    }

    [Fact]
    public void Load_ARegistryReusingAShippedName_FailsNamingBothFiles()
    {
        var registry = Write("lffd_head");
        var ex = Assert.Throws<ModelAssetException>(() => ModelCatalog.Load(ModelCatalog.DefaultManifestPath, registry));
        Assert.Contains("listed twice", ex.Message, StringComparison.Ordinal);
        Assert.Contains(registry, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ResolveFile_ARegisteredModelWhoseWeightsWereDeleted_SaysSoInsteadOfAskingToFetch()
    {
        var catalog = ModelCatalog.Load(ModelCatalog.DefaultManifestPath, Write("gone"));
        var ex = Assert.Throws<ModelAssetException>(() => ModelCatalog.ResolveFile(catalog.Get("gone")));
        Assert.Contains("registered model does not exist", ex.Message, StringComparison.Ordinal);
    }

    private string Write(string name)
    {
        var path = Path.Combine(_dir, "registry.json");
        File.WriteAllText(path, $$"""
            { "models": [ {
              "name": "{{name}}", "version": "site-1", "file": "{{name}}/{{name}}.onnx", "card": "{{name}}/card.md",
              "sha256": "{{new string('0', 64)}}", "decoder": "lffd",
              "input": { "name": "data", "shape": [1, 3, 480, 640], "dynamicSize": true, "colorOrder": "bgr" },
              "strides": [4, 8, 16, 32], "receptiveFieldStarts": [3, 7, 15, 31], "boxScales": [10, 20, 40, 80],
              "classNames": ["head"], "classMap": { "head": "Head" } } ] }
            """);
        return path;
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
