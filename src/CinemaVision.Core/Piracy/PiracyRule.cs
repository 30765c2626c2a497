using CinemaVision.Core.Detections;
using CinemaVision.Core.Events;
using CinemaVision.Core.Geometry;
using CinemaVision.Core.Rules;
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

    /// <summary>The longest gap between observations counted as continuous holding.</summary>
    public TimeSpan MaxObservationGap { get; init; } = TimeSpan.FromSeconds(5);

    public IReadOnlySet<ShowingState> ArmedIn { get; init; } = new HashSet<ShowingState> { ShowingState.Feature };

    /// <summary>The shared incident lifecycle: starts when held long enough (checked by the rule), ends after <see cref="EndAfter"/>.</summary>
    public IncidentOptions Incident => new() { MinDuration = TimeSpan.Zero, EndGrace = EndAfter, UpdateEvery = UpdateEvery };
}

/// <summary>A recording device seen in one analysis, placed in a seat (the holder's seat).</summary>
public sealed record DeviceSighting(string SeatId, RecordingDevice Device, float Score, BoxF DeviceBox, BoxF HolderBox);

/// <summary>
/// Piracy-recording suspicion per seat: a phone held up by a seated person (above the lap) for a total of
/// <see cref="PiracyRuleOptions.HeldUpFor"/> within a sliding <see cref="PiracyRuleOptions.Window"/>, during the
/// feature only. Counting held-up time in a window (not a single continuous stretch) keeps a recording that the
/// detector loses for a frame or two, while a glance at the time (a few seconds) never adds up to a suspicion.
/// The incident lifecycle is the shared <see cref="IncidentTracker{TKey}"/>; this rule only decides which seats
/// hold a device up now and whether enough held-up time has accrued to start.
/// </summary>
public sealed class PiracyRule
{
    private readonly CameraRef _camera;
    private readonly PiracyRuleOptions _options;
    private readonly IncidentTracker<string> _incidents;
    private readonly Dictionary<string, SeatRecord> _seats = new(StringComparer.Ordinal);

    public PiracyRule(CameraRef camera, PiracyRuleOptions? options = null)
    {
        _camera = camera;
        _options = options ?? new PiracyRuleOptions();
        _incidents = new IncidentTracker<string>($"{camera.AuditoriumId}-{camera.CameraId}-piracy", _options.Incident);
    }

    /// <summary>
    /// Which seats' holders have a device held up, from the seated people and the phones seen (pure). The detections
    /// are the confident ones: thresholds are applied once, by the pipeline, before any rule sees them.
    /// </summary>
    public static IReadOnlyList<DeviceSighting> Sightings(IReadOnlyList<Detection> detections, IReadOnlyDictionary<int, string> seatOfDetection, PiracyRuleOptions options)
    {
        var sightings = new List<DeviceSighting>();
        for (int p = 0; p < detections.Count; p++)
        {
            var phone = detections[p];
            if (phone.Class is not (ObjectClass.Phone or ObjectClass.Camera)) continue;
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
        if (!_options.ArmedIn.Contains(state))
        {
            var ended = _incidents.EndAll(at).Select(t => Suspicion(t, showingId, "feature ended")).ToList();
            _seats.Clear();
            return ended;
        }

        var held = new HashSet<string>(StringComparer.Ordinal);
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
            held.Add(s.Key);
        }

        var events = _incidents.Step(at, held, seat => HeldUp(_seats[seat], at) >= _options.HeldUpFor).Select(t => Suspicion(t, showingId, null)).ToList();
        foreach (var seat in _seats.Keys.Where(k => !_incidents.IsTracked(k)).ToList()) _seats.Remove(seat);
        return events;
    }

    private TimeSpan HeldUp(SeatRecord record, DateTimeOffset at)
    {
        var from = at - _options.Window;
        var total = TimeSpan.Zero;
        foreach (var (start, end) in record.Spans) total += (end < from ? TimeSpan.Zero : end - (start < from ? from : start));
        return total;
    }

    private PiracySuspicion Suspicion(IncidentTransition<string> t, string? showingId, string? detail)
    {
        var r = _seats.TryGetValue(t.Key, out var known) ? known : new SeatRecord();
        double held = HeldUp(r, t.At).TotalSeconds;
        // Confidence grows with how long the device was held up and how sure the detector was.
        double confidence = Math.Round(Math.Min(1, 0.5 + (0.3 * Math.Min(1, held / Math.Max(1, _options.HeldUpFor.TotalSeconds * 2))) + (0.2 * r.PeakScore)), 3);
        return new PiracySuspicion(
            t.EventId, t.IncidentId, t.Phase, r.Device, _camera.SiteId, _camera.AuditoriumId, _camera.CameraId, t.Key, t.StartedAt, t.At, Math.Round(held, 1), confidence,
            EvidenceId: null, Detail: detail, ShowingId: showingId);
    }

    private sealed class SeatRecord
    {
        public List<(DateTimeOffset Start, DateTimeOffset End)> Spans { get; } = [];
        public DateTimeOffset? LastSeen { get; set; }
        public RecordingDevice Device { get; set; }
        public float PeakScore { get; set; }
    }
}
