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

    /// <summary>A whole head (including its hidden part): what a seated audience shows above the seat backs.</summary>
    Head = 5,
}

/// <summary>Label names as data teams and their tools write them, mapped onto <see cref="ObjectClass"/>. The one home of that mapping.</summary>
public static class ObjectClassNames
{
    /// <summary>The product's name for a class in label files: <c>person</c>, <c>head</c>, <c>face</c>, <c>phone</c>, <c>camera</c>, <c>other</c>.</summary>
    public static string ToLabel(ObjectClass c) => c switch
    {
        ObjectClass.Person => "person",
        ObjectClass.Head => "head",
        ObjectClass.Face => "face",
        ObjectClass.Phone => "phone",
        ObjectClass.Camera => "camera",
        _ => "other",
    };

    /// <summary>
    /// Maps a label name (case-insensitive, COCO and VOC spellings) to a product class; unknown names are
    /// <see cref="ObjectClass.Other"/>. Names that start with "head" are heads: real data sets carry typos such as
    /// "headdddd" and drop them silently otherwise.
    /// </summary>
    public static ObjectClass FromLabel(string? name)
    {
        var n = (name ?? "").Trim().ToLowerInvariant();
        return n switch
        {
            "person" or "people" or "pedestrian" => ObjectClass.Person,
            "face" => ObjectClass.Face,
            "cell phone" or "phone" or "cellphone" or "mobile phone" => ObjectClass.Phone,
            "camera" or "camcorder" => ObjectClass.Camera,
            _ when n.StartsWith("head", StringComparison.Ordinal) => ObjectClass.Head,
            _ => ObjectClass.Other,
        };
    }

    /// <summary>Parses a class given on a command line or in configuration, naming the accepted values when it is not one.</summary>
    public static ObjectClass Parse(string name) => FromLabel(name) is var c && c != ObjectClass.Other && string.Equals(ToLabel(c), name.Trim(), StringComparison.OrdinalIgnoreCase)
        ? c
        : throw new ArgumentException($"Unknown class '{name}': expected person, head, face, phone or camera.");
}
