using System.Text.Json;
using System.Threading.Channels;
using CinemaVision.Core.Alerting;
using CinemaVision.Core.Events;
using CinemaVision.Server.Ingest;
using CinemaVision.Server.Operations;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace CinemaVision.Server.Alerting;

/// <summary>
/// Turns accepted incident events into alerts and notifications. Ingest commits every new incident event as a durable
/// signal in the same transaction as the event itself; this engine drains the signals in order: in one state-database
/// transaction it decides (Core's <see cref="AlertPolicy"/>), saves the alert with its history, queues its
/// notifications and records the signal as processed; only then is the signal removed from the ingest database. A
/// crash at any point therefore gives every accepted incident event its alert decision exactly once (a signal seen
/// again after a crash is found in the processed log and skipped). Notifications are delivered by a bounded pool of
/// workers from a durable queue; every attempt is recorded, a failing channel is retried with doubling delays (the
/// retry waits in the database, not in memory) and a give-up is written into the alert's history. Delivery itself is
/// at least once: a crash after a channel accepted a message but before that was recorded sends it again, with the
/// same message id / idempotency key so receivers can tell. Unacknowledged alerts escalate to the rule's next channel.
/// </summary>
public sealed partial class AlertEngine : BackgroundService
{
    private const int SignalChunk = 200;
    private readonly AlertStore _store;
    private readonly IAlertFeed _feed;
    private readonly NotificationChannels _channels;
    private readonly AlertRuleSettings _rules;
    private readonly AlertingOptions _options;
    private readonly IngestDatabase _ingest;
    private readonly IngestSignals _signals;
    private readonly IngestBacklog _backlog;
    private readonly ServerMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<AlertEngine> _logger;
    private readonly Lock _decisions = new();
    private readonly SemaphoreSlim _dispatchWake = new(0, 1);
    private readonly HashSet<string> _inFlight = [];

    public AlertEngine(AlertStore store, IAlertFeed feed, NotificationChannels channels, IOptions<AlertingOptions> options, AlertRuleSettings rules, IngestDatabase ingest, IngestSignals signals, IngestBacklog backlog, ServerMetrics metrics, TimeProvider time, ILogger<AlertEngine> logger)
    {
        _store = store;
        _feed = feed;
        _channels = channels;
        _options = options.Value;
        _rules = rules;
        _ingest = ingest;
        _signals = signals;
        _backlog = backlog;
        _metrics = metrics;
        _time = time;
        _logger = logger;
    }

    /// <summary>The enabled rules in force now (the configuration with an administrator's changes, read for every decision).</summary>
    public IReadOnlyList<AlertRule> Rules => _rules.Rules;

    public override void Dispose()
    {
        _dispatchWake.Dispose();
        base.Dispose();
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Loop(ProcessSignalsAsync, "signals", stoppingToken), Loop(DispatchAsync, "notifications", stoppingToken), Loop(EscalateAsync, "escalation", stoppingToken));

    /// <summary>Keeps a background loop alive: an unexpected failure is logged and the loop starts again a moment later.</summary>
    private async Task Loop(Func<CancellationToken, Task> body, string what, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await body(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogProcessingFailed(_logger, what, ex);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), _time, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task ProcessSignalsAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var rows = ReadSignals(SignalChunk);
            if (rows.Count == 0)
            {
                await _signals.WaitAsync(TimeSpan.FromSeconds(1), ct);
                continue;
            }

            ProcessSignals(rows);
        }
    }

    /// <summary>Decides on a chunk of signals in one transaction (one by one when the chunk fails), then removes them from the ingest database.</summary>
    internal void ProcessSignals(IReadOnlyList<StoredSignal> rows)
    {
        var changed = new List<Alert>();
        try
        {
            lock (_decisions)
            {
                _store.InTransaction((c, tx) =>
                {
                    foreach (var row in rows)
                    {
                        Decide(c, tx, row, changed);
                    }
                });
            }
        }
        catch (Exception ex) when (ex is SqliteException or JsonException or InvalidOperationException or ArgumentException)
        {
            // One bad signal must not hold up the others: decide one at a time, and set aside one that still fails.
            changed.Clear();
            foreach (var row in rows)
            {
                var one = new List<Alert>();
                try
                {
                    lock (_decisions)
                    {
                        _store.InTransaction((c, tx) => Decide(c, tx, row, one));
                    }

                    changed.AddRange(one);
                }
                catch (Exception inner) when (inner is JsonException or InvalidOperationException or ArgumentException)
                {
                    LogProcessingFailed(_logger, row.EventId, inner);
                    lock (_decisions)
                    {
                        _store.InTransaction((c, tx) => AlertStore.MarkSignalProcessed(c, tx, row.AgentId, row.EventId, _time.GetUtcNow()));
                    }
                }
            }
        }

        var last = rows[^1].Seq;
        var removed = _ingest.Write(tx =>
        {
            using var cmd = tx.Connection!.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = "DELETE FROM alert_signals WHERE seq <= $s;";
            cmd.Parameters.AddWithValue("$s", last);
            return cmd.ExecuteNonQuery();
        });
        _backlog.SignalsRemoved(removed);
        _metrics.SignalsProcessed(rows.Count);
        foreach (var alert in changed)
        {
            _feed.Publish(alert);
        }

        WakeDispatcher();
    }

    private void Decide(SqliteConnection c, SqliteTransaction tx, StoredSignal row, List<Alert> changed)
    {
        if (AlertStore.SignalProcessed(c, tx, row.AgentId, row.EventId))
        {
            return;
        }

        var now = _time.GetUtcNow();
        var e = IngestJson.Deserialize(row.Body);
        foreach (var signal in AlertSignal.From(new IngestBatch("-", row.AgentId, now, [e])))
        {
            foreach (var rule in _rules.Rules.Where(r => r.Matches(signal)))
            {
                var existing = AlertStore.LatestInGroup(c, tx, rule.GroupKey(signal));
                var decision = AlertPolicy.OnSignal(existing, rule, signal, AlertStore.ActiveMutes(c, tx, now), now);
                if (decision.Alert is null)
                {
                    continue;
                }

                _store.Save(c, tx, decision.Alert, decision.History ?? "event", null, signal.EventId, now);
                foreach (var n in decision.Notifications)
                {
                    AlertStore.Enqueue(c, tx, Guid.NewGuid().ToString("N"), n.Alert.Id, n.Channel, n.Reason, 1, now);
                }

                changed.Add(decision.Alert);
            }
        }

        AlertStore.MarkSignalProcessed(c, tx, row.AgentId, row.EventId, now);
    }

    private List<StoredSignal> ReadSignals(int limit)
    {
        using var c = _ingest.OpenReader();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT seq, agent_id, event_id, body FROM alert_signals ORDER BY seq LIMIT $n;";
        cmd.Parameters.AddWithValue("$n", limit);
        using var r = cmd.ExecuteReader();
        var list = new List<StoredSignal>();
        while (r.Read())
        {
            list.Add(new StoredSignal(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3)));
        }

        return list;
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
        var rules = _rules.Rules.ToDictionary(r => r.Name, StringComparer.Ordinal);
        foreach (var open in _store.Open())
        {
            if (!rules.TryGetValue(open.RuleName, out var rule))
            {
                continue;
            }

            Alert? escalated = null;
            lock (_decisions)
            {
                _store.InTransaction((c, tx) =>
                {
                    var current = AlertStore.Get(c, tx, open.Id);
                    if (current is null)
                    {
                        return;
                    }

                    var decision = AlertPolicy.Escalate(current, rule, now);
                    if (decision.Alert is null)
                    {
                        return;
                    }

                    _store.Save(c, tx, decision.Alert, decision.History ?? "escalated", "system", null, now);
                    foreach (var n in decision.Notifications)
                    {
                        AlertStore.Enqueue(c, tx, Guid.NewGuid().ToString("N"), n.Alert.Id, n.Channel, n.Reason, 1, now);
                    }

                    escalated = decision.Alert;
                });
            }

            if (escalated is not null)
            {
                _feed.Publish(escalated);
                WakeDispatcher();
            }
        }
    }

    private async Task EscalateAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_options.EscalationCheckSeconds), _time);
        while (await timer.WaitForNextTickAsync(ct))
        {
            EscalateDue();
        }
    }

    private void WakeDispatcher()
    {
        try
        {
            if (_dispatchWake.CurrentCount == 0)
            {
                _dispatchWake.Release();
            }
        }
        catch (SemaphoreFullException)
        {
        }
    }

    /// <summary>
    /// One scheduler hands due notifications to a fixed pool of <see cref="AlertingOptions.MaxConcurrentDeliveries"/>
    /// workers through a bounded channel: a slow mail server occupies one worker, never an unbounded number of tasks.
    /// </summary>
    private async Task DispatchAsync(CancellationToken ct)
    {
        var workers = Math.Max(1, _options.MaxConcurrentDeliveries);
        var queue = Channel.CreateBounded<QueuedNotification>(new BoundedChannelOptions(workers) { FullMode = BoundedChannelFullMode.Wait, SingleWriter = true });
        var pool = Enumerable.Range(0, workers).Select(_ => Task.Run(
            async () =>
            {
                await foreach (var item in queue.Reader.ReadAllAsync(ct))
                {
                    try
                    {
                        await DeliverAsync(item, ct);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        LogProcessingFailed(_logger, "notification " + item.Id, ex);
                    }
                    finally
                    {
                        lock (_inFlight)
                        {
                            _inFlight.Remove(item.Id);
                        }

                        WakeDispatcher();
                    }
                }
            },
            CancellationToken.None)).ToList();
        try
        {
            while (!ct.IsCancellationRequested)
            {
                int free;
                string[] busy;
                lock (_inFlight)
                {
                    free = (workers * 2) - _inFlight.Count;
                    busy = [.. _inFlight];
                }

                if (free > 0)
                {
                    foreach (var item in _store.Due(_time.GetUtcNow(), free, busy))
                    {
                        lock (_inFlight)
                        {
                            _inFlight.Add(item.Id);
                        }

                        await queue.Writer.WriteAsync(item, ct);
                    }
                }

                await _dispatchWake.WaitAsync(TimeSpan.FromSeconds(1), ct);
            }
        }
        finally
        {
            queue.Writer.TryComplete();
            await Task.WhenAll(pool).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    private async Task DeliverAsync(QueuedNotification item, CancellationToken ct)
    {
        var at = _time.GetUtcNow();
        var alert = _store.Get(item.AlertId);
        if (alert is null || _channels.Find(item.Channel) is not { } channel)
        {
            _store.InTransaction((c, tx) =>
            {
                if (alert is not null)
                {
                    AlertStore.RecordAttempt(c, tx, item.AlertId, new NotificationAttempt(item.Channel, item.Reason, item.Attempt, at, false, $"channel '{item.Channel}' is not configured"));
                }

                AlertStore.Dequeue(c, tx, item.Id);
            });
            return;
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(_options.DeliveryTimeoutSeconds));
            await channel.SendAsync(new AlertNotification(alert, item.Channel, item.Reason), timeout.Token);
            _store.InTransaction((c, tx) =>
            {
                AlertStore.RecordAttempt(c, tx, item.AlertId, new NotificationAttempt(item.Channel, item.Reason, item.Attempt, at, true, null));
                AlertStore.Dequeue(c, tx, item.Id);
            });
            _metrics.NotificationAttempt(item.Channel, ok: true);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            var error = ex is OperationCanceledException ? $"no answer within {_options.DeliveryTimeoutSeconds} s" : ex.Message;
            _metrics.NotificationAttempt(item.Channel, ok: false);
            LogDeliveryFailed(_logger, item.Channel, item.AlertId, item.Attempt, error);
            lock (_decisions)
            {
                _store.InTransaction((c, tx) =>
                {
                    AlertStore.RecordAttempt(c, tx, item.AlertId, new NotificationAttempt(item.Channel, item.Reason, item.Attempt, at, false, error));
                    if (item.Attempt >= _options.MaxAttempts)
                    {
                        if (AlertStore.Get(c, tx, item.AlertId) is { } current)
                        {
                            _store.Save(c, tx, current, "notification failed", "system", $"{item.Channel}: gave up after {item.Attempt} attempts: {error}", _time.GetUtcNow());
                        }

                        AlertStore.Dequeue(c, tx, item.Id);
                        return;
                    }

                    var delay = TimeSpan.FromSeconds(_options.RetryDelaySeconds * Math.Pow(2, item.Attempt - 1));
                    AlertStore.Enqueue(c, tx, item.Id, item.AlertId, item.Channel, item.Reason, item.Attempt + 1, _time.GetUtcNow() + delay);
                });
            }
        }
    }

    [LoggerMessage(EventId = 5001, Level = LogLevel.Error, Message = "Alerting could not process {EventId}")]
    private static partial void LogProcessingFailed(ILogger logger, string eventId, Exception exception);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "Notification through {Channel} for alert {AlertId} failed (attempt {Attempt}): {Error}")]
    private static partial void LogDeliveryFailed(ILogger logger, string channel, string alertId, int attempt, string error);
}

/// <summary>An incident event waiting in the ingest database to go through the alerting engine.</summary>
public sealed record StoredSignal(long Seq, string AgentId, string EventId, string Body);
