namespace CinemaVision.Core.Events;

// The messages an edge agent produces and the central service ingests and shows. They are plain records so
// they serialise the same on both sides (System.Text.Json, camelCase on the wire). Every item carries an
// agent-chosen Id so that a retried batch is stored once. Site, auditorium, camera and seat ids are short,
// bounded identifiers from the auditorium configuration (they become time-series tags).

/// <summary>Where an observation was made.</summary>
public sealed record CameraRef(string SiteId, string AuditoriumId, string CameraId);

/// <summary>Lifecycle of an incident: one incident is one Start, any number of Updates, and one End.</summary>
public enum IncidentPhase
{
    Start = 0,
    Update = 1,
    End = 2,
}

/// <summary>Occupancy of an auditorium (or of the part one camera sees) at one instant.</summary>
/// <param name="Id">Agent-chosen unique id (idempotency key).</param>
/// <param name="CameraId">Null when the sample is the auditorium-wide figure merged across cameras.</param>
/// <param name="People">People detected in the seating area.</param>
/// <param name="SeatsOccupied">Seats whose smoothed state is occupied.</param>
/// <param name="SeatsUnknown">Seats whose state is unknown (occluded, camera unhealthy).</param>
/// <param name="Confidence">0..1: how far the figure can be trusted (coverage and camera health).</param>
public sealed record OccupancySample(
    string Id,
    string SiteId,
    string AuditoriumId,
    string? CameraId,
    DateTimeOffset Timestamp,
    int People,
    int SeatsOccupied,
    int SeatsTotal,
    int SeatsUnknown,
    double Confidence,
    string? ShowingId = null);

/// <summary>The smoothed state of a seat.</summary>
public enum SeatState
{
    Unknown = 0,
    Empty = 1,
    Occupied = 2,
}

/// <summary>A change of one seat's smoothed state (agents send changes, not every analysis).</summary>
public sealed record SeatStateChange(
    string Id,
    string SiteId,
    string AuditoriumId,
    string CameraId,
    string SeatId,
    DateTimeOffset Timestamp,
    SeatState State,
    double Confidence,
    string? ShowingId = null);

/// <summary>The kinds of anomaly the auditorium rules raise.</summary>
public enum AnomalyKind
{
    AisleStanding = 0,
    ExitCrowding = 1,
    PresentAfterShow = 2,
    StaffZoneEntry = 3,
    MoreThanSeats = 4,
}

/// <summary>An anomaly incident (start, updates, end). <see cref="IncidentId"/> groups the phases of one incident.</summary>
public sealed record AnomalyEvent(
    string Id,
    string IncidentId,
    IncidentPhase Phase,
    AnomalyKind Kind,
    string SiteId,
    string AuditoriumId,
    string CameraId,
    DateTimeOffset StartedAt,
    DateTimeOffset Timestamp,
    string? ZoneId,
    string? SeatId,
    int People,
    double Confidence,
    string? Detail = null,
    string? EvidenceId = null,
    string? ShowingId = null)
{
    public TimeSpan Duration => Timestamp - StartedAt;
}

/// <summary>What kind of recording device a piracy suspicion is about.</summary>
public enum RecordingDevice
{
    Phone = 0,
    Camcorder = 1,
    ScreenGlow = 2,
}

/// <summary>A suspicion that someone is recording the film (start, updates, end).</summary>
public sealed record PiracySuspicion(
    string Id,
    string IncidentId,
    IncidentPhase Phase,
    RecordingDevice Device,
    string SiteId,
    string AuditoriumId,
    string CameraId,
    string? SeatId,
    DateTimeOffset StartedAt,
    DateTimeOffset Timestamp,
    double HeldUpSeconds,
    double Confidence,
    string? EvidenceId = null,
    string? Detail = null,
    string? ShowingId = null)
{
    public TimeSpan Duration => Timestamp - StartedAt;
}

/// <summary>The camera troubles the health rules detect.</summary>
public enum CameraHealthKind
{
    Offline = 0,
    Frozen = 1,
    TooDark = 2,
    LightsOn = 3,
    Blurred = 4,
    Covered = 5,
    Moved = 6,
}

/// <summary>A camera-health incident with the measured value and the threshold it crossed.</summary>
public sealed record CameraHealthEvent(
    string Id,
    string IncidentId,
    IncidentPhase Phase,
    CameraHealthKind Kind,
    string SiteId,
    string AuditoriumId,
    string CameraId,
    DateTimeOffset StartedAt,
    DateTimeOffset Timestamp,
    double MeasuredValue,
    double Threshold,
    string? Detail = null);

/// <summary>Periodic liveness and throughput of an edge agent and its cameras.</summary>
public sealed record AgentHealth(
    string Id,
    string AgentId,
    string SiteId,
    DateTimeOffset Timestamp,
    string Version,
    IReadOnlyList<CameraStatus> Cameras,
    long OutboxPending,
    double CpuPercent,
    long ManagedMemoryBytes);

/// <summary>One camera's stream statistics inside an <see cref="AgentHealth"/> report.</summary>
public sealed record CameraStatus(
    string CameraId,
    string AuditoriumId,
    bool Online,
    double AnalysedFps,
    long FramesRead,
    long FramesSkipped,
    long Reconnects,
    double MsPerFrame);

/// <summary>What an edge agent uploads in one request. Each list may be empty; all items are stored or none.</summary>
public sealed record IngestBatch(
    string BatchId,
    string AgentId,
    DateTimeOffset SentAt,
    IReadOnlyList<OccupancySample> Occupancy,
    IReadOnlyList<SeatStateChange> Seats,
    IReadOnlyList<AnomalyEvent> Anomalies,
    IReadOnlyList<PiracySuspicion> Piracy,
    IReadOnlyList<CameraHealthEvent> CameraHealth,
    IReadOnlyList<AgentHealth> AgentHealth)
{
    public int ItemCount => Occupancy.Count + Seats.Count + Anomalies.Count + Piracy.Count + CameraHealth.Count + AgentHealth.Count;
}
