using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using CinemaVision.Core.Events;
using CinemaVision.Core.Models;
using CinemaVision.Edge.Configuration;
using CinemaVision.Edge.Upload;
using CinemaVision.Vision.Detectors;
using CinemaVision.Vision.Models;
using OpenCvSharp;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace CinemaVision.Edge.Analysis;

/// <summary>
/// Model versions pulled from the centre, per auditorium (thin: Core's <see cref="ModelRollout"/> decides each step).
/// Polls <c>GET /api/v1/agent/models</c> (ETag) with the configuration poll; an assignment for one of this agent's
/// auditoriums whose hash differs from the running one is downloaded to a staging name, its sha256 checked, moved to
/// <c>DATA/models/NAME/VERSION.onnx</c>, loaded and run on a first (blank) frame beside the running model, and only
/// then switched to: the auditorium's cameras rebuild their detectors (<see cref="Generation"/>) and the previous version
/// stays on disk for roll-back. A file that does not load or run is reported <c>failed</c> and never retried until
/// other bytes are assigned; a switched-to model that fails in a camera's pass is rolled back to the previous one
/// (<c>rolled-back</c>). Every state is reported to <c>POST /api/v1/agent/models/status</c> (retried until the centre
/// has it). The roll-out state survives restarts (<c>DATA/models/rollout.json</c>). As the agent's
/// <see cref="IModelResolver"/>, it answers a model name with the auditorium's running version of that name, else the
/// shipped one.
/// </summary>
public sealed partial class ModelRolloutService : BackgroundService, IModelResolver
{
    private readonly AgentOptions _options;
    private readonly CentreClient _centre;
    private readonly ManifestModelResolver _shipped;
    private readonly TimeProvider _time;
    private readonly ILogger<ModelRolloutService> _logger;
    private readonly object _gate = new();
    private readonly Dictionary<string, Entry> _state = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StatusReport> _unreported = new(StringComparer.Ordinal);
    private readonly HashSet<string> _auditoriums;
    private string? _etag;

    public ModelRolloutService(AgentOptions options, CentreClient centre, ManifestModelResolver shipped, TimeProvider time, ILogger<ModelRolloutService> logger)
    {
        _options = options;
        _centre = centre;
        _shipped = shipped;
        _time = time;
        _logger = logger;
        _auditoriums = options.Cameras.Select(c => c.AuditoriumId).ToHashSet(StringComparer.Ordinal);
        Directory.CreateDirectory(Root);
        Load();
    }

    private string Root => Path.Combine(_options.DataDirectory, "models");

    private string StatePath => Path.Combine(Root, "rollout.json");

    /// <summary>One auditorium's roll-out: Core's state plus the manifests of the versions on disk.</summary>
    private sealed record Entry(RolloutState State, JsonObject? RunningManifest, JsonObject? PreviousManifest, long Generation);

    private sealed record StatusReport(string AuditoriumId, string Name, string Version, string State, string? Message);

    /// <summary>Changes whenever the auditorium's model changes (switch or roll-back): its cameras rebuild their detectors.</summary>
    public long Generation(string auditoriumId)
    {
        lock (_gate) return _state.TryGetValue(auditoriumId, out var e) ? e.Generation : 0;
    }

    /// <summary>The version the auditorium runs (null: the shipped models).</summary>
    public ModelVersionRef? Running(string auditoriumId)
    {
        lock (_gate) return _state.TryGetValue(auditoriumId, out var e) ? e.State.Running : null;
    }

    public ResolvedModel Resolve(string model, string? auditoriumId = null)
    {
        if (auditoriumId is not null)
        {
            lock (_gate)
            {
                if (_state.TryGetValue(auditoriumId, out var e) && e.State.Running is { } running && e.RunningManifest is { } manifest
                    && string.Equals(running.Name, model, StringComparison.OrdinalIgnoreCase))
                {
                    return new ResolvedModel(ManifestOf(manifest, FileOf(running), running.Sha256), FileOf(running));
                }
            }
        }

        return _shipped.Resolve(model, auditoriumId);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // What runs after a restart is told to the centre again.
        lock (_gate)
        {
            foreach (var (aud, e) in _state)
            {
                if (e.State.Running is { } r) _unreported[aud] = new StatusReport(aud, r.Name, r.Version, "running", "running since the agent started");
            }
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await PollAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException or CentreException or JsonException)
            {
                LogPollFailed(_logger, ex.Message);
            }

            try
            {
                await Task.Delay(_options.ConfigPollEvery, _time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One poll: the assignments (ETag), each auditorium's step, then the reports still owed to the centre.</summary>
    public async Task PollAsync(CancellationToken cancellationToken)
    {
        var answer = await _centre.GetWithETagAsync("/api/v1/agent/models", _etag, cancellationToken);
        if (answer.Status != HttpStatusCode.NotModified && answer.Body is { } body)
        {
            var assignments = JsonNode.Parse(body)?["assignments"] as JsonArray ?? [];
            bool allApplied = true;
            foreach (var node in assignments.OfType<JsonObject>())
            {
                var auditoriumId = (string?)node["auditoriumId"];
                if (auditoriumId is null || !_auditoriums.Contains(auditoriumId)) continue;
                var assigned = new ModelVersionRef((string)node["name"]!, (string)node["version"]!, ((string)node["sha256"]!).ToLowerInvariant());
                allApplied &= await StepAsync(auditoriumId, assigned, node["manifest"] as JsonObject ?? [], (string)node["downloadUrl"]!, cancellationToken);
            }

            // A download that failed its hash is fetched again on the next poll: keep asking for the full answer.
            _etag = allApplied ? answer.ETag : null;
        }

        await ReportAsync(cancellationToken);
    }

    /// <summary>The roll-out step for one auditorium; false when it should be tried again on the next poll.</summary>
    private async Task<bool> StepAsync(string auditoriumId, ModelVersionRef assigned, JsonObject manifest, string downloadUrl, CancellationToken cancellationToken)
    {
        Entry entry;
        lock (_gate) entry = _state.GetValueOrDefault(auditoriumId) ?? new Entry(new RolloutState(null, null, new HashSet<string>(StringComparer.OrdinalIgnoreCase)), null, null, 0);
        if (ModelRollout.Next(entry.State, assigned) != RolloutAction.DownloadAndStage) return true;

        var target = FileOf(assigned);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var staging = Path.Combine(Root, "staging");
        Directory.CreateDirectory(staging);
        var part = Path.Combine(staging, $"{assigned.Name}-{assigned.Version}.onnx.part");
        LogDownloading(_logger, assigned.Name, assigned.Version, auditoriumId);
        string hash;
        try
        {
            hash = await _centre.DownloadAsync(downloadUrl, part, cancellationToken);
        }
        catch
        {
            File.Delete(part);
            throw;
        }

        bool hashOk = string.Equals(hash, assigned.Sha256, StringComparison.OrdinalIgnoreCase);
        string? problem = null;
        if (hashOk)
        {
            File.Move(part, target, overwrite: true);
            Queue(new StatusReport(auditoriumId, assigned.Name, assigned.Version, "staged", $"downloaded and verified (sha256 {hash})"));
            problem = TryLoad(ManifestOf(manifest, target, hash), target);
        }
        else
        {
            File.Delete(part);
            problem = $"the downloaded file's sha256 is {hash}, the centre announced {assigned.Sha256}; fetched again on the next poll";
        }

        var (action, next) = ModelRollout.Staged(entry.State, assigned, hash, loaded: hashOk && problem is null);
        if (action == RolloutAction.Switch)
        {
            lock (_gate) _state[auditoriumId] = new Entry(next, manifest.DeepClone().AsObject(), entry.RunningManifest, entry.Generation + 1);
            Save();
            LogSwitched(_logger, auditoriumId, assigned.Name, assigned.Version, entry.State.Running?.Version ?? "shipped");
            Queue(new StatusReport(auditoriumId, assigned.Name, assigned.Version, "running", entry.State.Running is { } prev ? $"switched from {prev.Version}" : "switched from the shipped model"));
            return true;
        }

        if (hashOk) File.Delete(target);
        lock (_gate) _state[auditoriumId] = entry with { State = next };
        Save();
        LogFailed(_logger, assigned.Name, assigned.Version, auditoriumId, problem ?? "?", entry.State.Running?.Version ?? "the shipped model");
        Queue(new StatusReport(auditoriumId, assigned.Name, assigned.Version, "failed", Truncate($"{problem}; still running {entry.State.Running?.Version ?? "the shipped model"}")));
        return hashOk;
    }

    /// <summary>Loads the staged model beside the running one and runs it on a first frame; null when it works, else why not.</summary>
    private static string? TryLoad(ModelManifest manifest, string path)
    {
        try
        {
            using var session = OnnxModelSession.Open(manifest, path, new OnnxThreading(IntraOpThreads: 1), verifyHash: true);
            using var detector = new TiledDetector(session, session.Decoder, new DetectionOptions { Model = manifest.Name, Tiling = TilingMode.Full }, ownsModel: false);
            using var blank = new Mat(480, 640, MatType.CV_8UC3, new Scalar(114, 114, 114));
            _ = detector.Detect(blank);
            return null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            return ex.Message;
        }
    }

    /// <summary>
    /// A camera's pass failed with the auditorium's pulled model: back to the previous version (Core's rule), reported
    /// <c>rolled-back</c>. Returns true when a roll-back happened (the caller rebuilds its detectors).
    /// </summary>
    public bool FailedAtRunTime(string auditoriumId, string error)
    {
        ModelVersionRef failed;
        ModelVersionRef? back;
        lock (_gate)
        {
            if (!_state.TryGetValue(auditoriumId, out var entry) || entry.State.Running is not { } running) return false;
            var (action, next) = ModelRollout.Failed(entry.State);
            if (action != RolloutAction.RollBack) return false;
            failed = running;
            back = next.Running;
            _state[auditoriumId] = new Entry(next, entry.PreviousManifest, null, entry.Generation + 1);
        }

        Save();
        LogRolledBack(_logger, auditoriumId, failed.Name, failed.Version, error, back?.Version ?? "the shipped model");
        Queue(new StatusReport(auditoriumId, failed.Name, failed.Version, "rolled-back", Truncate($"failed in a camera pass ({error}); back to {back?.Version ?? "the shipped model"}")));
        return true;
    }

    private void Queue(StatusReport report)
    {
        lock (_gate) _unreported[report.AuditoriumId] = report;
    }

    /// <summary>Sends the latest state of each auditorium the centre has not acknowledged yet.</summary>
    private async Task ReportAsync(CancellationToken cancellationToken)
    {
        List<StatusReport> due;
        lock (_gate) due = [.. _unreported.Values];
        foreach (var report in due)
        {
            var answer = await _centre.PostJsonAsync("/api/v1/agent/models/status", report, cancellationToken);
            if (!answer.IsSuccess && (int)answer.Status is >= 500 or 429 or 408) continue;
            if (!answer.IsSuccess) LogReportRefused(_logger, report.AuditoriumId, (int)answer.Status, answer.Problem ?? "");
            lock (_gate)
            {
                if (_unreported.TryGetValue(report.AuditoriumId, out var latest) && latest == report) _unreported.Remove(report.AuditoriumId);
            }
        }
    }

    private string FileOf(ModelVersionRef version) => Path.Combine(Root, version.Name, version.Version + ".onnx");

    /// <summary>The centre's manifest entry for a version, pointing at the local file and the verified hash.</summary>
    private static ModelManifest ManifestOf(JsonObject manifest, string path, string sha256)
    {
        var copy = manifest.DeepClone().AsObject();
        copy["file"] = path;
        copy["sha256"] = sha256;
        return copy.Deserialize<ModelManifest>(ManifestJson) ?? throw new ModelAssetException((string?)manifest["name"] ?? "?", "the centre's manifest entry is empty");
    }

    private static readonly JsonSerializerOptions ManifestJson = new(JsonSerializerDefaults.Web);

    private static string Truncate(string text) => text.Length > 480 ? text[..480] : text;

    private void Load()
    {
        if (!File.Exists(StatePath)) return;
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(StatePath))!.AsObject();
            foreach (var (aud, node) in root)
            {
                if (node is not JsonObject o) continue;
                var state = new RolloutState(
                    o["running"]?.Deserialize<ModelVersionRef>(IngestJson.Options),
                    o["previous"]?.Deserialize<ModelVersionRef>(IngestJson.Options),
                    new HashSet<string>(o["failed"]?.Deserialize<List<string>>(IngestJson.Options) ?? [], StringComparer.OrdinalIgnoreCase));
                // A version whose file is gone (disk replaced) is not run: the shipped model serves until the next pull.
                if (state.Running is { } r && !File.Exists(FileOf(r))) state = state with { Running = null };
                if (state.Previous is { } p && !File.Exists(FileOf(p))) state = state with { Previous = null };
                _state[aud] = new Entry(state, o["runningManifest"] as JsonObject is { } rm ? rm.DeepClone().AsObject() : null, o["previousManifest"] as JsonObject is { } pm ? pm.DeepClone().AsObject() : null, 1);
            }
        }
        catch (Exception ex) when (ex is JsonException or IOException or InvalidOperationException or NullReferenceException)
        {
            LogStateUnreadable(_logger, StatePath, ex.Message);
        }
    }

    private void Save()
    {
        var root = new JsonObject();
        lock (_gate)
        {
            foreach (var (aud, e) in _state)
            {
                root[aud] = new JsonObject
                {
                    ["running"] = JsonSerializer.SerializeToNode(e.State.Running, IngestJson.Options),
                    ["previous"] = JsonSerializer.SerializeToNode(e.State.Previous, IngestJson.Options),
                    ["failed"] = JsonSerializer.SerializeToNode(e.State.FailedSha256.Order(StringComparer.Ordinal).ToList(), IngestJson.Options),
                    ["runningManifest"] = e.RunningManifest?.DeepClone(),
                    ["previousManifest"] = e.PreviousManifest?.DeepClone(),
                };
            }
        }

        var temp = StatePath + ".tmp";
        File.WriteAllText(temp, root.ToJsonString());
        File.Move(temp, StatePath, overwrite: true);
    }

    [LoggerMessage(EventId = 9101, Level = LogLevel.Warning, Message = "Cannot pull the model assignments: {Reason}; keeping the models in use")]
    private static partial void LogPollFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 9102, Level = LogLevel.Information, Message = "Downloading model {Name} {Version} for auditorium {AuditoriumId}")]
    private static partial void LogDownloading(ILogger logger, string name, string version, string auditoriumId);

    [LoggerMessage(EventId = 9103, Level = LogLevel.Information, Message = "Auditorium {AuditoriumId} now runs model {Name} {Version} (previous: {Previous})")]
    private static partial void LogSwitched(ILogger logger, string auditoriumId, string name, string version, string previous);

    [LoggerMessage(EventId = 9104, Level = LogLevel.Error, Message = "Model {Name} {Version} for auditorium {AuditoriumId} is not used: {Problem}; still running {Running}")]
    private static partial void LogFailed(ILogger logger, string name, string version, string auditoriumId, string problem, string running);

    [LoggerMessage(EventId = 9105, Level = LogLevel.Error, Message = "Auditorium {AuditoriumId}: model {Name} {Version} failed in a camera pass ({Error}); rolled back to {Back}")]
    private static partial void LogRolledBack(ILogger logger, string auditoriumId, string name, string version, string error, string back);

    [LoggerMessage(EventId = 9106, Level = LogLevel.Warning, Message = "The centre refused the model status of auditorium {AuditoriumId} (HTTP {Status}: {Problem})")]
    private static partial void LogReportRefused(ILogger logger, string auditoriumId, int status, string problem);

    [LoggerMessage(EventId = 9107, Level = LogLevel.Error, Message = "The model roll-out state {Path} cannot be read ({Reason}); the shipped models run until the next pull")]
    private static partial void LogStateUnreadable(ILogger logger, string path, string reason);
}
