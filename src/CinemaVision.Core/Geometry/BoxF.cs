namespace CinemaVision.Core.Geometry;

/// <summary>An axis-aligned box in image pixels (x right, y down), stored as left/top/width/height.</summary>
public readonly record struct BoxF(float X, float Y, float Width, float Height)
{
    public float Left => X;
    public float Top => Y;
    public float Right => X + Width;
    public float Bottom => Y + Height;
    public float CenterX => X + (Width * 0.5f);
    public float CenterY => Y + (Height * 0.5f);
    public float Area => Width > 0 && Height > 0 ? Width * Height : 0f;
    public bool IsEmpty => Width <= 0 || Height <= 0;

    public static BoxF FromLtrb(float left, float top, float right, float bottom) =>
        new(left, top, right - left, bottom - top);

    public static BoxF FromCenter(float cx, float cy, float width, float height) =>
        new(cx - (width * 0.5f), cy - (height * 0.5f), width, height);

    public float IntersectionArea(in BoxF other)
    {
        float w = MathF.Min(Right, other.Right) - MathF.Max(Left, other.Left);
        if (w <= 0) return 0f;
        float h = MathF.Min(Bottom, other.Bottom) - MathF.Max(Top, other.Top);
        return h <= 0 ? 0f : w * h;
    }

    /// <summary>Intersection over union; 0 when either box is empty.</summary>
    public float IoU(in BoxF other)
    {
        float inter = IntersectionArea(other);
        if (inter <= 0) return 0f;
        float union = Area + other.Area - inter;
        return union <= 0 ? 0f : inter / union;
    }

    /// <summary>Intersection over the smaller box's area (SAHI's IOS): 1 when one box contains the other.</summary>
    public float IntersectionOverSmaller(in BoxF other)
    {
        float inter = IntersectionArea(other);
        if (inter <= 0) return 0f;
        float smaller = MathF.Min(Area, other.Area);
        return smaller <= 0 ? 0f : inter / smaller;
    }

    public BoxF Union(in BoxF other) =>
        FromLtrb(MathF.Min(Left, other.Left), MathF.Min(Top, other.Top), MathF.Max(Right, other.Right), MathF.Max(Bottom, other.Bottom));

    public BoxF Intersect(in BoxF other)
    {
        float l = MathF.Max(Left, other.Left), t = MathF.Max(Top, other.Top);
        float r = MathF.Min(Right, other.Right), b = MathF.Min(Bottom, other.Bottom);
        return r <= l || b <= t ? default : FromLtrb(l, t, r, b);
    }

    public BoxF ClipTo(float width, float height) => Intersect(new BoxF(0, 0, width, height));

    public BoxF Scale(float sx, float sy) => new(X * sx, Y * sy, Width * sx, Height * sy);

    public BoxF Offset(float dx, float dy) => new(X + dx, Y + dy, Width, Height);

    public bool Contains(PointF p) => p.X >= Left && p.X <= Right && p.Y >= Top && p.Y <= Bottom;

    public override string ToString() => FormattableString.Invariant($"[{X:0.#},{Y:0.#} {Width:0.#}x{Height:0.#}]");
}
