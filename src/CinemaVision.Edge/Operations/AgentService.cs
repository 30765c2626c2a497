using System.Globalization;
using System.Reflection;
using CinemaVision.Core.Events;
using CinemaVision.Edge.Analysis;
using CinemaVision.Edge.Configuration;
using CinemaVision.Edge.Outbox;
using CinemaVision.Edge.Upload;
using CinemaVision.Vision.Detectors;

namespace CinemaVision.Edge.Operations;

/// <summary>
/// Runs the cameras, measures CPU, writes the heartbeat every <see cref="AgentOptions.HeartbeatEvery"/> (agent,
/// cameras, outbox depth, upload lag, achieved rates, dropped samples) and, on shutdown, stops the cameras after their
/// current pass, writes a last heartbeat and sends what it can within the drain time.
/// </summary>
public sealed partial class AgentService : BackgroundService
{
    private readonly AgentOptions _options;
    private readonly SiteConfigService _config;
    private readonly EventOutbox _outbox;
    private readonly Uploader _uploader;
    private readonly AgentMetrics _metrics;
    private readonly CpuMeter _cpu;
    private readonly TimeProvider _time;
    private readonly ILogger<AgentService> _logger;
    private readonly List<CameraWorker> _workers = [];
    private readonly Dictionary<string, AuditoriumRounds> _rounds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (long Analysed, long Watch, long Skipped, TimeSpan Analysis, TimeSpan Detect, long Tiles, long Reused, long FramesIn, long FramesSkipped)> _previous = [];
    private readonly DateTimeOffset _started;
    private DateTimeOffset _lastBeat;
    private TimeSpan _lastCpu;

    public AgentService(AgentOptions options, SiteConfigService config, EventOutbox outbox, Uploader uploader, AnalysisScheduler scheduler, SharedModels models, AgentMetrics metrics, CpuMeter cpu, DecoderProcesses decoders, TimeProvider time, ILoggerFactory loggers, CameraServices? services = null)
    {
        _options = options;
        _config = config;
        _outbox = outbox;
        _uploader = uploader;
        _metrics = metrics;
        _cpu = cpu;
        _time = time;
        _logger = loggers.CreateLogger<AgentService>();
        _started = time.GetUtcNow();
        _lastBeat = _started;
        _lastCpu = cpu.Total();
        foreach (var camera in options.Cameras)
        {
            var siblings = options.Cameras.Where(c => c.AuditoriumId == camera.AuditoriumId).Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
            _workers.Add(new CameraWorker(camera, siblings, config, outbox, scheduler, models, Rounds, metrics, time, loggers, services));
        }

        decoders.Source = () => _workers.SelectMany(w => w.DecoderProcesses);
        metrics.CpuBudgetCores.Set(options.CpuBudget);
    }

    public IReadOnlyList<CameraWorker> Workers => _workers;

    public static string Version => typeof(AgentService).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "1.0.0";

    private AuditoriumRounds Rounds(string auditoriumId)
    {
        lock (_rounds)
        {
            if (!_rounds.TryGetValue(auditoriumId, out var rounds))
            {
                var site = _config.Current?.SiteId ?? "";
                var cameras = _options.Cameras.Where(c => c.AuditoriumId == auditoriumId).Select(c => c.Id);
                var auditoriums = _options.Cameras.Select(c => c.AuditoriumId).Distinct(StringComparer.Ordinal).ToList();
                double phase = auditoriums.Count <= 1 ? 0 : (double)auditoriums.IndexOf(auditoriumId) / auditoriums.Count;
                _rounds[auditoriumId] = rounds = new AuditoriumRounds(site, auditoriumId, cameras, _config.Current?.Auditoriums.GetValueOrDefault(auditoriumId)?.Auditorium.SeatCount ?? 0, phase);
            }

            return rounds;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var centre = _options.CentralUrl.ToString();
        LogStarting(_logger, _options.AgentId, _options.Cameras.Count, _options.CpuBudget, centre);
        if (_outbox.SetAside is { } aside) LogOutboxSetAside(_logger, aside);
        var cameras = _workers.Select(w => Task.Run(() => w.RunAsync(stoppingToken), CancellationToken.None)).ToList();
        var nextBeat = _time.GetUtcNow() + _options.HeartbeatEvery;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), _time, stoppingToken);
                _metrics.CpuCores.Set(_cpu.Sample());
                UpdateOutboxGauges();
                if (_time.GetUtcNow() >= nextBeat)
                {
                    Beat();
                    nextBeat += _options.HeartbeatEvery;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        // Graceful shutdown: the cameras finish their pass (its events are in the outbox), a last heartbeat, then drain.
        await Task.WhenAll(cameras);
        foreach (var w in _workers) await w.DisposeAsync();
        Beat();
        var drained = await _uploader.DrainAsync(_options.DrainTimeout);
        var stats = _outbox.Stats();
        LogStopped(_logger, drained ? "everything was sent" : $"{stats.Pending} event(s) stay in the outbox for the next start");
    }

    private void UpdateOutboxGauges()
    {
        var stats = _outbox.Stats();
        _metrics.OutboxPending.Set(stats.Pending);
        _metrics.OutboxBytes.Set(stats.Bytes);
        _metrics.UploadLagSeconds.Set(stats.OldestPending is { } oldest ? Math.Max(0, (_time.GetUtcNow() - oldest).TotalSeconds) : 0);
        _metrics.SamplesDropped.Set(stats.Dropped);
    }

    /// <summary>The heartbeat: written to the outbox like any event, so it survives an outage and shows the lag.</summary>
    internal AgentHealth Beat()
    {
        var now = _time.GetUtcNow();
        var period = Math.Max(0.001, (now - _lastBeat).TotalSeconds);
        var cpuNow = _cpu.Total();
        double cpuPercent = Math.Round((cpuNow - _lastCpu).TotalSeconds / period * 100, 1);
        _lastCpu = cpuNow;
        _lastBeat = now;
        var cameras = new List<CameraStatus>();
        foreach (var w in _workers)
        {
            var c = w.Counters;
            var main = w.MainStatus;
            var sub = w.SubStatus;
            long framesIn = (main?.FramesRead ?? 0) + (sub?.FramesRead ?? 0);
            long framesSkipped = (main?.FramesSkipped ?? 0) + (sub?.FramesSkipped ?? 0);
            var key = w.Camera.AuditoriumId + "/" + w.Camera.Id;
            var prev = _previous.GetValueOrDefault(key);
            long analysed = c.Analysed - prev.Analysed;
            long tiles = c.TilesRun - prev.Tiles;
            cameras.Add(new CameraStatus(
                w.Camera.Id,
                w.Camera.AuditoriumId,
                Online: main?.State == Core.Frames.FrameSourceState.Streaming,
                AnalysedFps: Math.Round(analysed / period, 3),
                FramesRead: framesIn,
                FramesSkipped: framesSkipped,
                Reconnects: (main?.Reconnects ?? 0) + (sub?.Reconnects ?? 0),
                MsPerFrame: analysed == 0 ? 0 : Math.Round((c.AnalysisTime - prev.Analysis).TotalMilliseconds / analysed, 1),
                State: w.State,
                OccupancyPasses: c.OccupancyPasses,
                WatchFps: Math.Round((c.WatchPasses - prev.Watch) / period, 3),
                LastOccupancyAgeSeconds: w.LastOccupancyAgeSeconds is { } age ? Math.Round(age, 1) : null,
                TileMs: tiles == 0 ? 0 : Math.Round((c.DetectTime - prev.Detect).TotalMilliseconds / tiles, 2),
                TilesReused: c.TilesReused - prev.Reused,
                PassesSkipped: c.PassesSkipped - prev.Skipped,
                LastError: main?.LastError ?? sub?.LastError,
                TilesPerSecond: Math.Round(tiles / period, 2)));
            _previous[key] = (c.Analysed, c.WatchPasses, c.PassesSkipped, c.AnalysisTime, c.DetectTime, c.TilesRun, c.TilesReused, framesIn, framesSkipped);
            foreach (var (status, stream) in new[] { (main, "main"), (sub, "sub") })
            {
                if (status is null) continue;
                _metrics.FramesIn.WithLabels(w.Camera.Id, stream).IncTo(status.FramesRead);
                _metrics.FramesSkipped.WithLabels(w.Camera.Id, stream).IncTo(status.FramesSkipped);
            }

            if (w.LastOccupancyAgeSeconds is { } a) _metrics.OccupancyAgeSeconds.WithLabels(w.Camera.Id).Set(a);
        }

        var stats = _outbox.Stats();
        var (rss, _) = CpuMeter.ResidentMemory();
        var beat = new AgentHealth(
            string.Create(CultureInfo.InvariantCulture, $"{_options.AgentId}-hb-{now.ToUnixTimeMilliseconds()}"),
            _options.AgentId,
            _config.Current?.SiteId ?? "",
            now,
            Version,
            cameras,
            stats.Pending,
            cpuPercent,
            GC.GetTotalMemory(forceFullCollection: false),
            OutboxBytes: stats.Bytes,
            UploadLagSeconds: stats.OldestPending is { } oldest ? Math.Round(Math.Max(0, (now - oldest).TotalSeconds), 1) : 0,
            DroppedSamples: stats.Dropped,
            UptimeSeconds: Math.Round((now - _started).TotalSeconds),
            ResidentMemoryBytes: rss);
        // Without a site (no configuration yet, centre never reached) a heartbeat could not be attributed: it waits.
        if (beat.SiteId.Length > 0) _outbox.Add([beat]);
        return beat;
    }

    [LoggerMessage(EventId = 8001, Level = LogLevel.Information, Message = "Agent {AgentId} starting: {Cameras} camera(s), CPU budget {Budget} cores, centre {Centre}")]
    private static partial void LogStarting(ILogger logger, string agentId, int cameras, double budget, string centre);

    [LoggerMessage(EventId = 8002, Level = LogLevel.Information, Message = "Agent stopped: {Outcome}")]
    private static partial void LogStopped(ILogger logger, string outcome);

    [LoggerMessage(EventId = 8003, Level = LogLevel.Error, Message = "A corrupt outbox was set aside as {Aside}; the agent carries on with a fresh one")]
    private static partial void LogOutboxSetAside(ILogger logger, string aside);
}
