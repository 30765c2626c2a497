using Prometheus;

namespace CinemaVision.Edge.Operations;

/// <summary>
/// The agent's Prometheus metrics (prometheus-net, served on /metrics): frames in, analysed and skipped per camera,
/// per-stage latency, tiles run and reused, outbox depth and upload lag, uploads. One registry per agent instance so
/// tests can run several.
/// </summary>
public sealed class AgentMetrics
{
    public AgentMetrics(CollectorRegistry? registry = null)
    {
        Registry = registry ?? Metrics.NewCustomRegistry();
        var f = Metrics.WithCustomRegistry(Registry);
        string[] camera = ["camera"];
        FramesIn = f.CreateCounter("cinemavision_frames_in_total", "Frames decoded, per camera and stream.", ["camera", "stream"]);
        FramesSkipped = f.CreateCounter("cinemavision_frames_skipped_total", "Decoded frames nobody analysed (newest frame wins), per camera and stream.", ["camera", "stream"]);
        FramesAnalysed = f.CreateCounter("cinemavision_frames_analysed_total", "Frames analysed, per camera and pass (occupancy, watch, health).", ["camera", "pass"]);
        PassesSkipped = f.CreateCounter("cinemavision_passes_skipped_total", "Watching passes skipped because the CPU budget was spent, per camera.", camera);
        StageSeconds = f.CreateHistogram("cinemavision_stage_seconds", "Time per pipeline stage (wait, detect, pipeline, outbox).", new HistogramConfiguration
        {
            LabelNames = ["stage"],
            Buckets = Histogram.ExponentialBuckets(0.001, 2, 16),
        });
        Tiles = f.CreateCounter("cinemavision_tiles_total", "Detector tile runs, per camera.", camera);
        TilesReused = f.CreateCounter("cinemavision_tiles_reused_total", "Tiles whose detections were reused because their pixels had not changed, per camera.", camera);
        OutboxPending = f.CreateGauge("cinemavision_outbox_pending", "Events waiting in the outbox.");
        OutboxBytes = f.CreateGauge("cinemavision_outbox_bytes", "Bytes the outbox holds (events and evidence).");
        UploadLagSeconds = f.CreateGauge("cinemavision_upload_lag_seconds", "Age of the oldest event not yet uploaded.");
        EventsProduced = f.CreateCounter("cinemavision_events_produced_total", "Events written to the outbox, per type.", ["type"]);
        EventsUploaded = f.CreateCounter("cinemavision_events_uploaded_total", "Events the centre acknowledged.");
        EventsRejected = f.CreateCounter("cinemavision_events_rejected_total", "Events the centre refused as invalid (set aside).");
        SamplesDropped = f.CreateGauge("cinemavision_samples_dropped", "Occupancy samples and heartbeats dropped because the outbox was full (since the outbox was created).");
        UploadFailures = f.CreateCounter("cinemavision_upload_failures_total", "Failed upload attempts.");
        UploadSeconds = f.CreateHistogram("cinemavision_upload_seconds", "Time per batch upload.", new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.005, 2, 14) });
        CameraOnline = f.CreateGauge("cinemavision_camera_online", "1 while the camera delivers frames.", camera);
        OccupancyAgeSeconds = f.CreateGauge("cinemavision_occupancy_age_seconds", "Seconds since the camera's last occupancy pass.", camera);
        CpuCores = f.CreateGauge("cinemavision_cpu_cores", "Cores used by the agent and its decoders (last second).");
        CpuBudgetCores = f.CreateGauge("cinemavision_cpu_budget_cores", "The configured CPU budget.");
    }

    public CollectorRegistry Registry { get; }
    public Counter FramesIn { get; }
    public Counter FramesSkipped { get; }
    public Counter FramesAnalysed { get; }
    public Counter PassesSkipped { get; }
    public Histogram StageSeconds { get; }
    public Counter Tiles { get; }
    public Counter TilesReused { get; }
    public Gauge OutboxPending { get; }
    public Gauge OutboxBytes { get; }
    public Gauge UploadLagSeconds { get; }
    public Counter EventsProduced { get; }
    public Counter EventsUploaded { get; }
    public Counter EventsRejected { get; }
    public Gauge SamplesDropped { get; }
    public Counter UploadFailures { get; }
    public Histogram UploadSeconds { get; }
    public Gauge CameraOnline { get; }
    public Gauge OccupancyAgeSeconds { get; }
    public Gauge CpuCores { get; }
    public Gauge CpuBudgetCores { get; }
}
