namespace CinemaVision.Core.Tiling;

/// <summary>How a frame is cut into tiles.</summary>
public sealed record TilingOptions
{
    /// <summary>
    /// Tile edges in source pixels, one per scale. A tile of the model's input size is analysed at native
    /// resolution; a tile twice that size is downscaled 2x. Empty with <see cref="FullFrame"/> = plain full-frame detection.
    /// </summary>
    public IReadOnlyList<int> TileSizes { get; init; } = [];

    /// <summary>Overlap between neighbouring tiles as a fraction of the tile edge (0..0.9).</summary>
    public float Overlap { get; init; } = 0.25f;

    /// <summary>Also run the whole frame, letterboxed, so large (near) people are seen whole.</summary>
    public bool FullFrame { get; init; } = true;

    /// <summary>When set, tile sizes are chosen per horizontal band from the expected person height.</summary>
    public PerspectiveModel? Perspective { get; init; }

    /// <summary>Person height in model-input pixels the perspective planner aims for.</summary>
    public float TargetObjectPixels { get; init; } = 96;

    /// <summary>Seating area (region of interest); tiles that do not touch it are skipped. Null = whole frame.</summary>
    public RegionOfInterest? RegionOfInterest { get; init; }

    public static TilingOptions FullFrameOnly { get; } = new() { TileSizes = [], FullFrame = true };

    public IEnumerable<string> Validate()
    {
        if (Overlap is < 0 or > 0.9f) yield return $"Overlap must be within 0..0.9 (was {Overlap}).";
        if (TileSizes.Any(s => s < 16)) yield return $"TileSizes must be at least 16 px (were {string.Join(",", TileSizes)}).";
        if (TileSizes.Count == 0 && !FullFrame && Perspective is null) yield return "No tile sizes, no full-frame pass and no perspective: nothing would be analysed.";
        if (TargetObjectPixels <= 4) yield return $"TargetObjectPixels must be above 4 (was {TargetObjectPixels}).";
    }
}
