using System.Collections.Concurrent;
using CinemaVision.Core.Events;
using CinemaVision.Server.Ingest;
using CinemaVision.Server.Storage.TimeSeries;

namespace CinemaVision.Server.Dashboard.Live;

/// <summary>What one stored batch changed at a site, handed to the open dashboards.</summary>
public sealed record LiveUpdate(string SiteId, IngestBatch Items, DateTimeOffset ReceivedAt)
{
    public IReadOnlyList<OccupancySample> Occupancy { get; } = Items.Of<OccupancySample>();

    public IReadOnlyList<SeatStateChange> Seats { get; } = Items.Of<SeatStateChange>();

    public IReadOnlyList<AgentHealth> Heartbeats { get; } = Items.Of<AgentHealth>();

    /// <summary>Anomaly, piracy and camera-health phases.</summary>
    public IReadOnlyList<IIncidentEvent> Incidents { get; } = [.. Items.Events.OfType<IIncidentEvent>()];

    public bool Touches(string auditoriumId) =>
        Occupancy.Any(o => o.AuditoriumId == auditoriumId) || Seats.Any(s => s.AuditoriumId == auditoriumId)
        || Incidents.Any(i => i.AuditoriumId == auditoriumId) || Heartbeats.Any(h => h.Cameras.Any(c => c.AuditoriumId == auditoriumId));

    public bool HasIncidents => Incidents.Count > 0;

    public bool HasCameraHealth => Incidents.Any(i => i is CameraHealthEvent);
}

/// <summary>An agent's newest heartbeat; <see cref="ReceivedAt"/> is when the service got it (null when read back from the store).</summary>
public sealed record AgentBeat(AgentHealth Health, DateTimeOffset? ReceivedAt)
{
    /// <summary>How late the heartbeat arrived: the agent's upload lag (null when not observed live).</summary>
    public TimeSpan? UploadLag => ReceivedAt is { } at ? at - Health.Timestamp : null;
}

/// <summary>
/// The dashboards' live view of ingest. It observes every stored batch (new items only), keeps the newest
/// auditorium-wide occupancy and each agent's newest heartbeat in memory, and tells subscribed dashboards. Subscribers
/// are called on the ingest path: they must only schedule work (a Blazor component calls <c>InvokeAsync</c>).
/// Snapshots are seeded from the store once per site, and a newer live value always wins over a seeded one.
/// </summary>
public sealed partial class LiveUpdates(ITimeSeriesStore store, TimeProvider time, ILogger<LiveUpdates> logger) : IIngestObserver
{
    private readonly ConcurrentDictionary<(string Site, string Auditorium), OccupancySample> _occupancy = new();
    private readonly ConcurrentDictionary<(string Site, string Agent), AgentBeat> _agents = new();
    private readonly ConcurrentDictionary<string, Lazy<Task>> _seeded = new(StringComparer.Ordinal);
    private readonly List<Action<LiveUpdate>> _subscribers = [];

    /// <summary>Registers a callback for every stored batch; dispose the result to stop.</summary>
    public IDisposable Subscribe(Action<LiveUpdate> onUpdate)
    {
        lock (_subscribers) _subscribers.Add(onUpdate);
        return new Subscription(this, onUpdate);
    }

    public ValueTask OnStoredAsync(IngestBatch newItems, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        foreach (var o in newItems.Of<OccupancySample>().Where(o => o.CameraId is null)) Keep(o);
        foreach (var h in newItems.Of<AgentHealth>())
        {
            _agents.AddOrUpdate((h.SiteId, h.AgentId), new AgentBeat(h, now), (_, old) => old.Health.Timestamp <= h.Timestamp ? new AgentBeat(h, now) : old);
        }

        var site = SiteOf(newItems);
        if (site is null) return ValueTask.CompletedTask;
        var update = new LiveUpdate(site, newItems, now);
        Action<LiveUpdate>[] subscribers;
        lock (_subscribers) subscribers = [.. _subscribers];
        foreach (var s in subscribers)
        {
            try
            {
                s(update);
            }
            catch (Exception ex)
            {
                SubscriberFailed(logger, ex);
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>The newest auditorium-wide occupancy of each auditorium of the site.</summary>
    public async Task<IReadOnlyDictionary<string, OccupancySample>> LatestOccupancyAsync(string siteId, CancellationToken cancellationToken)
    {
        await SeedAsync(siteId);
        return _occupancy.Where(kv => kv.Key.Site == siteId).ToDictionary(kv => kv.Key.Auditorium, kv => kv.Value, StringComparer.Ordinal);
    }

    /// <summary>The newest heartbeat of each agent of the site.</summary>
    public async Task<IReadOnlyList<AgentBeat>> LatestHeartbeatsAsync(string siteId, CancellationToken cancellationToken)
    {
        await SeedAsync(siteId);
        return _agents.Where(kv => kv.Key.Site == siteId).Select(kv => kv.Value).OrderBy(b => b.Health.AgentId, StringComparer.Ordinal).ToList();
    }

    private Task SeedAsync(string siteId)
    {
        var lazy = _seeded.GetOrAdd(siteId, s => new Lazy<Task>(() => LoadAsync(s)));
        var task = lazy.Value;

        // A failed seed (store unreachable) is tried again next time instead of being remembered.
        if (task.IsFaulted) _seeded.TryRemove(new KeyValuePair<string, Lazy<Task>>(siteId, lazy));
        return task;
    }

    private async Task LoadAsync(string siteId)
    {
        foreach (var o in await store.GetLatestOccupancyAsync(siteId, CancellationToken.None)) Keep(o);
        foreach (var h in await store.GetLatestAgentHealthAsync(siteId, CancellationToken.None))
        {
            _agents.AddOrUpdate((h.SiteId, h.AgentId), new AgentBeat(h, null), (_, old) => old.Health.Timestamp < h.Timestamp ? new AgentBeat(h, null) : old);
        }
    }

    private void Keep(OccupancySample o) =>
        _occupancy.AddOrUpdate((o.SiteId, o.AuditoriumId), o, (_, old) => old.Timestamp <= o.Timestamp ? o : old);

    // Ingest refuses items of another site than the agent's, so the first item names the batch's site.
    private static string? SiteOf(IngestBatch b) => b.Events.Count > 0 ? b.Events[0].SiteId : null;

    [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "A dashboard's live-update callback failed")]
    private static partial void SubscriberFailed(ILogger logger, Exception exception);

    private sealed class Subscription(LiveUpdates owner, Action<LiveUpdate> callback) : IDisposable
    {
        public void Dispose()
        {
            lock (owner._subscribers) owner._subscribers.Remove(callback);
        }
    }
}
