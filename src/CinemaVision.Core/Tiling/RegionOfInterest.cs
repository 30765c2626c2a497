using CinemaVision.Core.Geometry;

namespace CinemaVision.Core.Tiling;

/// <summary>
/// The part of the frame worth analysing (the seating area), as polygons in frame pixels. A tile is kept when it
/// intersects any polygon.
/// </summary>
public sealed class RegionOfInterest
{
    private readonly IReadOnlyList<IReadOnlyList<PointF>> _polygons;

    public RegionOfInterest(IReadOnlyList<IReadOnlyList<PointF>> polygons)
    {
        if (polygons.Count == 0 || polygons.Any(p => p.Count < 3))
        {
            throw new ArgumentException("A region of interest needs at least one polygon of three or more points.", nameof(polygons));
        }

        _polygons = polygons;
    }

    public IReadOnlyList<IReadOnlyList<PointF>> Polygons => _polygons;

    public bool Intersects(RectI rect)
    {
        foreach (var polygon in _polygons)
        {
            if (PolygonIntersectsRect(polygon, rect)) return true;
        }

        return false;
    }

    internal static bool PolygonIntersectsRect(IReadOnlyList<PointF> polygon, RectI rect)
    {
        var box = rect.ToBoxF();
        // Any polygon vertex inside the rectangle, or any rectangle corner inside the polygon.
        foreach (var p in polygon)
        {
            if (box.Contains(p)) return true;
        }

        PointF[] corners = [new(box.Left, box.Top), new(box.Right, box.Top), new(box.Right, box.Bottom), new(box.Left, box.Bottom)];
        foreach (var c in corners)
        {
            if (Geometry.Polygons.Contains(polygon, c)) return true;
        }

        // Otherwise they intersect only if an edge of one crosses an edge of the other.
        for (int i = 0; i < polygon.Count; i++)
        {
            var a = polygon[i];
            var b = polygon[(i + 1) % polygon.Count];
            for (int j = 0; j < 4; j++)
            {
                if (Geometry.Polygons.SegmentsCross(a, b, corners[j], corners[(j + 1) % 4])) return true;
            }
        }

        return false;
    }
}
