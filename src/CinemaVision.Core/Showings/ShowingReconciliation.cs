using CinemaVision.Core.Events;

namespace CinemaVision.Core.Showings;

/// <summary>People counted against tickets sold for one showing, and seat by seat where they differ.</summary>
public sealed record ShowingReconciliation(
    string ShowingId,
    int TicketsSold,
    int? PeopleAtCheckpoint,
    int PeakPeople,
    int? Difference,
    IReadOnlyList<string> OccupiedButUnsold,
    IReadOnlyList<string> SoldButEmpty,
    IReadOnlyList<string> SeatsUnknown,
    DateTimeOffset Checkpoint,
    double Confidence);

/// <summary>
/// Reconciles a showing (pure): the count and the seat states are read at a checkpoint after the feature started
/// (late-comers seated, nobody left yet); the peak over the feature is reported too.
/// </summary>
public static class ShowingReconciler
{
    public static ShowingReconciliation Reconcile(
        Showing showing,
        IReadOnlySet<string> soldSeats,
        IReadOnlyList<OccupancySample> samples,
        IReadOnlyDictionary<string, SeatState> seatsAtCheckpoint,
        TimeSpan checkpointAfterFeatureStart)
    {
        var checkpoint = showing.FeatureStart + checkpointAfterFeatureStart;
        var during = samples.Where(s => s.Timestamp >= showing.FeatureStart && s.Timestamp < showing.End).OrderBy(s => s.Timestamp).ToList();
        var atCheckpoint = during.FirstOrDefault(s => s.Timestamp >= checkpoint) ?? during.LastOrDefault();
        int? people = atCheckpoint?.People;
        var occupiedUnsold = seatsAtCheckpoint.Where(kv => kv.Value == SeatState.Occupied && !soldSeats.Contains(kv.Key)).Select(kv => kv.Key).Order(StringComparer.Ordinal).ToList();
        var soldEmpty = soldSeats.Where(s => seatsAtCheckpoint.TryGetValue(s, out var st) && st == SeatState.Empty).Order(StringComparer.Ordinal).ToList();
        var unknown = soldSeats.Where(s => !seatsAtCheckpoint.TryGetValue(s, out var st) || st == SeatState.Unknown).Order(StringComparer.Ordinal).ToList();
        double confidence = atCheckpoint?.Confidence ?? 0;
        return new ShowingReconciliation(
            showing.Id,
            soldSeats.Count,
            people,
            during.Count == 0 ? 0 : during.Max(s => s.People),
            people - soldSeats.Count,
            occupiedUnsold,
            soldEmpty,
            unknown,
            checkpoint,
            Math.Round(confidence, 3));
    }
}
