using System.Text.Json;
using System.Text.Json.Nodes;
using CinemaVision.Vision.Models;

namespace CinemaVision.Tools.Training;

/// <summary>A model to register: its manifest entry (as in models.json), its weights, its card and data manifest.</summary>
public sealed record ModelRegistration(ModelManifest Manifest, string Weights, ModelCard Card, string DataManifestCsv);

/// <summary>Where a site's own models are registered so that every command (eval, detect, the agents) finds them by name.</summary>
public interface IModelRegistry
{
    /// <summary>Registers the model under its name, replacing an earlier registration of the same name; returns the entry as the catalog reads it.</summary>
    ModelManifest Register(ModelRegistration registration);
}

/// <summary>
/// The site registry on this machine: <c>registry.json</c> in the shape of <c>models/models.json</c> (read by
/// <see cref="ModelCatalog"/>), and per model a folder with its weights, <c>card.json</c>, <c>card.md</c> and the
/// data manifest. It lives under the git-ignored <c>.cache/models</c> by default, so weights trained here are never
/// committed. Names of the shipped manifest cannot be taken.
/// </summary>
public sealed class LocalModelRegistry(string registryPath) : IModelRegistry
{
    private static readonly JsonSerializerOptions ManifestJson = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public string RegistryPath { get; } = Path.GetFullPath(registryPath);

    public string Folder => Path.GetDirectoryName(RegistryPath)!;

    public static LocalModelRegistry Default => new(ModelCatalog.DefaultRegistryPath);

    public string ModelFolder(string name) => Path.Combine(Folder, name);

    public ModelManifest Register(ModelRegistration registration)
    {
        var name = registration.Manifest.Name;
        var shipped = ModelCatalog.Load(ModelCatalog.DefaultManifestPath);
        if (shipped.Models.Any(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase)))
        {
            throw new ArgumentException($"'{name}' is a model of models/models.json; register the trained model under another name.");
        }

        var dir = Directory.CreateDirectory(ModelFolder(name)).FullName;
        var weights = Path.Combine(dir, name + ".onnx");
        if (!string.Equals(Path.GetFullPath(registration.Weights), weights, StringComparison.Ordinal))
        {
            File.Copy(registration.Weights, weights + ".tmp", overwrite: true);
            File.Move(weights + ".tmp", weights, overwrite: true);
        }

        WriteAtomic(Path.Combine(dir, "card.json"), JsonSerializer.Serialize(registration.Card, ModelCard.Json));
        WriteAtomic(Path.Combine(dir, "card.md"), registration.Card.ToMarkdown());
        WriteAtomic(Path.Combine(dir, "data-manifest.csv"), registration.DataManifestCsv);

        var entry = registration.Manifest with { File = $"{name}/{name}.onnx", Card = $"{name}/card.md", Url = null };
        var doc = File.Exists(RegistryPath) ? JsonNode.Parse(File.ReadAllText(RegistryPath)) as JsonObject ?? [] : [];
        doc["$comment"] ??= "Models trained or imported on this machine (cvtools train). Same shape as models/models.json; files are relative to this folder. Never committed.";
        var models = doc["models"] as JsonArray ?? [];
        doc["models"] = models;
        var node = JsonSerializer.SerializeToNode(entry, ManifestJson)!;
        var index = models.Select((m, i) => (m, i)).FirstOrDefault(p => string.Equals(p.m?["name"]?.GetValue<string>(), name, StringComparison.OrdinalIgnoreCase));
        if (index.m is not null) models[index.i] = node;
        else models.Add(node);
        WriteAtomic(RegistryPath, doc.ToJsonString(ManifestJson));
        return ModelCatalog.Load(ModelCatalog.DefaultManifestPath, RegistryPath).Get(name);
    }

    private static void WriteAtomic(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path + ".tmp", text);
        File.Move(path + ".tmp", path, overwrite: true);
    }
}
