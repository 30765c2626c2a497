using Prometheus;

namespace CinemaVision.Server.Operations;

/// <summary>
/// The central service's Prometheus metrics (prometheus-net, served on <c>/metrics</c>). One registry per host, so
/// several hosts in one process (tests) do not mix figures. Counters are bumped where things happen; the backlog
/// gauges are read at scrape time from their owners.
/// </summary>
public sealed class ServerMetrics
{
    private readonly Counter _batches;
    private readonly Counter _events;
    private readonly Counter _refused;
    private readonly Counter _forwarded;
    private readonly Counter _forwardRetries;
    private readonly Counter _deadLettered;
    private readonly Counter _signals;
    private readonly Counter _notifications;
    private readonly Counter _signIns;

    public ServerMetrics()
    {
        Registry = Metrics.NewCustomRegistry();
        var f = Metrics.WithCustomRegistry(Registry);
        _batches = f.CreateCounter("cinemavision_ingest_batches_total", "Ingest batches stored (acknowledged).");
        _events = f.CreateCounter("cinemavision_ingest_events_total", "Events in stored batches, new or already stored.", "outcome");
        _refused = f.CreateCounter("cinemavision_ingest_refused_total", "Batches refused with 429 before anything was stored.", "reason");
        _forwarded = f.CreateCounter("cinemavision_timeseries_forwarded_events_total", "Events written to InfluxDB by the forwarder.");
        _forwardRetries = f.CreateCounter("cinemavision_timeseries_forward_retries_total", "InfluxDB writes retried (timeouts, 5xx, 429, refused credentials).", "reason");
        _deadLettered = f.CreateCounter("cinemavision_timeseries_dead_lettered_events_total", "Events InfluxDB refused for good (4xx for the point): set aside, never retried.");
        _signals = f.CreateCounter("cinemavision_alert_signals_processed_total", "Incident events turned into alert decisions.");
        _notifications = f.CreateCounter("cinemavision_notification_attempts_total", "Notification attempts by channel and outcome.", "channel", "outcome");
        _signIns = f.CreateCounter("cinemavision_signins_total", "Sign-in attempts by outcome (ok, failed, throttled, refused).", "outcome");
        ForwardBacklog = f.CreateGauge("cinemavision_timeseries_backlog_events", "Events accepted and waiting to be written to InfluxDB.");
        ForwardBacklogLimit = f.CreateGauge("cinemavision_timeseries_backlog_limit_events", "The backlog bound: above it agents get 429.");
        ForwardOldest = f.CreateGauge("cinemavision_timeseries_backlog_oldest_seconds", "Age of the oldest event waiting for InfluxDB.");
        DeadLetters = f.CreateGauge("cinemavision_timeseries_dead_letters", "Events set aside because InfluxDB refused them.");
        SignalsPending = f.CreateGauge("cinemavision_alert_signals_pending", "Incident events accepted and not yet turned into alerts.");
        NotificationsPending = f.CreateGauge("cinemavision_notifications_pending", "Notifications waiting for delivery or a retry.");
        InfluxUp = f.CreateGauge("cinemavision_timeseries_store_up", "1 when the last write to the time-series store succeeded (embedded: always 1).");
    }

    public CollectorRegistry Registry { get; }

    public Gauge ForwardBacklog { get; }

    public Gauge ForwardBacklogLimit { get; }

    public Gauge ForwardOldest { get; }

    public Gauge DeadLetters { get; }

    public Gauge SignalsPending { get; }

    public Gauge NotificationsPending { get; }

    public Gauge InfluxUp { get; }

    public void BatchStored(int stored, int duplicates)
    {
        _batches.Inc();
        _events.WithLabels("stored").Inc(stored);
        _events.WithLabels("duplicate").Inc(duplicates);
    }

    public void BatchRefused(string reason) => _refused.WithLabels(reason).Inc();

    public void Forwarded(int events) => _forwarded.Inc(events);

    public void ForwardRetry(string reason) => _forwardRetries.WithLabels(reason).Inc();

    public void DeadLettered(int events) => _deadLettered.Inc(events);

    public void SignalsProcessed(int signals) => _signals.Inc(signals);

    public void NotificationAttempt(string channel, bool ok) => _notifications.WithLabels(channel, ok ? "ok" : "failed").Inc();

    public void SignIn(string outcome) => _signIns.WithLabels(outcome).Inc();
}
