using System.Collections.Concurrent;
using CinemaVision.Core.Geometry;

namespace CinemaVision.Core.Tiling;

/// <summary>
/// Cuts a frame into overlapping tiles at one or more scales (SAHI-style slicing): the last tile of a row or
/// column is shifted inward rather than padded, so every tile is full of real pixels. With a perspective model,
/// each horizontal band of the image gets the tile scale that puts people at the model's preferred size.
/// </summary>
public static class TilePlanner
{
    public static TilePlan Plan(SizeI frame, SizeI modelInput, TilingOptions options)
    {
        if (frame.IsEmpty) throw new ArgumentException($"Frame size {frame} is empty.", nameof(frame));
        if (modelInput.IsEmpty) throw new ArgumentException($"Model input size {modelInput} is empty.", nameof(modelInput));
        var problems = options.Validate().ToList();
        if (problems.Count > 0) throw new ArgumentException(string.Join(" ", problems), nameof(options));

        float aspect = (float)modelInput.Height / modelInput.Width;
        var tiles = new List<Tile>();
        var seen = new HashSet<RectI>();

        void Add(Tile t)
        {
            if (!seen.Add(t.Region)) return;
            if (!t.IsFullFrame && options.RegionOfInterest is { } roi && !roi.Intersects(t.Region)) return;
            tiles.Add(t);
        }

        if (options.Perspective is { } perspective)
        {
            foreach (var band in PerspectiveBands(frame, modelInput, perspective, options.TargetObjectPixels))
            {
                int tileW = Math.Min(band.TileSize, frame.Width);
                int tileH = Math.Min(Math.Max(1, (int)MathF.Round(band.TileSize * aspect)), frame.Height);
                foreach (int x in Positions(0, frame.Width, tileW, options.Overlap))
                {
                    foreach (int y in Positions(band.CoverTop, band.CoverBottom, tileH, options.Overlap, frame.Height))
                    {
                        Add(new Tile(new RectI(x, y, tileW, tileH), band.Level, false, band.Index));
                    }
                }
            }
        }
        else
        {
            for (int level = 0; level < options.TileSizes.Count; level++)
            {
                int size = options.TileSizes[level];
                int tileW = Math.Min(size, frame.Width);
                int tileH = Math.Min(Math.Max(1, (int)MathF.Round(size * aspect)), frame.Height);
                if (tileW == frame.Width && tileH == frame.Height && options.FullFrame) continue; // the full-frame pass covers it
                foreach (int y in Positions(0, frame.Height, tileH, options.Overlap))
                {
                    foreach (int x in Positions(0, frame.Width, tileW, options.Overlap))
                    {
                        Add(new Tile(new RectI(x, y, tileW, tileH), level, false));
                    }
                }
            }
        }

        if (options.FullFrame)
        {
            Add(new Tile(new RectI(0, 0, frame.Width, frame.Height), -1, true));
        }

        return new TilePlan(frame, tiles);
    }

    /// <summary>
    /// The scale (at most 1) that saves a row or a column of tiles for little resolution: a frame whose height (width)
    /// is more than one tile but within <paramref name="tolerance"/> of it is shrunk to exactly one tile, which halves
    /// the tiles of a 704x480 substream under 416-pixel tiles (two rows of 416 over 480 pixels overlap by 352) for 13 %
    /// of its resolution. 1 when no shrink within the tolerance removes a row or column.
    /// </summary>
    public static float FitScale(SizeI frame, SizeI tile, float tolerance)
    {
        if (frame.IsEmpty || tile.IsEmpty || tolerance <= 0) return 1f;
        float Fit(int length, int tileLength) => length > tileLength && tileLength >= length * (1 - tolerance) ? (float)tileLength / length : 1f;
        return MathF.Min(Fit(frame.Height, tile.Height), Fit(frame.Width, tile.Width));
    }

    /// <summary>
    /// Start positions of tiles of length <paramref name="tile"/> covering [start, end) with at least the given
    /// overlap. The first tile starts at <paramref name="start"/> and the last ends at <paramref name="end"/>
    /// (shifted inward, never padded past the frame); the ones between are spread evenly, so no two tiles nearly
    /// coincide as they can when only the last one is pulled back.
    /// </summary>
    public static IEnumerable<int> Positions(int start, int end, int tile, float overlap, int? limit = null)
    {
        int max = limit ?? end;
        if (tile >= max)
        {
            yield return 0;
            yield break;
        }

        int span = end - start;
        if (span <= tile)
        {
            // One tile centred on the span, kept inside the frame.
            yield return Math.Clamp(start - ((tile - span) / 2), 0, max - tile);
            yield break;
        }

        float step = MathF.Max(1, tile * (1 - overlap));
        int count = (int)MathF.Ceiling((span - tile) / step) + 1;
        int previous = -1;
        for (int i = 0; i < count; i++)
        {
            int pos = Math.Clamp(start + (int)MathF.Round((float)i * (span - tile) / (count - 1)), 0, max - tile);
            if (pos != previous) yield return pos;
            previous = pos;
        }
    }

    /// <summary>A horizontal band of rows that shares one tile scale.</summary>
    public readonly record struct Band(int Index, int Level, int TileSize, int Top, int Bottom, int CoverTop, int CoverBottom);

    /// <summary>
    /// Splits the image rows into bands by the tile size that makes a person of the expected height appear
    /// <paramref name="targetPixels"/> tall in the model input. Sizes are snapped to a ladder of √2 steps
    /// around the model's input size so neighbouring rows share a scale. Each band's cover range extends by
    /// half a person at both ends so a person centred in the band is whole in one of its tiles.
    /// </summary>
    public static IReadOnlyList<Band> PerspectiveBands(SizeI frame, SizeI modelInput, PerspectiveModel perspective, float targetPixels)
    {
        int native = modelInput.Height;
        int maxSize = Math.Max(frame.Width, frame.Height);
        int Level(float row)
        {
            float wanted = perspective.ExpectedHeightAt(row) * native / targetPixels;
            // Level k means a tile edge of native * 2^(k/2); k = -2 is 2x upsampling (tiny, distant people).
            int k = (int)MathF.Round(2 * MathF.Log2(MathF.Max(wanted, 1) / native));
            return Math.Max(k, -2);
        }

        int SizeOf(int level) => Math.Min((int)MathF.Round(native * MathF.Pow(2, level / 2f)), maxSize);

        var bands = new List<Band>();
        const int RowStep = 4;
        int bandTop = 0;
        int current = Level(0);
        for (int row = RowStep; row <= frame.Height; row += RowStep)
        {
            int level = row < frame.Height ? Level(row) : int.MinValue;
            if (level == current && row < frame.Height) continue;
            int bottom = Math.Min(row, frame.Height);
            float halfTop = perspective.ExpectedHeightAt(bandTop) / 2;
            float halfBottom = perspective.ExpectedHeightAt(bottom) / 2;
            bands.Add(new Band(
                bands.Count,
                current,
                SizeOf(current),
                bandTop,
                bottom,
                Math.Max(0, (int)(bandTop - halfTop)),
                Math.Min(frame.Height, (int)MathF.Ceiling(bottom + halfBottom))));
            bandTop = bottom;
            current = level;
        }

        return bands;
    }
}

/// <summary>Plans cached per frame size (a camera's size rarely changes; planning stays off the per-frame path).</summary>
public sealed class TilePlanCache
{
    private readonly ConcurrentDictionary<SizeI, TilePlan> _plans = new();
    private readonly SizeI _modelInput;
    private readonly Func<SizeI, TilingOptions> _optionsFor;

    public TilePlanCache(SizeI modelInput, TilingOptions options)
        : this(modelInput, _ => options)
    {
    }

    /// <summary>Options may depend on the frame size (automatic tiling).</summary>
    public TilePlanCache(SizeI modelInput, Func<SizeI, TilingOptions> optionsFor)
    {
        _modelInput = modelInput;
        _optionsFor = optionsFor;
    }

    public TilePlan Get(SizeI frame) => _plans.GetOrAdd(frame, static (f, s) => TilePlanner.Plan(f, s._modelInput, s._optionsFor(f)), this);
}
