using CinemaVision.Core.Geometry;

namespace CinemaVision.Core.Detections;

/// <summary>
/// One detected object in frame coordinates. <see cref="ClassId"/> indexes the producing model's class list;
/// <see cref="ObjectClass"/> maps it onto the classes the product reasons about.
/// </summary>
public readonly record struct Detection(BoxF Box, int ClassId, float Score, ObjectClass Class)
{
    public override string ToString() => FormattableString.Invariant($"{Class}#{ClassId} {Score:0.00} {Box}");
}

/// <summary>The object classes the product reasons about, independent of any model's class numbering.</summary>
public enum ObjectClass
{
    Other = 0,
    Person = 1,
    Face = 2,
    Phone = 3,
    Camera = 4,
}
