using System.Globalization;
using CinemaVision.Core.Geometry;
using CinemaVision.Core.Tiling;

namespace CinemaVision.Core.Datasets;

/// <summary>How <see cref="DatasetSlicer"/> cuts labelled images into training tiles.</summary>
public sealed record SliceOptions
{
    /// <summary>Tile edges in source pixels, one scale each (multi-scale training data).</summary>
    public IReadOnlyList<int> Sizes { get; init; } = [320, 640];

    /// <summary>Overlap between neighbouring tiles of one scale, as a share of the tile edge.</summary>
    public float Overlap { get; init; } = 0.2f;

    /// <summary>
    /// A box cut by a tile border stays a label in that tile when at least this share of its area is inside;
    /// a smaller sliver becomes an ignore region there (COCO iscrowd), so the detector is neither taught that a
    /// sliver is a whole object nor punished for finding it.
    /// </summary>
    public float MinVisibility { get; init; } = 0.3f;

    /// <summary>Share of the tiles with no box at all that are kept (background examples).</summary>
    public float EmptyShare { get; init; } = 0.1f;

    /// <summary>Varies which empty tiles are kept; the choice is deterministic for a given seed.</summary>
    public int Seed { get; init; }

    public IEnumerable<string> Validate()
    {
        if (Sizes.Count == 0) yield return "sizes: at least one tile size is required.";
        foreach (var s in Sizes.Where(s => s < 32)) yield return $"sizes: {s} is too small (at least 32 px).";
        if (Sizes.Distinct().Count() != Sizes.Count) yield return "sizes: a size is given twice.";
        if (Overlap is < 0 or >= 0.9f) yield return $"overlap: must be within 0..0.9 (was {Overlap.ToString(CultureInfo.InvariantCulture)}).";
        if (MinVisibility is <= 0 or > 1) yield return $"min visibility: must be within (0, 1] (was {MinVisibility.ToString(CultureInfo.InvariantCulture)}).";
        if (EmptyShare is < 0 or > 1) yield return $"empty share: must be within 0..1 (was {EmptyShare.ToString(CultureInfo.InvariantCulture)}).";
    }
}

/// <summary>One tile to cut: its source image, scale, region and the boxes it holds (in tile coordinates).</summary>
public sealed record SliceTile(string SourceFile, int? SourceFrame, int Size, RectI Region, string FileName, IReadOnlyList<AnnotationBox> Boxes)
{
    public bool IsEmpty => Boxes.Count == 0;

    /// <summary>The tile as an image of a data set; its source and offset travel as attributes (COCO keeps them).</summary>
    public AnnotatedImage ToImage() => new(FileName, new SizeI(Region.Width, Region.Height), Boxes)
    {
        Attributes = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [DatasetSlicer.SourceAttribute] = SourceFile,
            [DatasetSlicer.OffsetXAttribute] = Region.X.ToString(CultureInfo.InvariantCulture),
            [DatasetSlicer.OffsetYAttribute] = Region.Y.ToString(CultureInfo.InvariantCulture),
            [DatasetSlicer.ScaleAttribute] = Size.ToString(CultureInfo.InvariantCulture),
        },
    };
}

/// <summary>Counts per scale, as the slice command reports them.</summary>
public sealed record SliceScaleCounts(int Size, int Tiles, int Kept, int EmptyKept, int EmptyDropped, int Labels, int Clipped, int Slivers);

/// <summary>The tiles of a whole set and the counts per scale.</summary>
public sealed record SlicePlan(IReadOnlyList<SliceTile> Tiles, IReadOnlyList<SliceScaleCounts> Scales, IReadOnlyList<string> Labels, int DegenerateSkipped)
{
    public AnnotationSet ToAnnotationSet() => new(Labels, Tiles.Select(t => t.ToImage()).ToList());
}

/// <summary>How well the tiles, mapped back, cover the original boxes.</summary>
public sealed record ReassemblyReport(int Boxes, int Covered, IReadOnlyList<string> Uncovered)
{
    public bool CoversEverything => Covered == Boxes;
}

/// <summary>
/// Cuts high-resolution labelled images into overlapping square tiles at several scales (SAHI-style slicing for
/// training): tile positions come from <see cref="TilePlanner.Positions"/> (the last tile shifted inward, never
/// padded), boxes are clipped at tile borders, slivers below the visibility ratio become ignore regions, and a set
/// share of empty tiles is kept. Pure: the caller crops the pixels.
/// </summary>
public static class DatasetSlicer
{
    public const string SourceAttribute = "source_file";
    public const string OffsetXAttribute = "tile_x";
    public const string OffsetYAttribute = "tile_y";
    public const string ScaleAttribute = "tile_scale";

    public static SlicePlan Plan(AnnotationSet set, SliceOptions options)
    {
        var problems = options.Validate().ToList();
        if (problems.Count > 0) throw new ArgumentException(string.Join(" ", problems), nameof(options));
        var tiles = new List<SliceTile>();
        var counts = options.Sizes.ToDictionary(s => s, s => new int[7]);
        int degenerate = 0;
        foreach (var image in set.Images)
        {
            var size = image.RequireSize("slicing");
            degenerate += image.Boxes.Count(b => b.IsDegenerate);
            var boxes = image.Boxes.Where(b => !b.IsDegenerate).ToList();
            foreach (int scale in options.Sizes)
            {
                var c = counts[scale];
                foreach (var region in Regions(size, scale, options.Overlap))
                {
                    c[0]++;
                    var inTile = new List<AnnotationBox>();
                    var frame = region.ToBoxF();
                    foreach (var b in boxes)
                    {
                        var clipped = b.Box.Intersect(frame);
                        if (clipped.IsEmpty) continue;
                        float visibility = clipped.Area / b.Box.Area;
                        bool cut = visibility < 0.9999f;
                        bool sliver = visibility < options.MinVisibility;
                        if (cut) c[5]++;
                        if (sliver && !b.Ignore) c[6]++;
                        else if (!b.Ignore) c[4]++;
                        inTile.Add(b with { Box = clipped.Offset(-region.X, -region.Y), Ignore = b.Ignore || sliver });
                    }

                    if (inTile.Count == 0)
                    {
                        if (!KeepEmpty(image.FileName, scale, region, options))
                        {
                            c[3]++;
                            continue;
                        }

                        c[2]++;
                    }

                    c[1]++;
                    tiles.Add(new SliceTile(image.FileName, image.Frame, scale, region, TileFileName(image.FileName, scale, region), inTile));
                }
            }
        }

        var scales = options.Sizes.Select(s => counts[s]).Select((c, i) => new SliceScaleCounts(options.Sizes[i], c[0], c[1], c[2], c[3], c[4], c[5], c[6])).ToList();
        return new SlicePlan(tiles, scales, set.Labels, degenerate);
    }

    /// <summary>The tile regions of one scale: square tiles of <paramref name="scale"/> px (smaller where the image is), covering the image.</summary>
    public static IEnumerable<RectI> Regions(SizeI image, int scale, float overlap)
    {
        int w = Math.Min(scale, image.Width), h = Math.Min(scale, image.Height);
        foreach (int y in TilePlanner.Positions(0, image.Height, h, overlap))
        {
            foreach (int x in TilePlanner.Positions(0, image.Width, w, overlap))
            {
                yield return new RectI(x, y, w, h);
            }
        }
    }

    public static string TileFileName(string source, int scale, RectI region)
    {
        var ext = Path.GetExtension(source);
        return string.Create(CultureInfo.InvariantCulture, $"{Path.GetFileNameWithoutExtension(source)}_s{scale}_x{region.X}_y{region.Y}{(ext.Length > 0 ? ext : ".jpg")}");
    }

    /// <summary>
    /// Maps every tile's boxes back to its source image (by the tile attributes) and checks, per scale, that the
    /// pieces of each non-degenerate original box together cover it to the pixel. Ignore pieces count: they are
    /// the slivers of a box that another tile holds.
    /// </summary>
    public static ReassemblyReport Reassemble(AnnotationSet original, AnnotationSet tiles, float tolerance = 0.01f)
    {
        var pieces = new Dictionary<(string Source, int Scale), List<AnnotationBox>>();
        foreach (var t in tiles.Images)
        {
            if (!t.Attributes.TryGetValue(SourceAttribute, out var source) || !t.Attributes.TryGetValue(OffsetXAttribute, out var xs) || !t.Attributes.TryGetValue(OffsetYAttribute, out var ys))
            {
                throw new FormatException($"Tile {t.FileName} does not say which image it was cut from ({SourceAttribute}, {OffsetXAttribute}, {OffsetYAttribute}).");
            }

            int scale = t.Attributes.TryGetValue(ScaleAttribute, out var ss) ? int.Parse(ss, CultureInfo.InvariantCulture) : 0;
            float dx = float.Parse(xs, CultureInfo.InvariantCulture), dy = float.Parse(ys, CultureInfo.InvariantCulture);
            var key = (source, scale);
            if (!pieces.TryGetValue(key, out var list)) pieces[key] = list = [];
            list.AddRange(t.Boxes.Select(b => b with { Box = b.Box.Offset(dx, dy) }));
        }

        var scales = pieces.Keys.Select(k => k.Scale).Distinct().OrderBy(s => s).ToList();
        int total = 0, covered = 0;
        var missing = new List<string>();
        foreach (var image in original.Images)
        {
            foreach (var box in image.Boxes.Where(b => !b.IsDegenerate))
            {
                foreach (int scale in scales)
                {
                    total++;
                    var mine = pieces.GetValueOrDefault((image.FileName, scale), [])
                        .Where(p => string.Equals(p.Label, box.Label, StringComparison.Ordinal) && Inside(p.Box, box.Box, tolerance))
                        .Select(p => p.Box).ToList();
                    if (UnionArea(mine) >= box.Box.Area - (tolerance * (box.Box.Width + box.Box.Height) * 2)) covered++;
                    else if (missing.Count < 50) missing.Add(FormattableString.Invariant($"{image.FileName} {box.Label} {box.Box} at scale {scale}"));
                }
            }
        }

        return new ReassemblyReport(total, covered, missing);
    }

    private static bool Inside(BoxF piece, BoxF box, float tol) =>
        piece.Left >= box.Left - tol && piece.Top >= box.Top - tol && piece.Right <= box.Right + tol && piece.Bottom <= box.Bottom + tol;

    /// <summary>Area of a union of rectangles by coordinate compression (a handful of pieces per box).</summary>
    private static double UnionArea(List<BoxF> boxes)
    {
        if (boxes.Count == 0) return 0;
        var xs = boxes.SelectMany(b => new[] { b.Left, b.Right }).Distinct().Order().ToArray();
        var ys = boxes.SelectMany(b => new[] { b.Top, b.Bottom }).Distinct().Order().ToArray();
        double area = 0;
        for (int i = 0; i + 1 < xs.Length; i++)
        {
            for (int j = 0; j + 1 < ys.Length; j++)
            {
                float cx = (xs[i] + xs[i + 1]) / 2, cy = (ys[j] + ys[j + 1]) / 2;
                if (boxes.Any(b => cx >= b.Left && cx <= b.Right && cy >= b.Top && cy <= b.Bottom)) area += (double)(xs[i + 1] - xs[i]) * (ys[j + 1] - ys[j]);
            }
        }

        return area;
    }

    private static bool KeepEmpty(string source, int scale, RectI region, SliceOptions options)
    {
        if (options.EmptyShare >= 1) return true;
        if (options.EmptyShare <= 0) return false;
        // FNV-1a over the tile's identity: the same tiles are kept on every run (no Random).
        uint h = 2166136261;
        foreach (char ch in string.Create(CultureInfo.InvariantCulture, $"{source}|{scale}|{region.X}|{region.Y}|{options.Seed}")) h = (h ^ ch) * 16777619;
        return h % 10000 < options.EmptyShare * 10000;
    }
}
