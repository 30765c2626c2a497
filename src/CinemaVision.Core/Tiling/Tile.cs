using CinemaVision.Core.Geometry;

namespace CinemaVision.Core.Tiling;

/// <summary>
/// A region of the frame that is run through the model on its own. <see cref="Level"/> is the index of the
/// tile scale it came from (-1 for the full-frame pass); <see cref="Band"/> the perspective band, if any.
/// <see cref="Scale"/> is the resampling of the region (2 = upscaled twice) for a fully convolutional model that
/// takes the region at its own size; 0 means "fit the model's input" (letterbox), as for fixed-size models.
/// </summary>
public readonly record struct Tile(RectI Region, int Level, bool IsFullFrame, int Band = -1, float Scale = 0)
{
    /// <summary>Which of this tile's edges lie inside the frame (an object touching one may be cut).</summary>
    public TileEdges InnerEdges(SizeI frame)
    {
        var edges = TileEdges.None;
        if (Region.X > 0) edges |= TileEdges.Left;
        if (Region.Y > 0) edges |= TileEdges.Top;
        if (Region.Right < frame.Width) edges |= TileEdges.Right;
        if (Region.Bottom < frame.Height) edges |= TileEdges.Bottom;
        return edges;
    }
}

[Flags]
public enum TileEdges
{
    None = 0,
    Left = 1,
    Top = 2,
    Right = 4,
    Bottom = 8,
}

/// <summary>The tiles for one frame size, in the order they are run.</summary>
public sealed record TilePlan(SizeI FrameSize, IReadOnlyList<Tile> Tiles)
{
    public int TileCount => Tiles.Count;

    /// <summary>Pixels of source image fed to the model, relative to the frame's area (1.0 = one full pass).</summary>
    public double CoverageRatio => Tiles.Sum(t => (double)t.Region.Area) / Math.Max(1, FrameSize.Width * FrameSize.Height);
}
