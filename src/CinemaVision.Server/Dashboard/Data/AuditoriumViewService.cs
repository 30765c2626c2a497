using CinemaVision.Core.Events;
using CinemaVision.Core.Showings;
using CinemaVision.Server.Dashboard.Live;
using CinemaVision.Server.Showings;
using CinemaVision.Server.Storage.TimeSeries;

namespace CinemaVision.Server.Dashboard.Data;

/// <summary>Everything the auditorium page shows, read at one instant.</summary>
public sealed record AuditoriumSnapshot(
    string SiteId,
    string AuditoriumId,
    AuditoriumEntry? Entry,
    ShowingState State,
    Showing? Showing,
    IReadOnlyList<Showing> Today,
    OccupancySample? Latest,
    Dictionary<string, SeatStateChange> Seats,
    IReadOnlySet<string>? Sold,
    List<OccupancyPoint> Curve,
    IReadOnlyList<StoredEvent> Events,
    IReadOnlyList<CameraState> Cameras,
    IReadOnlyDictionary<string, string?> ReferenceImages)
{
    public string Name => Entry?.Name ?? AuditoriumId;
}

/// <summary>Reads an auditorium's page: seat map and states, tickets of the current showing, today's curve, events and cameras.</summary>
public sealed class AuditoriumViewService(
    AuditoriumCatalog catalog,
    ShowingStore showings,
    ITimeSeriesStore series,
    LiveUpdates live,
    CameraHealthService cameras,
    IReferenceFrameSource references,
    TimeProvider time)
{
    /// <summary>How many of the latest events the page lists.</summary>
    public const int EventCount = 40;

    public async Task<AuditoriumSnapshot> LoadAsync(string siteId, string auditoriumId, DateTimeOffset startOfDay, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var entry = catalog.Find(siteId, auditoriumId);
        var schedule = showings.Between(siteId, startOfDay.AddHours(-6), startOfDay.AddDays(1)).Where(s => s.AuditoriumId == auditoriumId).ToList();
        var (state, showing) = ShowingSchedule.StateAt(schedule, now);
        if (state == ShowingState.Closed) showing = null;
        var latest = (await live.LatestOccupancyAsync(siteId, cancellationToken)).GetValueOrDefault(auditoriumId);
        var seats = (await series.GetSeatStatesAtAsync(siteId, auditoriumId, now.AddMinutes(1), cancellationToken)).ToDictionary(StringComparer.Ordinal);
        var sold = showing is null ? null : showings.Tickets(siteId, showing.Id);
        var from = showing is not null && showing.Start < startOfDay ? showing.Start : startOfDay;
        var curve = (await series.GetOccupancyAsync(siteId, auditoriumId, from, now.AddMinutes(1), OccupancyResolution.Raw, cancellationToken)).ToList();
        var events = await series.GetEventsAsync(new EventQuery(siteId, now.AddDays(-2), now.AddMinutes(5), auditoriumId, Limit: EventCount), cancellationToken);
        var cameraStates = (await cameras.ForSiteAsync(siteId, cancellationToken)).Where(c => c.AuditoriumId == auditoriumId).ToList();
        var images = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var camera in entry?.Model?.Cameras ?? [])
        {
            images[camera.Id] = await references.ImageUrlAsync(siteId, auditoriumId, camera.Id, ReferenceMode.Latest, cancellationToken);
        }

        return new AuditoriumSnapshot(siteId, auditoriumId, entry, state, showing, schedule.Where(s => s.Start >= startOfDay || s.End > startOfDay).ToList(), latest, seats, sold is { Count: > 0 } ? sold : null, curve, events, cameraStates, images);
    }
}
