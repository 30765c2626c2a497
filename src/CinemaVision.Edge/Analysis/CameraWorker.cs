using System.Diagnostics;
using CinemaVision.Core.Auditoriums;
using CinemaVision.Core.Cameras;
using CinemaVision.Core.Events;
using CinemaVision.Core.Frames;
using CinemaVision.Core.Occupancy;
using CinemaVision.Core.Pipeline;
using CinemaVision.Core.Showings;
using CinemaVision.Edge.Collection;
using CinemaVision.Edge.Configuration;
using CinemaVision.Edge.Operations;
using CinemaVision.Edge.Outbox;
using CinemaVision.Vision.Auditoriums;
using CinemaVision.Vision.Cameras;
using CinemaVision.Vision.Detectors;
using CinemaVision.Vision.Frames;
using OpenCvSharp;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace CinemaVision.Edge.Analysis;

/// <summary>What one camera achieved and skipped (the heartbeat and /metrics read it).</summary>
public sealed class CameraCounters
{
    private long _occupancy;
    private long _watch;
    private long _health;
    private long _skipped;
    private long _tilesRun;
    private long _tilesReused;
    private long _analysisTicks;
    private long _analysed;

    public long OccupancyPasses => Interlocked.Read(ref _occupancy);
    public long WatchPasses => Interlocked.Read(ref _watch);
    public long HealthPasses => Interlocked.Read(ref _health);
    public long PassesSkipped => Interlocked.Read(ref _skipped);
    public long TilesRun => Interlocked.Read(ref _tilesRun);
    public long TilesReused => Interlocked.Read(ref _tilesReused);
    public long Analysed => Interlocked.Read(ref _analysed);
    public TimeSpan AnalysisTime => TimeSpan.FromTicks(Interlocked.Read(ref _analysisTicks));

    /// <summary>Detector time spent on tiles (ticks), for the mean time per tile.</summary>
    public TimeSpan DetectTime => TimeSpan.FromTicks(Interlocked.Read(ref _detectTicks));

    private long _detectTicks;

    internal void Passed(PassKind pass, TimeSpan analysis, TimeSpan detect, TileRunStats tiles)
    {
        if (pass == PassKind.Occupancy) Interlocked.Increment(ref _occupancy);
        else if (pass == PassKind.Watch) Interlocked.Increment(ref _watch);
        else Interlocked.Increment(ref _health);
        Interlocked.Increment(ref _analysed);
        Interlocked.Add(ref _analysisTicks, analysis.Ticks);
        Interlocked.Add(ref _detectTicks, detect.Ticks);
        Interlocked.Add(ref _tilesRun, tiles.TilesRun);
        Interlocked.Add(ref _tilesReused, tiles.TilesReused);
    }

    internal void Skipped() => Interlocked.Increment(ref _skipped);
}

/// <summary>What a camera hands its analyses to beyond the outbox: frame collection, the model roll-out (which model runs, roll-back on failure) and the empty-hall references.</summary>
public sealed record CameraServices(FrameCollectionService? Collection, ModelRolloutService? Models, ReferenceService? References);

/// <summary>
/// One camera, continuously: reads its main stream (keyframes only when a substream serves the watching passes) and its
/// substream, and runs occupancy passes (full plan, main stream, once per auditorium round), watching passes (cheap
/// plan, substream, during the feature at the configured rate) and health-only passes (closed auditorium) within the
/// scheduler's CPU budget. Every event of a pass is written to the outbox (evidence in the same transaction) before the
/// next pass. The auditorium's configuration is re-read on every pass and a changed file is applied at once.
/// </summary>
public sealed partial class CameraWorker : IAsyncDisposable
{
    private readonly AgentCamera _camera;
    private readonly SiteConfigService _config;
    private readonly EventOutbox _outbox;
    private readonly AnalysisScheduler _scheduler;
    private readonly SharedModels _models;
    private readonly Func<string, AuditoriumRounds> _rounds;
    private readonly IReadOnlySet<string> _siblings;
    private readonly AgentMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ILoggerFactory _loggers;
    private readonly CameraServices _services;
    private IFrameSource? _main;
    private IFrameSource? _sub;
    private CameraAnalyzer? _analyzer;
    private string? _appliedHash;
    private DateTimeOffset _nextWatch = DateTimeOffset.MinValue;
    private DateTimeOffset _nextHealth = DateTimeOffset.MinValue;
    private DateTimeOffset? _lastOccupancy;
    private double _maxOccupancyGap;
    private string _missingWarned = "";
    private long _modelGeneration = -1;
    private long _referenceVersion = -1;
    private string? _modelName;
    private string? _modelVersion;

    /// <param name="siblings">This agent's cameras of the same auditorium (its rounds wait for these only).</param>
    /// <param name="services">Frame collection, model roll-out and empty-hall references (null: none, as in tests of the loop alone).</param>
    public CameraWorker(AgentCamera camera, IReadOnlySet<string> siblings, SiteConfigService config, EventOutbox outbox, AnalysisScheduler scheduler, SharedModels models, Func<string, AuditoriumRounds> rounds, AgentMetrics metrics, TimeProvider time, ILoggerFactory loggers, CameraServices? services = null)
    {
        _services = services ?? new CameraServices(null, null, null);
        _siblings = siblings;
        _camera = camera;
        _config = config;
        _outbox = outbox;
        _scheduler = scheduler;
        _models = models;
        _rounds = rounds;
        _metrics = metrics;
        _time = time;
        _loggers = loggers;
        _logger = loggers.CreateLogger<CameraWorker>();
    }

    public AgentCamera Camera => _camera;

    public CameraCounters Counters { get; } = new();

    /// <summary>occupancy, watching, health (closed auditorium), offline, or waiting (no configuration for the camera yet).</summary>
    public string State { get; private set; } = "waiting";

    /// <summary>Seconds since the last occupancy pass.</summary>
    public double? LastOccupancyAgeSeconds => _lastOccupancy is { } at ? (_time.GetUtcNow() - at).TotalSeconds : null;

    /// <summary>The longest gap between two occupancy passes so far (seconds).</summary>
    public double MaxOccupancyGapSeconds => _maxOccupancyGap;

    public FrameSourceStatus? MainStatus => _main?.Status;
    public FrameSourceStatus? SubStatus => _sub?.Status;

    /// <summary>Decoder processes (for the CPU meter).</summary>
    public IEnumerable<int> DecoderProcesses => new[] { _main, _sub }.OfType<FfmpegSource>().Select(s => s.ProcessId).OfType<int>();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var watchFps = CameraPipelineOptions.Default.Cadence.WatchFps;
        _main = Open(_camera.Url, "main", keyframesOnly: _camera.MainKeyframesOnly, decodeFps: _camera.SubstreamUrl is null ? Math.Max(2, 2 * watchFps) : null);
        _sub = _camera.SubstreamUrl is { } subUrl ? Open(subUrl, "sub", keyframesOnly: false, decodeFps: Math.Max(2, 2 * watchFps)) : null;
        _main.Start();
        _sub?.Start();
        try
        {
            await _config.Ready.WaitAsync(cancellationToken);
            while (!cancellationToken.IsCancellationRequested)
            {
                var wait = await StepAsync(cancellationToken);
                if (wait > TimeSpan.Zero) await Task.Delay(wait, _time, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One scheduling decision; returns how long to sleep before the next.</summary>
    private async Task<TimeSpan> StepAsync(CancellationToken cancellationToken)
    {
        var config = _config.Current!;
        if (!Resolve(config, out var entry, out var view))
        {
            State = "waiting";
            return TimeSpan.FromSeconds(5);
        }

        long generation = _services.Models?.Generation(_camera.AuditoriumId) ?? 0;
        if (_appliedHash != entry.Hash || _analyzer is null || generation != _modelGeneration)
        {
            _analyzer?.Dispose();
            var analyzerOptions = new AnalyzerOptions();
            _analyzer = new CameraAnalyzer(entry.Auditorium, view, analyzerOptions, makeDetector: o => _models.Detector(o with { TileParallelism = 1, IntraOpThreads = 1 }, _camera.AuditoriumId));
            _appliedHash = entry.Hash;
            _modelGeneration = generation;
            _referenceVersion = -1;
            var running = _services.Models?.Running(_camera.AuditoriumId);
            (_modelName, _modelVersion) = running is { } r && string.Equals(r.Name, analyzerOptions.PersonModel, StringComparison.OrdinalIgnoreCase) ? (r.Name, r.Version) : (analyzerOptions.PersonModel, null);
            LogApplied(_logger, _camera.Id, _camera.AuditoriumId, entry.Hash);
        }

        ApplyReferences();

        var options = _analyzer.Pipeline.Options;
        var cadence = options.Cadence;
        var now = _time.GetUtcNow();
        var showing = config.StateOf(_camera.AuditoriumId, now);
        var rounds = _rounds(_camera.AuditoriumId);
        rounds.Reconfigure(entry.Auditorium.Cameras.Select(c => c.Id).Where(_siblings.Contains), entry.Auditorium.SeatCount);

        PassKind? pass = null;
        var wake = now + TimeSpan.FromSeconds(1);
        if (showing.State == ShowingState.Closed)
        {
            State = "health";
            if (now >= _nextHealth) pass = PassKind.Health;
            else wake = _nextHealth;
        }
        else
        {
            var (due, closed) = rounds.Due(_camera.Id, now, cadence.OccupancyPeriod);
            if (closed is not null) Produce([closed], null);
            bool watching = cadence.WatchIn.Contains(showing.State);
            State = watching ? "watching" : "occupancy";
            if (due)
            {
                pass = PassKind.Occupancy;
            }
            else if (watching && now >= _nextWatch)
            {
                pass = PassKind.Watch;
            }
            else
            {
                var nextRound = rounds.NextRound(cadence.OccupancyPeriod);
                wake = watching && _nextWatch < nextRound ? _nextWatch : nextRound;
                if (!watching && now >= _nextHealth) pass = PassKind.Health;
                else if (!watching && _nextHealth < wake) wake = _nextHealth;
            }
        }

        if (pass is null)
        {
            var sleep = wake - now;
            return sleep < TimeSpan.FromMilliseconds(5) ? TimeSpan.FromMilliseconds(5) : sleep > TimeSpan.FromSeconds(5) ? TimeSpan.FromSeconds(5) : sleep;
        }

        await RunPassAsync(pass.Value, showing, options, cancellationToken);
        return TimeSpan.Zero;
    }

    private async Task RunPassAsync(PassKind pass, ShowingContext showing, CameraPipelineOptions options, CancellationToken cancellationToken)
    {
        var cadence = options.Cadence;
        var watchPeriod = TimeSpan.FromSeconds(1 / cadence.WatchFps);
        var source = pass == PassKind.Occupancy ? _main! : _sub ?? _main!;
        var waitStarted = Stopwatch.GetTimestamp();
        var timeout = pass == PassKind.Watch ? watchPeriod + TimeSpan.FromSeconds(2) : TimeSpan.FromSeconds(10);
        var frame = await source.NextFrameAsync(timeout, cancellationToken);
        _metrics.StageSeconds.WithLabels("wait").Observe(Stopwatch.GetElapsedTime(waitStarted).TotalSeconds);
        var now = _time.GetUtcNow();
        if (frame is null)
        {
            _metrics.CameraOnline.WithLabels(_camera.Id).Set(0);
            State = "offline";
            var status = source.Status;
            Produce(_analyzer!.Pipeline.NoFrame(now, status.LastFrameAt, status.LastError ?? "no frame"), null);
            if (pass == PassKind.Occupancy)
            {
                // The round must not wait for a camera that is down: it reports its seats as unknown.
                var unknown = _analyzer.Pipeline.View.Seats.ToDictionary(s => s.Id, _ => SeatState.Unknown, StringComparer.Ordinal);
                if (_rounds(_camera.AuditoriumId).Report(_camera.Id, new CameraOccupancy(_camera.Id, 0, unknown, CameraHealthy: false), now, showing.ShowingId) is { } merged) Produce([merged], null);
            }

            _nextWatch = now + watchPeriod;
            _nextHealth = now + cadence.HealthPeriod;
            return;
        }

        _metrics.CameraOnline.WithLabels(_camera.Id).Set(1);
        try
        {
            using (var slot = pass == PassKind.Health ? null : await _scheduler.AcquireAsync(pass, watchPeriod, cancellationToken))
            {
                if (slot is null && pass != PassKind.Health)
                {
                    Counters.Skipped();
                    _metrics.PassesSkipped.WithLabels(_camera.Id).Inc();
                    _nextWatch = NextWatch(now, watchPeriod);
                    return;
                }

                // The turn may have come late (other cameras' passes): analyse the newest frame, not the one waited for.
                if (await source.NextFrameAsync(TimeSpan.Zero, cancellationToken) is { } fresher)
                {
                    frame.Dispose();
                    frame = fresher;
                }

                var started = Stopwatch.GetTimestamp();
                CameraAnalysis analysis;
                try
                {
                    analysis = _analyzer!.Analyze(MatFrame.MatOf(frame), frame.Timestamp, showing, pass);
                }
                catch (Exception ex) when (ex is not OperationCanceledException && _services.Models?.FailedAtRunTime(_camera.AuditoriumId, ex.Message) == true)
                {
                    // The auditorium's pulled model failed here: it is rolled back, the next step rebuilds the detectors.
                    _analyzer?.Dispose();
                    _analyzer = null;
                    return;
                }

                var analysed = Stopwatch.GetElapsedTime(started);
                _metrics.StageSeconds.WithLabels("detect").Observe(analysis.DetectTime.TotalSeconds);
                _metrics.StageSeconds.WithLabels("pipeline").Observe(Math.Max(0, (analysed - analysis.DetectTime).TotalSeconds));
                _metrics.FramesAnalysed.WithLabels(_camera.Id, pass.ToString().ToLowerInvariant()).Inc();
                _metrics.Tiles.WithLabels(_camera.Id).Inc(analysis.Tiles.TilesRun);
                _metrics.TilesReused.WithLabels(_camera.Id).Inc(analysis.Tiles.TilesReused);
                Counters.Passed(pass, analysed, analysis.DetectTime, analysis.Tiles);
                Produce(analysis.Events, analysis.Evidence);
                if (analysis.EmptyReference is { } reference) _services.References?.Captured(_camera.AuditoriumId, _camera.Id, reference);
                if (pass != PassKind.Health && _services.Collection is { } collection)
                {
                    var scores = options.Scores;
                    collection.Offer(_camera.AuditoriumId, _camera.Id, analysis, MatFrame.MatOf(frame), scores.For, _modelName, _modelVersion);
                }

                if (pass == PassKind.Occupancy)
                {
                    if (_lastOccupancy is { } last) _maxOccupancyGap = Math.Max(_maxOccupancyGap, (frame.Timestamp - last).TotalSeconds);
                    _lastOccupancy = frame.Timestamp;
                    _metrics.OccupancyAgeSeconds.WithLabels(_camera.Id).Set(0);
                    var healthy = !analysis.Result.CameraHealth.Any() && _analyzer.Pipeline.ActiveHealthConditions.Count == 0;
                    var merged = _rounds(_camera.AuditoriumId).Report(_camera.Id, new CameraOccupancy(_camera.Id, analysis.People, analysis.Seats, healthy), frame.Timestamp, showing.ShowingId);
                    if (merged is not null) Produce([merged], null);
                }
                else if (pass == PassKind.Watch)
                {
                    _nextWatch = NextWatch(now, watchPeriod);
                }
                else
                {
                    _nextHealth = now + cadence.HealthPeriod;
                }
            }
        }
        finally
        {
            frame.Dispose();
        }
    }

    /// <summary>Applies the camera's stored empty-hall references when the pipeline was rebuilt or new ones were pulled.</summary>
    private void ApplyReferences()
    {
        if (_services.References is not { } references || _analyzer is null) return;
        long version = references.Version(_camera.AuditoriumId, _camera.Id);
        if (version == _referenceVersion) return;
        _referenceVersion = version;
        foreach (var stored in references.For(_camera.AuditoriumId, _camera.Id))
        {
            using var picture = Cv2.ImRead(stored.Path, ImreadModes.Color);
            if (picture.Empty())
            {
                LogReferenceUnreadable(_logger, _camera.Id, stored.Path);
                continue;
            }

            _analyzer.SetEmptyReference(picture, stored.Mode);
            var mode = Core.Cameras.LightingClassifier.Name(stored.Mode);
            LogReferenceApplied(_logger, _camera.Id, _camera.AuditoriumId, mode);
        }
    }

    private DateTimeOffset NextWatch(DateTimeOffset now, TimeSpan period)
    {
        // Keep the rate: the next pass is one period after the previous one was due. Passes missed while an occupancy
        // pass ran are made up (the next ones run at once, each on the newest frame), up to three periods behind; after a
        // longer stall the schedule starts afresh rather than bursting.
        var next = _nextWatch == DateTimeOffset.MinValue ? now + period : _nextWatch + period;
        return next < now - (3 * period) ? now : next;
    }

    private void Produce(IReadOnlyList<EdgeEvent> events, IReadOnlyDictionary<string, byte[]>? evidence)
    {
        if (events.Count == 0) return;
        var started = Stopwatch.GetTimestamp();
        _outbox.Add(events, evidence);
        _metrics.StageSeconds.WithLabels("outbox").Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        foreach (var e in events) _metrics.EventsProduced.WithLabels(e.Type).Inc();
    }

    private bool Resolve(SiteConfig config, out AuditoriumEntry entry, out CameraView view)
    {
        entry = null!;
        view = null!;
        string? problem = null;
        if (!config.Auditoriums.TryGetValue(_camera.AuditoriumId, out var found)) problem = $"the centre has no auditorium '{_camera.AuditoriumId}' for site '{config.SiteId}'";
        else if (found.Auditorium.Cameras.FirstOrDefault(c => c.Id == _camera.Id) is not { } v) problem = $"auditorium '{_camera.AuditoriumId}' has no camera '{_camera.Id}' (has {string.Join(", ", found.Auditorium.Cameras.Select(c => c.Id))})";
        else
        {
            entry = found;
            view = v;
            _missingWarned = "";
            return true;
        }

        if (_missingWarned != problem)
        {
            _missingWarned = problem;
            LogNotConfigured(_logger, _camera.Id, problem);
        }

        return false;
    }

    private IFrameSource Open(string url, string stream, bool keyframesOnly, double? decodeFps)
    {
        var kind = CameraSource.Infer(url);
        var config = new CameraSource
        {
            CameraId = $"{_camera.Id}/{stream}",
            Url = url,
            // Files are read through ffmpeg too, so they loop, pace and skip frames like a camera.
            Kind = kind == CameraSourceKind.File ? CameraSourceKind.Stream : kind,
            AnalysisFps = 120,
            StallTimeout = keyframesOnly ? TimeSpan.FromSeconds(20) : TimeSpan.FromSeconds(10),
            BackoffInitial = TimeSpan.FromMilliseconds(500),
            BackoffMax = TimeSpan.FromSeconds(10),
            Loop = _camera.Loop,
            RealTime = _camera.RealTime,
            KeyframesOnly = keyframesOnly,
            DecodeFps = decodeFps,
            // Many cameras on few cores: one decoder thread each (no oversubscription, a fraction of the memory).
            DecoderThreads = 1,
        };
        return FrameSources.Create(config, _loggers);
    }

    public async ValueTask DisposeAsync()
    {
        if (_main is not null) await _main.DisposeAsync();
        if (_sub is not null) await _sub.DisposeAsync();
        _analyzer?.Dispose();
    }

    [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "Camera {CameraId} of auditorium {AuditoriumId}: configuration {Hash} applied")]
    private static partial void LogApplied(ILogger logger, string cameraId, string auditoriumId, string hash);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Information, Message = "Camera {CameraId} of auditorium {AuditoriumId}: empty-hall reference ({Mode}) applied")]
    private static partial void LogReferenceApplied(ILogger logger, string cameraId, string auditoriumId, string mode);

    [LoggerMessage(EventId = 7004, Level = LogLevel.Warning, Message = "Camera {CameraId}: the stored empty-hall reference {Path} cannot be read; not applied")]
    private static partial void LogReferenceUnreadable(ILogger logger, string cameraId, string path);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Warning, Message = "Camera {CameraId} is not analysed: {Problem}")]
    private static partial void LogNotConfigured(ILogger logger, string cameraId, string problem);
}
