using System.Threading.Channels;
using CinemaVision.Core.Alerting;
using CinemaVision.Core.Events;
using CinemaVision.Server.Ingest;
using Microsoft.Extensions.Options;

namespace CinemaVision.Server.Alerting;

/// <summary>
/// Turns stored incident events into alerts and notifications. It observes ingest (new items only) through a large
/// queue so ingest never waits on a mail server; decisions are Core's <see cref="AlertPolicy"/>; every notification
/// attempt is recorded, a failing channel is retried with doubling delays and its failure is shown on the alert's
/// history, never dropped silently; unacknowledged alerts escalate to the next channel of their rule.
/// </summary>
public sealed partial class AlertEngine : BackgroundService, IIngestObserver
{
    private readonly Channel<AlertSignal> _signals = Channel.CreateBounded<AlertSignal>(new BoundedChannelOptions(100_000) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
    private readonly Channel<(string QueueId, AlertNotification Notification, int Attempt)> _outbox = Channel.CreateUnbounded<(string, AlertNotification, int)>();
    private readonly AlertStore _store;
    private readonly IAlertFeed _feed;
    private readonly Dictionary<string, INotificationChannel> _channels;
    private readonly IReadOnlyList<AlertRule> _rules;
    private readonly AlertingOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<AlertEngine> _logger;
    private readonly object _decisions = new();

    public AlertEngine(AlertStore store, IAlertFeed feed, IEnumerable<INotificationChannel> channels, IOptions<AlertingOptions> options, TimeProvider time, ILogger<AlertEngine> logger)
    {
        _store = store;
        _feed = feed;
        _channels = channels.ToDictionary(c => c.Name, StringComparer.Ordinal);
        _options = options.Value;
        _rules = _options.EffectiveRules();
        _time = time;
        _logger = logger;
    }

    public IReadOnlyList<AlertRule> Rules => _rules;

    public async ValueTask OnStoredAsync(IngestBatch newItems, CancellationToken cancellationToken)
    {
        foreach (var signal in AlertSignal.From(newItems)) await _signals.Writer.WriteAsync(signal, cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Notifications that were waiting when the service stopped are delivered now, not forgotten.
        foreach (var (id, alertId, channel, reason, attempt) in _store.Pending())
        {
            if (_store.Get(alertId) is { } alert) _outbox.Writer.TryWrite((id, new AlertNotification(alert, channel, reason), attempt));
            else _store.Dequeue(id);
        }

        return Task.WhenAll(ProcessSignalsAsync(stoppingToken), DispatchAsync(stoppingToken), EscalateAsync(stoppingToken));
    }

    private void Send(AlertNotification n)
    {
        var id = Guid.NewGuid().ToString("N");
        _store.Enqueue(id, n.Alert.Id, n.Channel, n.Reason, 1);
        _outbox.Writer.TryWrite((id, n, 1));
    }

    private async Task ProcessSignalsAsync(CancellationToken ct)
    {
        await foreach (var signal in _signals.Reader.ReadAllAsync(ct))
        {
            try
            {
                Process(signal);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogProcessingFailed(_logger, signal.EventId, ex);
            }
        }
    }

    internal void Process(AlertSignal signal)
    {
        var now = _time.GetUtcNow();
        foreach (var rule in _rules.Where(r => r.Matches(signal)))
        {
            AlertDecision decision;
            lock (_decisions)
            {
                var existing = _store.LatestInGroup(rule.GroupKey(signal));
                decision = AlertPolicy.OnSignal(existing, rule, signal, _store.ActiveMutes(now), now);
                if (decision.Alert is null) continue;
                _store.Save(decision.Alert, decision.History ?? "event", null, signal.EventId, now);
            }

            _feed.Publish(decision.Alert);
            foreach (var n in decision.Notifications) Send(n);
        }
    }

    public Alert Acknowledge(string alertId, string by)
    {
        lock (_decisions)
        {
            var alert = _store.Get(alertId) ?? throw new KeyNotFoundException($"No alert '{alertId}'.");
            var updated = AlertPolicy.Acknowledge(alert, by, _time.GetUtcNow());
            _store.Save(updated, "acknowledged", by, null, _time.GetUtcNow());
            _feed.Publish(updated);
            return updated;
        }
    }

    public Alert Resolve(string alertId, string by, string note)
    {
        lock (_decisions)
        {
            var alert = _store.Get(alertId) ?? throw new KeyNotFoundException($"No alert '{alertId}'.");
            var updated = AlertPolicy.Resolve(alert, by, note, _time.GetUtcNow());
            _store.Save(updated, "resolved", by, note, _time.GetUtcNow());
            _feed.Publish(updated);
            return updated;
        }
    }

    /// <summary>Checks every open alert for escalation (also run by the timer).</summary>
    public void EscalateDue()
    {
        var now = _time.GetUtcNow();
        var rules = _rules.ToDictionary(r => r.Name, StringComparer.Ordinal);
        foreach (var open in _store.Open())
        {
            if (!rules.TryGetValue(open.RuleName, out var rule)) continue;
            AlertDecision decision;
            lock (_decisions)
            {
                var current = _store.Get(open.Id);
                if (current is null) continue;
                decision = AlertPolicy.Escalate(current, rule, now);
                if (decision.Alert is null) continue;
                _store.Save(decision.Alert, decision.History ?? "escalated", "system", null, now);
            }

            _feed.Publish(decision.Alert);
            foreach (var n in decision.Notifications) Send(n);
        }
    }

    private async Task EscalateAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_options.EscalationCheckSeconds), _time);
        while (await timer.WaitForNextTickAsync(ct))
        {
            try
            {
                EscalateDue();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogProcessingFailed(_logger, "escalation", ex);
            }
        }
    }

    private async Task DispatchAsync(CancellationToken ct)
    {
        await foreach (var (id, n, attempt) in _outbox.Reader.ReadAllAsync(ct))
        {
            // Each delivery runs on its own so a slow mail server does not hold up the live push or a webhook.
            _ = Task.Run(() => DeliverAsync(id, n, attempt, ct), CancellationToken.None);
        }
    }

    private async Task DeliverAsync(string queueId, AlertNotification n, int attempt, CancellationToken ct)
    {
        var at = _time.GetUtcNow();
        if (!_channels.TryGetValue(n.Channel, out var channel))
        {
            _store.RecordAttempt(n.Alert.Id, new NotificationAttempt(n.Channel, n.Reason, attempt, at, false, $"channel '{n.Channel}' is not configured"));
            _store.Dequeue(queueId);
            return;
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            await channel.SendAsync(n, timeout.Token);
            _store.RecordAttempt(n.Alert.Id, new NotificationAttempt(n.Channel, n.Reason, attempt, at, true, null));
            _store.Dequeue(queueId);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            _store.RecordAttempt(n.Alert.Id, new NotificationAttempt(n.Channel, n.Reason, attempt, at, false, ex.Message));
            LogDeliveryFailed(_logger, n.Channel, n.Alert.Id, attempt, ex.Message);
            if (attempt >= _options.MaxAttempts)
            {
                lock (_decisions)
                {
                    if (_store.Get(n.Alert.Id) is { } current) _store.Save(current, "notification failed", "system", $"{n.Channel}: gave up after {attempt} attempts: {ex.Message}", _time.GetUtcNow());
                }

                _store.Dequeue(queueId);
                return;
            }

            _store.Enqueue(queueId, n.Alert.Id, n.Channel, n.Reason, attempt + 1);
            await Task.Delay(TimeSpan.FromSeconds(_options.RetryDelaySeconds * Math.Pow(2, attempt - 1)), _time, ct);
            _outbox.Writer.TryWrite((queueId, n, attempt + 1));
        }
    }

    [LoggerMessage(EventId = 5001, Level = LogLevel.Error, Message = "Alerting could not process {EventId}")]
    private static partial void LogProcessingFailed(ILogger logger, string eventId, Exception exception);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "Notification through {Channel} for alert {AlertId} failed (attempt {Attempt}): {Error}")]
    private static partial void LogDeliveryFailed(ILogger logger, string channel, string alertId, int attempt, string error);
}
