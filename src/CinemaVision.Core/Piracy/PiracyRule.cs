using System.Globalization;
using CinemaVision.Core.Detections;
using CinemaVision.Core.Events;
using CinemaVision.Core.Geometry;
using CinemaVision.Core.Showings;

namespace CinemaVision.Core.Piracy;

public sealed record PiracyRuleOptions
{
    /// <summary>Held-up time within <see cref="Window"/> that makes a suspicion (a glance at the time is a few seconds).</summary>
    public TimeSpan HeldUpFor { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Sliding window over which held-up time is counted (a recording is interrupted by short lapses).</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>An open suspicion ends after this long without the device being seen held up.</summary>
    public TimeSpan EndAfter { get; init; } = TimeSpan.FromSeconds(15);

    public TimeSpan UpdateEvery { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// "Held up": the device's centre lies above this fraction of the holder's box height from its top (above the lap).
    /// A phone on the lap, in a pocket or at the ear (near the head's side) does not count.
    /// </summary>
    public float HeldAboveFraction { get; init; } = 0.75f;

    /// <summary>Least detector score for a phone to count.</summary>
    public float MinDeviceScore { get; init; } = 0.25f;

    /// <summary>The longest gap between observations counted as continuous holding.</summary>
    public TimeSpan MaxObservationGap { get; init; } = TimeSpan.FromSeconds(5);

    public IReadOnlySet<ShowingState> ArmedIn { get; init; } = new HashSet<ShowingState> { ShowingState.Feature };
}

/// <summary>A recording device seen in one analysis, placed in a seat (the holder's seat).</summary>
public sealed record DeviceSighting(string SeatId, RecordingDevice Device, float Score, BoxF DeviceBox, BoxF HolderBox);

/// <summary>
/// Piracy-recording suspicion per seat: a phone held up by a seated person (above the lap) for a total of
/// <see cref="PiracyRuleOptions.HeldUpFor"/> within a sliding <see cref="PiracyRuleOptions.Window"/>, during the
/// feature only. Counting held-up time in a window (not a single continuous stretch) keeps a recording that the
/// detector loses for a frame or two, while a glance at the time (a few seconds) never adds up to a suspicion.
/// </summary>
public sealed class PiracyRule
{
    private readonly CameraRef _camera;
    private readonly PiracyRuleOptions _options;
    private readonly Dictionary<string, SeatRecord> _seats = new(StringComparer.Ordinal);

    public PiracyRule(CameraRef camera, PiracyRuleOptions? options = null)
    {
        _camera = camera;
        _options = options ?? new PiracyRuleOptions();
    }

    /// <summary>Which seats' holders have a device held up, from the seated people and the phones seen (pure).</summary>
    public static IReadOnlyList<DeviceSighting> Sightings(IReadOnlyList<Detection> detections, IReadOnlyDictionary<int, string> seatOfDetection, PiracyRuleOptions options)
    {
        var sightings = new List<DeviceSighting>();
        for (int p = 0; p < detections.Count; p++)
        {
            var phone = detections[p];
            if (phone.Class is not (ObjectClass.Phone or ObjectClass.Camera) || phone.Score < options.MinDeviceScore) continue;
            var centre = new PointF(phone.Box.CenterX, phone.Box.CenterY);
            // The holder: the seated person whose (slightly widened) box holds the device centre, nearest first.
            int holder = -1;
            float best = float.MaxValue;
            foreach (var (index, _) in seatOfDetection)
            {
                var person = detections[index].Box;
                var widened = new BoxF(person.X - (0.25f * person.Width), person.Y, person.Width * 1.5f, person.Height);
                if (!widened.Contains(centre)) continue;
                float d = MathF.Abs(person.CenterX - centre.X);
                if (d < best) { best = d; holder = index; }
            }

            if (holder < 0) continue;
            var holderBox = detections[holder].Box;
            if (centre.Y > holderBox.Top + (options.HeldAboveFraction * holderBox.Height)) continue; // on the lap
            sightings.Add(new DeviceSighting(seatOfDetection[holder], phone.Class == ObjectClass.Camera ? RecordingDevice.Camcorder : RecordingDevice.Phone, phone.Score, phone.Box, holderBox));
        }

        return sightings;
    }

    public IReadOnlyList<PiracySuspicion> Evaluate(DateTimeOffset at, ShowingState state, string? showingId, IReadOnlyList<DeviceSighting> sightings)
    {
        var events = new List<PiracySuspicion>();
        if (!_options.ArmedIn.Contains(state))
        {
            foreach (var (seat, record) in _seats)
            {
                if (record.OpenSince is not null) events.Add(Suspicion(record, seat, IncidentPhase.End, record.LastSeen, showingId, "feature ended"));
            }

            _seats.Clear();
            return events;
        }

        foreach (var s in sightings.GroupBy(s => s.SeatId, StringComparer.Ordinal))
        {
            if (!_seats.TryGetValue(s.Key, out var record)) _seats[s.Key] = record = new SeatRecord();
            var best = s.MaxBy(x => x.Score)!;
            // Held-up time accrues for the gap since the previous sighting when it is short (continuous holding).
            if (record.LastSeen is { } last && at - last <= _options.MaxObservationGap) record.Spans.Add((last, at));
            record.LastSeen = at;
            record.Device = best.Device;
            record.PeakScore = Math.Max(record.PeakScore, best.Score);
            record.Spans.RemoveAll(x => x.End < at - _options.Window);
            var held = HeldUp(record, at);
            if (record.OpenSince is null && held >= _options.HeldUpFor)
            {
                record.OpenSince = record.Spans.Count > 0 ? record.Spans[0].Start : at;
                record.LastReport = at;
                events.Add(Suspicion(record, s.Key, IncidentPhase.Start, at, showingId, null));
            }
            else if (record.OpenSince is not null && at - record.LastReport >= _options.UpdateEvery)
            {
                record.LastReport = at;
                events.Add(Suspicion(record, s.Key, IncidentPhase.Update, at, showingId, null));
            }
        }

        foreach (var (seat, record) in _seats.ToList())
        {
            if (record.LastSeen is { } last && at - last > _options.EndAfter)
            {
                if (record.OpenSince is not null) events.Add(Suspicion(record, seat, IncidentPhase.End, last, showingId, null));
                _seats.Remove(seat);
            }
        }

        return events;
    }

    private TimeSpan HeldUp(SeatRecord record, DateTimeOffset at)
    {
        var from = at - _options.Window;
        var total = TimeSpan.Zero;
        foreach (var (start, end) in record.Spans) total += (end < from ? TimeSpan.Zero : end - (start < from ? from : start));
        return total;
    }

    private PiracySuspicion Suspicion(SeatRecord r, string seat, IncidentPhase phase, DateTimeOffset? at, string? showingId, string? detail)
    {
        var when = at ?? DateTimeOffset.MinValue;
        var since = r.OpenSince ?? when;
        var incident = string.Create(CultureInfo.InvariantCulture, $"{_camera.AuditoriumId}-{_camera.CameraId}-piracy-{seat}-{since.ToUnixTimeMilliseconds()}");
        double held = HeldUp(r, when).TotalSeconds;
        // Confidence grows with how long the device was held up and how sure the detector was.
        double confidence = Math.Round(Math.Min(1, 0.5 + (0.3 * Math.Min(1, held / Math.Max(1, _options.HeldUpFor.TotalSeconds * 2))) + (0.2 * r.PeakScore)), 3);
        return new PiracySuspicion(
            string.Create(CultureInfo.InvariantCulture, $"{incident}-{(int)phase}-{when.ToUnixTimeMilliseconds()}"),
            incident, phase, r.Device, _camera.SiteId, _camera.AuditoriumId, _camera.CameraId, seat, since, when, Math.Round(held, 1), confidence,
            EvidenceId: null, Detail: detail, ShowingId: showingId);
    }

    private sealed class SeatRecord
    {
        public List<(DateTimeOffset Start, DateTimeOffset End)> Spans { get; } = [];
        public DateTimeOffset? LastSeen { get; set; }
        public DateTimeOffset? OpenSince { get; set; }
        public DateTimeOffset LastReport { get; set; }
        public RecordingDevice Device { get; set; }
        public float PeakScore { get; set; }
    }
}
