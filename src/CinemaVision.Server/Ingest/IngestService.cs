using CinemaVision.Core.Events;
using CinemaVision.Server.Storage;
using CinemaVision.Server.Storage.TimeSeries;

namespace CinemaVision.Server.Ingest;

/// <summary>The outcome of storing one batch.</summary>
public sealed record IngestResult(string BatchId, int Accepted, int Duplicates);

public sealed class IngestedItemsSchema : IStateSchema
{
    public string Name => "ingested_items";

    // The idempotency ledger: one row per item id an agent has had stored, whatever the time-series store.
    public string CreateSql => """
        CREATE TABLE IF NOT EXISTS ingested_items (
            agent_id TEXT NOT NULL,
            item_id TEXT NOT NULL,
            batch_id TEXT NOT NULL,
            stored_at INTEGER NOT NULL,
            PRIMARY KEY (agent_id, item_id)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS ix_ingested_items_time ON ingested_items(stored_at);
        """;
}

/// <summary>
/// Stores a validated batch once: the item ids are claimed in the ledger and the new items written to the time-series
/// store in the same step; when the store fails the claim is rolled back, so a retry stores them. Observers then see
/// only the new items.
/// </summary>
public sealed class IngestService : IDisposable
{
    private readonly StateDatabase _state;
    private readonly ITimeSeriesStore _store;
    private readonly IEnumerable<IIngestObserver> _observers;
    private readonly TimeProvider _time;
    private readonly ILogger<IngestService> _logger;

    // SQLite has one writer; serialising here keeps the ledger and the store in step without busy retries.
    private readonly SemaphoreSlim _writer = new(1, 1);

    public IngestService(StateDatabase state, ITimeSeriesStore store, IEnumerable<IIngestObserver> observers, TimeProvider time, ILogger<IngestService> logger)
    {
        _state = state;
        _store = store;
        _observers = observers;
        _time = time;
        _logger = logger;
    }

    public void Dispose() => _writer.Dispose();

    public async Task<IngestResult> StoreAsync(IngestBatch batch, CancellationToken cancellationToken)
    {
        IngestBatch fresh;
        await _writer.WaitAsync(cancellationToken);
        try
        {
            using var connection = _state.Open();
            using var tx = connection.BeginTransaction();
            using var claim = connection.CreateCommand();
            claim.Transaction = tx;
            claim.CommandText = "INSERT OR IGNORE INTO ingested_items(agent_id, item_id, batch_id, stored_at) VALUES ($agent, $id, $batch, $at);";
            var idParameter = claim.Parameters.Add("$id", Microsoft.Data.Sqlite.SqliteType.Text);
            claim.Parameters.AddWithValue("$agent", batch.AgentId);
            claim.Parameters.AddWithValue("$batch", batch.BatchId);
            claim.Parameters.AddWithValue("$at", _time.GetUtcNow().ToUnixTimeMilliseconds());
            claim.Prepare();
            bool IsNew(string id)
            {
                idParameter.Value = id;
                return claim.ExecuteNonQuery() == 1;
            }

            fresh = batch with { Events = [.. batch.Events.Where(e => IsNew(e.Id))] };

            if (fresh.ItemCount > 0)
            {
                // Not cancellable once started: an aborted request must not leave the store ahead of the ledger.
                await _store.WriteAsync(fresh, CancellationToken.None);
            }

            tx.Commit();
        }
        finally
        {
            _writer.Release();
        }

        var duplicates = batch.ItemCount - fresh.ItemCount;
        IngestLog.BatchStored(_logger, batch.BatchId, batch.AgentId, fresh.ItemCount, duplicates);
        if (fresh.ItemCount > 0)
        {
            foreach (var observer in _observers)
            {
                try
                {
                    await observer.OnStoredAsync(fresh, CancellationToken.None);
                }
                catch (Exception ex)
                {
                    IngestLog.ObserverFailed(_logger, ex, observer.GetType().Name, batch.BatchId);
                }
            }
        }

        return new IngestResult(batch.BatchId, fresh.ItemCount, duplicates);
    }
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
}
