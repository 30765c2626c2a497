using CinemaVision.Core.Events;

namespace CinemaVision.Server.Ingest;

/// <summary>
/// Told about every accepted batch after it has been stored, with only the items that were new (a replayed
/// item is not passed twice). The alerting engine is one observer. Observers must not throw for a bad event:
/// the batch is already stored and acknowledged.
/// </summary>
public interface IIngestObserver
{
    ValueTask OnStoredAsync(IngestBatch newItems, CancellationToken cancellationToken);
}
