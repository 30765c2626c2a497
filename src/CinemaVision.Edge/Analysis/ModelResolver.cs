using CinemaVision.Edge.Configuration;
using CinemaVision.Vision.Detectors;
using CinemaVision.Vision.Models;

namespace CinemaVision.Edge.Analysis;

/// <summary>
/// The one place the agent turns a model name into weights. Today: the manifest (models/models.json, or the file the
/// configuration names) and the verified asset cache (or the configured folder). Per-auditorium model versions pulled
/// from the centre plug in here: every detector the agent builds asks this resolver.
/// </summary>
public interface IModelResolver
{
    ResolvedModel Resolve(string model, string? auditoriumId = null);
}

/// <summary>Models from a manifest and a folder (or the asset cache), each checked against its sha256 when loaded.</summary>
public sealed class ManifestModelResolver(ModelLocation location) : IModelResolver
{
    private readonly Lazy<ModelCatalog> _catalog = new(() => location.Manifest is { } path ? ModelCatalog.Load(path) : ModelCatalog.Default);

    public ResolvedModel Resolve(string model, string? auditoriumId = null)
    {
        var manifest = _catalog.Value.Get(model);
        var path = location.Directory is { } dir ? Path.Combine(dir, manifest.File) : ModelCatalog.ResolveFile(manifest);
        if (!File.Exists(path)) throw new ModelAssetException(model, $"weights {path} do not exist");
        return new ResolvedModel(manifest, path);
    }
}
