using System.Collections.Concurrent;
using CinemaVision.Vision.Models;

namespace CinemaVision.Vision.Detectors;

/// <summary>Which weights a model name stands for: its manifest and the file to load.</summary>
public sealed record ResolvedModel(ModelManifest Manifest, string Path);

/// <summary>
/// One ONNX Runtime session per model for the whole process (weights loaded and verified once), shared by every
/// camera's detectors: a session runs concurrent calls safely, each with its own buffers. Detectors made here do not
/// own their session.
/// </summary>
public sealed class SharedModels : IDisposable
{
    private readonly Func<string, ResolvedModel> _resolve;
    private readonly OnnxThreading _threading;
    private readonly ConcurrentDictionary<string, Lazy<(OnnxModelSession Session, ModelManifest Manifest)>> _sessions = new(StringComparer.Ordinal);

    /// <param name="resolve">Model name to weights (the agent's model resolver).</param>
    public SharedModels(Func<string, ResolvedModel> resolve, OnnxThreading? threading = null)
    {
        _resolve = resolve;
        _threading = threading ?? new OnnxThreading(IntraOpThreads: 1);
    }

    /// <summary>Models loaded so far.</summary>
    public IReadOnlyCollection<string> Loaded => [.. _sessions.Where(s => s.Value.IsValueCreated).Select(s => s.Key)];

    /// <summary>A detector over the shared session of <see cref="DetectionOptions.Model"/>.</summary>
    public TiledDetector Detector(DetectionOptions options)
    {
        var (session, manifest) = _sessions.GetOrAdd(options.Model, name => new Lazy<(OnnxModelSession, ModelManifest)>(() =>
        {
            var model = _resolve(name);
            return (OnnxModelSession.Open(model.Manifest, model.Path, _threading, options.VerifyModelHash), model.Manifest);
        })).Value;
        return new TiledDetector(session, session.Decoder, options, ownsModel: false);
    }

    public void Dispose()
    {
        foreach (var lazy in _sessions.Values.Where(l => l.IsValueCreated)) lazy.Value.Session.Dispose();
        _sessions.Clear();
    }
}
