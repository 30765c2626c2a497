using CinemaVision.Core.Events;
using CinemaVision.Core.Showings;
using CinemaVision.Server.Storage.TimeSeries;

namespace CinemaVision.Server.Showings;

/// <summary>A showing with what was measured during it: the reconciliation against tickets and the occupancy figures.</summary>
/// <param name="SeatsTotal">Seats of the auditorium as the agent counted them (0 when nothing was measured).</param>
/// <param name="MeanPeople">Mean people over the feature (null when nothing was measured).</param>
public sealed record ShowingFigures(Showing Showing, ShowingReconciliation Reconciliation, int SeatsTotal, double? MeanPeople, int Samples)
{
    /// <summary>People at the checkpoint over seats, 0..1 (null when unknown).</summary>
    public double? Occupancy => SeatsTotal > 0 && Reconciliation.PeopleAtCheckpoint is { } p ? Math.Min(1, (double)p / SeatsTotal) : null;
}

/// <summary>
/// Reads what was measured during a showing and reconciles it with the tickets sold (Core's
/// <see cref="ShowingReconciler"/>); the one place the API and the dashboard reports get these figures from.
/// </summary>
public sealed class ShowingAnalysis(ShowingStore showings, ITimeSeriesStore series)
{
    /// <summary>The count is read this long after the feature starts (late-comers seated, nobody left yet).</summary>
    public static readonly TimeSpan DefaultCheckpoint = TimeSpan.FromMinutes(15);

    public async Task<ShowingFigures> AnalyseAsync(string siteId, Showing showing, TimeSpan checkpoint, CancellationToken cancellationToken)
    {
        var samples = await FeatureSamplesAsync(siteId, showing, cancellationToken);
        var states = await series.GetSeatStatesAtAsync(siteId, showing.AuditoriumId, showing.FeatureStart + checkpoint, cancellationToken);
        var reconciliation = ShowingReconciler.Reconcile(
            showing,
            showings.Tickets(siteId, showing.Id),
            samples,
            states.ToDictionary(kv => kv.Key, kv => kv.Value.State, StringComparer.Ordinal),
            checkpoint);
        var during = samples.Where(s => s.Timestamp >= showing.FeatureStart && s.Timestamp < showing.End).ToList();
        return new ShowingFigures(
            showing,
            reconciliation,
            during.Count == 0 ? 0 : during.Max(s => s.SeatsTotal),
            during.Count == 0 ? null : during.Average(s => s.People),
            during.Count);
    }

    /// <summary>The auditorium-wide samples of the showing: those tagged with it, else those in its time window.</summary>
    public async Task<IReadOnlyList<OccupancySample>> FeatureSamplesAsync(string siteId, Showing showing, CancellationToken cancellationToken)
    {
        var samples = await series.GetShowingOccupancyAsync(siteId, showing.AuditoriumId, showing.Id, cancellationToken);
        if (samples.Count > 0) return samples;
        return (await series.GetOccupancyAsync(siteId, showing.AuditoriumId, showing.Start, showing.End, OccupancyResolution.Auto, cancellationToken))
            .Select(p => new OccupancySample("", siteId, showing.AuditoriumId, null, p.Timestamp, (int)Math.Round(p.People), (int)Math.Round(p.SeatsOccupied), p.SeatsTotal, 0, p.Confidence))
            .ToList();
    }
}
