using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using CinemaVision.Core.Collection;
using CinemaVision.Core.Events;
using CinemaVision.Edge.Configuration;
using CinemaVision.Edge.Upload;
using CinemaVision.Vision.Auditoriums;
using OpenCvSharp;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;
using Observation = CinemaVision.Core.Collection.FrameObservation;

namespace CinemaVision.Edge.Collection;

/// <summary>
/// Frame collection for retraining, the agent's side (thin: Core's <see cref="FrameCollector"/> decides, Core's
/// <see cref="FrameRetention"/> bounds the store). Pulls the site's per-auditorium policies with the configuration
/// poll (off unless the centre lists the auditorium as enabled), offers every analysed frame to the camera's
/// collector, keeps the chosen frames on local disk (<c>DATA/frames/AUDITORIUM/ID.jpg</c> with its metadata beside it,
/// within the policy's retention and size cap) and uploads them to <c>POST /api/v1/agent/frames</c>: a stored frame
/// (201, or 200 for a retry) is deleted locally; 403 means collection was turned off, and that auditorium's local
/// frames are deleted; another 4xx is permanent (logged, dropped); anything else is retried with backoff. Frames
/// survive a restart: they are files until the centre has them.
/// </summary>
public sealed partial class FrameCollectionService : BackgroundService
{
    private readonly AgentOptions _options;
    private readonly CentreClient _centre;
    private readonly TimeProvider _time;
    private readonly ILogger<FrameCollectionService> _logger;
    private readonly object _gate = new();
    private readonly Dictionary<string, (string Json, FrameCollectionPolicy Policy)> _policies = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string PolicyJson, FrameCollector Collector, Queue<DateTimeOffset> SeatChanges)> _collectors = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0, 1);
    private int _failures;

    public FrameCollectionService(AgentOptions options, CentreClient centre, TimeProvider time, ILogger<FrameCollectionService> logger)
    {
        _options = options;
        _centre = centre;
        _time = time;
        _logger = logger;
        Directory.CreateDirectory(Root);
    }

    /// <summary>Where kept frames wait for upload.</summary>
    public string Root => Path.Combine(_options.DataDirectory, "frames");

    /// <summary>Frames kept since start (all auditoriums).</summary>
    public long Kept => Interlocked.Read(ref _kept);

    /// <summary>Frames the centre stored since start.</summary>
    public long Uploaded => Interlocked.Read(ref _uploaded);

    private long _kept;
    private long _uploaded;

    /// <summary>The policy in force for an auditorium (off when the centre lists none).</summary>
    public FrameCollectionPolicy PolicyFor(string auditoriumId)
    {
        lock (_gate) return _policies.TryGetValue(auditoriumId, out var p) ? p.Policy : new FrameCollectionPolicy();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var nextPoll = DateTimeOffset.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (_time.GetUtcNow() >= nextPoll)
                {
                    await PullPoliciesAsync(stoppingToken);
                    nextPoll = _time.GetUtcNow() + _options.ConfigPollEvery;
                }

                var wait = await UploadPendingAsync(stoppingToken);
                var untilPoll = nextPoll - _time.GetUtcNow();
                if (wait > untilPoll) wait = untilPoll;
                if (wait > TimeSpan.Zero) await _wake.WaitAsync(wait, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException or CentreException or JsonException)
            {
                LogPullFailed(_logger, ex.Message);
                nextPoll = _time.GetUtcNow() + _options.ConfigPollEvery;
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(5), _time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>One pull of the site's policies; an auditorium turned off loses its local frames.</summary>
    public async Task PullPoliciesAsync(CancellationToken cancellationToken)
    {
        var answer = await _centre.GetWithETagAsync("/api/v1/agent/collection", null, cancellationToken);
        if (answer.Body is null) return;
        var root = JsonNode.Parse(answer.Body)?["auditoriums"] as JsonObject;
        var next = new Dictionary<string, (string, FrameCollectionPolicy)>(StringComparer.Ordinal);
        foreach (var (auditoriumId, node) in root ?? [])
        {
            if (node is null) continue;
            var json = node.ToJsonString();
            var policy = JsonSerializer.Deserialize<FrameCollectionPolicy>(json, IngestJson.Options);
            if (policy is null || policy.Validate().Any()) continue;
            next[auditoriumId] = (json, policy);
        }

        List<string> turnedOff;
        lock (_gate)
        {
            turnedOff = [.. _policies.Where(p => p.Value.Policy.Enabled && !(next.TryGetValue(p.Key, out var n) && n.Item2.Enabled)).Select(p => p.Key)];
            foreach (var (id, (json, policy)) in next)
            {
                if (!_policies.TryGetValue(id, out var old) || old.Json != json) LogPolicy(_logger, id, policy.Enabled ? "on" : "off", policy.RetentionDays, policy.MaxBytes);
            }

            foreach (var id in _policies.Keys.Where(id => !next.ContainsKey(id))) LogPolicy(_logger, id, "off", 0, 0);

            _policies.Clear();
            foreach (var (id, p) in next) _policies[id] = p;
        }

        foreach (var id in turnedOff) DeleteAuditorium(id, "collection was turned off");
    }

    /// <summary>
    /// A camera's analysed frame: asks the camera's collector whether to keep it and, if so, stores it (JPEG and
    /// metadata) for upload. Cheap when collection is off (no collector runs).
    /// </summary>
    public void Offer(string auditoriumId, string cameraId, CameraAnalysis analysis, Mat frame, Func<Core.Detections.ObjectClass, float> thresholdFor, string? modelName, string? modelVersion)
    {
        var policy = PolicyFor(auditoriumId);
        if (!policy.Enabled) return;
        var key = auditoriumId + "/" + cameraId;
        FrameCollector collector;
        Queue<DateTimeOffset> changes;
        lock (_gate)
        {
            var json = JsonSerializer.Serialize(policy, IngestJson.Options);
            if (!_collectors.TryGetValue(key, out var entry) || entry.PolicyJson != json)
            {
                entry = (json, new FrameCollector(policy), entry.SeatChanges ?? new Queue<DateTimeOffset>());
                _collectors[key] = entry;
            }

            collector = entry.Collector;
            changes = entry.SeatChanges;
            foreach (var change in analysis.SeatChanges) changes.Enqueue(change.Timestamp);
            while (changes.Count > 0 && analysis.At - changes.Peek() > TimeSpan.FromMinutes(policy.FlipWindowMinutes)) changes.Dequeue();
        }

        var started = analysis.Events.Select(e => e switch
        {
            AnomalyEvent { Phase: IncidentPhase.Start } a => a.Kind.ToString(),
            PiracySuspicion { Phase: IncidentPhase.Start } => "piracy",
            _ => null,
        }).OfType<string>().ToList();
        CollectionDecision decision;
        lock (_gate)
        {
            decision = collector.Observe(new Observation(analysis.At, analysis.RawDetections, thresholdFor, SeatChanges: [.. changes], EventsStarted: started));
        }

        if (!decision.Keep) return;
        Cv2.ImEncode(".jpg", frame, out var jpeg, new ImageEncodingParam(ImwriteFlags.JpegQuality, 90));
        var meta = new CollectedFrameMeta
        {
            Id = string.Create(CultureInfo.InvariantCulture, $"{_options.AgentId}-{auditoriumId}-{cameraId}-{analysis.At.ToUnixTimeMilliseconds()}"),
            AuditoriumId = auditoriumId,
            CameraId = cameraId,
            CapturedAt = analysis.At,
            Reasons = decision.Reasons,
            EventKind = decision.EventKind,
            Uncertainty = decision.Uncertainty,
            ModelName = modelName,
            ModelVersion = modelVersion,
            Width = frame.Width,
            Height = frame.Height,
        };
        Store(meta, jpeg, policy);
        Interlocked.Increment(ref _kept);
        var reasons = string.Join(",", decision.Reasons);
        LogKept(_logger, meta.Id, reasons);
        if (_wake.CurrentCount == 0)
        {
            try
            {
                _wake.Release();
            }
            catch (SemaphoreFullException)
            {
            }
        }
    }

    /// <summary>Writes the frame (image first, metadata last: a frame without metadata is incomplete and ignored), then applies retention.</summary>
    internal void Store(CollectedFrameMeta meta, byte[] jpeg, FrameCollectionPolicy policy)
    {
        var dir = Path.Combine(Root, meta.AuditoriumId);
        Directory.CreateDirectory(dir);
        var image = Path.Combine(dir, meta.Id + ".jpg");
        WriteAtomic(image, jpeg);
        WriteAtomic(Path.Combine(dir, meta.Id + ".json"), JsonSerializer.SerializeToUtf8Bytes(meta, IngestJson.Options));
        var stored = Pending().Where(f => f.Meta.AuditoriumId == meta.AuditoriumId).Select(f => new StoredFrame(f.Meta.Id, f.Meta.CapturedAt, f.Bytes)).ToList();
        foreach (var id in FrameRetention.ToDelete(stored, _time.GetUtcNow(), policy.RetentionDays, policy.MaxBytes))
        {
            Delete(dir, id);
            LogRetention(_logger, id, meta.AuditoriumId);
        }
    }

    private static void WriteAtomic(string path, byte[] bytes)
    {
        var temp = path + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(bytes);
            file.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Frames waiting for upload, oldest first (complete ones: metadata written).</summary>
    internal List<(CollectedFrameMeta Meta, string Image, long Bytes)> Pending()
    {
        var list = new List<(CollectedFrameMeta, string, long)>();
        foreach (var json in Directory.EnumerateFiles(Root, "*.json", SearchOption.AllDirectories))
        {
            var image = Path.ChangeExtension(json, ".jpg");
            try
            {
                var meta = JsonSerializer.Deserialize<CollectedFrameMeta>(File.ReadAllBytes(json), IngestJson.Options);
                if (meta is null || !File.Exists(image)) continue;
                list.Add((meta, image, new FileInfo(image).Length));
            }
            catch (Exception ex) when (ex is JsonException or IOException)
            {
                LogUnreadable(_logger, json, ex.Message);
                File.Delete(json);
                File.Delete(image);
            }
        }

        return [.. list.OrderBy(f => f.Item1.CapturedAt)];
    }

    /// <summary>Uploads waiting frames until one fails; returns how long to wait before the next attempt.</summary>
    internal async Task<TimeSpan> UploadPendingAsync(CancellationToken cancellationToken)
    {
        foreach (var (meta, image, _) in Pending())
        {
            var dir = Path.GetDirectoryName(image)!;
            // Deleted meanwhile (retention, or its auditorium turned off by an earlier answer in this round).
            if (!File.Exists(image) || !File.Exists(Path.ChangeExtension(image, ".json"))) continue;
            CentreAnswer answer;
            try
            {
                answer = await _centre.PostFrameAsync(JsonSerializer.Serialize(meta, IngestJson.Options), await File.ReadAllBytesAsync(image, cancellationToken), cancellationToken);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                return Backoff(null, ex.Message);
            }

            if (answer.IsSuccess)
            {
                Delete(dir, meta.Id);
                Interlocked.Increment(ref _uploaded);
                _failures = 0;
                continue;
            }

            if (answer.Status == HttpStatusCode.Forbidden)
            {
                // Collection is off at the centre for this auditorium: nothing of it is kept here either.
                DeleteAuditorium(meta.AuditoriumId, "the centre answered 403 (collection is off): " + answer.Problem);
                continue;
            }

            if ((int)answer.Status is >= 400 and < 500 && answer.Status is not (HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout or HttpStatusCode.Unauthorized))
            {
                LogRefused(_logger, meta.Id, (int)answer.Status, answer.Problem ?? "");
                Delete(dir, meta.Id);
                continue;
            }

            return Backoff(answer, $"HTTP {(int)answer.Status} {answer.Problem}");
        }

        return TimeSpan.FromSeconds(5);
    }

    private TimeSpan Backoff(CentreAnswer? answer, string reason)
    {
        _failures++;
        var wait = UploadBackoff.Delay(_failures, Random.Shared.NextDouble(), answer?.RetryAfter);
        LogUploadFailed(_logger, reason, _failures, wait.TotalSeconds);
        return wait;
    }

    private void DeleteAuditorium(string auditoriumId, string why)
    {
        var dir = Path.Combine(Root, auditoriumId);
        if (!Directory.Exists(dir)) return;
        int count = Directory.EnumerateFiles(dir, "*.jpg").Count();
        Directory.Delete(dir, recursive: true);
        LogDeletedAll(_logger, count, auditoriumId, why);
    }

    private static void Delete(string dir, string id)
    {
        // Metadata first: an image without metadata is never uploaded.
        File.Delete(Path.Combine(dir, id + ".json"));
        File.Delete(Path.Combine(dir, id + ".jpg"));
    }

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }

    [LoggerMessage(EventId = 9001, Level = LogLevel.Information, Message = "Frame collection for auditorium {AuditoriumId}: {State} (retention {Days} days, at most {Bytes} bytes)")]
    private static partial void LogPolicy(ILogger logger, string auditoriumId, string state, double days, long bytes);

    [LoggerMessage(EventId = 9002, Level = LogLevel.Information, Message = "Frame {FrameId} kept for retraining ({Reasons})")]
    private static partial void LogKept(ILogger logger, string frameId, string reasons);

    [LoggerMessage(EventId = 9003, Level = LogLevel.Information, Message = "Kept frame {FrameId} of auditorium {AuditoriumId} deleted (retention time or size cap)")]
    private static partial void LogRetention(ILogger logger, string frameId, string auditoriumId);

    [LoggerMessage(EventId = 9004, Level = LogLevel.Warning, Message = "Cannot pull the frame-collection policies: {Reason}; keeping the ones in force")]
    private static partial void LogPullFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 9005, Level = LogLevel.Warning, Message = "Kept frame upload failed ({Reason}); attempt {Failures}, retrying in {Seconds:0.0} s")]
    private static partial void LogUploadFailed(ILogger logger, string reason, int failures, double seconds);

    [LoggerMessage(EventId = 9006, Level = LogLevel.Error, Message = "The centre refused kept frame {FrameId} (HTTP {Status}: {Problem}); it is dropped, not retried")]
    private static partial void LogRefused(ILogger logger, string frameId, int status, string problem);

    [LoggerMessage(EventId = 9007, Level = LogLevel.Information, Message = "{Count} kept frame(s) of auditorium {AuditoriumId} deleted: {Why}")]
    private static partial void LogDeletedAll(ILogger logger, int count, string auditoriumId, string why);

    [LoggerMessage(EventId = 9008, Level = LogLevel.Warning, Message = "Kept frame metadata {Path} cannot be read ({Reason}); the frame is deleted")]
    private static partial void LogUnreadable(ILogger logger, string path, string reason);
}
