using CinemaVision.Core.Geometry;

namespace CinemaVision.Core.Tiling;

/// <summary>How a fully convolutional model's frame is cut into horizontal bands, each resampled so objects reach the model's best size.</summary>
public sealed record ScaleBandOptions
{
    /// <summary>Object height (model-input pixels) each band's scale aims for: the size at which the model finds most.</summary>
    public float TargetObjectPixels { get; init; } = 40;

    /// <summary>Least resampling (below 1, large near objects are downscaled to save time).</summary>
    public float MinScale { get; init; } = 0.5f;

    /// <summary>Most upsampling (tiny distant objects).</summary>
    public float MaxScale { get; init; } = 2.83f;

    /// <summary>Scales are snapped to powers of this step so neighbouring rows share a band.</summary>
    public float ScaleStep { get; init; } = MathF.Sqrt(2);

    /// <summary>A band's rows extend this many expected object heights above and below it, so an object on a band border is whole in one band.</summary>
    public float MarginObjects { get; init; } = 1.0f;

    /// <summary>A band wider than this many model-input pixels is split into tiles (run in parallel; bounded memory).</summary>
    public int MaxTileInputPixels { get; init; } = 600_000;

    /// <summary>Neighbouring tiles of a band overlap by this many expected object widths.</summary>
    public float TileOverlapObjects { get; init; } = 1.5f;

    /// <summary>Seating area: bands are cut to its horizontal extent in their rows, and rows outside it are skipped. Null = whole frame.</summary>
    public RegionOfInterest? RegionOfInterest { get; init; }

    public IEnumerable<string> Validate()
    {
        if (TargetObjectPixels <= 4) yield return $"TargetObjectPixels: must be above 4 (was {TargetObjectPixels}).";
        if (MinScale <= 0 || MaxScale < MinScale) yield return $"MinScale/MaxScale: need 0 < MinScale <= MaxScale (were {MinScale}, {MaxScale}).";
        if (ScaleStep <= 1) yield return $"ScaleStep: must be above 1 (was {ScaleStep}).";
        if (MarginObjects < 0) yield return $"MarginObjects: must not be negative (was {MarginObjects}).";
        if (MaxTileInputPixels < 16_384) yield return $"MaxTileInputPixels: must be at least 16384 (was {MaxTileInputPixels}).";
    }
}

/// <summary>
/// Plans a fully convolutional model's passes from the perspective: each horizontal band of rows gets the scale that
/// brings the expected object there to <see cref="ScaleBandOptions.TargetObjectPixels"/> (small heads at the back
/// upsampled, large ones near the camera downsampled), cut to the seating area, and split into tiles only when a band
/// is too large for one run. Unlike fixed-input tiling, a band is run whole at its scale: no letterbox, no wasted pixels.
/// </summary>
public static class ScaleBandPlanner
{
    /// <summary>The scale of each row band and its rows.</summary>
    public readonly record struct ScaleBand(int Index, float Scale, int Top, int Bottom, int CoverTop, int CoverBottom);

    public static IReadOnlyList<ScaleBand> Bands(SizeI frame, PerspectiveModel perspective, ScaleBandOptions options)
    {
        var problems = options.Validate().ToList();
        if (problems.Count > 0) throw new ArgumentException(string.Join(" ", problems), nameof(options));
        if (frame.IsEmpty) throw new ArgumentException($"Frame size {frame} is empty.", nameof(frame));

        float step = MathF.Log2(options.ScaleStep);
        int Level(float row)
        {
            float wanted = options.TargetObjectPixels / perspective.ExpectedHeightAt(row);
            wanted = Math.Clamp(wanted, options.MinScale, options.MaxScale);
            return (int)MathF.Round(MathF.Log2(wanted) / step);
        }

        float ScaleOf(int level) => Math.Clamp(MathF.Pow(2, level * step), options.MinScale, options.MaxScale);

        var bands = new List<ScaleBand>();
        const int RowStep = 4;
        int top = 0;
        int current = Level(0);
        for (int row = RowStep; row <= frame.Height; row += RowStep)
        {
            int level = row < frame.Height ? Level(row) : int.MinValue;
            if (level == current) continue;
            int bottom = Math.Min(row, frame.Height);
            float marginTop = options.MarginObjects * perspective.ExpectedHeightAt(top);
            float marginBottom = options.MarginObjects * perspective.ExpectedHeightAt(bottom);
            bands.Add(new ScaleBand(bands.Count, ScaleOf(current), top, bottom,
                Math.Max(0, (int)(top - marginTop)), Math.Min(frame.Height, (int)MathF.Ceiling(bottom + marginBottom))));
            top = bottom;
            current = level;
        }

        return bands;
    }

    /// <summary>The tiles of every band (each carrying its band's scale), restricted to the region of interest.</summary>
    public static TilePlan Plan(SizeI frame, PerspectiveModel perspective, ScaleBandOptions options)
    {
        var tiles = new List<Tile>();
        foreach (var band in Bands(frame, perspective, options))
        {
            var rows = new RectI(0, band.CoverTop, frame.Width, band.CoverBottom - band.CoverTop);
            if (rows.Height <= 0) continue;
            int left = 0, right = frame.Width;
            if (options.RegionOfInterest is { } roi)
            {
                if (!roi.Intersects(rows)) continue;
                (left, right) = HorizontalExtent(roi, rows, frame.Width);
            }

            float objectWidth = perspective.ExpectedHeightAt(band.CoverBottom);
            left = Math.Max(0, (int)(left - objectWidth));
            right = Math.Min(frame.Width, (int)MathF.Ceiling(right + objectWidth));
            int width = right - left;
            if (width <= 0) continue;
            // Tiles no larger than MaxTileInputPixels in model input, overlapping by whole objects: a band taller than a
            // square tile is split into rows, then each row as wide as the pixel budget allows.
            int overlap = (int)MathF.Ceiling(options.TileOverlapObjects * objectWidth);
            int side = (int)(MathF.Sqrt(options.MaxTileInputPixels) / band.Scale);
            var (tileH, ratioY) = Split(rows.Height, side, overlap);
            int widest = (int)(options.MaxTileInputPixels / (tileH * band.Scale * band.Scale));
            var (tileW, ratioX) = Split(width, widest, overlap);
            foreach (int y in TilePlanner.Positions(rows.Y, rows.Bottom, tileH, ratioY, frame.Height))
            {
                foreach (int x in TilePlanner.Positions(left, right, tileW, ratioX, frame.Width))
                {
                    tiles.Add(new Tile(new RectI(x, y, tileW, tileH), band.Index, false, band.Index, band.Scale));
                }
            }
        }

        return new TilePlan(frame, tiles);
    }

    /// <summary>The tile length along one axis and its overlap ratio: one tile when the span fits, else as many equal tiles as needed.</summary>
    private static (int Length, float Overlap) Split(int span, int maxLength, int overlap)
    {
        if (span <= maxLength) return (span, 0);
        maxLength = Math.Max(maxLength, (2 * overlap) + 16);
        int pieces = (int)MathF.Ceiling((float)(span - overlap) / (maxLength - overlap));
        int length = Math.Min(span, (int)MathF.Ceiling(((float)span + ((pieces - 1) * overlap)) / pieces));
        return (length, Math.Clamp((float)overlap / length, 0, 0.9f));
    }

    /// <summary>The columns the region of interest covers within a band of rows (its polygons' extents there).</summary>
    private static (int Left, int Right) HorizontalExtent(RegionOfInterest roi, RectI rows, int frameWidth)
    {
        float left = float.MaxValue, right = float.MinValue;
        foreach (var polygon in roi.Polygons)
        {
            if (!RegionOfInterest.PolygonIntersectsRect(polygon, rows)) continue;
            var b = Geometry.Polygons.Bounds(polygon);
            left = MathF.Min(left, b.Left);
            right = MathF.Max(right, b.Right);
        }

        return left > right ? (0, frameWidth) : (Math.Max(0, (int)left), Math.Min(frameWidth, (int)MathF.Ceiling(right)));
    }
}
