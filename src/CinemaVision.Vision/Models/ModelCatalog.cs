using System.Text.Json;
using CinemaVision.Vision.Assets;

namespace CinemaVision.Vision.Models;

/// <summary>The models and data assets listed in <c>models/models.json</c>.</summary>
public sealed class ModelCatalog
{
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { ReadCommentHandling = JsonCommentHandling.Skip };
    private static readonly Lazy<ModelCatalog> DefaultCatalog = new(() => Load(DefaultManifestPath));

    private ModelCatalog(string manifestPath, IReadOnlyList<ModelManifest> models, IReadOnlyList<DataAsset> data)
    {
        ManifestPath = manifestPath;
        Models = models;
        Data = data;
    }

    public string ManifestPath { get; }
    public IReadOnlyList<ModelManifest> Models { get; }
    public IReadOnlyList<DataAsset> Data { get; }

    /// <summary>The repository's <c>models/models.json</c>; overridable with CINEMAVISION_MODELS_MANIFEST.</summary>
    public static string DefaultManifestPath =>
        Environment.GetEnvironmentVariable("CINEMAVISION_MODELS_MANIFEST") is { Length: > 0 } p
            ? p
            : Path.Combine(AssetLocator.RepositoryRoot ?? AppContext.BaseDirectory, "models", "models.json");

    public static ModelCatalog Default => DefaultCatalog.Value;

    public static ModelCatalog Load(string manifestPath)
    {
        if (!File.Exists(manifestPath))
        {
            throw new ModelAssetException("models.json", $"model manifest not found at {manifestPath}");
        }

        ManifestDocument? doc;
        try
        {
            doc = JsonSerializer.Deserialize<ManifestDocument>(File.ReadAllText(manifestPath), JsonOptions);
        }
        catch (JsonException ex)
        {
            throw new ModelAssetException("models.json", $"{manifestPath} is not valid: {ex.Message}", ex);
        }

        if (doc?.Models is null || doc.Models.Count == 0)
        {
            throw new ModelAssetException("models.json", $"{manifestPath} lists no models");
        }

        var duplicate = doc.Models.GroupBy(m => m.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ModelAssetException(duplicate.Key, $"listed twice in {manifestPath}");
        }

        return new ModelCatalog(manifestPath, doc.Models, doc.Data ?? []);
    }

    /// <summary>
    /// A model by name: a shipped one, else the site's registered one (its promoted version, else its newest);
    /// <c>NAME:VERSION</c> names a registered version.
    /// </summary>
    public ModelManifest Get(string name)
    {
        if (Models.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase)) is { } shipped) return shipped;
        var registry = ModelRegistry.Default;
        var parts = name.Split(':', 2);
        var registered = parts.Length == 2 ? registry.Find(parts[0], parts[1]) : registry.Current(name);
        return registered?.Manifest ?? throw new ModelAssetException(name,
            $"unknown model; known models: {string.Join(", ", Models.Select(m => m.Name).Concat(registry.Models.Select(m => m.Manifest.Name).Distinct(StringComparer.OrdinalIgnoreCase)))}");
    }

    /// <summary>The verified local file of a model (cache or mirror).</summary>
    public static string ResolveFile(ModelManifest model) =>
        (model.File.StartsWith("registry/", StringComparison.Ordinal) && File.Exists(Path.Combine(ModelRegistry.Default.Root, model.File["registry/".Length..]))
            ? Path.Combine(ModelRegistry.Default.Root, model.File["registry/".Length..])
            : AssetLocator.TryResolve(model.File)) ?? throw new ModelAssetException(
            model.Name,
            $"weights '{model.File}' are not in {AssetLocator.CacheRoot}; run './cvtools models fetch' (or set {AssetLocator.MirrorVariable})");

    private sealed record ManifestDocument(List<ModelManifest> Models, List<DataAsset>? Data);
}

/// <summary>A model or asset that is missing, corrupt or does not match its manifest. The message names it.</summary>
public sealed class ModelAssetException : Exception
{
    public ModelAssetException(string assetName, string problem, Exception? inner = null)
        : base($"Model '{assetName}': {problem}", inner)
    {
        AssetName = assetName;
        Problem = problem;
    }

    public string AssetName { get; }
    public string Problem { get; }
}
