namespace CinemaVision.Core.Geometry;

/// <summary>Polygon geometry for seat maps and zones.</summary>
public static class Polygons
{
    public static BoxF Bounds(IReadOnlyList<PointF> polygon)
    {
        if (polygon.Count == 0) return default;
        float l = float.MaxValue, t = float.MaxValue, r = float.MinValue, b = float.MinValue;
        foreach (var p in polygon)
        {
            l = MathF.Min(l, p.X); t = MathF.Min(t, p.Y); r = MathF.Max(r, p.X); b = MathF.Max(b, p.Y);
        }

        return BoxF.FromLtrb(l, t, r, b);
    }

    public static float Area(IReadOnlyList<PointF> polygon) => MathF.Abs(SignedArea(polygon));

    public static bool Contains(IReadOnlyList<PointF> polygon, PointF p)
    {
        bool inside = false;
        for (int i = 0, j = polygon.Count - 1; i < polygon.Count; j = i++)
        {
            var pi = polygon[i];
            var pj = polygon[j];
            if ((pi.Y > p.Y) != (pj.Y > p.Y) && p.X < ((pj.X - pi.X) * (p.Y - pi.Y) / (pj.Y - pi.Y)) + pi.X) inside = !inside;
        }

        return inside;
    }

    /// <summary>True when two non-adjacent edges cross (a bow-tie), which makes the polygon meaningless as a seat.</summary>
    public static bool IsSelfIntersecting(IReadOnlyList<PointF> polygon)
    {
        int n = polygon.Count;
        for (int i = 0; i < n; i++)
        {
            var a1 = polygon[i];
            var a2 = polygon[(i + 1) % n];
            for (int j = i + 1; j < n; j++)
            {
                if (Math.Abs(i - j) <= 1 || (i == 0 && j == n - 1)) continue;
                if (SegmentsCross(a1, a2, polygon[j], polygon[(j + 1) % n])) return true;
            }
        }

        return false;
    }

    /// <summary>Area of the intersection of a polygon with a convex polygon (Sutherland–Hodgman clipping).</summary>
    public static float IntersectionArea(IReadOnlyList<PointF> subject, IReadOnlyList<PointF> convexClip)
    {
        var output = new List<PointF>(subject);
        float orientation = SignedArea(convexClip) >= 0 ? 1 : -1;
        for (int i = 0; i < convexClip.Count && output.Count > 0; i++)
        {
            var c1 = convexClip[i];
            var c2 = convexClip[(i + 1) % convexClip.Count];
            var input = output;
            output = new List<PointF>(input.Count + 2);
            for (int k = 0; k < input.Count; k++)
            {
                var cur = input[k];
                var prev = input[(k + input.Count - 1) % input.Count];
                bool curIn = orientation * Cross(c1, c2, cur) >= 0;
                bool prevIn = orientation * Cross(c1, c2, prev) >= 0;
                if (curIn)
                {
                    if (!prevIn) output.Add(LineIntersection(prev, cur, c1, c2));
                    output.Add(cur);
                }
                else if (prevIn)
                {
                    output.Add(LineIntersection(prev, cur, c1, c2));
                }
            }
        }

        return output.Count < 3 ? 0 : Area(output);
    }

    /// <summary>Area of a box inside a polygon (the polygon need not be convex: the box is the convex clip).</summary>
    public static float IntersectionArea(IReadOnlyList<PointF> polygon, BoxF box) =>
        box.IsEmpty ? 0 : IntersectionArea(polygon, [new(box.Left, box.Top), new(box.Right, box.Top), new(box.Right, box.Bottom), new(box.Left, box.Bottom)]);

    public static bool IsConvex(IReadOnlyList<PointF> polygon)
    {
        int sign = 0;
        for (int i = 0; i < polygon.Count; i++)
        {
            float c = Cross(polygon[i], polygon[(i + 1) % polygon.Count], polygon[(i + 2) % polygon.Count]);
            if (MathF.Abs(c) < 1e-6f) continue;
            int s = c > 0 ? 1 : -1;
            if (sign != 0 && s != sign) return false;
            sign = s;
        }

        return true;
    }

    private static float SignedArea(IReadOnlyList<PointF> polygon)
    {
        float sum = 0;
        for (int i = 0; i < polygon.Count; i++)
        {
            var a = polygon[i];
            var b = polygon[(i + 1) % polygon.Count];
            sum += (a.X * b.Y) - (b.X * a.Y);
        }

        return sum / 2;
    }

    private static float Cross(PointF o, PointF a, PointF b) => ((a.X - o.X) * (b.Y - o.Y)) - ((a.Y - o.Y) * (b.X - o.X));

    public static bool SegmentsCross(PointF p1, PointF p2, PointF q1, PointF q2)
    {
        float d1 = Cross(q1, q2, p1), d2 = Cross(q1, q2, p2), d3 = Cross(p1, p2, q1), d4 = Cross(p1, p2, q2);
        return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0));
    }

    private static PointF LineIntersection(PointF a, PointF b, PointF c, PointF d)
    {
        float a1 = b.Y - a.Y, b1 = a.X - b.X, c1 = (a1 * a.X) + (b1 * a.Y);
        float a2 = d.Y - c.Y, b2 = c.X - d.X, c2 = (a2 * c.X) + (b2 * c.Y);
        float det = (a1 * b2) - (a2 * b1);
        return MathF.Abs(det) < 1e-9f ? a : new PointF(((b2 * c1) - (b1 * c2)) / det, ((a1 * c2) - (a2 * c1)) / det);
    }
}
