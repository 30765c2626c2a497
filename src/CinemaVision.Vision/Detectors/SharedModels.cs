using System.Collections.Concurrent;
using CinemaVision.Vision.Models;

namespace CinemaVision.Vision.Detectors;

/// <summary>Which weights a model name stands for: its manifest and the file to load.</summary>
public sealed record ResolvedModel(ModelManifest Manifest, string Path);

/// <summary>
/// One ONNX Runtime session per model for the whole process (weights loaded and verified once), shared by every
/// camera's detectors: a session runs concurrent calls safely, each with its own buffers. Detectors made here do not
/// own their session. Sessions are keyed by the weights a name resolves to, so an auditorium that runs another version
/// of a model (pulled from the centre) gets its own session while the others keep sharing theirs.
/// </summary>
public sealed class SharedModels : IDisposable
{
    private readonly Func<string, string?, ResolvedModel> _resolve;
    private readonly OnnxThreading _threading;
    private readonly ConcurrentDictionary<string, Lazy<(OnnxModelSession Session, ModelManifest Manifest)>> _sessions = new(StringComparer.Ordinal);

    /// <param name="resolve">Model name to weights (the agent's model resolver).</param>
    public SharedModels(Func<string, ResolvedModel> resolve, OnnxThreading? threading = null)
        : this((name, _) => resolve(name), threading)
    {
    }

    /// <param name="resolve">Model name and scope (an auditorium id, or null) to weights.</param>
    public SharedModels(Func<string, string?, ResolvedModel> resolve, OnnxThreading? threading = null)
    {
        _resolve = resolve;
        _threading = threading ?? new OnnxThreading(IntraOpThreads: 1);
    }

    /// <summary>Models loaded so far.</summary>
    public IReadOnlyCollection<string> Loaded => [.. _sessions.Where(s => s.Value.IsValueCreated).Select(s => s.Key[..s.Key.IndexOf('|', StringComparison.Ordinal)]).Distinct(StringComparer.Ordinal)];

    /// <summary>A detector over the shared session of <see cref="DetectionOptions.Model"/>.</summary>
    public TiledDetector Detector(DetectionOptions options) => Detector(options, null);

    /// <summary>A detector over the shared session of the weights <see cref="DetectionOptions.Model"/> resolves to for <paramref name="scope"/>.</summary>
    public TiledDetector Detector(DetectionOptions options, string? scope)
    {
        ArgumentNullException.ThrowIfNull(options);
        var model = _resolve(options.Model, scope);
        var key = model.Manifest.Name + "|" + Path.GetFullPath(model.Path);
        var lazy = _sessions.GetOrAdd(key, _ => new Lazy<(OnnxModelSession, ModelManifest)>(() => (OnnxModelSession.Open(model.Manifest, model.Path, _threading, options.VerifyModelHash), model.Manifest)));
        (OnnxModelSession Session, ModelManifest Manifest) loaded;
        try
        {
            loaded = lazy.Value;
        }
        catch
        {
            // A file that does not load is not cached as failed: a replaced file at the same path loads next time.
            _sessions.TryRemove(new KeyValuePair<string, Lazy<(OnnxModelSession, ModelManifest)>>(key, lazy));
            throw;
        }

        return new TiledDetector(loaded.Session, loaded.Session.Decoder, options, ownsModel: false);
    }

    public void Dispose()
    {
        foreach (var lazy in _sessions.Values.Where(l => l.IsValueCreated)) lazy.Value.Session.Dispose();
        _sessions.Clear();
    }
}
