using CinemaVision.Core.Audience;
using CinemaVision.Core.Auditoriums;
using CinemaVision.Core.Cameras;
using CinemaVision.Core.Detections;
using CinemaVision.Core.Events;
using CinemaVision.Core.Geometry;
using CinemaVision.Core.Pipeline;
using CinemaVision.Core.Seating;
using CinemaVision.Core.Showings;
using CinemaVision.Core.Tiling;
using CinemaVision.Core.Tracking;
using CinemaVision.Vision.Audience;
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

    /// <summary>Watching passes run on frames at most this wide (a main stream is scaled down when there is no substream).</summary>
    public int WatchWidth { get; init; } = 960;

    /// <summary>
    /// A watching frame at most this share larger than one tile row (or column) is shrunk to fit it
    /// (<see cref="TilePlanner.FitScale"/>): half the tiles of a 704x480 substream for 13 % of its resolution; 0 = never.
    /// </summary>
    public float WatchFitTolerance { get; init; } = 0.15f;

    /// <summary>Watching passes reuse the detections of tiles whose pixels have not changed.</summary>
    public bool ReuseUnchangedTiles { get; init; } = true;

    /// <summary>
    /// The audience pipeline's models, run on occupancy passes when the pipeline seats heads (the default). The head
    /// model is <c>lffd_head</c> unless set to "none" (see its provenance in models/README.md).
    /// </summary>
    public AudienceModels Audience { get; init; } = AudienceModels.Default;
}

/// <summary>What one analysis of one camera produced: the pipeline's figures and events, the raw detections, and the evidence crops.</summary>
/// <param name="EmptyReference">An empty-hall reference captured from this frame (the pipeline asked for it and no head was seen): the host stores it at the centre.</param>
public sealed record CameraAnalysis(PipelineResult Result, IReadOnlyList<Detection> RawDetections, IReadOnlyDictionary<string, byte[]> Evidence, CapturedReference? EmptyReference = null, TileRunStats Tiles = default, TimeSpan DetectTime = default)
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

/// <summary>An empty-hall picture captured by a camera for one lighting mode (JPEG), to be stored with the auditorium at the centre.</summary>
public sealed record CapturedReference(LightingMode Mode, byte[] Jpeg, DateTimeOffset At);

/// <summary>
/// One camera's pixels-to-observation wiring: runs the detectors (tiled with the seat map's perspective), the glow
/// detector and the frame probe on a frame, maps everything into the seat map's reference pixels, hands the
/// observation to Core's <see cref="CameraPipeline"/> (where every decision is made), and crops the evidence the
/// pipeline asks for. Frames of another size than the reference frame (a substream) are handled: seats, zones and
/// tiles are scaled to the frame, detections back to the reference. Occupancy passes run the full plan; watching
/// passes a cheaper one (native-size tiles over seats and zones, the full-frame pass every Nth time, unchanged tiles
/// reusing their detections) on a frame at most <see cref="AnalyzerOptions.WatchWidth"/> wide.
/// </summary>
public sealed class CameraAnalyzer : IDisposable
{
    private readonly CameraView _camera;
    private readonly AnalyzerOptions _options;
    private readonly IObjectDetector? _givenPeople;
    private readonly IObjectDetector? _givenFaces;
    private readonly Func<DetectionOptions, TiledDetector> _makeDetector;
    private readonly Dictionary<(SizeI Size, bool Watch), Detectors> _detectors = [];
    private readonly Dictionary<SizeI, FrameProbe> _probes = [];
    private readonly Dictionary<SizeI, AudienceDetector> _audience = [];
    private SizeI? _watchTile;
    private long _watchPasses;
    private SizeI? _watchedSize;

    /// <param name="makeDetector">Builds a detector from options (the agent shares one session per model); default loads its own.</param>
    public CameraAnalyzer(Auditorium auditorium, CameraView camera, AnalyzerOptions? options = null, CameraPipelineOptions? defaults = null, IObjectDetector? people = null, IObjectDetector? faces = null, Func<DetectionOptions, TiledDetector>? makeDetector = null)
    {
        _camera = camera;
        _options = options ?? new AnalyzerOptions();
        Pipeline = CameraPipeline.For(auditorium, camera, defaults);
        _givenPeople = people;
        _givenFaces = faces;
        _makeDetector = makeDetector ?? (o => DetectorFactory.Create(o));
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

    /// <summary>The watching plan: native-size tiles over the seats and zones (one scale), plus the full-frame pass.</summary>
    public static DetectionOptions WatchOptionsFor(CameraView view, AnalyzerOptions options, CameraPipelineOptions pipeline, string model) =>
        DetectionOptionsFor(view, options, pipeline, model) with { Tiling = TilingMode.Tiled, Perspective = null, TileSizes = null, NativeTilesOnly = true };

    public CameraAnalysis Analyze(Mat bgr, DateTimeOffset at, ShowingState state = ShowingState.Feature, string? showingId = null) =>
        Analyze(bgr, at, new ShowingContext(state, showingId));

    public CameraAnalysis Analyze(Mat bgr, DateTimeOffset at, ShowingContext showing, PassKind pass = PassKind.Occupancy)
    {
        using var scaled = pass == PassKind.Watch ? WatchFrame(bgr) : null;
        var frameMat = scaled ?? bgr;
        var size = new SizeI(frameMat.Width, frameMat.Height);
        var view = _camera.ScaledTo(size);
        FrameMeasurements? measurements = null;
        if (pass != PassKind.Occupancy) _watchedSize = size;
        // Health is judged on the stream the camera is watched on: the main stream's occasional occupancy frames (a
        // substream camera) are too far apart to tell a frozen stream from a still hall.
        if (_options.MeasureHealth && (pass != PassKind.Occupancy || _watchedSize is null || _watchedSize == size))
        {
            if (!_probes.TryGetValue(size, out var probe)) _probes[size] = probe = new FrameProbe();
            measurements = probe.Measure(frameMat);
        }

        if (pass == PassKind.Health)
        {
            var health = Pipeline.Observe(new FrameObservation(at, pass, [], measurements, Lighting: LightingProbe.Measure(bgr)), showing);
            return new CameraAnalysis(health, [], new Dictionary<string, byte[]>(), CaptureIfEmpty(bgr, health, at));
        }

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var (raw, tiles) = Detect(frameMat, size, view, pass == PassKind.Watch);
        var lighting = LightingProbe.Measure(frameMat);
        IReadOnlyDictionary<string, float>? seatChanges = null;
        if (pass == PassKind.Occupancy && AudienceFor(size, view) is { } audience)
        {
            // Heads fused down to the pipeline's floor: the pipeline decides what counts (seat prior, second signal).
            var scores = Pipeline.Options.Scores;
            float floor = scores.Floor(ObjectClass.Head);
            var heads = audience.Analyse(frameMat, scores with { Head = floor, SeatedHead = floor });
            raw.AddRange(heads.HeadDetections);
            if (audience.Reference is { Modes.Count: > 0 } reference)
            {
                using var aligned = reference.AlignTo(frameMat, heads.Lighting);
                seatChanges = view.Seats.ToDictionary(s => s.Id, s => aligned.ChangeIn(frameMat, s.Polygon), StringComparer.Ordinal);
            }
        }

        var detectTime = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        double? scene = null;
        IReadOnlyList<Core.Piracy.GlowBlob>? glow = null;
        if (_options.FindGlow)
        {
            (scene, glow) = GlowDetector.Find(frameMat, view.Seats, Pipeline.Options.Glow);
        }

        // The pipeline works in the seat map's reference pixels whatever the stream's size.
        var toReference = ToReference(size);
        var observation = new FrameObservation(at, pass, toReference is { } s ? [.. raw.Select(d => d with { Box = d.Box.Scale(s.X, s.Y) })] : raw, measurements, scene,
            toReference is { } g && glow is not null ? [.. glow.Select(b => b with { Centre = new PointF(b.Centre.X * g.X, b.Centre.Y * g.Y) })] : glow,
            seatChanges, lighting);
        var result = Pipeline.Observe(observation, showing);
        return new CameraAnalysis(result, raw, CropEvidence(frameMat, result, view, toReference), CaptureIfEmpty(frameMat, result, at), tiles, detectTime);
    }

    private (List<Detection> Raw, TileRunStats Tiles) Detect(Mat bgr, SizeI size, CameraView view, bool watch)
    {
        using var frame = Frames.MatFrame.Borrow(bgr, _camera.Id, DateTimeOffset.UtcNow);
        if (_givenPeople is not null)
        {
            var given = _givenPeople.Detect(frame).ToList();
            if (_givenFaces is not null) given.AddRange(_givenFaces.Detect(frame));
            return (given, default);
        }

        var d = DetectorsFor(size, view, watch);
        List<Detection> raw;
        TileRunStats stats;
        if (watch)
        {
            // The full-frame pass (large, near people) only every Nth watching pass; unchanged tiles keep their detections.
            bool full = _watchPasses++ % Math.Max(1, Pipeline.Options.Cadence.FullFrameEvery) == 0;
            raw = d.People.Detect(bgr, t => !t.IsFullFrame || full, d.Reuse, out stats);
        }
        else
        {
            raw = d.People.Detect(bgr, null, null, out stats);
        }

        if (d.Faces is not null)
        {
            raw.AddRange(d.Faces.Detect(bgr, null, null, out var faceStats));
            stats = new TileRunStats(stats.TilesRun + faceStats.TilesRun, stats.TilesReused + faceStats.TilesReused);
        }

        return (raw, stats);
    }

    /// <summary>The frame a watching pass runs on (null: the frame itself): at most <see cref="AnalyzerOptions.WatchWidth"/> wide, shrunk to fit whole tiles within the tolerance.</summary>
    private Mat? WatchFrame(Mat bgr)
    {
        double scale = bgr.Width > _options.WatchWidth ? (double)_options.WatchWidth / bgr.Width : 1;
        if (_options.WatchFitTolerance > 0 && _givenPeople is null)
        {
            var size = new SizeI((int)Math.Round(bgr.Width * scale), (int)Math.Round(bgr.Height * scale));
            if (_watchTile is null)
            {
                // The watching model's tile size (read once; the agent's detectors share their session, so this loads nothing).
                using var probe = _makeDetector(WatchOptionsFor(_camera.ScaledTo(size), _options, Pipeline.Options, _options.PersonModel));
                _watchTile = probe.Info.InputSize;
            }

            scale *= TilePlanner.FitScale(size, _watchTile.Value, _options.WatchFitTolerance);
        }

        return scale < 1 ? Downscale(bgr, (int)Math.Round(bgr.Width * scale)) : null;
    }

    private static Mat Downscale(Mat bgr, int width)
    {
        var small = new Mat();
        Cv2.Resize(bgr, small, new Size(width, Math.Max(1, (int)Math.Round((double)bgr.Height * width / bgr.Width))), 0, 0, InterpolationFlags.Area);
        return small;
    }

    /// <summary>
    /// The pipeline asked for an empty-hall reference (schedule closed or cleaning, picture still, camera healthy):
    /// captured only when a head pass confirms nobody is there.
    /// </summary>
    private CapturedReference? CaptureIfEmpty(Mat bgr, PipelineResult result, DateTimeOffset at)
    {
        if (result.CaptureEmptyReference is not { } mode) return null;
        var size = new SizeI(bgr.Width, bgr.Height);
        if (AudienceFor(size, _camera.ScaledTo(size)) is { } audience && audience.Analyse(bgr).Count > 0) return null;
        SetEmptyReference(bgr, mode, at);
        Cv2.ImEncode(".jpg", bgr, out var jpeg, new ImageEncodingParam(ImwriteFlags.JpegQuality, 90));
        return new CapturedReference(mode, jpeg, at);
    }

    /// <summary>The evidence the pipeline asked for: the seat region only, cut from this frame.</summary>
    private static Dictionary<string, byte[]> CropEvidence(Mat bgr, PipelineResult result, CameraView view, PointF? toReference)
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

    /// <summary>
    /// Sets the camera's empty-hall reference for the picture's lighting mode (from <c>cvtools calibrate --empty</c>,
    /// the centre, or an automatic capture): static heads on it are suppressed, and each seat is compared with it.
    /// Returns the static heads found on it (none when the pipeline does not seat heads).
    /// </summary>
    public IReadOnlyList<BoxF> SetEmptyReference(Mat bgr, LightingMode? mode = null, DateTimeOffset? at = null)
    {
        var lighting = mode ?? LightingClassifier.Classify(LightingProbe.Measure(bgr));
        Pipeline.HasEmptyReference(lighting, at ?? DateTimeOffset.UtcNow);
        var size = new SizeI(bgr.Width, bgr.Height);
        return AudienceFor(size, _camera.ScaledTo(size))?.SetEmptyReference(bgr, lighting) ?? [];
    }

    /// <summary>The audience detector for a frame size (the seat map scaled to it), or null when the pipeline does not seat heads.</summary>
    private AudienceDetector? AudienceFor(SizeI size, CameraView view)
    {
        if (Pipeline.Options.SeatsFrom != ObjectClass.Head) return null;
        if (_audience.TryGetValue(size, out var made)) return made;
        made = new AudienceDetector(_options.Audience, Pipeline.Options, AudienceScene.Of(view, Pipeline.Options.Audience), makeDetector: _makeDetector);
        _audience[size] = made;
        return made;
    }

    private PointF? ToReference(SizeI frame) => frame == _camera.Reference.Size || _camera.Reference.Width <= 0
        ? null
        : new PointF((float)_camera.Reference.Width / frame.Width, (float)_camera.Reference.Height / frame.Height);

    private Detectors DetectorsFor(SizeI size, CameraView view, bool watch)
    {
        if (_detectors.TryGetValue((size, watch), out var made)) return made;
        var options = Pipeline.Options;
        var people = _makeDetector(watch ? WatchOptionsFor(view, _options, options, _options.PersonModel) : DetectionOptionsFor(view, _options, options, _options.PersonModel));
        var faces = options.SeatsFrom == ObjectClass.Face
            ? _makeDetector(DetectionOptionsFor(view, _options, options, _options.FaceModel) with { Perspective = null, Tiling = TilingMode.Tiled })
            : null;
        made = new Detectors(people, faces, watch && _options.ReuseUnchangedTiles ? new TileReuse() : null);
        _detectors[(size, watch)] = made;
        return made;
    }

    public void Dispose()
    {
        foreach (var d in _detectors.Values)
        {
            d.People.Dispose();
            d.Faces?.Dispose();
            d.Reuse?.Dispose();
        }

        _detectors.Clear();
        foreach (var p in _probes.Values) p.Dispose();
        _probes.Clear();
        foreach (var a in _audience.Values) a.Dispose();
        _audience.Clear();
    }

    private sealed record Detectors(TiledDetector People, TiledDetector? Faces, TileReuse? Reuse);
}
