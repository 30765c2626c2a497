using System.Text.Json;
using CinemaVision.Vision.Assets;

namespace CinemaVision.Vision.Models;

/// <summary>
/// The models and data assets listed in <c>models/models.json</c>, plus the site's own models (trained or imported
/// on this machine) from the site registry file, which has the same shape. Registered models are never committed:
/// the registry and their weights live under git-ignored <c>.cache/models</c> unless CINEMAVISION_MODEL_REGISTRY says
/// otherwise. Every command finds both kinds by name.
/// </summary>
public sealed class ModelCatalog
{
    public const string RegistryVariable = "CINEMAVISION_MODEL_REGISTRY";

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { ReadCommentHandling = JsonCommentHandling.Skip };
    private static readonly Lock DefaultLock = new();
    private static (ModelCatalog Catalog, string Registry, DateTime Stamp)? _default;

    private ModelCatalog(string manifestPath, IReadOnlyList<ModelManifest> models, IReadOnlyList<DataAsset> data, string? registryPath, IReadOnlyList<ModelManifest> registered)
    {
        ManifestPath = manifestPath;
        Models = [.. models, .. registered];
        Data = data;
        RegistryPath = registryPath;
        Registered = registered;
    }

    public string ManifestPath { get; }

    /// <summary>Every model: the manifest's, then the site's registered ones.</summary>
    public IReadOnlyList<ModelManifest> Models { get; }
    public IReadOnlyList<DataAsset> Data { get; }

    /// <summary>The site registry file read, if any.</summary>
    public string? RegistryPath { get; }

    /// <summary>The site's own models (their <see cref="ModelManifest.File"/> is an absolute path; nothing to fetch).</summary>
    public IReadOnlyList<ModelManifest> Registered { get; }

    /// <summary>The repository's <c>models/models.json</c>; overridable with CINEMAVISION_MODELS_MANIFEST.</summary>
    public static string DefaultManifestPath =>
        Environment.GetEnvironmentVariable("CINEMAVISION_MODELS_MANIFEST") is { Length: > 0 } p
            ? p
            : Path.Combine(AssetLocator.RepositoryRoot ?? AppContext.BaseDirectory, "models", "models.json");

    /// <summary>The site registry: CINEMAVISION_MODEL_REGISTRY (a registry.json, or a folder holding one), else <c>.cache/models/registry.json</c> at the repository root.</summary>
    public static string DefaultRegistryPath
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable(RegistryVariable);
            if (configured is { Length: > 0 })
            {
                return configured.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? Path.GetFullPath(configured) : Path.Combine(Path.GetFullPath(configured), "registry.json");
            }

            return Path.Combine(AssetLocator.RepositoryRoot ?? Directory.GetCurrentDirectory(), ".cache", "models", "registry.json");
        }
    }

    /// <summary>The default catalog, read again when the site registry changes (a model registered by this process is found at once).</summary>
    public static ModelCatalog Default
    {
        get
        {
            var registry = DefaultRegistryPath;
            var stamp = File.Exists(registry) ? File.GetLastWriteTimeUtc(registry) : DateTime.MinValue;
            lock (DefaultLock)
            {
                if (_default is not { } d || d.Registry != registry || d.Stamp != stamp)
                {
                    _default = (Load(DefaultManifestPath, registry), registry, stamp);
                }

                return _default.Value.Catalog;
            }
        }
    }

    /// <summary>Reads the manifest and, when it exists, the site registry (a registered model may not reuse a manifest name).</summary>
    public static ModelCatalog Load(string manifestPath, string? registryPath = null)
    {
        var doc = Read(manifestPath, "models.json");
        if (doc.Models is null || doc.Models.Count == 0)
        {
            throw new ModelAssetException("models.json", $"{manifestPath} lists no models");
        }

        List<ModelManifest> registered = [];
        if (registryPath is not null && File.Exists(registryPath))
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(registryPath))!;
            registered = [.. (Read(registryPath, "registry.json").Models ?? []).Select(m => m with
            {
                File = Path.GetFullPath(Path.Combine(dir, m.File)),
                Card = m.Card is null ? null : Path.GetFullPath(Path.Combine(dir, m.Card)),
            })];
        }

        var duplicate = doc.Models.Concat(registered).GroupBy(m => m.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ModelAssetException(duplicate.Key, $"listed twice in {manifestPath}{(registered.Count > 0 ? $" and {registryPath}" : "")}");
        }

        return new ModelCatalog(manifestPath, doc.Models, doc.Data ?? [], registryPath, registered);
    }

    private static ManifestDocument Read(string path, string what)
    {
        if (!File.Exists(path))
        {
            throw new ModelAssetException(what, $"model manifest not found at {path}");
        }

        try
        {
            return JsonSerializer.Deserialize<ManifestDocument>(File.ReadAllText(path), JsonOptions)
                ?? throw new ModelAssetException(what, $"{path} is empty");
        }
        catch (JsonException ex)
        {
            throw new ModelAssetException(what, $"{path} is not valid: {ex.Message}", ex);
        }
    }

    public bool IsRegistered(ModelManifest model) => Registered.Any(r => string.Equals(r.Name, model.Name, StringComparison.OrdinalIgnoreCase));

    public ModelManifest Get(string name) =>
        Models.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ModelAssetException(name, $"unknown model; known models: {string.Join(", ", Models.Select(m => m.Name))}");

    /// <summary>The verified local file of a model (cache or mirror; a registered model's own file).</summary>
    public static string ResolveFile(ModelManifest model) =>
        AssetLocator.TryResolve(model.File) ?? throw new ModelAssetException(
            model.Name,
            Path.IsPathRooted(model.File)
                ? $"weights file {model.File} of this registered model does not exist (moved or deleted?)"
                : $"weights '{model.File}' are not in {AssetLocator.CacheRoot}; run './cvtools models fetch' (or set {AssetLocator.MirrorVariable})");

    private sealed record ManifestDocument(List<ModelManifest>? Models, List<DataAsset>? Data);
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
