using CinemaVision.Core.Events;

namespace CinemaVision.Server.Tests.Infrastructure;

/// <summary>Builders for realistic batches.</summary>
public static class Samples
{
    public static IngestBatch Batch(string agentId, string batchId, IEnumerable<OccupancySample>? occupancy = null, IEnumerable<SeatStateChange>? seats = null, IEnumerable<AnomalyEvent>? anomalies = null, IEnumerable<PiracySuspicion>? piracy = null, IEnumerable<CameraHealthEvent>? cameraHealth = null) =>
        new(batchId, agentId, DateTimeOffset.UtcNow, [.. (occupancy ?? []).Cast<EdgeEvent>().Concat(seats ?? []).Concat(anomalies ?? []).Concat(piracy ?? []).Concat(cameraHealth ?? [])]);

    public static OccupancySample Occupancy(string id, string site, string auditorium, DateTimeOffset at, int people, int total = 200, string? camera = null, string? showing = null) =>
        new(id, site, auditorium, camera, at, people, Math.Min(people, total), total, 0, 0.9, showing);

    public static SeatStateChange Seat(string id, string site, string auditorium, string seat, DateTimeOffset at, SeatState state, string? showing = null) =>
        new(id, site, auditorium, "cam-1", seat, at, state, 0.95, showing);

    public static AnomalyEvent Anomaly(string id, string site, string auditorium, DateTimeOffset at, AnomalyKind kind = AnomalyKind.AisleStanding, IncidentPhase phase = IncidentPhase.Start) =>
        new(id, "inc-" + id, phase, kind, site, auditorium, "cam-1", at, at, "aisle-left", null, 2, 0.8, "two people standing");

    public static PiracySuspicion Piracy(string id, string site, string auditorium, DateTimeOffset at) =>
        new(id, "inc-" + id, IncidentPhase.Start, RecordingDevice.Phone, site, auditorium, "cam-1", "F12", at, at, 6.5, 0.77, "ev-" + id);

    public static CameraHealthEvent CameraHealth(string id, string site, string auditorium, DateTimeOffset at, CameraHealthKind kind = CameraHealthKind.Frozen, IncidentPhase phase = IncidentPhase.Start) =>
        new(id, "inc-" + id, phase, kind, site, auditorium, "cam-1", at, at, 12.5, 10, "no new frame");

    public static AgentHealth Heartbeat(string id, string agent, string site, DateTimeOffset at, long outbox = 0) =>
        new(id, agent, site, at, "1.0.0", [new CameraStatus("cam-1", "aud-1", true, 4.5, 1200, 37, 1, 180.5)], outbox, 63.5, 120_000_000);

    /// <summary>A whole minute two hours ago: inside any raw retention, and minute-aligned for rollup checks.</summary>
    public static DateTimeOffset RecentMinute()
    {
        var t = DateTimeOffset.UtcNow.AddHours(-2);
        return new DateTimeOffset(t.Year, t.Month, t.Day, t.Hour, t.Minute, 0, TimeSpan.Zero);
    }
}
