using System.CommandLine;
using System.Globalization;
using CinemaVision.Core.Detections;
using CinemaVision.Core.Tiling;
using CinemaVision.Vision.Detectors;

namespace CinemaVision.Tools.Commands;

/// <summary>The detector options shared by detect, eval and bench.</summary>
internal sealed class DetectorArguments
{
    public Option<string> Model { get; } = new("--model") { Description = "Model name from models/models.json.", DefaultValueFactory = _ => "yolox_nano_coco_416" };
    public Option<string> Tiling { get; } = new("--tiling") { Description = "full | tiled | auto.", DefaultValueFactory = _ => "tiled" };
    public Option<string?> TileSizes { get; } = new("--tile-sizes") { Description = "Tile edges in source pixels, comma-separated (default: the model's input size and 2x)." };
    public Option<float> Overlap { get; } = new("--overlap") { Description = "Tile overlap ratio.", DefaultValueFactory = _ => 0.2f };
    public Option<bool> NoFullFrame { get; } = new("--no-full-frame") { Description = "Skip the full-frame pass when tiling." };
    public Option<float?> Threshold { get; } = new("--threshold")
    {
        Description = FormattableString.Invariant($"Score threshold for people (and faces) (default {DetectionThresholds.Default.Person} people, {DetectionThresholds.Default.Face} faces, {DetectionThresholds.Default.Phone} phones)."),
    };
    public Option<int> Threads { get; } = new("--threads") { Description = "ONNX Runtime intra-op threads per run.", DefaultValueFactory = _ => 1 };
    public Option<int> Parallel { get; } = new("--parallel") { Description = "Tiles inferred concurrently.", DefaultValueFactory = _ => Environment.ProcessorCount };
    public Option<string> Merge { get; } = new("--merge") { Description = "nmm (greedy non-maximum merging) | nms.", DefaultValueFactory = _ => "nmm" };
    public Option<string> Metric { get; } = new("--metric") { Description = "Box match metric for merging: ios | iou.", DefaultValueFactory = _ => "ios" };
    public Option<float> MatchThreshold { get; } = new("--match-threshold") { Description = "Match threshold for merging.", DefaultValueFactory = _ => 0.6f };

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { Model, Tiling, TileSizes, Overlap, NoFullFrame, Threshold, Threads, Parallel, Merge, Metric, MatchThreshold })
        {
            command.Options.Add(o);
        }
    }

    public DetectionOptions Build(ParseResult parse, string? tilingOverride = null, string? modelOverride = null)
    {
        var tiling = ParseTiling(tilingOverride ?? parse.GetValue(Tiling)!);
        var merge = DetectionOptions.DefaultMerge with
        {
            Strategy = parse.GetValue(Merge)!.ToLowerInvariant() switch
            {
                "nms" => MergeStrategy.Nms,
                "nmm" => MergeStrategy.GreedyNmm,
                var m => throw new ArgumentException($"--merge must be nms or nmm (was '{m}')."),
            },
            Metric = parse.GetValue(Metric)!.ToLowerInvariant() switch
            {
                "iou" => MatchMetric.IoU,
                "ios" => MatchMetric.IoS,
                var m => throw new ArgumentException($"--metric must be iou or ios (was '{m}')."),
            },
            MatchThreshold = parse.GetValue(MatchThreshold),
        };
        if (parse.GetValue(Threshold) is { } t)
        {
            merge = merge with
            {
                DefaultScoreThreshold = t,
                ScoreThresholds = new Dictionary<ObjectClass, float>(merge.ScoreThresholds) { [ObjectClass.Person] = t, [ObjectClass.Face] = t },
            };
        }

        return new DetectionOptions
        {
            Model = modelOverride ?? parse.GetValue(Model)!,
            Tiling = tiling,
            TileSizes = ParseSizes(parse.GetValue(TileSizes)),
            Overlap = parse.GetValue(Overlap),
            FullFrame = tiling == TilingMode.Full || !parse.GetValue(NoFullFrame),
            IntraOpThreads = parse.GetValue(Threads),
            TileParallelism = parse.GetValue(Parallel),
            Merge = merge,
        };
    }

    public static TilingMode ParseTiling(string value) => value.ToLowerInvariant() switch
    {
        "full" => TilingMode.Full,
        "tiled" => TilingMode.Tiled,
        "auto" => TilingMode.Auto,
        _ => throw new ArgumentException($"--tiling must be full, tiled or auto (was '{value}')."),
    };

    private static int[]? ParseSizes(string? value) => string.IsNullOrWhiteSpace(value)
        ? null
        : value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw new ArgumentException($"--tile-sizes: '{s}' is not a whole number of pixels."))
            .ToArray();
}
