namespace CinemaVision.Core.Geometry;

/// <summary>A point in image pixels.</summary>
public readonly record struct PointF(float X, float Y)
{
    public float DistanceTo(PointF other) => MathF.Sqrt(((X - other.X) * (X - other.X)) + ((Y - other.Y) * (Y - other.Y)));

    public override string ToString() => FormattableString.Invariant($"({X:0.#},{Y:0.#})");
}
