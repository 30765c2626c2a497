using CinemaVision.Core.Events;

namespace CinemaVision.Server.Storage.TimeSeries;

/// <summary>Which tier answers an occupancy query.</summary>
public enum OccupancyResolution
{
    /// <summary>Raw samples while they are retained, else 1-minute rollups.</summary>
    Auto = 0,
    Raw = 1,
    OneMinute = 2,
}

/// <summary>One point of an occupancy series: a raw sample or a 1-minute rollup (mean people, max occupied).</summary>
public sealed record OccupancyPoint(DateTimeOffset Timestamp, double People, double SeatsOccupied, int SeatsTotal, double Confidence, int SampleCount);

/// <summary>Filter for stored incidents (anomalies, piracy, camera health).</summary>
public sealed record EventQuery(string SiteId, DateTimeOffset From, DateTimeOffset To, string? AuditoriumId = null, string? Kind = null, int Limit = 1000);

/// <summary>An incident phase as stored, whatever its type.</summary>
public sealed record StoredEvent(string Id, string Type, string Kind, string IncidentId, IncidentPhase Phase, string SiteId, string AuditoriumId, string CameraId, DateTimeOffset StartedAt, DateTimeOffset Timestamp, double Confidence, string? SeatId, string? EvidenceId, string? Detail);

/// <summary>
/// The time-series port: what the ingest writes and what the dashboard, reconciliation and alerting read. Two real
/// implementations (embedded SQLite, InfluxDB v1 API) pass the same contract tests.
/// Occupancy series are the auditorium-wide samples (CameraId null); per-camera samples are stored but not summed.
/// </summary>
public interface ITimeSeriesStore
{
    /// <summary>Stores every item of the batch. Writing the same item twice stores it once (same series and time).</summary>
    Task WriteAsync(IngestBatch batch, CancellationToken cancellationToken);

    Task<IReadOnlyList<OccupancyPoint>> GetOccupancyAsync(string siteId, string auditoriumId, DateTimeOffset from, DateTimeOffset to, OccupancyResolution resolution, CancellationToken cancellationToken);

    /// <summary>Auditorium-wide occupancy samples of one showing, oldest first.</summary>
    Task<IReadOnlyList<OccupancySample>> GetShowingOccupancyAsync(string siteId, string auditoriumId, string showingId, CancellationToken cancellationToken);

    /// <summary>The newest auditorium-wide sample of each auditorium of the site.</summary>
    Task<IReadOnlyList<OccupancySample>> GetLatestOccupancyAsync(string siteId, CancellationToken cancellationToken);

    /// <summary>Seat-state changes in [from, to), oldest first.</summary>
    Task<IReadOnlyList<SeatStateChange>> GetSeatChangesAsync(string siteId, string auditoriumId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken);

    /// <summary>Each seat's last known state at <paramref name="at"/>.</summary>
    Task<IReadOnlyDictionary<string, SeatStateChange>> GetSeatStatesAtAsync(string siteId, string auditoriumId, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Anomaly, piracy and camera-health phases, newest first.</summary>
    Task<IReadOnlyList<StoredEvent>> GetEventsAsync(EventQuery query, CancellationToken cancellationToken);

    /// <summary>Camera-health phases of a camera (or all cameras of an auditorium), oldest first.</summary>
    Task<IReadOnlyList<CameraHealthEvent>> GetCameraHealthAsync(string siteId, string auditoriumId, string? cameraId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken);

    /// <summary>The newest heartbeat of each agent of the site (what the agent and its cameras last reported).</summary>
    Task<IReadOnlyList<AgentHealth>> GetLatestAgentHealthAsync(string siteId, CancellationToken cancellationToken);

    /// <summary>Heartbeats of the site's agents in [from, to), oldest first (throughput over time).</summary>
    Task<IReadOnlyList<AgentHealth>> GetAgentHealthAsync(string siteId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken);

    /// <summary>Builds 1-minute rollups up to <paramref name="now"/> and removes data past retention.</summary>
    Task RunMaintenanceAsync(DateTimeOffset now, CancellationToken cancellationToken);
}

/// <summary>The time-series store could not take or answer a request (unreachable, rejected point, ...).</summary>
public sealed class TimeSeriesStoreException : Exception
{
    public TimeSeriesStoreException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }

    public TimeSeriesStoreException()
    {
    }

    public TimeSeriesStoreException(string message)
        : base(message)
    {
    }
}
