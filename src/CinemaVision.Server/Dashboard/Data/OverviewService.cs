using CinemaVision.Core.Alerting;
using CinemaVision.Core.Events;
using CinemaVision.Core.Showings;
using CinemaVision.Server.Alerting;
using CinemaVision.Server.Dashboard.Live;
using CinemaVision.Server.Showings;

namespace CinemaVision.Server.Dashboard.Data;

/// <summary>One auditorium on the overview.</summary>
public sealed record AuditoriumCard(
    string AuditoriumId,
    string Name,
    int Seats,
    ShowingState State,
    Showing? Showing,
    Showing? Next,
    OccupancySample? Latest,
    int ActiveAlerts,
    AlertSeverity? WorstAlert,
    IReadOnlyList<CameraState> Cameras)
{
    /// <summary>A sample older than this is shown as out of date rather than as the occupancy now.</summary>
    public static readonly TimeSpan FreshFor = TimeSpan.FromMinutes(5);

    public bool IsFresh(DateTimeOffset now) => Latest is { } l && now - l.Timestamp <= FreshFor;

    public int SeatsTotal => Latest?.SeatsTotal is > 0 and var t ? t : Seats;

    /// <summary>People over seats, 0..1.</summary>
    public double? Occupancy => Latest is { } l && SeatsTotal > 0 ? Math.Min(1, (double)l.People / SeatsTotal) : null;

    public AuditoriumCard WithLatest(OccupancySample sample) => this with { Latest = sample };
}

/// <summary>The overview of a site: every auditorium with its showing, state, live occupancy, alerts and cameras.</summary>
public sealed class OverviewService(AuditoriumCatalog catalog, ShowingStore showings, LiveUpdates live, AlertStore alerts, CameraHealthService cameras, TimeProvider time)
{
    public async Task<IReadOnlyList<AuditoriumCard>> CardsAsync(string siteId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var configured = catalog.ForSite(siteId);
        var latest = await live.LatestOccupancyAsync(siteId, cancellationToken);
        var schedule = showings.Between(siteId, now.AddHours(-12), now.AddHours(36)).GroupBy(s => s.AuditoriumId).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var active = ActiveAlerts(siteId).GroupBy(a => a.Latest.AuditoriumId).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var cameraStates = (await cameras.ForSiteAsync(siteId, cancellationToken)).GroupBy(c => c.AuditoriumId).ToDictionary(g => g.Key, g => (IReadOnlyList<CameraState>)g.ToList(), StringComparer.Ordinal);

        var ids = configured.Select(a => a.AuditoriumId).Concat(latest.Keys).Concat(schedule.Keys).Distinct(StringComparer.Ordinal);
        var cards = new List<AuditoriumCard>();
        foreach (var id in ids)
        {
            var entry = configured.FirstOrDefault(a => a.AuditoriumId == id);
            var list = schedule.GetValueOrDefault(id) ?? [];
            var (state, showing) = ShowingSchedule.StateAt(list, now);
            var next = list.Where(s => s.Start > now).MinBy(s => s.Start);
            var alertsHere = active.GetValueOrDefault(id) ?? [];
            cards.Add(new AuditoriumCard(
                id,
                entry?.Name ?? id,
                entry?.SeatCount ?? 0,
                state,
                state is ShowingState.Closed ? null : showing,
                next,
                latest.GetValueOrDefault(id),
                alertsHere.Count,
                alertsHere.Count == 0 ? null : alertsHere.Max(a => a.Severity),
                cameraStates.GetValueOrDefault(id) ?? []));
        }

        return cards.OrderBy(c => c.Name, NaturalComparer.Instance).ToList();
    }

    /// <summary>Open and acknowledged (not yet resolved) alerts of a site.</summary>
    public IReadOnlyList<Alert> ActiveAlerts(string siteId) =>
        alerts.List(AlertStatus.Open, 1000).Concat(alerts.List(AlertStatus.Acknowledged, 1000)).Where(a => a.Latest.SiteId == siteId).ToList();
}

/// <summary>Orders names the way people read them: "Hall 2" before "Hall 10".</summary>
public sealed class NaturalComparer : IComparer<string>
{
    public static readonly NaturalComparer Instance = new();

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y)) return 0;
        if (x is null) return -1;
        if (y is null) return 1;
        int i = 0, j = 0;
        while (i < x.Length && j < y.Length)
        {
            if (char.IsDigit(x[i]) && char.IsDigit(y[j]))
            {
                int si = i, sj = j;
                while (i < x.Length && char.IsDigit(x[i])) i++;
                while (j < y.Length && char.IsDigit(y[j])) j++;
                var a = x[si..i].TrimStart('0');
                var b = y[sj..j].TrimStart('0');
                int c = a.Length != b.Length ? a.Length.CompareTo(b.Length) : string.CompareOrdinal(a, b);
                if (c != 0) return c;
            }
            else
            {
                int c = char.ToUpperInvariant(x[i]).CompareTo(char.ToUpperInvariant(y[j]));
                if (c != 0) return c;
                i++;
                j++;
            }
        }

        return (x.Length - i).CompareTo(y.Length - j);
    }
}
