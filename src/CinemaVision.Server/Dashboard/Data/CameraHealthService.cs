using CinemaVision.Core.Events;
using CinemaVision.Server.Dashboard.Live;
using CinemaVision.Server.Storage.TimeSeries;

namespace CinemaVision.Server.Dashboard.Data;

/// <summary>How a camera is, at a glance.</summary>
public enum CameraCondition
{
    /// <summary>Its agent reports it streaming and no camera-health incident is open.</summary>
    Healthy = 0,

    /// <summary>Streaming, but a camera-health incident is open (frozen, too dark, moved, ...).</summary>
    Faulty = 1,

    /// <summary>Its agent reports no stream, or an offline incident is open.</summary>
    Offline = 2,

    /// <summary>No recent heartbeat from an agent that carries this camera.</summary>
    Unknown = 3,
}

/// <summary>One camera's state: the open problem (if any), and the stream figures of its agent's newest heartbeat.</summary>
public sealed record CameraState(
    string AuditoriumId,
    string CameraId,
    CameraCondition Condition,
    CameraHealthKind? Problem,
    DateTimeOffset? ProblemSince,
    string? ProblemDetail,
    string? AgentId,
    CameraStatus? Stream,
    DateTimeOffset? LastSeen);

/// <summary>Puts together what is known about each camera of a site: configured cameras, open camera-health incidents and heartbeats.</summary>
public sealed class CameraHealthService(ITimeSeriesStore series, LiveUpdates live, AuditoriumCatalog catalog, TimeProvider time)
{
    /// <summary>A heartbeat older than this no longer vouches for the camera.</summary>
    public static readonly TimeSpan HeartbeatStaleAfter = TimeSpan.FromMinutes(3);

    /// <summary>Camera-health incidents still open are looked for this far back.</summary>
    public static readonly TimeSpan OpenIncidentWindow = TimeSpan.FromDays(7);

    public async Task<IReadOnlyList<CameraState>> ForSiteAsync(string siteId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var configured = catalog.ForSite(siteId)
            .SelectMany(a => a.Model?.Cameras.Select(c => (a.AuditoriumId, CameraId: c.Id)) ?? [])
            .ToList();
        var beats = await live.LatestHeartbeatsAsync(siteId, cancellationToken);
        var streams = beats.SelectMany(b => b.Health.Cameras.Select(c => (Beat: b, Camera: c)))
            .GroupBy(x => (x.Camera.AuditoriumId, x.Camera.CameraId))
            .ToDictionary(g => g.Key, g => g.OrderByDescending(x => x.Beat.Health.Timestamp).First());
        var events = await series.GetEventsAsync(new EventQuery(siteId, now - OpenIncidentWindow, now.AddMinutes(5), Kind: IncidentTypes.CameraHealth, Limit: 5000), cancellationToken);
        var open = events.GroupBy(e => (e.AuditoriumId, e.CameraId, e.IncidentId))
            .Select(g => g.OrderByDescending(e => e.Timestamp).First())
            .Where(e => e.Phase != IncidentPhase.End)
            .GroupBy(e => (e.AuditoriumId, e.CameraId))
            .ToDictionary(g => g.Key, g => g.OrderByDescending(e => e.StartedAt).First());

        var keys = configured.Concat(streams.Keys).Concat(open.Keys).Distinct().OrderBy(k => k.AuditoriumId, StringComparer.Ordinal).ThenBy(k => k.CameraId, StringComparer.Ordinal);
        var result = new List<CameraState>();
        foreach (var key in keys)
        {
            streams.TryGetValue(key, out var stream);
            open.TryGetValue(key, out var incident);
            var lastSeen = stream.Beat?.Health.Timestamp;
            bool fresh = lastSeen is { } seen && now - seen <= HeartbeatStaleAfter;
            CameraHealthKind? problem = incident is not null && Enum.TryParse<CameraHealthKind>(incident.Kind, out var kind) ? kind : null;
            var condition = fresh && stream.Camera is { Online: false } ? CameraCondition.Offline
                : problem == CameraHealthKind.Offline ? CameraCondition.Offline
                : problem is not null ? CameraCondition.Faulty
                : fresh ? CameraCondition.Healthy
                : CameraCondition.Unknown;
            result.Add(new CameraState(key.AuditoriumId, key.CameraId, condition, problem, incident?.StartedAt, incident?.Detail, stream.Beat?.Health.AgentId, stream.Camera, lastSeen));
        }

        return result;
    }
}
