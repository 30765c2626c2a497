using CinemaVision.Core.Events;

namespace CinemaVision.Server.Ingest;

/// <summary>
/// Told about every accepted batch after it has been stored, with only the items that were new (a replayed
/// item is not passed twice). For live views only (best effort, in memory): the alerting engine
/// does not depend on it, it drains the durable signals. Observers must not throw for a bad event: the batch is already stored.
/// </summary>
public interface IIngestObserver
{
    ValueTask OnStoredAsync(IngestBatch newItems, CancellationToken cancellationToken);
}
