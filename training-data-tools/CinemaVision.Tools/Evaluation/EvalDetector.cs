using System.CommandLine;
using CinemaVision.Core.Audience;
using CinemaVision.Core.Detections;
using CinemaVision.Core.Pipeline;
using CinemaVision.Core.Geometry;
using CinemaVision.Tools.Commands;
using CinemaVision.Vision.Audience;
using CinemaVision.Vision.Detectors;
using OpenCvSharp;

namespace CinemaVision.Tools.Evaluation;

/// <summary>
/// A configuration as eval runs it: a tiled model, or the audience pipeline. Either keeps the evaluated class down to
/// a low score floor (AP needs the whole ranking) and says its operating threshold (what the product counts).
/// </summary>
internal sealed class EvalDetector : IDisposable
{
    private readonly TiledDetector? _tiled;
    private readonly AudienceDetector? _audience;
    private readonly CameraPipelineOptions? _pipeline;
    private readonly DetectionThresholds? _counting;
    private readonly ObjectClass _class;

    private EvalDetector(TiledDetector? tiled, AudienceDetector? audience, CameraPipelineOptions? pipeline, ObjectClass cls, float operating, string model, string tiling, DetectionThresholds? counting = null)
    {
        _counting = counting;
        _tiled = tiled;
        _audience = audience;
        _pipeline = pipeline;
        _class = cls;
        Operating = operating;
        Model = model;
        Tiling = tiling;
    }

    /// <summary>The score at or above which the product counts a detection of the evaluated class (the audience pipeline: the seat-prior threshold; small heads and heads off seats have their own).</summary>
    public float Operating { get; }

    public string Model { get; }

    public string Tiling { get; }

    /// <summary>Tiles (model runs) of the last frame.</summary>
    public int LastTiles { get; private set; }

    /// <summary>
    /// A configuration named <c>audience</c>, optionally with <c>+face</c>, <c>+person</c> and <c>+empty</c> (the
    /// empty-hall reference from --empty), is the audience pipeline; any other is <c>model@tiling</c>.
    /// </summary>
    public static bool IsAudience(string name) => name.Split('+')[0].Trim().Equals("audience", StringComparison.OrdinalIgnoreCase);

    /// <summary>A tiled model with the evaluated class kept down to <paramref name="apFloor"/>.</summary>
    public static EvalDetector Tiled(DetectionOptions options, ObjectClass cls, float apFloor)
    {
        float operating = options.Merge.ThresholdFor(cls);
        float floor = Math.Min(apFloor, operating);
        options = options with { Merge = options.Merge with { ScoreThresholds = new Dictionary<ObjectClass, float>(options.Merge.ScoreThresholds) { [cls] = floor } } };
        return new EvalDetector(DetectorFactory.Create(options), null, null, cls, operating, options.Model, options.Tiling.ToString().ToLowerInvariant());
    }

    /// <summary>
    /// The audience pipeline. Its candidates are fused twice: down to the floor for AP's ranking, and at the
    /// pipeline's counting scores for what it counts (the fusion's thresholds depend on the seat prior and head size,
    /// so the count is not a score cut of the ranking). Evaluation images are unrelated stills with no seat map: each
    /// gets its own perspective, and every head has the seat prior (<c>scores.seatedHead</c>).
    /// </summary>
    public static EvalDetector Audience(string name, ParseResult parse, AudienceArguments audience, float apFloor)
    {
        var extras = name.Split('+').Skip(1).Select(e => e.Trim().ToLowerInvariant()).ToList();
        var pipeline = audience.Pipeline(parse);
        float operating = pipeline.Scores.SeatedHead;
        float floor = Math.Min(apFloor, operating);
        var models = audience.Models(parse, extras);
        var detector = new AudienceDetector(models, pipeline, keepPerspective: false);
        try
        {
            if (extras.Contains("empty"))
            {
                var path = parse.GetValue(audience.Empty) ?? throw new ArgumentException($"Configuration '{name}' needs --empty (a picture of the empty hall).");
                using var empty = Cv2.ImRead(path, ImreadModes.Color);
                if (empty.Empty()) throw new InvalidDataException($"Cannot decode the empty-hall picture {path}.");
                detector.SetEmptyReference(empty);
            }

            var floors = pipeline with { Scores = pipeline.Scores with { Head = floor, SeatedHead = floor } };
            return new EvalDetector(null, detector, floors, ObjectClass.Head, operating, models.HeadModelOff ? "audience" : models.HeadModel!, "bands", pipeline.Scores);
        }
        catch
        {
            detector.Dispose();
            throw;
        }
    }

    /// <summary>One frame: every detection down to the floor (AP's ranking) and what the product counts.</summary>
    public (IReadOnlyList<Detection> All, IReadOnlyList<Detection> Counted) Detect(Mat image)
    {
        if (_tiled is not null)
        {
            LastTiles = _tiled.PlanFor(new SizeI(image.Width, image.Height)).TileCount;
            var all = _tiled.Detect(image);
            return (all, [.. all.Where(d => d.Class != _class || d.Score >= Operating)]);
        }

        var result = _audience!.Analyse(image, _pipeline!.Scores);
        LastTiles = result.Tiles;
        var counted = AudienceFusion.Fuse(result.Candidates, result.Scene!, _pipeline.Audience, _counting!);
        return (result.HeadDetections, [.. counted.Select(h => h.ToDetection())]);
    }

    public void Dispose()
    {
        _tiled?.Dispose();
        _audience?.Dispose();
    }
}
