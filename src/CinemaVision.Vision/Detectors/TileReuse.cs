using CinemaVision.Core.Geometry;
using CinemaVision.Core.Tiling;
using OpenCvSharp;

namespace CinemaVision.Vision.Detectors;

/// <summary>How many tiles a detection ran the model on, and how many kept their previous detections.</summary>
public readonly record struct TileRunStats(int TilesRun, int TilesReused);

/// <summary>
/// Remembers, for one camera stream, each tile's detections and a small grey thumbnail of the tile as it was when the
/// model last ran on it, so that a tile whose pixels have not changed since keeps its detections instead of running the
/// model again (a seated audience barely moves between watching passes). A tile counts as changed when its mean
/// absolute difference, after removing a uniform brightness shift (the film's light on the whole hall), exceeds
/// <see cref="Threshold"/> grey levels; after <see cref="MaxAge"/> reuses it runs again anyway.
/// </summary>
public sealed class TileReuse : IDisposable
{
    private const int Scale = 8;
    private readonly Dictionary<RectI, Entry> _tiles = [];
    private Mat? _current;

    /// <summary>Grey levels (0..255) of mean change above which a tile is analysed again.</summary>
    public double Threshold { get; init; } = 2.5;

    /// <summary>A tile is analysed again after being reused this many times in a row.</summary>
    public int MaxAge { get; init; } = 10;

    internal void BeginFrame(Mat bgr)
    {
        _current?.Dispose();
        _current = new Mat();
        using var small = new Mat();
        Cv2.Resize(bgr, small, new Size(Math.Max(1, bgr.Width / Scale), Math.Max(1, bgr.Height / Scale)), 0, 0, InterpolationFlags.Area);
        Cv2.CvtColor(small, _current, ColorConversionCodes.BGR2GRAY);
    }

    /// <summary>The tile's previous detections when its pixels have not changed since the model last ran on it, else null.</summary>
    internal List<TileDetection>? Unchanged(Tile tile)
    {
        if (_current is null || !_tiles.TryGetValue(tile.Region, out var entry) || entry.Age >= MaxAge) return null;
        var rect = Thumb(tile.Region);
        if (rect.Width <= 0 || rect.Height <= 0 || entry.Thumbnail.Size() != rect.Size) return null;
        using var now = new Mat(_current, rect);
        using var diff = new Mat();
        Cv2.Absdiff(now, entry.Thumbnail, diff);
        double change = Cv2.Mean(diff).Val0 - Math.Abs(Cv2.Mean(now).Val0 - Cv2.Mean(entry.Thumbnail).Val0);
        if (change > Threshold) return null;
        entry.Age++;
        return entry.Detections;
    }

    internal void Remember(Tile tile, List<TileDetection> detections)
    {
        if (_current is null) return;
        var rect = Thumb(tile.Region);
        if (rect.Width <= 0 || rect.Height <= 0) return;
        if (_tiles.Remove(tile.Region, out var old)) old.Thumbnail.Dispose();
        using var crop = new Mat(_current, rect);
        _tiles[tile.Region] = new Entry(crop.Clone(), detections);
    }

    internal void EndFrame()
    {
        _current?.Dispose();
        _current = null;
    }

    private Rect Thumb(RectI r) =>
        new Rect(r.X / Scale, r.Y / Scale, Math.Max(1, r.Width / Scale), Math.Max(1, r.Height / Scale)).Intersect(new Rect(0, 0, _current!.Width, _current.Height));

    public void Dispose()
    {
        foreach (var e in _tiles.Values) e.Thumbnail.Dispose();
        _tiles.Clear();
        _current?.Dispose();
    }

    private sealed class Entry(Mat thumbnail, List<TileDetection> detections)
    {
        public Mat Thumbnail { get; } = thumbnail;
        public List<TileDetection> Detections { get; } = detections;
        public int Age { get; set; }
    }
}
