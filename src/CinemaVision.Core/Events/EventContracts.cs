using System.Text.Json.Serialization;

namespace CinemaVision.Core.Events;

// The messages an edge agent produces and the central service ingests and shows. They are plain records so
// they serialise the same on both sides (System.Text.Json with IngestJson.Options, camelCase on the wire). Every
// item carries an agent-chosen Id so that a retried batch is stored once. Site, auditorium, camera and seat ids
// are short, bounded identifiers from the auditorium configuration (they become time-series tags).

/// <summary>
/// Anything an edge agent produces: one list of these is a batch, one row of the agent's outbox is one of these.
/// On the wire each event names its type in <c>"type"</c> (<c>occupancy</c>, <c>seat</c>, <c>anomaly</c>,
/// <c>piracy</c>, <c>cameraHealth</c>, <c>agentHealth</c>); the discriminator is not called "kind" because anomaly
/// and camera-health events already carry a <c>kind</c> of their own.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = EdgeEvent.TypeProperty, UnknownDerivedTypeHandling = JsonUnknownDerivedTypeHandling.FailSerialization)]
[JsonDerivedType(typeof(OccupancySample), EventTypes.Occupancy)]
[JsonDerivedType(typeof(SeatStateChange), EventTypes.Seat)]
[JsonDerivedType(typeof(AnomalyEvent), EventTypes.Anomaly)]
[JsonDerivedType(typeof(PiracySuspicion), EventTypes.Piracy)]
[JsonDerivedType(typeof(CameraHealthEvent), EventTypes.CameraHealth)]
[JsonDerivedType(typeof(AgentHealth), EventTypes.AgentHealth)]
public abstract record EdgeEvent
{
    public const string TypeProperty = "type";

    /// <summary>Agent-chosen unique id (the idempotency key: an id is stored once however often it is sent).</summary>
    public abstract string Id { get; init; }

    public abstract string SiteId { get; init; }

    /// <summary>When it was observed (agent clock, UTC).</summary>
    public abstract DateTimeOffset Timestamp { get; init; }

    /// <summary>The wire name of this event's type (the <c>"type"</c> discriminator).</summary>
    [JsonIgnore]
    public string Type => EventTypes.Of(this);
}

/// <summary>The <c>"type"</c> names on the wire, one home.</summary>
public static class EventTypes
{
    public const string Occupancy = "occupancy";
    public const string Seat = "seat";
    public const string Anomaly = "anomaly";
    public const string Piracy = "piracy";
    public const string CameraHealth = "cameraHealth";
    public const string AgentHealth = "agentHealth";

    public static IReadOnlyList<string> All { get; } = [Occupancy, Seat, Anomaly, Piracy, CameraHealth, AgentHealth];

    public static string Of(EdgeEvent e) => e switch
    {
        OccupancySample => Occupancy,
        SeatStateChange => Seat,
        AnomalyEvent => Anomaly,
        PiracySuspicion => Piracy,
        CameraHealthEvent => CameraHealth,
        Events.AgentHealth => AgentHealth,
        _ => throw new ArgumentException($"Unknown event type {e.GetType().Name}.", nameof(e)),
    };
}

/// <summary>An incident phase (anomaly, piracy suspicion or camera trouble): what the alerting engine and incident views read.</summary>
public interface IIncidentEvent
{
    string Id { get; }
    string IncidentId { get; }
    IncidentPhase Phase { get; }
    string SiteId { get; }
    string AuditoriumId { get; }
    string CameraId { get; }
    DateTimeOffset StartedAt { get; }
    DateTimeOffset Timestamp { get; }
}

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
    string? ShowingId = null) : EdgeEvent;

/// <summary>The smoothed state of a seat.</summary>
public enum SeatState
{
    Unknown = 0,
    Empty = 1,
    Occupied = 2,

    /// <summary>Something is on the seat (it changed against the empty hall) but no person is seen: a coat, a bag. Not counted as occupied.</summary>
    ObjectOnSeat = 3,
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
    string? ShowingId = null) : EdgeEvent;

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
    string? ShowingId = null) : EdgeEvent, IIncidentEvent
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
    string? ShowingId = null) : EdgeEvent, IIncidentEvent
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
    string? Detail = null) : EdgeEvent, IIncidentEvent;

/// <summary>
/// The agent's heartbeat: liveness and throughput of an edge agent and its cameras, what its outbox holds and how far
/// behind its uploads are. The dashboard shows these figures per agent and camera.
/// </summary>
/// <param name="OutboxPending">Events waiting in the agent's durable outbox.</param>
/// <param name="CpuPercent">CPU of the agent and its decoder processes, percent of one core.</param>
/// <param name="OutboxBytes">Disk used by the outbox.</param>
/// <param name="UploadLagSeconds">Age of the oldest event not yet uploaded (0 when the outbox is empty).</param>
/// <param name="DroppedSamples">Occupancy samples dropped since the agent started because the outbox was full (never incidents).</param>
/// <param name="UptimeSeconds">Since the agent process started.</param>
public sealed record AgentHealth(
    string Id,
    string AgentId,
    string SiteId,
    DateTimeOffset Timestamp,
    string Version,
    IReadOnlyList<CameraStatus> Cameras,
    long OutboxPending,
    double CpuPercent,
    long ManagedMemoryBytes,
    long OutboxBytes = 0,
    double UploadLagSeconds = 0,
    long DroppedSamples = 0,
    double UptimeSeconds = 0,
    long ResidentMemoryBytes = 0) : EdgeEvent;

/// <summary>One camera's stream and analysis figures inside an <see cref="AgentHealth"/> heartbeat.</summary>
/// <param name="AnalysedFps">Analyses per second achieved over the last heartbeat period (all passes).</param>
/// <param name="FramesRead">Frames decoded since the camera started.</param>
/// <param name="FramesSkipped">Decoded frames nobody analysed (the analysis takes the newest frame).</param>
/// <param name="MsPerFrame">Mean analysis time per analysed frame (detection and rules), milliseconds.</param>
/// <param name="State">What the scheduler does with the camera: <c>occupancy</c>, <c>watching</c>, <c>health</c> (closed auditorium) or <c>offline</c>.</param>
/// <param name="OccupancyPasses">Full multi-scale occupancy passes since start.</param>
/// <param name="WatchFps">Watching passes per second over the last period.</param>
/// <param name="LastOccupancyAgeSeconds">Seconds since the last occupancy pass (null before the first).</param>
/// <param name="TileMs">Mean detector time per tile run over the last period, milliseconds.</param>
/// <param name="TilesPerSecond">Tiles the detector ran per second over the last period (with <paramref name="TileMs"/>: how busy the detector is).</param>
/// <param name="TilesReused">Tiles whose detections were reused because their pixels had not changed (last period).</param>
/// <param name="PassesSkipped">Passes the scheduler skipped because the CPU budget was spent (last period).</param>
/// <param name="Lighting">The camera's lighting mode as the pipeline sees it: <c>lit</c>, <c>dim</c> or <c>infrared</c> (<see cref="Cameras.LightingClassifier.Name"/>); null before the first frame.</param>
public sealed record CameraStatus(
    string CameraId,
    string AuditoriumId,
    bool Online,
    double AnalysedFps,
    long FramesRead,
    long FramesSkipped,
    long Reconnects,
    double MsPerFrame,
    string State = "watching",
    long OccupancyPasses = 0,
    double WatchFps = 0,
    double? LastOccupancyAgeSeconds = null,
    double TileMs = 0,
    long TilesReused = 0,
    long PassesSkipped = 0,
    string? LastError = null,
    string? Lighting = null,
    double TilesPerSecond = 0);

/// <summary>
/// What an edge agent uploads in one request: one list of typed events (see <see cref="EdgeEvent"/>), stored all or
/// none, each event id once.
/// </summary>
public sealed record IngestBatch(
    string BatchId,
    string AgentId,
    DateTimeOffset SentAt,
    IReadOnlyList<EdgeEvent> Events)
{
    [JsonIgnore]
    public int ItemCount => Events.Count;

    /// <summary>The events of one type, in batch order.</summary>
    public IReadOnlyList<T> Of<T>()
        where T : EdgeEvent => [.. Events.OfType<T>()];
}

/// <summary>
/// The centre's receipt for a stored batch (the body of its 200 answer): how many events were new and how many it had
/// already. The agent marks a batch sent only on a receipt that names the batch and accounts for every event in it,
/// so a 2xx from anything but the centre (a proxy, a captive portal, a half-closed connection) never counts as stored.
/// </summary>
public sealed record IngestResult(string BatchId, int Accepted, int Duplicates)
{
    /// <summary>True when this receipt is the centre's answer for <paramref name="batch"/>: same id, every event counted.</summary>
    public bool Acknowledges(IngestBatch batch) =>
        string.Equals(BatchId, batch.BatchId, StringComparison.Ordinal) && Accepted >= 0 && Duplicates >= 0 && Accepted + Duplicates == batch.ItemCount;
}
