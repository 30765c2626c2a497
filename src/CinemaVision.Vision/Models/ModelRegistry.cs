using System.Text.Json;
using System.Text.Json.Serialization;
using CinemaVision.Core.Models;
using CinemaVision.Vision.Assets;
using CinemaVision.Vision.Detectors;

namespace CinemaVision.Vision.Models;

/// <summary>A model version in the local registry: its manifest entry (as in models.json), status and card.</summary>
public sealed record RegisteredModel
{
    public required ModelManifest Manifest { get; init; }

    public string Status { get; init; } = ModelStatus.Candidate;

    public required ModelCard Card { get; init; }

    public DateTimeOffset RegisteredAt { get; init; }
}

/// <summary>
/// The site's own model versions, beside the shipped ones of <c>models/models.json</c>: weights under
/// <c>.cache/assets/registry/models/NAME/VERSION.onnx</c> (or <c>CINEMAVISION_MODEL_REGISTRY</c>), entries and model
/// cards in <c>registry.json</c>. Registration copies the file, hashes it and loads it with ONNX Runtime against the
/// declared input and classes before anything is recorded, so a registered model always loads. The catalog lists the
/// promoted version of each name (else its newest), so <c>cvtools eval --model NAME</c> uses it; <c>NAME:VERSION</c>
/// names a version. Training code registers through <see cref="Register"/>.
/// </summary>
public sealed class ModelRegistry
{
    public const string Variable = "CINEMAVISION_MODEL_REGISTRY";
    private const string IndexFile = "registry.json";
    private static readonly JsonSerializerOptions Json = CreateJson();
    private readonly object _gate = new();

    public ModelRegistry(string root)
    {
        Root = Path.GetFullPath(root);
    }

    public string Root { get; }

    /// <summary>The registry of this installation (beside the asset cache).</summary>
    public static ModelRegistry Default => new(DefaultRoot);

    public static string DefaultRoot =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } r ? Path.GetFullPath(r) : Path.Combine(AssetLocator.CacheRoot, "registry");

    public IReadOnlyList<RegisteredModel> Models
    {
        get
        {
            var index = Path.Combine(Root, IndexFile);
            if (!File.Exists(index)) return [];
            try
            {
                return JsonSerializer.Deserialize<RegistryDocument>(File.ReadAllText(index), Json)?.Models ?? [];
            }
            catch (JsonException ex)
            {
                throw new ModelAssetException(IndexFile, $"{index} is not valid: {ex.Message}", ex);
            }
        }
    }

    /// <summary>The version of a name that the catalog uses: the latest promoted one, else the newest.</summary>
    public RegisteredModel? Current(string name)
    {
        var versions = Models.Where(m => string.Equals(m.Manifest.Name, name, StringComparison.OrdinalIgnoreCase)).OrderBy(m => m.RegisteredAt).ToList();
        return versions.LastOrDefault(m => m.Status == ModelStatus.Promoted) ?? versions.LastOrDefault();
    }

    public RegisteredModel? Find(string name, string version) =>
        Models.FirstOrDefault(m => string.Equals(m.Manifest.Name, name, StringComparison.OrdinalIgnoreCase) && m.Manifest.Version == version);

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

        lock (_gate)
        {
            if (Find(manifest.Name, manifest.Version) is not null) throw new ModelAssetException(manifest.Name, $"version {manifest.Version} is already registered; versions are immutable");
            var relative = $"registry/models/{manifest.Name}/{manifest.Version}.onnx";
            var target = Path.Combine(Root, "models", manifest.Name, manifest.Version + ".onnx");
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            var staged = target + ".partial";
            File.Copy(onnxFile, staged, overwrite: true);
            try
            {
                var sha = AssetFetcher.HashAsync(staged, CancellationToken.None).GetAwaiter().GetResult();
                var entry = manifest with { File = relative, Sha256 = sha };
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
        lock (_gate)
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
    public string WeightsOf(RegisteredModel model) => Path.Combine(Root, "models", model.Manifest.Name, model.Manifest.Version + ".onnx");

    private void Save(IReadOnlyList<RegisteredModel> models)
    {
        Directory.CreateDirectory(Root);
        var index = Path.Combine(Root, IndexFile);
        var tmp = index + ".partial";
        File.WriteAllText(tmp, JsonSerializer.Serialize(new RegistryDocument(models.ToList()), Json));
        File.Move(tmp, index, overwrite: true);
    }

    private static JsonSerializerOptions CreateJson()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };
        o.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        return o;
    }

    private sealed record RegistryDocument(List<RegisteredModel> Models);
}
