using System.Diagnostics;
using CinemaVision.Core.Audience;
using CinemaVision.Core.Cameras;
using CinemaVision.Core.Detections;
using CinemaVision.Core.Frames;
using CinemaVision.Core.Geometry;
using CinemaVision.Core.Pipeline;
using CinemaVision.Core.Tiling;
using CinemaVision.Vision.Detectors;
using CinemaVision.Vision.Frames;
using CinemaVision.Vision.Models;
using OpenCvSharp;

namespace CinemaVision.Vision.Audience;

/// <summary>
/// Which models the audience pipeline runs (a camera setting, not a threshold). The head model is on by default (the
/// only one shipped is <c>lffd_head</c>; read its provenance in models/README.md); "none" turns it off, after which
/// only face and person evidence count.
/// </summary>
public sealed record AudienceModels
{
    public static AudienceModels Default { get; } = new();

    /// <summary>The head model (a models.json name), or "none".</summary>
    public string HeadModel { get; init; } = "lffd_head";

    /// <summary>A face model whose faces confirm or add heads (a camera at the screen end sees faces); null = none.</summary>
    public string? FaceModel { get; init; }

    /// <summary>A person model whose boxes imply a head region; null = none.</summary>
    public string? PersonModel { get; init; }

    public bool HeadModelOff => string.IsNullOrWhiteSpace(HeadModel) || string.Equals(HeadModel, "none", StringComparison.OrdinalIgnoreCase);
}

/// <summary>What one audience pass saw and how long each part took.</summary>
public sealed record AudienceResult(
    IReadOnlyList<FusedHead> Heads,
    IReadOnlyList<HeadCandidate> Candidates,
    PerspectiveModel? Perspective,
    bool PerspectiveFitted,
    LightingMode Lighting,
    int Tiles,
    double SurveyMs,
    double BandsMs,
    double TotalMs,
    AudienceScene? Scene = null)
{
    /// <summary>The people counted: one per fused head.</summary>
    /// <remarks><see cref="Scene"/> is the scene the candidates were fused in (perspective, masks, reference heads): fusing them again at other scores gives what those scores would have counted.</remarks>
    public int Count => Heads.Count;

    public IReadOnlyList<Detection> HeadDetections => [.. Heads.Select(h => h.ToDetection())];
}

/// <summary>
/// Counts a seated audience in one frame. Pixels only; every decision is Core's: lighting mode
/// (<see cref="LightingClassifier"/>), perspective (<see cref="PerspectiveEstimator"/>), scale bands
/// (<see cref="ScaleBandPlanner"/>) and fusion (<see cref="AudienceFusion"/>).
/// <list type="number">
/// <item>Measure the lighting; in dim or infrared light, normalise contrast (CLAHE) before detection.</item>
/// <item>Perspective: from the seat map when there is one; else fitted to the confident heads of a survey pass over
/// the whole frame (downscaled to <see cref="AudienceOptions.SurveyPixels"/>), kept for the next frames of a camera.</item>
/// <item>Run the head model (fully convolutional, LFFD) on horizontal bands, each resampled so its heads are about
/// <see cref="AudienceOptions.TargetHeadPixels"/> tall: the back rows upsampled, the front downsampled, only where the
/// seats are; oversized boxes (the large-head branches firing on textures) are dropped at decoding.</item>
/// <item>Add face and person evidence when those models are configured; fuse.</item>
/// </list>
/// Safe for one caller at a time per camera (it keeps the camera's perspective); the models inside are shared-safe.
/// </summary>
public sealed class AudienceDetector : IObjectDetector
{
    private readonly AudienceOptions _options;
    private readonly DetectionThresholds _scores;
    private readonly TiledDetector? _heads;
    private readonly TiledDetector? _faces;
    private readonly TiledDetector? _people;
    private readonly bool _ownsDetectors;
    private readonly AudienceScene _scene;
    private readonly bool _keepPerspective;
    private PerspectiveModel? _learned;
    private SizeI _learnedFor;
    private EmptyHallReference? _reference;
    private (SizeI Size, int Age, IReadOnlyList<IReadOnlyList<PointF>> Masks) _textMasks;

    /// <summary>A camera re-reads its burnt-in text this often (in analyses); it does not move.</summary>
    private const int TextMaskRefresh = 50;

    /// <param name="models">Which models run (default: the head model only).</param>
    /// <param name="pipeline">The camera's options: the <c>Audience</c> section and the head, face and person scores.</param>
    /// <param name="scene">Seats, masks and (from the seat map) perspective of the camera; null = none yet (day one).</param>
    /// <param name="keepPerspective">A camera keeps the perspective it fitted for later frames; a folder of unrelated images (evaluation) fits one per image.</param>
    /// <param name="threads">Tiles run at once (default: one per core).</param>
    /// <param name="intraOpThreads">ONNX Runtime threads per run: 2 lets one large region (the survey) use both cores of a small box.</param>
    /// <param name="makeDetector">Builds a detector from options (an agent shares one session per model across its cameras); default loads its own.</param>
    public AudienceDetector(AudienceModels? models = null, CameraPipelineOptions? pipeline = null, AudienceScene? scene = null, bool keepPerspective = true, ModelCatalog? catalog = null, int threads = 0, int intraOpThreads = 1, Func<DetectionOptions, TiledDetector>? makeDetector = null)
    {
        var make = makeDetector ?? (o => DetectorFactory.Create(o, catalog));
        models ??= AudienceModels.Default;
        pipeline ??= CameraPipelineOptions.Default;
        _options = pipeline.Audience;
        _scores = pipeline.Scores;
        var problems = _options.Validate("audience.").Concat(_scores.Validate("scores.")).ToList();
        if (problems.Count > 0) throw new ArgumentException("Invalid audience options: " + string.Join(" ", problems), nameof(pipeline));
        _scene = scene ?? AudienceScene.Empty;
        _keepPerspective = keepPerspective;
        _ownsDetectors = true;
        int parallel = threads > 0 ? threads : Environment.ProcessorCount;
        var lowMerge = DetectionOptions.DefaultMerge with { DefaultScoreThreshold = 0.1f, ScoreThresholds = new Dictionary<ObjectClass, float>() };
        try
        {
            if (!models.HeadModelOff)
            {
                _heads = make(new DetectionOptions
                {
                    Model = models.HeadModel,
                    Tiling = TilingMode.Full,
                    Merge = lowMerge with { DefaultScoreThreshold = MathF.Min(0.1f, AudienceFusion.LowestHeadScore(_options, _scores)) },
                    MaxObjectInputPixels = _options.MaxHeadInputRatio * _options.TargetHeadPixels,
                    TileParallelism = parallel,
                    IntraOpThreads = Math.Max(1, intraOpThreads),
                });
                if (!_heads.Info.Gives(ObjectClass.Head))
                {
                    throw new ModelAssetException(models.HeadModel, $"is configured as the head model but gives {string.Join(", ", _heads.Info.Classes)}, not heads");
                }
            }

            if (models.FaceModel is { } face)
            {
                _faces = make(new DetectionOptions { Model = face, Tiling = TilingMode.Tiled, Merge = lowMerge with { DefaultScoreThreshold = _scores.Face, ScoreThresholds = new Dictionary<ObjectClass, float> { [ObjectClass.Face] = _scores.Face } }, TileParallelism = parallel });
            }

            if (models.PersonModel is { } person)
            {
                _people = make(new DetectionOptions { Model = person, Tiling = TilingMode.Tiled, Merge = DetectionOptions.DefaultMerge with { ScoreThresholds = new Dictionary<ObjectClass, float>(DetectionOptions.DefaultMerge.ScoreThresholds) { [ObjectClass.Person] = _scores.Person } }, TileParallelism = parallel });
            }

            if (_heads is null && _faces is null && _people is null)
            {
                throw new ArgumentException("The audience pipeline has no model: the head model is off and no face or person model is set.", nameof(models));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public DetectorInfo Info { get; } = new("audience", "1", new SizeI(0, 0), ["head"], [ObjectClass.Head]);

    public AudienceOptions Options => _options;

    /// <summary>The perspective in use: the seat map's, or the one fitted to this camera's heads (null before the first frame).</summary>
    public PerspectiveModel? Perspective => _scene.Perspective ?? _learned;

    /// <summary>The empty-hall reference of this camera (static detections suppressed, seats compared), or null.</summary>
    public EmptyHallReference? Reference
    {
        get => _reference;
        set => _reference = value;
    }

    /// <summary>
    /// Sets the empty-hall reference of the frame's lighting mode from a picture of the empty auditorium: the head
    /// model is run over it at native scale and upsampled twice (a superset of what any band plan sees), and what it
    /// finds there are static objects. Returns them (reference pixels).
    /// </summary>
    public IReadOnlyList<BoxF> SetEmptyReference(Mat bgr, LightingMode? mode = null)
    {
        ArgumentNullException.ThrowIfNull(bgr);
        var lighting = mode ?? LightingClassifier.Classify(LightingProbe.Measure(bgr));
        var heads = new List<BoxF>();
        if (_heads is not null)
        {
            using var normalised = ContrastNormaliser.ForDetection(bgr, lighting);
            var image = normalised ?? bgr;
            var size = new SizeI(bgr.Width, bgr.Height);
            var whole = new RectI(0, 0, size.Width, size.Height);
            var found = new List<Detection>();
            foreach (float scale in new[] { 1f, 2f })
            {
                found.AddRange(_heads.DetectCandidates(image, new TilePlan(size, [new Tile(whole, -1, false, -1, scale)]), dropCut: false));
            }

            var threshold = AudienceFusion.LowestHeadScore(_options, _scores);
            heads.AddRange(found.Where(d => d.Score >= threshold).Select(d => d.Box));
        }

        _reference ??= new EmptyHallReference();
        _reference.Set(lighting, bgr, heads);
        return heads;
    }

    public IReadOnlyList<Detection> Detect(IFrame frame, CancellationToken cancellationToken = default) =>
        Analyse(MatFrame.MatOf(frame), null, cancellationToken).HeadDetections;

    /// <param name="fuseAt">Fuse at these scores instead of the counting ones (a camera pipeline takes heads down to its floor and decides itself).</param>
    public AudienceResult Analyse(Mat bgr, DetectionThresholds? fuseAt = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(bgr);
        if (bgr.Type() != MatType.CV_8UC3) throw new ArgumentException($"Expected a BGR 8-bit image, got {bgr.Type()}.", nameof(bgr));
        var total = Stopwatch.StartNew();
        var size = new SizeI(bgr.Width, bgr.Height);
        var lighting = LightingClassifier.Classify(LightingProbe.Measure(bgr));
        var masks = TextMasks(bgr, size);
        using var normalised = ContrastNormaliser.ForDetection(bgr, lighting);
        var image = normalised ?? bgr;

        var candidates = new List<HeadCandidate>(256);
        double surveyMs = 0, bandsMs = 0;
        int tiles = 0;
        var perspective = _scene.Perspective ?? (_keepPerspective && _learnedFor == size ? _learned : null);
        bool fitted = false;
        if (_heads is not null)
        {
            List<Detection>? survey = null;
            if (perspective is null)
            {
                var sw = Stopwatch.StartNew();
                float scale = MathF.Min(1f, MathF.Sqrt(_options.SurveyPixels / (float)(size.Width * size.Height)));
                var plan = new TilePlan(size, [new Tile(new RectI(0, 0, size.Width, size.Height), -1, false, -1, scale)]);
                survey = _heads.DetectCandidates(image, plan, dropCut: false, cancellationToken);
                tiles++;
                var confident = survey.Where(d => d.Score >= _options.PerspectiveFitScore && !InMask(d.Box, masks)).Select(d => d.Box).ToList();
                perspective = PerspectiveEstimator.Fit(confident);
                fitted = perspective is not null;
                if (fitted && _keepPerspective)
                {
                    _learned = perspective;
                    _learnedFor = size;
                }

                surveyMs = sw.Elapsed.TotalMilliseconds;
            }

            if (perspective is null)
            {
                // Too few heads to know the perspective (an empty hall, a first look): the survey is all there is.
                candidates.AddRange(survey!.Select(d => new HeadCandidate(d, HeadEvidence.Head)));
            }
            else
            {
                var sw = Stopwatch.StartNew();
                var plan = ScaleBandPlanner.Plan(size, perspective, new ScaleBandOptions
                {
                    TargetObjectPixels = _options.TargetHeadPixels,
                    MinScale = _options.MinScale,
                    MaxScale = _options.MaxScale,
                    MaxTileInputPixels = _options.MaxTileInputPixels,
                    RegionOfInterest = RegionOfInterestOf(_scene),
                });
                tiles += plan.TileCount;
                candidates.AddRange(_heads.DetectCandidates(image, plan, dropCut: true, cancellationToken).Select(d => new HeadCandidate(d, HeadEvidence.Head)));
                bandsMs = sw.Elapsed.TotalMilliseconds;
            }
        }

        if (_faces is not null)
        {
            candidates.AddRange(_faces.Detect(image, cancellationToken).Where(d => d.Class == ObjectClass.Face).Select(d => new HeadCandidate(d, HeadEvidence.Face)));
        }

        if (_people is not null)
        {
            candidates.AddRange(_people.Detect(image, cancellationToken).Where(d => d.Class == ObjectClass.Person).Select(d => new HeadCandidate(d, HeadEvidence.Person)));
        }

        var scene = _scene with { Perspective = perspective, Masks = masks };
        if (_reference is not null)
        {
            using var aligned = _reference.AlignTo(bgr, lighting);
            scene = scene with { ReferenceHeads = aligned.Heads };
            for (int i = 0; i < candidates.Count; i++)
            {
                candidates[i] = candidates[i] with { ReferenceChange = aligned.ChangeAt(bgr, candidates[i].Detection.Box) };
            }
        }

        var heads = AudienceFusion.Fuse(candidates, scene, _options, fuseAt ?? _scores);
        return new AudienceResult(heads, candidates, perspective, fitted, lighting, tiles, surveyMs, bandsMs, total.Elapsed.TotalMilliseconds, scene);
    }

    private static bool InMask(in BoxF box, IReadOnlyList<IReadOnlyList<PointF>> masks)
    {
        var c = new PointF(box.CenterX, box.CenterY);
        return masks.Any(m => m.Count >= 3 && Polygons.Contains(m, c));
    }

    /// <summary>
    /// The camera's masks: the installer's, else (when <see cref="AudienceOptions.MaskBurntInText"/>) the text found
    /// burnt in along the picture's edges, re-read every <see cref="TextMaskRefresh"/> analyses (every frame for
    /// unrelated stills).
    /// </summary>
    private IReadOnlyList<IReadOnlyList<PointF>> TextMasks(Mat bgr, SizeI size)
    {
        if (_scene.Masks.Count > 0 || !_options.MaskBurntInText) return _scene.Masks;
        if (_keepPerspective && _textMasks.Size == size && _textMasks.Age++ < TextMaskRefresh) return _textMasks.Masks;
        IReadOnlyList<IReadOnlyList<PointF>> found = [.. StaticTextFinder.FindAtEdges(bgr).Select(StaticTextFinder.Polygon)];
        _textMasks = (size, 0, found);
        return found;
    }

    private static RegionOfInterest? RegionOfInterestOf(AudienceScene scene) =>
        scene.Seats.Count > 0 ? new RegionOfInterest(scene.Seats) : null;

    public void Dispose()
    {
        _reference?.Dispose();
        if (!_ownsDetectors) return;
        _heads?.Dispose();
        _faces?.Dispose();
        _people?.Dispose();
    }
}
