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
            if (PointInPolygon(polygon, c)) return true;
        }

        // Otherwise they intersect only if an edge of one crosses an edge of the other.
        for (int i = 0; i < polygon.Count; i++)
        {
            var a = polygon[i];
            var b = polygon[(i + 1) % polygon.Count];
            for (int j = 0; j < 4; j++)
            {
                if (SegmentsIntersect(a, b, corners[j], corners[(j + 1) % 4])) return true;
            }
        }

        return false;
    }

    public static bool PointInPolygon(IReadOnlyList<PointF> polygon, PointF p)
    {
        bool inside = false;
        for (int i = 0, j = polygon.Count - 1; i < polygon.Count; j = i++)
        {
            var pi = polygon[i];
            var pj = polygon[j];
            if ((pi.Y > p.Y) != (pj.Y > p.Y) && p.X < ((pj.X - pi.X) * (p.Y - pi.Y) / (pj.Y - pi.Y)) + pi.X)
            {
                inside = !inside;
            }
        }

        return inside;
    }

    private static bool SegmentsIntersect(PointF p1, PointF p2, PointF q1, PointF q2)
    {
        static float Cross(PointF o, PointF a, PointF b) => ((a.X - o.X) * (b.Y - o.Y)) - ((a.Y - o.Y) * (b.X - o.X));
        float d1 = Cross(q1, q2, p1), d2 = Cross(q1, q2, p2), d3 = Cross(p1, p2, q1), d4 = Cross(p1, p2, q2);
        return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0));
    }
}
