using System.Globalization;
using CinemaVision.Core.Auditoriums;
using CinemaVision.Core.Detections;
using CinemaVision.Core.Events;
using CinemaVision.Core.Geometry;
using CinemaVision.Core.Piracy;
using CinemaVision.Core.Rules;
using CinemaVision.Core.Seating;
using CinemaVision.Core.Showings;
using CinemaVision.Core.Tiling;
using CinemaVision.Core.Tracking;
using CinemaVision.Vision.Detectors;
using OpenCvSharp;

namespace CinemaVision.Vision.Auditoriums;

public sealed record AnalyzerOptions
{
    /// <summary>Finds people and phones.</summary>
    public string PersonModel { get; init; } = "yolox_nano_coco_416";

    /// <summary>When set, seats are filled from faces (a camera at the screen end looking at the audience).</summary>
    public string? FaceModel { get; init; }

    /// <summary>Auto uses the perspective derived from the seat map (smaller tiles for the back rows).</summary>
    public TilingMode Tiling { get; init; } = TilingMode.Auto;

    /// <summary>A seated person's box height as a multiple of the seat spacing, to derive perspective from the seat map.</summary>
    public float PersonHeightPerSeatWidth { get; init; } = 1.8f;

    /// <summary>People at or above this score count and fill seats; lower ones only keep tracks alive.</summary>
    public float PersonScore { get; init; } = 0.55f;

    public SeatAssignmentOptions Assignment { get; init; } = new();
    public SeatSmoothingOptions Smoothing { get; init; } = new();
    public TrackerOptions Tracker { get; init; } = new();
    public AnomalyRuleOptions Anomalies { get; init; } = new();
    public PiracyRuleOptions Piracy { get; init; } = new();
    public ScreenGlowOptions Glow { get; init; } = new();
}

/// <summary>What one analysis of one camera produced: the figures and the events the agent sends on.</summary>
public sealed record CameraAnalysis(
    DateTimeOffset At,
    IReadOnlyList<Detection> Detections,
    IReadOnlyList<SeatAssignment> Assignments,
    IReadOnlyDictionary<string, SeatState> Seats,
    int People,
    OccupancySample Occupancy,
    IReadOnlyList<SeatStateChange> SeatChanges,
    IReadOnlyList<AnomalyEvent> Anomalies,
    IReadOnlyList<PiracySuspicion> Piracy,
    IReadOnlyDictionary<string, byte[]> Evidence,
    IReadOnlyList<Track> Tracks);

/// <summary>
/// One camera's auditorium understanding: detection (tiled with the seat map's perspective), seat assignment and
/// smoothing, tracking, zone rules and piracy rules. Decisions are Core's pure rules; this class wires them to pixels.
/// </summary>
public sealed class CameraAnalyzer : IDisposable
{
    private readonly Auditorium _auditorium;
    private readonly CameraView _camera;
    private readonly CameraRef _ref;
    private readonly AnalyzerOptions _options;
    private readonly IObjectDetector _people;
    private readonly IObjectDetector? _faces;
    private readonly bool _ownsDetectors;
    private readonly SeatStateSmoother _smoother;
    private readonly ByteTracker _tracker;
    private readonly AnomalyRules _anomalies;
    private readonly PiracyRule _piracy;
    private readonly ScreenGlowRule _glow;
    private long _sequence;

    public CameraAnalyzer(Auditorium auditorium, CameraView camera, AnalyzerOptions? options = null, IObjectDetector? people = null, IObjectDetector? faces = null)
    {
        _auditorium = auditorium;
        _camera = camera;
        _options = options ?? new AnalyzerOptions();
        _ref = new CameraRef(auditorium.SiteId, auditorium.AuditoriumId, camera.Id);
        _ownsDetectors = people is null;
        _people = people ?? DetectorFactory.Create(DetectionOptionsFor(camera, _options, _options.PersonModel));
        _faces = faces ?? (_options.FaceModel is { } fm && people is null ? DetectorFactory.Create(DetectionOptionsFor(camera, _options, fm) with { Perspective = null, Tiling = TilingMode.Tiled }) : null);
        _smoother = new SeatStateSmoother(camera.Seats.Select(s => s.Id), _options.Smoothing);
        _tracker = new ByteTracker(_options.Tracker);
        _anomalies = new AnomalyRules(_ref, camera.Zones.Select(z => (z.Id, z.Kind)), _options.Anomalies);
        _piracy = new PiracyRule(_ref, _options.Piracy);
        _glow = new ScreenGlowRule(_ref, _options.Glow);
    }

    public CameraView Camera => _camera;

    /// <summary>Perspective from the seat map: per row, the seat spacing gives the expected size of a seated person.</summary>
    public static PerspectiveModel? PerspectiveFromSeats(CameraView camera, float personHeightPerSeatWidth)
    {
        if (camera.Perspective is { Count: >= 2 } given) return new PerspectiveModel(given.Select(p => (p.Row, p.Height)));
        var rows = camera.Seats.GroupBy(s => s.Row, StringComparer.Ordinal)
            .Select(g => (Row: g.Average(s => s.Bounds.CenterY), Height: personHeightPerSeatWidth * g.Average(s => s.Bounds.Width)))
            .OrderBy(r => r.Row)
            .ToList();
        var distinct = rows.Where((r, i) => i == 0 || r.Row - rows[i - 1].Row >= 1).ToList();
        return distinct.Count >= 2 ? new PerspectiveModel(distinct.Select(r => ((float)r.Row, (float)r.Height))) : null;
    }

    private static DetectionOptions DetectionOptionsFor(CameraView camera, AnalyzerOptions options, string model)
    {
        var seating = camera.Seats.Select(s => s.Polygon).Concat(camera.Zones.Select(z => z.Polygon)).Where(p => p.Count >= 3).ToList();
        return new DetectionOptions
        {
            Model = model,
            Tiling = options.Tiling,
            Perspective = options.Tiling == TilingMode.Auto ? PerspectiveFromSeats(camera, options.PersonHeightPerSeatWidth) : null,
            RegionOfInterest = seating.Count > 0 ? new RegionOfInterest(seating) : null,
            Merge = DetectionOptions.DefaultMerge with
            {
                // Low-score people keep tracks alive (ByteTrack's second pass); counting uses PersonScore.
                ScoreThresholds = new Dictionary<ObjectClass, float>(DetectionOptions.DefaultMerge.ScoreThresholds) { [ObjectClass.Person] = Math.Min(options.PersonScore, options.Tracker.LowScore + 0.2f) },
            },
        };
    }

    public CameraAnalysis Analyze(Mat bgr, DateTimeOffset at, ShowingState state = ShowingState.Feature, string? showingId = null, bool cameraHealthy = true)
    {
        using var frame = Frames.MatFrame.Borrow(bgr, _camera.Id, at);
        var all = _people.Detect(frame).ToList();
        if (_faces is not null) all.AddRange(_faces.Detect(frame));

        var confident = all.Where(d => d.Class != ObjectClass.Person || d.Score >= _options.PersonScore).ToList();
        // Seats are filled from faces when a face model is configured, else from people.
        var seatable = _faces is not null ? confident.Where(d => d.Class == ObjectClass.Face).ToList() : confident.Where(d => d.Class == ObjectClass.Person).ToList();
        var assignments = SeatAssigner.Assign(seatable, _camera.Seats, _options.Assignment);
        var occupied = assignments.Select(a => a.SeatId).ToHashSet(StringComparer.Ordinal);
        var unobservable = cameraHealthy ? null : _camera.Seats.Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
        var changes = _smoother.Observe(occupied, unobservable);
        var seats = _smoother.States;

        var tracks = _tracker.Update(all, at).Where(t => t.State == TrackState.Confirmed && t.LastSeen == at).ToList();
        var seatOfBox = assignments.ToDictionary(a => seatable[a.DetectionIndex].Box, a => a.SeatId);
        var observed = tracks.Select(t => new ObservedPerson(
            t.Id,
            t.Box,
            // Feet from this frame's matched detection (the filtered box lags a walking person).
            _camera.Zones.Where(z => Polygons.Contains(z.Polygon, new PointF(t.Detection.Box.CenterX, t.Detection.Box.Bottom))).Select(z => z.Id).ToList(),
            seatOfBox.TryGetValue(t.Detection.Box, out var seat) ? seat : null)).ToList();
        int people = _faces is not null ? seatable.Count : confident.Count(d => d.Class == ObjectClass.Person);
        var anomalies = _anomalies.Evaluate(new AuditoriumObservation(at, state, showingId, observed, _camera.Seats.Count)).ToList();

        // Piracy: phones held up by seated people, and screen glow in dark frames.
        var personAssignments = _faces is not null ? [] : assignments.ToDictionary(a => confident.IndexOf(seatable[a.DetectionIndex]), a => a.SeatId);
        var sightings = PiracyRule.Sightings(confident, personAssignments, _options.Piracy);
        var piracy = _piracy.Evaluate(at, state, showingId, sightings).ToList();
        var (scene, blobs) = GlowDetector.Find(bgr, _camera.Seats);
        piracy.AddRange(_glow.Evaluate(at, state, scene, blobs, showingId));

        var evidence = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        for (int i = 0; i < piracy.Count; i++)
        {
            var p = piracy[i];
            if (p.Phase != IncidentPhase.Start || p.SeatId is null) continue;
            var seatDef = _camera.Seats.First(s => s.Id == p.SeatId);
            var id = p.IncidentId + ".jpg";
            evidence[id] = EvidenceCropper.CropSeat(bgr, seatDef, sightings.Where(s => s.SeatId == p.SeatId).Select(s => s.HolderBox));
            piracy[i] = p with { EvidenceId = id };
        }

        int known = seats.Count(s => s.Value != SeatState.Unknown);
        var sample = new OccupancySample(
            Id: string.Create(CultureInfo.InvariantCulture, $"{_ref.AuditoriumId}-{_ref.CameraId}-occ-{at.ToUnixTimeMilliseconds()}-{_sequence++}"),
            SiteId: _ref.SiteId,
            AuditoriumId: _ref.AuditoriumId,
            CameraId: _ref.CameraId,
            Timestamp: at,
            People: people,
            SeatsOccupied: seats.Count(s => s.Value == SeatState.Occupied),
            SeatsTotal: seats.Count,
            SeatsUnknown: seats.Count - known,
            Confidence: seats.Count == 0 ? 0 : Math.Round((double)known / seats.Count * (cameraHealthy ? 1 : 0), 3),
            ShowingId: showingId);
        var seatChanges = changes.Select(c => new SeatStateChange(
            string.Create(CultureInfo.InvariantCulture, $"{_ref.AuditoriumId}-{_ref.CameraId}-seat-{c.SeatId}-{at.ToUnixTimeMilliseconds()}"),
            _ref.SiteId, _ref.AuditoriumId, _ref.CameraId, c.SeatId, at, c.To, sample.Confidence, showingId)).ToList();

        return new CameraAnalysis(at, all, assignments, seats, people, sample, seatChanges, anomalies, piracy, evidence, tracks);
    }

    public void Dispose()
    {
        if (!_ownsDetectors) return;
        _people.Dispose();
        _faces?.Dispose();
    }
}
