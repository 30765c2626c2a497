using System.CommandLine;
using CinemaVision.Core.Detections;
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
    private readonly DetectionThresholds? _fuseAt;

    private EvalDetector(TiledDetector? tiled, AudienceDetector? audience, DetectionThresholds? fuseAt, float operating, string model, string tiling)
    {
        _tiled = tiled;
        _audience = audience;
        _fuseAt = fuseAt;
        Operating = operating;
        Model = model;
        Tiling = tiling;
    }

    /// <summary>The score at or above which the product counts a detection of the evaluated class.</summary>
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
        return new EvalDetector(DetectorFactory.Create(options), null, null, operating, options.Model, options.Tiling.ToString().ToLowerInvariant());
    }

    /// <summary>
    /// The audience pipeline, fused down to the floor as the camera pipeline fuses it (the pipeline then decides what
    /// counts). Evaluation images are unrelated stills with no seat map: each gets its own perspective, and the
    /// operating threshold is the counting threshold for heads off a known seat (<c>scores.head</c>).
    /// </summary>
    public static EvalDetector Audience(string name, ParseResult parse, AudienceArguments audience, float apFloor)
    {
        var extras = name.Split('+').Skip(1).Select(e => e.Trim().ToLowerInvariant()).ToList();
        var pipeline = audience.Pipeline(parse);
        float operating = pipeline.Scores.Head;
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

            return new EvalDetector(null, detector, pipeline.Scores with { Head = floor, SeatedHead = floor }, operating, models.HeadModelOff ? "audience" : models.HeadModel!, "bands");
        }
        catch
        {
            detector.Dispose();
            throw;
        }
    }

    public IReadOnlyList<Detection> Detect(Mat image)
    {
        if (_tiled is not null)
        {
            LastTiles = _tiled.PlanFor(new SizeI(image.Width, image.Height)).TileCount;
            return _tiled.Detect(image);
        }

        var result = _audience!.Analyse(image, _fuseAt);
        LastTiles = result.Tiles;
        return result.HeadDetections;
    }

    public void Dispose()
    {
        _tiled?.Dispose();
        _audience?.Dispose();
    }
}
