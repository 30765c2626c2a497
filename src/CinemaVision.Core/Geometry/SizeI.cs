namespace CinemaVision.Core.Geometry;

/// <summary>A size in whole pixels (frame sizes, model input sizes).</summary>
public readonly record struct SizeI(int Width, int Height)
{
    public bool IsEmpty => Width <= 0 || Height <= 0;

    public override string ToString() => FormattableString.Invariant($"{Width}x{Height}");
}

/// <summary>A rectangle in whole pixels (tiles, crops).</summary>
public readonly record struct RectI(int X, int Y, int Width, int Height)
{
    public int Right => X + Width;
    public int Bottom => Y + Height;
    public int Area => Width * Height;

    public BoxF ToBoxF() => new(X, Y, Width, Height);

    public bool IntersectsWith(in RectI other) =>
        X < other.Right && other.X < Right && Y < other.Bottom && other.Y < Bottom;

    public override string ToString() => FormattableString.Invariant($"[{X},{Y} {Width}x{Height}]");
}
