using CinemaVision.Core.Events;
using Microsoft.Data.Sqlite;

namespace CinemaVision.Server.Ingest;

/// <summary>
/// Where accepted events go inside the ingest transaction: the embedded store's series tables, or the backlog the
/// InfluxDB forwarder drains. Never does network I/O.
/// </summary>
public interface IEventSink
{
    /// <summary>Writes the events in the caller's transaction (all or nothing with the ledger and the alert signals).</summary>
    void Write(SqliteTransaction tx, IReadOnlyList<EdgeEvent> events);

    /// <summary>Told after the transaction committed (a forwarder wakes up).</summary>
    void Committed(int count);
}
