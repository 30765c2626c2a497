using CinemaVision.Core.Showings;
using CinemaVision.Server.Showings;

namespace CinemaVision.Server.Dashboard.Data;

/// <summary>Occupancy aggregated over showings: per film, per day (site-local) or per auditorium.</summary>
public sealed record OccupancyGroup(string Key, int Showings, int Measured, double People, double? MeanOccupancy, int PeakPeople, int TicketsSold, int? Difference);

/// <summary>The figures of a period at a site.</summary>
public sealed record OccupancyReport(IReadOnlyList<ShowingFigures> Showings, IReadOnlyList<OccupancyGroup> ByFilm, IReadOnlyList<OccupancyGroup> ByDay, IReadOnlyList<OccupancyGroup> ByAuditorium, IReadOnlyList<MeasuredAccuracy>? Accuracy);

/// <summary>
/// Manager reports: every showing of a period with what was measured and how it reconciles with the tickets sold,
/// grouped per film, per day and per auditorium. Figures per showing come from <see cref="ShowingAnalysis"/>.
/// </summary>
public sealed class ReportService(ShowingStore showings, ShowingAnalysis analysis, IMeasuredAccuracySource accuracy, TimeProvider time)
{
    public async Task<OccupancyReport> BuildAsync(string siteId, DateTimeOffset from, DateTimeOffset to, TimeZoneInfo zone, string? auditoriumId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var list = showings.Between(siteId, from, to)
            .Where(s => s.Start >= from && s.Start < to && s.Start <= now && (auditoriumId is null || s.AuditoriumId == auditoriumId))
            .ToList();
        var figures = new ShowingFigures[list.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, list.Count), new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            figures[i] = await analysis.AnalyseAsync(siteId, list[i], ShowingAnalysis.DefaultCheckpoint, ct);
        });
        var ordered = figures.OrderBy(f => f.Showing.Start).ToList();
        string Day(Showing s) => TimeZoneInfo.ConvertTime(s.Start, zone).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        return new OccupancyReport(
            ordered,
            Group(ordered, f => f.Showing.Film).OrderByDescending(g => g.People).ToList(),
            Group(ordered, f => Day(f.Showing)).OrderBy(g => g.Key, StringComparer.Ordinal).ToList(),
            Group(ordered, f => f.Showing.AuditoriumId).OrderBy(g => g.Key, NaturalComparer.Instance).ToList(),
            await accuracy.ForSiteAsync(siteId, from, to, cancellationToken));
    }

    /// <summary>Totals and means over the showings that were measured; tickets over those that had tickets imported.</summary>
    public static IEnumerable<OccupancyGroup> Group(IEnumerable<ShowingFigures> figures, Func<ShowingFigures, string> key) =>
        figures.GroupBy(key).Select(g =>
        {
            var measured = g.Where(f => f.Reconciliation.PeopleAtCheckpoint is not null).ToList();
            var occupancies = measured.Where(f => f.Occupancy is not null).Select(f => f.Occupancy!.Value).ToList();
            var withTickets = measured.Where(f => f.Reconciliation.TicketsSold > 0).ToList();
            return new OccupancyGroup(
                g.Key,
                g.Count(),
                measured.Count,
                measured.Sum(f => (double)f.Reconciliation.PeopleAtCheckpoint!.Value),
                occupancies.Count == 0 ? null : occupancies.Average(),
                g.Select(f => f.Reconciliation.PeakPeople).DefaultIfEmpty(0).Max(),
                g.Sum(f => f.Reconciliation.TicketsSold),
                withTickets.Count == 0 ? null : withTickets.Sum(f => f.Reconciliation.Difference ?? 0));
        });
}
