using CinemaVision.Core.Detections;
using CinemaVision.Core.Tiling;

namespace CinemaVision.Vision.Detectors;

public enum TilingMode
{
    /// <summary>One pass over the whole frame, letterboxed to the model input.</summary>
    Full = 0,

    /// <summary>Tiles at <see cref="DetectionOptions.TileSizes"/> (default: native input size and 2x) plus a full-frame pass.</summary>
    Tiled = 1,

    /// <summary>
    /// Perspective bands when a <see cref="DetectionOptions.Perspective"/> is given; otherwise tiles chosen from
    /// the frame size (native tiles when the frame is larger than the input, 2x tiles too when it is much larger).
    /// </summary>
    Auto = 2,
}

/// <summary>Everything needed to build a detector: model, tiling, merging, threads.</summary>
public sealed record DetectionOptions
{
    public string Model { get; init; } = "yolox_nano_coco_416";

    /// <summary>Explicit weights path (bypasses the asset cache; the manifest still describes the model).</summary>
    public string? ModelPath { get; init; }

    public TilingMode Tiling { get; init; } = TilingMode.Tiled;

    /// <summary>Tile edges in source pixels for <see cref="TilingMode.Tiled"/>; null = native input size and 2x.</summary>
    public IReadOnlyList<int>? TileSizes { get; init; }

    public float Overlap { get; init; } = 0.2f;

    public bool FullFrame { get; init; } = true;

    public PerspectiveModel? Perspective { get; init; }

    /// <summary>Person height in model-input pixels that perspective planning aims for.</summary>
    public float TargetObjectPixels { get; init; } = 96;

    public RegionOfInterest? RegionOfInterest { get; init; }

    public MergeOptions Merge { get; init; } = DefaultMerge;

    /// <summary>IoU above which raw candidates of one model run are suppressed (before merging across tiles).</summary>
    public float TileNmsIoU { get; init; } = 0.45f;

    /// <summary>
    /// Drop boxes taller than this in model-input pixels (at the scale the model saw them). For LFFD, whole branches
    /// above it are skipped: its large-head branches fire on curtain and seat textures.
    /// </summary>
    public float MaxObjectInputPixels { get; init; } = float.MaxValue;

    /// <summary>A fully convolutional model's full-frame pass runs at this scale of the frame (1 = native resolution).</summary>
    public float FullFrameScale { get; init; } = 1f;

    /// <summary>Largest input a fully convolutional model is given (pixels); larger regions are downscaled to fit.</summary>
    public float MaxInputPixels { get; init; } = 2_100_000f;

    /// <summary>Keep only classes the product maps (person, head, phone, face); false keeps all model classes.</summary>
    public bool MappedClassesOnly { get; init; } = true;

    /// <summary>ONNX Runtime intra-op threads per run. Small models run best with 1 thread and tiles in parallel.</summary>
    public int IntraOpThreads { get; init; } = 1;

    /// <summary>Tiles inferred concurrently (each with its own buffers, one shared session).</summary>
    public int TileParallelism { get; init; } = Environment.ProcessorCount;

    public bool VerifyModelHash { get; init; } = true;

    public static MergeOptions DefaultMerge { get; } = new()
    {
        Strategy = MergeStrategy.GreedyNmm,
        Metric = MatchMetric.IoS,
        MatchThreshold = 0.6f,
        // What counts, from the one home of score thresholds (the camera pipeline keeps lower floors for tracking).
        DefaultScoreThreshold = DetectionThresholds.Default.Other,
        ScoreThresholds = DetectionThresholds.Default.Counting(),
    };

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(Model)) yield return "Model: a model name is required.";
        if (Overlap is < 0 or > 0.9f) yield return $"Overlap: must be within 0..0.9 (was {Overlap}).";
        if (TileSizes is { } sizes && sizes.Any(s => s < 16)) yield return $"TileSizes: each must be at least 16 px (were {string.Join(",", sizes)}).";
        if (IntraOpThreads < 1) yield return $"IntraOpThreads: must be at least 1 (was {IntraOpThreads}).";
        if (TileParallelism < 1) yield return $"TileParallelism: must be at least 1 (was {TileParallelism}).";
        if (TileNmsIoU is <= 0 or > 1) yield return $"TileNmsIoU: must be within (0, 1] (was {TileNmsIoU}).";
        if (Tiling == TilingMode.Full && !FullFrame) yield return "FullFrame: Full tiling needs the full-frame pass.";
        if (MaxObjectInputPixels <= 4) yield return $"MaxObjectInputPixels: must be above 4 (was {MaxObjectInputPixels}).";
        if (FullFrameScale is <= 0 or > 4) yield return $"FullFrameScale: must be within (0, 4] (was {FullFrameScale}).";
        if (MaxInputPixels < 4096) yield return $"MaxInputPixels: must be at least 4096 (was {MaxInputPixels}).";
    }
}
