using CinemaVision.Core.Events;

namespace CinemaVision.Core.Occupancy;

/// <summary>Occupancy seen by one camera at one analysis.</summary>
public sealed record CameraOccupancy(string CameraId, int People, IReadOnlyDictionary<string, SeatState> Seats, bool CameraHealthy = true);

/// <summary>Occupancy of an auditorium at one instant, merged across cameras.</summary>
public sealed record AuditoriumOccupancy(int People, int SeatsTotal, int SeatsOccupied, int SeatsUnknown, double Confidence, IReadOnlyDictionary<string, SeatState> Seats)
{
    public IReadOnlyList<string> EmptySeats => [.. Seats.Where(s => s.Value == SeatState.Empty).Select(s => s.Key).Order(StringComparer.Ordinal)];
}

/// <summary>Merges per-camera seat states into the auditorium's (pure).</summary>
public static class OccupancyCalculator
{
    /// <summary>
    /// A seat seen by several cameras counts once: occupied if any healthy camera sees it occupied, empty if a
    /// healthy camera sees it empty and none occupied, unknown otherwise. People are counted from seats when the
    /// seat map covers them; people seen standing (not in a seat) are added from the camera that sees most.
    /// Confidence is the share of seats whose state is known.
    /// </summary>
    public static AuditoriumOccupancy Merge(IReadOnlyList<CameraOccupancy> cameras, int? seatsTotal = null)
    {
        var merged = new Dictionary<string, SeatState>(StringComparer.Ordinal);
        foreach (var cam in cameras)
        {
            foreach (var (seat, state) in cam.Seats)
            {
                var s = cam.CameraHealthy ? state : SeatState.Unknown;
                merged[seat] = merged.TryGetValue(seat, out var prev) ? Combine(prev, s) : s;
            }
        }

        int occupied = merged.Values.Count(s => s == SeatState.Occupied);
        int unknown = merged.Values.Count(s => s == SeatState.Unknown);
        int total = seatsTotal ?? merged.Count;
        int standing = cameras.Count == 0 ? 0 : cameras.Max(c => Math.Max(0, c.People - c.Seats.Values.Count(s => s == SeatState.Occupied)));
        double confidence = total == 0 ? 0 : (double)(total - unknown) / total;
        if (cameras.Any(c => !c.CameraHealthy)) confidence *= (double)cameras.Count(c => c.CameraHealthy) / cameras.Count;
        return new AuditoriumOccupancy(occupied + standing, total, occupied, unknown, Math.Round(confidence, 3), merged);
    }

    public static SeatState Combine(SeatState a, SeatState b) =>
        a == SeatState.Occupied || b == SeatState.Occupied ? SeatState.Occupied
        : a == SeatState.ObjectOnSeat || b == SeatState.ObjectOnSeat ? SeatState.ObjectOnSeat
        : a == SeatState.Empty || b == SeatState.Empty ? SeatState.Empty
        : SeatState.Unknown;
}

/// <summary>What a showing looked like: the figures a manager reads the next morning.</summary>
public sealed record ShowingOccupancySummary(string ShowingId, int? CountAtCheckpoint, int Peak, double Mean, int Samples, IReadOnlyList<string> EmptySeatsAtCheckpoint, double Confidence);

/// <summary>Accumulates occupancy samples over one showing (pure).</summary>
public sealed class ShowingOccupancyAccumulator(string showingId, DateTimeOffset featureStart, TimeSpan checkpointAfterStart)
{
    private int _peak;
    private long _sum;
    private int _samples;
    private double _confidenceSum;
    private int? _checkpointCount;
    private IReadOnlyList<string> _checkpointEmpty = [];

    public DateTimeOffset Checkpoint => featureStart + checkpointAfterStart;

    public void Add(DateTimeOffset at, AuditoriumOccupancy occupancy)
    {
        if (at < featureStart) return;
        _samples++;
        _sum += occupancy.People;
        _peak = Math.Max(_peak, occupancy.People);
        _confidenceSum += occupancy.Confidence;
        if (_checkpointCount is null && at >= Checkpoint)
        {
            _checkpointCount = occupancy.People;
            _checkpointEmpty = occupancy.EmptySeats;
        }
    }

    public ShowingOccupancySummary Summary() => new(
        showingId,
        _checkpointCount,
        _peak,
        _samples == 0 ? 0 : Math.Round((double)_sum / _samples, 2),
        _samples,
        _checkpointEmpty,
        _samples == 0 ? 0 : Math.Round(_confidenceSum / _samples, 3));
}
