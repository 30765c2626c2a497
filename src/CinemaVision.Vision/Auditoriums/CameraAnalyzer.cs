using CinemaVision.Core.Auditoriums;
using CinemaVision.Core.Detections;
using CinemaVision.Core.Events;
using CinemaVision.Core.Geometry;
using CinemaVision.Core.Pipeline;
using CinemaVision.Core.Seating;
using CinemaVision.Core.Showings;
using CinemaVision.Core.Tiling;
using CinemaVision.Core.Tracking;
using CinemaVision.Vision.Cameras;
using CinemaVision.Vision.Detectors;
using OpenCvSharp;

namespace CinemaVision.Vision.Auditoriums;

/// <summary>
/// How one camera's pixels are read: which models and how the frame is tiled. Thresholds are not here: every
/// threshold is in <see cref="CameraPipelineOptions"/>.
/// </summary>
public sealed record AnalyzerOptions
{
    /// <summary>Finds people and phones.</summary>
    public string PersonModel { get; init; } = "yolox_nano_coco_416";

    /// <summary>Finds faces; loaded only when the pipeline fills seats from faces (a camera at the screen end).</summary>
    public string FaceModel { get; init; } = "ultraface_rfb_320";

    /// <summary>Auto uses the perspective derived from the seat map (smaller tiles for the back rows).</summary>
    public TilingMode Tiling { get; init; } = TilingMode.Auto;

    /// <summary>A seated person's box height as a multiple of the seat spacing, to derive perspective from the seat map.</summary>
    public float PersonHeightPerSeatWidth { get; init; } = PerspectiveModel.DefaultPersonHeightPerSeatWidth;

    /// <summary>Measure each frame for the camera-health rules (brightness, sharpness, frozen, covered, moved).</summary>
    public bool MeasureHealth { get; init; } = true;

    /// <summary>Look for screen glow (phones in a dark hall) in each frame.</summary>
    public bool FindGlow { get; init; } = true;
}

/// <summary>What one analysis of one camera produced: the pipeline's figures and events, the raw detections, and the evidence crops.</summary>
public sealed record CameraAnalysis(PipelineResult Result, IReadOnlyList<Detection> RawDetections, IReadOnlyDictionary<string, byte[]> Evidence)
{
    public DateTimeOffset At => Result.At;
    public IReadOnlyList<Detection> Detections => RawDetections;
    public IReadOnlyList<SeatAssignment> Assignments => Result.Assignments;
    public IReadOnlyDictionary<string, SeatState> Seats => Result.Seats;
    public int People => Result.People;
    public OccupancySample Occupancy => Result.Occupancy ?? throw new InvalidOperationException("Only occupancy passes produce an occupancy sample.");
    public IReadOnlyList<SeatStateChange> SeatChanges => Result.SeatChanges;
    public IReadOnlyList<AnomalyEvent> Anomalies => Result.Anomalies;
    public IReadOnlyList<PiracySuspicion> Piracy => Result.Piracy;
    public IReadOnlyList<EdgeEvent> Events => Result.Events;
    public IReadOnlyList<Track> Tracks => Result.Tracks;
}

/// <summary>
/// One camera's pixels-to-observation wiring: runs the detectors (tiled with the seat map's perspective), the glow
/// detector and the frame probe on a frame, maps everything into the seat map's reference pixels, hands the
/// observation to Core's <see cref="CameraPipeline"/> (where every decision is made), and crops the evidence the
/// pipeline asks for. Frames of another size than the reference frame (a substream) are handled: seats, zones and
/// tiles are scaled to the frame, detections back to the reference.
/// </summary>
public sealed class CameraAnalyzer : IDisposable
{
    private readonly CameraView _camera;
    private readonly AnalyzerOptions _options;
    private readonly IObjectDetector? _givenPeople;
    private readonly IObjectDetector? _givenFaces;
    private readonly Dictionary<SizeI, (IObjectDetector People, IObjectDetector? Faces)> _detectors = [];
    private readonly FrameProbe? _probe;

    public CameraAnalyzer(Auditorium auditorium, CameraView camera, AnalyzerOptions? options = null, CameraPipelineOptions? defaults = null, IObjectDetector? people = null, IObjectDetector? faces = null)
    {
        _camera = camera;
        _options = options ?? new AnalyzerOptions();
        Pipeline = CameraPipeline.For(auditorium, camera, defaults);
        _givenPeople = people;
        _givenFaces = faces;
        _probe = _options.MeasureHealth ? new FrameProbe() : null;
    }

    public CameraView Camera => _camera;

    /// <summary>The camera's pipeline (figures, seat states, options in force).</summary>
    public CameraPipeline Pipeline { get; }

    /// <summary>The detection options for this camera at a frame size: the seat map's perspective and region, and the pipeline's score floors.</summary>
    public static DetectionOptions DetectionOptionsFor(CameraView view, AnalyzerOptions options, CameraPipelineOptions pipeline, string model)
    {
        var seating = view.Seats.Select(s => s.Polygon).Concat(view.Zones.Select(z => z.Polygon)).Where(p => p.Count >= 3).ToList();
        return new DetectionOptions
        {
            Model = model,
            Tiling = options.Tiling,
            Perspective = options.Tiling == TilingMode.Auto ? PerspectiveModel.FromSeatMap(view, options.PersonHeightPerSeatWidth) : null,
            RegionOfInterest = seating.Count > 0 ? new RegionOfInterest(seating) : null,
            // Detectors keep candidates down to the floors (tracking), the pipeline decides what counts.
            Merge = DetectionOptions.DefaultMerge with { ScoreThresholds = pipeline.Scores.Floors(), DefaultScoreThreshold = pipeline.Scores.Other },
        };
    }

    public CameraAnalysis Analyze(Mat bgr, DateTimeOffset at, ShowingState state = ShowingState.Feature, string? showingId = null) =>
        Analyze(bgr, at, new ShowingContext(state, showingId));

    public CameraAnalysis Analyze(Mat bgr, DateTimeOffset at, ShowingContext showing, PassKind pass = PassKind.Occupancy)
    {
        var size = new SizeI(bgr.Width, bgr.Height);
        var view = _camera.ScaledTo(size);
        var measurements = _probe?.Measure(bgr);
        if (pass == PassKind.Health)
        {
            return new CameraAnalysis(Pipeline.Observe(new FrameObservation(at, pass, [], measurements), showing), [], new Dictionary<string, byte[]>());
        }

        var (people, faces) = DetectorsFor(size, view);
        using var frame = Frames.MatFrame.Borrow(bgr, _camera.Id, at);
        var raw = people.Detect(frame).ToList();
        if (faces is not null) raw.AddRange(faces.Detect(frame));
        double? scene = null;
        IReadOnlyList<Core.Piracy.GlowBlob>? glow = null;
        if (_options.FindGlow)
        {
            (scene, glow) = GlowDetector.Find(bgr, view.Seats, Pipeline.Options.Glow);
        }

        // The pipeline works in the seat map's reference pixels whatever the stream's size.
        var toReference = ToReference(size);
        var observation = new FrameObservation(at, pass, toReference is { } s ? [.. raw.Select(d => d with { Box = d.Box.Scale(s.X, s.Y) })] : raw, measurements, scene,
            toReference is { } g && glow is not null ? [.. glow.Select(b => b with { Centre = new PointF(b.Centre.X * g.X, b.Centre.Y * g.Y) })] : glow);
        var result = Pipeline.Observe(observation, showing);
        return new CameraAnalysis(result, raw, CropEvidence(bgr, result, view, toReference));
    }

    /// <summary>The evidence the pipeline asked for: the seat region only, cut from this frame.</summary>
    private Dictionary<string, byte[]> CropEvidence(Mat bgr, PipelineResult result, CameraView view, PointF? toReference)
    {
        var evidence = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var request in result.Evidence)
        {
            var seat = view.Seats.First(s => s.Id == request.SeatId);
            var include = toReference is { } s ? request.AlsoInclude.Select(b => b.Scale(1 / s.X, 1 / s.Y)) : request.AlsoInclude;
            evidence[request.EvidenceId] = EvidenceCropper.CropSeat(bgr, seat, include);
        }

        return evidence;
    }

    private PointF? ToReference(SizeI frame) => frame == _camera.Reference.Size || _camera.Reference.Width <= 0
        ? null
        : new PointF((float)_camera.Reference.Width / frame.Width, (float)_camera.Reference.Height / frame.Height);

    private (IObjectDetector People, IObjectDetector? Faces) DetectorsFor(SizeI size, CameraView view)
    {
        if (_givenPeople is not null) return (_givenPeople, _givenFaces);
        if (_detectors.TryGetValue(size, out var made)) return made;
        var people = DetectorFactory.Create(DetectionOptionsFor(view, _options, Pipeline.Options, _options.PersonModel));
        var faces = Pipeline.Options.SeatsFrom == ObjectClass.Face
            ? DetectorFactory.Create(DetectionOptionsFor(view, _options, Pipeline.Options, _options.FaceModel) with { Perspective = null, Tiling = TilingMode.Tiled })
            : null;
        _detectors[size] = (people, faces);
        return (people, faces);
    }

    public void Dispose()
    {
        foreach (var (people, faces) in _detectors.Values)
        {
            people.Dispose();
            faces?.Dispose();
        }

        _detectors.Clear();
        _probe?.Dispose();
    }
}
