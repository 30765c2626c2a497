using System.Globalization;
using CinemaVision.Core.Auditoriums;
using CinemaVision.Core.Cameras;
using CinemaVision.Core.Detections;
using CinemaVision.Core.Events;
using CinemaVision.Core.Geometry;
using CinemaVision.Core.Piracy;
using CinemaVision.Core.Rules;
using CinemaVision.Core.Seating;
using CinemaVision.Core.Showings;
using CinemaVision.Core.Tracking;

namespace CinemaVision.Core.Pipeline;

/// <summary>What kind of analysis a frame received.</summary>
public enum PassKind
{
    /// <summary>Full multi-scale detection: seat states and the occupancy sample come from these passes only.</summary>
    Occupancy = 0,

    /// <summary>The cheaper watching plan: tracking, aisle/exit/staff rules and piracy, no seat-state update.</summary>
    Watch = 1,

    /// <summary>Frame measurements only (a closed auditorium): camera health.</summary>
    Health = 2,
}

/// <summary>
/// What the pixels of one frame gave: detections of any class (at the detector's floors, see
/// <see cref="DetectionThresholds.Floor"/>), the frame measurements for camera health, and the glow blobs with the
/// scene brightness when the glow detector ran. Produced by Vision; everything after it is this pipeline.
/// </summary>
public sealed record FrameObservation(
    DateTimeOffset At,
    PassKind Pass,
    IReadOnlyList<Detection> Detections,
    FrameMeasurements? Measurements = null,
    double? SceneBrightness = null,
    IReadOnlyList<GlowBlob>? Glow = null);

/// <summary>What the auditorium is doing (from the schedule): arms the rules and tags the figures.</summary>
public readonly record struct ShowingContext(ShowingState State, string? ShowingId = null)
{
    public static ShowingContext Feature { get; } = new(ShowingState.Feature);
}

/// <summary>A JPEG the host must crop from the frame (the seat region only) before the event naming it is produced.</summary>
public sealed record EvidenceRequest(string EvidenceId, string SeatId, IReadOnlyList<BoxF> AlsoInclude);

/// <summary>
/// Turns one camera's confident detections into the audience: one detection per person to seat and count. The default
/// takes the detections of <see cref="CameraPipelineOptions.SeatsFrom"/>; a fusion of heads, faces and people into
/// one detection per person plugs in here without changing the pipeline.
/// </summary>
public interface IAudienceFusion
{
    IReadOnlyList<Detection> Audience(IReadOnlyList<Detection> confident, CameraPipelineOptions options);
}

/// <summary>The audience is the detections of one class.</summary>
public sealed class SingleClassAudience : IAudienceFusion
{
    public static SingleClassAudience Instance { get; } = new();

    public IReadOnlyList<Detection> Audience(IReadOnlyList<Detection> confident, CameraPipelineOptions options) =>
        [.. confident.Where(d => d.Class == options.SeatsFrom)];
}

/// <summary>Everything one pass produced: the figures to show and the events to send.</summary>
/// <param name="Detections">The confident detections (each class at its threshold, or its seat-conditioned one inside a seat).</param>
/// <param name="Audience">The people counted and seated (after fusion).</param>
/// <param name="Assignments">Seats of audience detections (indexes into <paramref name="Audience"/>).</param>
/// <param name="Seats">Smoothed seat states after this pass.</param>
/// <param name="People">People counted in this pass.</param>
/// <param name="Occupancy">The occupancy sample (occupancy passes only).</param>
/// <param name="Events">Every event, in the order produced: camera health, seat changes, the occupancy sample, anomalies, piracy.</param>
/// <param name="Evidence">Crops to make for the piracy suspicions that started in this pass.</param>
public sealed record PipelineResult(
    DateTimeOffset At,
    PassKind Pass,
    IReadOnlyList<Detection> Detections,
    IReadOnlyList<Detection> Audience,
    IReadOnlyList<SeatAssignment> Assignments,
    IReadOnlyDictionary<string, SeatState> Seats,
    int People,
    OccupancySample? Occupancy,
    IReadOnlyList<Track> Tracks,
    IReadOnlyList<EdgeEvent> Events,
    IReadOnlyList<EvidenceRequest> Evidence)
{
    public IReadOnlyList<SeatStateChange> SeatChanges => [.. Events.OfType<SeatStateChange>()];
    public IReadOnlyList<AnomalyEvent> Anomalies => [.. Events.OfType<AnomalyEvent>()];
    public IReadOnlyList<PiracySuspicion> Piracy => [.. Events.OfType<PiracySuspicion>()];
    public IReadOnlyList<CameraHealthEvent> CameraHealth => [.. Events.OfType<CameraHealthEvent>()];
}

/// <summary>
/// One camera's pipeline from detections to figures and events, pure and deterministic (no pixels, no clock, no I/O):
/// thresholds per class (with the seat prior), the audience (fusion), seat assignment and smoothing, tracking and the
/// zone rules, piracy (phones held up, screen glow), camera health and the occupancy sample. The edge agent and
/// <c>cvtools occupancy</c> both run frames through this class, so they give the same answer on the same input.
/// One instance per camera, fed in time order.
/// </summary>
public sealed class CameraPipeline
{
    private readonly CameraRef _ref;
    private readonly CameraView _camera;
    private readonly IAudienceFusion _fusion;
    private readonly SeatStateSmoother _smoother;
    private readonly ByteTracker _tracker;
    private readonly AnomalyRules _anomalies;
    private readonly PiracyRule _piracy;
    private readonly ScreenGlowRule _glow;
    private readonly CameraHealthRules _health;
    private long _sequence;

    public CameraPipeline(string siteId, string auditoriumId, CameraView camera, CameraPipelineOptions? options = null, IAudienceFusion? fusion = null, double? referenceSharpness = null)
    {
        Options = options ?? CameraPipelineOptions.Default;
        var problems = Options.Validate().ToList();
        if (problems.Count > 0) throw new ArgumentException("Invalid pipeline options: " + string.Join(" ", problems), nameof(options));
        _camera = camera;
        _ref = new CameraRef(siteId, auditoriumId, camera.Id);
        _fusion = fusion ?? SingleClassAudience.Instance;
        _smoother = new SeatStateSmoother(camera.Seats.Select(s => s.Id), Options.Smoothing);
        _tracker = new ByteTracker(Options.EffectiveTracker);
        _anomalies = new AnomalyRules(_ref, camera.Zones.Select(z => (z.Id, z.Kind)), Options.Anomalies);
        _piracy = new PiracyRule(_ref, Options.Piracy);
        _glow = new ScreenGlowRule(_ref, Options.Glow);
        _health = new CameraHealthRules(_ref, Options.Health, referenceSharpness);
    }

    /// <summary>The pipeline of an auditorium's camera with the auditorium's own overrides applied to <paramref name="defaults"/>.</summary>
    public static CameraPipeline For(Auditorium auditorium, CameraView camera, CameraPipelineOptions? defaults = null, IAudienceFusion? fusion = null, double? referenceSharpness = null) =>
        new(auditorium.SiteId, auditorium.AuditoriumId, camera, auditorium.Pipeline.Apply(defaults), fusion, referenceSharpness);

    public CameraPipelineOptions Options { get; }

    public CameraRef Camera => _ref;

    public CameraView View => _camera;

    public IReadOnlyDictionary<string, SeatState> Seats => _smoother.States;

    public IReadOnlyCollection<CameraHealthKind> ActiveHealthConditions => _health.Active;

    /// <summary>One analysed frame.</summary>
    public PipelineResult Observe(FrameObservation frame, ShowingContext showing)
    {
        var at = frame.At;
        var events = new List<EdgeEvent>();
        if (frame.Measurements is { } m) events.AddRange(_health.Observe(at, m, showing.State));
        if (frame.Pass == PassKind.Health)
        {
            return new PipelineResult(at, frame.Pass, [], [], [], _smoother.States, 0, null, [], events, []);
        }

        var confident = Confident(frame.Detections);
        var audience = _fusion.Audience(confident, Options);
        var assignments = SeatAssigner.Assign(audience, _camera.Seats, Options.Assignment);

        OccupancySample? sample = null;
        if (frame.Pass == PassKind.Occupancy)
        {
            var occupied = assignments.Select(a => a.SeatId).ToHashSet(StringComparer.Ordinal);
            bool seesSeats = _health.SeesTheSeats;
            var unobservable = seesSeats ? null : _camera.Seats.Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
            var changes = _smoother.Observe(occupied, unobservable);
            sample = Sample(at, audience.Count, seesSeats, showing.ShowingId);
            events.AddRange(changes.Select(c => new SeatStateChange(
                string.Create(CultureInfo.InvariantCulture, $"{_ref.AuditoriumId}-{_ref.CameraId}-seat-{c.SeatId}-{at.ToUnixTimeMilliseconds()}"),
                _ref.SiteId, _ref.AuditoriumId, _ref.CameraId, c.SeatId, at, c.To, sample.Confidence, showing.ShowingId)));
            events.Add(sample);
        }

        // Tracking and the zone rules: people with stable ids, where their feet are, whether they sit.
        var tracks = _tracker.Update(frame.Detections, at).Where(t => t.State == TrackState.Confirmed && t.LastSeen == at).ToList();
        var seatOfBox = new Dictionary<BoxF, string>();
        foreach (var a in assignments) seatOfBox[audience[a.DetectionIndex].Box] = a.SeatId;
        var observed = tracks.Select(t => new ObservedPerson(
            t.Id,
            t.Box,
            // Feet from this frame's matched detection (the filtered box lags a walking person).
            _camera.Zones.Where(z => Polygons.Contains(z.Polygon, new PointF(t.Detection.Box.CenterX, t.Detection.Box.Bottom))).Select(z => z.Id).ToList(),
            seatOfBox.TryGetValue(t.Detection.Box, out var seat) ? seat : null)).ToList();
        events.AddRange(_anomalies.Evaluate(new AuditoriumObservation(at, showing.State, showing.ShowingId, observed, _camera.Seats.Count)));

        // Piracy: devices held up by seated people, and screen glow in dark frames.
        var holders = new List<Detection>();
        var seatOfHolder = new Dictionary<int, string>();
        foreach (var a in assignments.Where(a => audience[a.DetectionIndex].Class == ObjectClass.Person))
        {
            seatOfHolder[holders.Count] = a.SeatId;
            holders.Add(audience[a.DetectionIndex]);
        }

        holders.AddRange(confident.Where(d => d.Class is ObjectClass.Phone or ObjectClass.Camera));
        var sightings = PiracyRule.Sightings(holders, seatOfHolder, Options.Piracy);
        var piracy = _piracy.Evaluate(at, showing.State, showing.ShowingId, sightings).ToList();
        if (frame.Glow is { } blobs) piracy.AddRange(_glow.Evaluate(at, showing.State, frame.SceneBrightness ?? 0, blobs, showing.ShowingId));

        var evidence = new List<EvidenceRequest>();
        foreach (var p in piracy)
        {
            if (p.Phase == IncidentPhase.Start && p.SeatId is { } seatId)
            {
                var request = new EvidenceRequest(p.IncidentId + ".jpg", seatId, [.. sightings.Where(s => s.SeatId == seatId).Select(s => s.HolderBox)]);
                evidence.Add(request);
                events.Add(p with { EvidenceId = request.EvidenceId });
            }
            else
            {
                events.Add(p);
            }
        }

        return new PipelineResult(at, frame.Pass, confident, audience, assignments, _smoother.States, audience.Count, sample, tracks, events, evidence);
    }

    /// <summary>The camera delivered no frame (stalled, reconnecting): camera health only.</summary>
    public IReadOnlyList<EdgeEvent> NoFrame(DateTimeOffset at, DateTimeOffset? lastFrameAt, string? reason) => [.. _health.ObserveNoFrame(at, lastFrameAt, reason)];

    /// <summary>
    /// The detections that count: each class from its threshold, and seatable classes (person, face, head) from their
    /// lower seat-conditioned threshold when their anchor lies inside a seat outline.
    /// </summary>
    private List<Detection> Confident(IReadOnlyList<Detection> detections)
    {
        var scores = Options.Scores;
        var confident = new List<Detection>(detections.Count);
        foreach (var d in detections)
        {
            if (d.Score >= scores.For(d.Class)) confident.Add(d);
            else if (d.Class is ObjectClass.Person or ObjectClass.Face or ObjectClass.Head && d.Score >= scores.Seated(d.Class) && InASeat(d)) confident.Add(d);
        }

        return confident;
    }

    private bool InASeat(in Detection d)
    {
        var anchor = SeatAssigner.Anchor(d, Options.Assignment);
        foreach (var seat in _camera.Seats)
        {
            if (seat.Bounds.Contains(anchor) && Polygons.Contains(seat.Polygon, anchor)) return true;
        }

        return false;
    }

    private OccupancySample Sample(DateTimeOffset at, int people, bool seesSeats, string? showingId)
    {
        var seats = _smoother.States;
        int known = seats.Count(s => s.Value != SeatState.Unknown);
        return new OccupancySample(
            Id: string.Create(CultureInfo.InvariantCulture, $"{_ref.AuditoriumId}-{_ref.CameraId}-occ-{at.ToUnixTimeMilliseconds()}-{_sequence++}"),
            SiteId: _ref.SiteId,
            AuditoriumId: _ref.AuditoriumId,
            CameraId: _ref.CameraId,
            Timestamp: at,
            People: people,
            SeatsOccupied: seats.Count(s => s.Value == SeatState.Occupied),
            SeatsTotal: seats.Count,
            SeatsUnknown: seats.Count - known,
            Confidence: seats.Count == 0 ? 0 : Math.Round((double)known / seats.Count * (seesSeats ? 1 : 0), 3),
            ShowingId: showingId);
    }
}
