using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using CinemaVision.Core.Models;
using CinemaVision.Vision.Assets;
using CinemaVision.Vision.Detectors;

namespace CinemaVision.Vision.Models;

/// <summary>A model version in the site registry: its manifest entry (as in models.json), status and card.</summary>
public sealed record RegisteredModel
{
    public required ModelManifest Manifest { get; init; }

    public string Status { get; init; } = ModelStatus.Candidate;

    public required ModelCard Card { get; init; }

    public DateTimeOffset RegisteredAt { get; init; }
}

/// <summary>
/// The site's own models, beside the shipped ones of <c>models/models.json</c>, in the site registry folder
/// (git-ignored <c>.cache/models</c>, or <c>CINEMAVISION_MODEL_REGISTRY</c>: a folder or its <c>registry.json</c>):
/// <list type="bullet">
/// <item><c>registry.json</c>: in the shape of models.json, one entry per name (the promoted version, else the newest),
/// files relative to the folder, so the catalog and every command find the model by name;</item>
/// <item><c>NAME/VERSION.onnx</c> and <c>NAME/card-VERSION.json</c>: each version's weights and model card;</item>
/// <item><c>versions.json</c>: every version with its status (candidate, promoted, rejected), card and time.</item>
/// </list>
/// Registration copies the file, hashes it and loads it with ONNX Runtime against the declared input and classes
/// before anything is recorded, so a registered model always loads. <c>NAME:VERSION</c> names one version.
/// </summary>
public sealed class ModelRegistry
{
    public const string Variable = "CINEMAVISION_MODEL_REGISTRY";
    public const string IndexFile = "registry.json";
    private const string VersionsFile = "versions.json";
    private static readonly JsonSerializerOptions Json = CreateJson();
    private static readonly Lock Gate = new();

    public ModelRegistry(string root)
    {
        Root = Path.GetFullPath(root);
    }

    /// <summary>The registry folder.</summary>
    public string Root { get; }

    /// <summary>The registry of this installation.</summary>
    public static ModelRegistry Default => new(DefaultRoot);

    public static string DefaultRoot
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable(Variable);
            if (configured is { Length: > 0 })
            {
                var full = Path.GetFullPath(configured);
                return full.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? Path.GetDirectoryName(full)! : full;
            }

            return Path.Combine(AssetLocator.RepositoryRoot ?? Directory.GetCurrentDirectory(), ".cache", "models");
        }
    }

    /// <summary>Every registered version, oldest first.</summary>
    public IReadOnlyList<RegisteredModel> Models
    {
        get
        {
            var path = Path.Combine(Root, VersionsFile);
            if (!File.Exists(path)) return [];
            try
            {
                return JsonSerializer.Deserialize<VersionsDocument>(File.ReadAllText(path), Json)?.Versions ?? [];
            }
            catch (JsonException ex)
            {
                throw new ModelAssetException(VersionsFile, $"{path} is not valid: {ex.Message}", ex);
            }
        }
    }

    /// <summary>The version of a name the catalog uses: the latest promoted one, else the newest.</summary>
    public RegisteredModel? Current(string name)
    {
        var versions = Models.Where(m => string.Equals(m.Manifest.Name, name, StringComparison.OrdinalIgnoreCase)).ToList();
        return versions.LastOrDefault(m => m.Status == ModelStatus.Promoted) ?? versions.LastOrDefault();
    }

    public RegisteredModel? Find(string name, string version) =>
        Models.FirstOrDefault(m => string.Equals(m.Manifest.Name, name, StringComparison.OrdinalIgnoreCase) && m.Manifest.Version == version);

    /// <summary>
    /// The manifest of a registered name (the entry of <c>registry.json</c>, which training tools may write too) or
    /// <c>NAME:VERSION</c>, with its file as an absolute path; null when the registry has none.
    /// </summary>
    public ModelManifest? Resolve(string name)
    {
        var parts = name.Split(':', 2);
        if (parts.Length == 2) return Find(parts[0], parts[1]) is { } v ? Absolute(v.Manifest) : null;
        var index = Path.Combine(Root, IndexFile);
        if (!File.Exists(index)) return null;
        try
        {
            var entries = JsonNode.Parse(File.ReadAllText(index))?["models"]?.AsArray() ?? [];
            var entry = entries.FirstOrDefault(e => string.Equals(e?["name"]?.GetValue<string>(), name, StringComparison.OrdinalIgnoreCase));
            return entry is null ? null : Absolute(entry.Deserialize<ModelManifest>(Json)!);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            throw new ModelAssetException(IndexFile, $"{index} is not valid: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Registers an ONNX file under <paramref name="manifest"/>'s name and version with its card. The file is copied
    /// into the registry, hashed, and loaded with ONNX Runtime against the declared input and classes; any mismatch
    /// is a <see cref="ModelAssetException"/> and nothing is recorded. Names of shipped models are refused (a
    /// fine-tuned model gets its own name), and a name and version are registered once.
    /// </summary>
    public RegisteredModel Register(string onnxFile, ModelManifest manifest, ModelCard card, IReadOnlyCollection<string>? reservedNames = null)
    {
        if (!File.Exists(onnxFile)) throw new ModelAssetException(manifest.Name, $"weights file {onnxFile} does not exist");
        if (reservedNames?.Contains(manifest.Name, StringComparer.OrdinalIgnoreCase) == true) throw new ModelAssetException(manifest.Name, "is a shipped model's name; register a fine-tuned model under a name of its own");
        if (!System.Text.RegularExpressions.Regex.IsMatch(manifest.Name, "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$") || !System.Text.RegularExpressions.Regex.IsMatch(manifest.Version, "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"))
        {
            throw new ModelAssetException(manifest.Name, "name and version: letters, digits, '.', '_' or '-'");
        }

        lock (Gate)
        {
            if (Find(manifest.Name, manifest.Version) is not null) throw new ModelAssetException(manifest.Name, $"version {manifest.Version} is already registered; versions are immutable");
            var relative = $"{manifest.Name}/{manifest.Version}.onnx";
            var target = Path.Combine(Root, manifest.Name, manifest.Version + ".onnx");
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            var staged = target + ".partial";
            File.Copy(onnxFile, staged, overwrite: true);
            try
            {
                var sha = AssetFetcher.HashAsync(staged, CancellationToken.None).GetAwaiter().GetResult();
                var entry = manifest with { File = relative, Sha256 = sha, Url = null };
                // The check that matters: ONNX Runtime loads it and its input and classes are as declared.
                using (OnnxModelSession.Open(entry, staged, verifyHash: false))
                {
                }

                File.Move(staged, target, overwrite: true);
                var registered = new RegisteredModel { Manifest = entry, Card = card with { Name = entry.Name, Version = entry.Version }, RegisteredAt = DateTimeOffset.UtcNow };
                Save([.. Models, registered]);
                return registered;
            }
            finally
            {
                if (File.Exists(staged)) File.Delete(staged);
            }
        }
    }

    /// <summary>Records the gate's verdict (promoted or rejected) and the measured results on a version's card.</summary>
    public RegisteredModel SetStatus(string name, string version, string status, ModelCard card)
    {
        lock (Gate)
        {
            var models = Models.ToList();
            int i = models.FindIndex(m => string.Equals(m.Manifest.Name, name, StringComparison.OrdinalIgnoreCase) && m.Manifest.Version == version);
            if (i < 0) throw new ModelAssetException(name, $"version {version} is not registered");
            models[i] = models[i] with { Status = status, Card = card with { Name = models[i].Manifest.Name, Version = version } };
            Save(models);
            return models[i];
        }
    }

    /// <summary>The absolute path of a registered version's weights.</summary>
    public string WeightsOf(RegisteredModel model) => Path.Combine(Root, model.Manifest.Name, model.Manifest.Version + ".onnx");

    private ModelManifest Absolute(ModelManifest m) => Path.IsPathRooted(m.File) ? m : m with { File = Path.GetFullPath(Path.Combine(Root, m.File)) };

    /// <summary>Writes the version history, each card, and the catalog's entry per name (replacing only the names this registry holds).</summary>
    private void Save(IReadOnlyList<RegisteredModel> versions)
    {
        Directory.CreateDirectory(Root);
        foreach (var v in versions)
        {
            WriteAtomic(Path.Combine(Root, v.Manifest.Name, $"card-{v.Manifest.Version}.json"), JsonSerializer.Serialize(v.Card, Json));
        }

        WriteAtomic(Path.Combine(Root, VersionsFile), JsonSerializer.Serialize(new VersionsDocument(versions.ToList()), Json));
        var indexPath = Path.Combine(Root, IndexFile);
        var doc = File.Exists(indexPath) ? JsonNode.Parse(File.ReadAllText(indexPath)) as JsonObject ?? [] : [];
        doc["$comment"] ??= "Models trained or imported on this machine. Same shape as models/models.json; files are relative to this folder. Never committed.";
        var entries = doc["models"] as JsonArray ?? [];
        doc["models"] = entries;
        foreach (var name in versions.Select(v => v.Manifest.Name).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            var current = Current(versions, name)!;
            var node = JsonSerializer.SerializeToNode(current.Manifest, Json)!.AsObject();
            node["card"] = $"{current.Manifest.Name}/card-{current.Manifest.Version}.json";
            var at = entries.Select((e, i) => (e, i)).FirstOrDefault(p => string.Equals(p.e?["name"]?.GetValue<string>(), name, StringComparison.OrdinalIgnoreCase));
            if (at.e is not null) entries[at.i] = node;
            else entries.Add(node);
        }

        WriteAtomic(indexPath, doc.ToJsonString(Json));
    }

    private static RegisteredModel? Current(IReadOnlyList<RegisteredModel> versions, string name)
    {
        var mine = versions.Where(m => string.Equals(m.Manifest.Name, name, StringComparison.OrdinalIgnoreCase)).ToList();
        return mine.LastOrDefault(m => m.Status == ModelStatus.Promoted) ?? mine.LastOrDefault();
    }

    private static void WriteAtomic(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path + ".partial", text);
        File.Move(path + ".partial", path, overwrite: true);
    }

    private static JsonSerializerOptions CreateJson()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };
        o.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        return o;
    }

    private sealed record VersionsDocument(List<RegisteredModel> Versions);
}
