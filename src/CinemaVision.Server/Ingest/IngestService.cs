using CinemaVision.Core.Events;
using CinemaVision.Server.Configuration;
using Microsoft.Data.Sqlite;
using CinemaVision.Server.Operations;
using Microsoft.Extensions.Options;

namespace CinemaVision.Server.Ingest;

/// <summary>The batch was refused whole because a backlog is at its bound (answered 429 with Retry-After).</summary>
public sealed class IngestBackpressureException(BacklogRefusal refusal) : Exception(refusal.Detail)
{
    public BacklogRefusal Refusal { get; } = refusal;
}

/// <summary>
/// Stores a validated batch once, locally and durably, before it is acknowledged: in one SQLite transaction of the
/// ingest database the item ids are claimed in the ledger, the new events are written (embedded series, or the
/// backlog for InfluxDB) and every new incident event becomes a durable alert signal. The alerting engine and the
/// InfluxDB forwarder drain the signals and the backlog in the background, so a slow or absent InfluxDB never
/// holds an agent's request, and a crash at any point after the answer loses nothing.
/// </summary>
public sealed class IngestService
{
    private readonly IngestDatabase _db;
    private readonly IEventSink _sink;
    private readonly IngestBacklog _backlog;
    private readonly IEnumerable<IIngestObserver> _observers;
    private readonly IngestSignals _signals;
    private readonly ServerMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<IngestService> _logger;
    private readonly bool _forwarding;

    public IngestService(IngestDatabase db, IEventSink sink, IngestBacklog backlog, IEnumerable<IIngestObserver> observers, IngestSignals signals, ServerMetrics metrics, IOptions<ServerOptions> options, TimeProvider time, ILogger<IngestService> logger)
    {
        _db = db;
        _sink = sink;
        _backlog = backlog;
        _observers = observers;
        _signals = signals;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _forwarding = options.Value.TimeSeries.Provider == TimeSeriesProvider.Influx;
    }

    /// <exception cref="IngestBackpressureException">A backlog is full; nothing was stored.</exception>
    public async Task<IngestResult> StoreAsync(IngestBatch batch, CancellationToken cancellationToken)
    {
        var incidents = batch.Events.Count(e => e is IIncidentEvent);
        if (_backlog.Check(batch.ItemCount, incidents, _forwarding) is { } refusal)
        {
            _metrics.BatchRefused("backlog");
            throw new IngestBackpressureException(refusal);
        }

        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var (fresh, signals) = await _db.WriteAsync(tx => Commit(tx, batch, now), cancellationToken);

        var duplicates = batch.ItemCount - fresh.Count;
        _metrics.BatchStored(fresh.Count, duplicates);
        IngestLog.BatchStored(_logger, batch.BatchId, batch.AgentId, fresh.Count, duplicates);
        if (fresh.Count > 0)
        {
            if (_forwarding)
            {
                _backlog.ForwardAdded(fresh.Count);
            }

            _backlog.SignalsAdded(signals);
            _sink.Committed(fresh.Count);
            if (signals > 0)
            {
                _signals.Wake();
            }

            var stored = batch with { Events = fresh };
            foreach (var observer in _observers)
            {
                try
                {
                    await observer.OnStoredAsync(stored, CancellationToken.None);
                }
                catch (Exception ex)
                {
                    IngestLog.ObserverFailed(_logger, ex, observer.GetType().Name, batch.BatchId);
                }
            }
        }

        return new IngestResult(batch.BatchId, fresh.Count, duplicates);
    }

    private (List<EdgeEvent> Fresh, int Signals) Commit(SqliteTransaction tx, IngestBatch batch, long now)
    {
        using var claim = tx.Connection!.CreateCommand();
        claim.Transaction = tx;
        claim.CommandText = "INSERT OR IGNORE INTO ingested_items(agent_id, item_id, batch_id, stored_at) VALUES ($agent, $id, $batch, $at);";
        var idParameter = claim.Parameters.Add("$id", SqliteType.Text);
        claim.Parameters.AddWithValue("$agent", batch.AgentId);
        claim.Parameters.AddWithValue("$batch", batch.BatchId);
        claim.Parameters.AddWithValue("$at", now);
        claim.Prepare();
        var fresh = new List<EdgeEvent>(batch.ItemCount);
        foreach (var e in batch.Events)
        {
            idParameter.Value = e.Id;
            if (claim.ExecuteNonQuery() == 1)
            {
                fresh.Add(e);
            }
        }

        if (fresh.Count == 0)
        {
            return (fresh, 0);
        }

        _sink.Write(tx, fresh);
        var signals = 0;
        using var signal = tx.Connection.CreateCommand();
        signal.Transaction = tx;
        signal.CommandText = "INSERT INTO alert_signals(agent_id, event_id, body, enqueued_at) VALUES ($agent, $id, $body, $at);";
        var sid = signal.Parameters.Add("$id", SqliteType.Text);
        var body = signal.Parameters.Add("$body", SqliteType.Text);
        signal.Parameters.AddWithValue("$agent", batch.AgentId);
        signal.Parameters.AddWithValue("$at", now);
        foreach (var e in fresh)
        {
            if (e is IIncidentEvent)
            {
                sid.Value = e.Id;
                body.Value = IngestJson.Serialize(e);
                signal.ExecuteNonQuery();
                signals++;
            }
        }

        return (fresh, signals);
    }
}

/// <summary>Wakes the alerting engine when new signals were committed (it also polls, so a missed wake only delays).</summary>
public sealed class IngestSignals : IDisposable
{
    private readonly SemaphoreSlim _wake = new(0, 1);

    public void Wake()
    {
        try
        {
            if (_wake.CurrentCount == 0)
            {
                _wake.Release();
            }
        }
        catch (SemaphoreFullException)
        {
        }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _wake.WaitAsync(timeout, cancellationToken);

    public void Dispose() => _wake.Dispose();
}

internal static partial class IngestLog
{
    [LoggerMessage(EventId = 2001, EventName = "BatchStored", Level = LogLevel.Debug, Message = "Batch {BatchId} from agent {AgentId}: {Accepted} stored, {Duplicates} already stored")]
    public static partial void BatchStored(ILogger logger, string batchId, string agentId, int accepted, int duplicates);

    [LoggerMessage(EventId = 2002, EventName = "ObserverFailed", Level = LogLevel.Error, Message = "Ingest observer {Observer} failed for batch {BatchId}; the batch stays stored")]
    public static partial void ObserverFailed(ILogger logger, Exception exception, string observer, string batchId);

    [LoggerMessage(EventId = 2003, EventName = "BatchRejected", Level = LogLevel.Information, Message = "Batch from agent {AgentId} rejected: {Reason}")]
    public static partial void BatchRejected(ILogger logger, string agentId, string reason);

    [LoggerMessage(EventId = 2004, EventName = "StoreFailed", Level = LogLevel.Error, Message = "Batch {BatchId} from agent {AgentId} could not be stored")]
    public static partial void StoreFailed(ILogger logger, Exception exception, string batchId, string agentId);

    [LoggerMessage(EventId = 2005, EventName = "IngestOverloaded", Level = LogLevel.Warning, Message = "Ingest overloaded: batch refused with 429")]
    public static partial void Overloaded(ILogger logger);

    [LoggerMessage(EventId = 2006, EventName = "BacklogFull", Level = LogLevel.Warning, Message = "Batch {BatchId} from agent {AgentId} refused with 429: {Reason}")]
    public static partial void BacklogFull(ILogger logger, string batchId, string agentId, string reason);

    [LoggerMessage(EventId = 2007, EventName = "LedgerPruned", Level = LogLevel.Information, Message = "Idempotency ledger: {Removed} item ids older than {Days} days removed")]
    public static partial void LedgerPruned(ILogger logger, long removed, double days);
}
