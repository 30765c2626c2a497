using System.Globalization;
using CinemaVision.Core.Events;
using CinemaVision.Core.Occupancy;

namespace CinemaVision.Edge.Analysis;

/// <summary>
/// The occupancy passes of one auditorium's cameras, in rounds: every occupancy period a new round starts and each
/// camera owes one pass; when all cameras have reported (or the next round begins), their seat states are merged into
/// the auditorium-wide sample (<see cref="OccupancyCalculator.Merge"/>: a seat seen by two cameras counts once, a camera
/// that did not report counts as not seeing its seats). Thread-safe: cameras report from their own loops.
/// </summary>
public sealed class AuditoriumRounds
{
    private readonly object _gate = new();
    private readonly string _siteId;
    private readonly string _auditoriumId;
    private readonly Dictionary<string, CameraOccupancy> _reported = new(StringComparer.Ordinal);
    private HashSet<string> _cameras;
    private DateTimeOffset? _roundStart;
    private DateTimeOffset _lastReportAt;
    private string? _showingId;
    private bool _emitted;

    private readonly double _phase;
    private DateTimeOffset? _firstRoundAt;

    /// <param name="phase">
    /// Where in the period this auditorium's rounds start (0..1): the agent spreads its auditoriums over the period so
    /// their full passes do not all fall on the same seconds.
    /// </param>
    public AuditoriumRounds(string siteId, string auditoriumId, IEnumerable<string> cameraIds, int seatsTotal, double phase = 0)
    {
        _phase = Math.Clamp(phase, 0, 1);
        _siteId = siteId;
        _auditoriumId = auditoriumId;
        _cameras = cameraIds.ToHashSet(StringComparer.Ordinal);
        SeatsTotal = seatsTotal;
    }

    public int SeatsTotal { get; private set; }

    /// <summary>The auditorium's file changed (cameras or seats).</summary>
    public void Reconfigure(IEnumerable<string> cameraIds, int seatsTotal)
    {
        lock (_gate)
        {
            _cameras = cameraIds.ToHashSet(StringComparer.Ordinal);
            SeatsTotal = seatsTotal;
        }
    }

    /// <summary>
    /// Whether the camera owes an occupancy pass now. Starting a new round (period elapsed) closes the previous one:
    /// its merged sample, if not yet produced, is returned to be written.
    /// </summary>
    public (bool Due, OccupancySample? Closed) Due(string cameraId, DateTimeOffset now, TimeSpan period)
    {
        lock (_gate)
        {
            _firstRoundAt ??= now + (period * _phase);
            if (_roundStart is null && now < _firstRoundAt) return (false, null);
            OccupancySample? closed = null;
            if (_roundStart is null || now - _roundStart >= period)
            {
                if (_roundStart is not null && !_emitted && _reported.Count > 0) closed = Merge();
                _roundStart = _roundStart is null || now - _roundStart >= 2 * period ? now : _roundStart + period;
                _reported.Clear();
                _emitted = false;
            }

            return (!_reported.ContainsKey(cameraId), closed);
        }
    }

    /// <summary>When the next round starts (cameras sleep until then once they have reported).</summary>
    public DateTimeOffset NextRound(TimeSpan period)
    {
        lock (_gate) return _roundStart is { } start ? start + period : _firstRoundAt ?? DateTimeOffset.MinValue;
    }

    /// <summary>A camera's occupancy pass: returns the auditorium-wide sample when it completes the round.</summary>
    public OccupancySample? Report(string cameraId, CameraOccupancy occupancy, DateTimeOffset at, string? showingId)
    {
        lock (_gate)
        {
            _reported[cameraId] = occupancy;
            _lastReportAt = at > _lastReportAt ? at : _lastReportAt;
            _showingId = showingId;
            if (_emitted || !_cameras.All(_reported.ContainsKey)) return null;
            return Merge();
        }
    }

    private OccupancySample? Merge()
    {
        _emitted = true;
        if (SeatsTotal < 1) return null; // an auditorium-wide figure is about seats; a camera on aisles only sends its own samples
        var cameras = _cameras.Select(id => _reported.TryGetValue(id, out var o) ? o : new CameraOccupancy(id, 0, new Dictionary<string, SeatState>(), CameraHealthy: false)).ToList();
        var merged = OccupancyCalculator.Merge(cameras, SeatsTotal);
        return new OccupancySample(
            string.Create(CultureInfo.InvariantCulture, $"{_auditoriumId}-occ-{_roundStart!.Value.ToUnixTimeMilliseconds()}"),
            _siteId, _auditoriumId, null, _lastReportAt, merged.People, merged.SeatsOccupied, merged.SeatsTotal,
            Math.Min(merged.SeatsUnknown + (SeatsTotal - merged.Seats.Count), SeatsTotal - merged.SeatsOccupied), merged.Confidence, _showingId);
    }
}
