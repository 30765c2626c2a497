using System.Globalization;
using CinemaVision.Core.Geometry;

namespace CinemaVision.Core.Datasets;

/// <summary>
/// One labelled object of an image. <see cref="Box"/> is in image pixels, continuous coordinates with the origin at
/// the top-left corner of the top-left pixel, exactly as the source file gave it: no format's 0/1-based convention
/// is applied on reading or writing, so a box read from one format and written to another keeps its numbers.
/// <see cref="Label"/> is the class name as the data set spells it (mapped onto product classes only where a
/// detector is scored, by <see cref="Detections.ObjectClassNames"/>).
/// </summary>
/// <param name="Ignore">An ignore region (MOT flag 0, VOC difficult, COCO iscrowd): detections there count neither way.</param>
/// <param name="TrackId">The identity across frames (MOT), or -1.</param>
/// <param name="Score">A model's confidence for a pre-annotation; null for a human label.</param>
public sealed record AnnotationBox(BoxF Box, string Label, bool Ignore = false, int TrackId = -1, float? Score = null)
{
    /// <summary>A box with no area (some real data sets carry a few): kept by conversions, skipped by slicing.</summary>
    public bool IsDegenerate => Box.Width <= 0 || Box.Height <= 0;
}

/// <summary>
/// One image of a data set with its size and boxes. <see cref="Frame"/> is the 1-based frame number when the image
/// is a frame of a sequence (MOT numbering); <see cref="Attributes"/> carries per-image facts that travel with it
/// (the source of a tile and its offset, a camera, a time), written where the format has room for them (COCO).
/// </summary>
public sealed record AnnotatedImage(string FileName, SizeI Size, IReadOnlyList<AnnotationBox> Boxes)
{
    public int? Frame { get; init; }

    public IReadOnlyDictionary<string, string> Attributes { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The size, or an error naming the image and what needs it when the source did not record one.</summary>
    public SizeI RequireSize(string neededFor) => Size.IsEmpty
        ? throw new FormatException($"Image {FileName}: its size is unknown, and {neededFor} needs it; give the images with --images.")
        : Size;
}

/// <summary>
/// An annotation set: images with their sizes and boxes, and the ordered class list (YOLO ids and COCO categories
/// follow this order). The one model every reader fills and every writer reads: MOT, Pascal VOC, YOLO, COCO, CVAT.
/// </summary>
public sealed record AnnotationSet(IReadOnlyList<string> Labels, IReadOnlyList<AnnotatedImage> Images)
{
    public int BoxCount => Images.Sum(i => i.Boxes.Count);

    /// <summary>A set whose class list is the given one (if any) followed by every other label its boxes use, in first-seen order.</summary>
    public static AnnotationSet Create(IEnumerable<AnnotatedImage> images, IEnumerable<string>? labels = null)
    {
        var list = images.ToList();
        var names = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var l in (labels ?? []).Concat(list.SelectMany(i => i.Boxes).Select(b => b.Label)))
        {
            if (seen.Add(l)) names.Add(l);
        }

        return new AnnotationSet(names, list);
    }

    public AnnotatedImage? Find(string fileName) => Images.FirstOrDefault(i => string.Equals(i.FileName, fileName, StringComparison.Ordinal));

    /// <summary>Boxes per label, for summaries.</summary>
    public IReadOnlyDictionary<string, int> CountByLabel() =>
        Images.SelectMany(i => i.Boxes).GroupBy(b => b.Label, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
}

/// <summary>
/// A malformed annotation file. The message names the file and the line (text and XML formats) or the JSON path
/// (COCO), so a data team can open the file at the right place.
/// </summary>
public sealed class AnnotationFormatException : FormatException
{
    public AnnotationFormatException(string file, string location, string problem, Exception? inner = null)
        : base($"{file} {location}: {problem}", inner)
    {
        File = file;
        Location = location;
        Problem = problem;
    }

    public string File { get; }

    /// <summary><c>line N</c> or a JSON path such as <c>$.annotations[3].bbox</c>.</summary>
    public string Location { get; }

    public string Problem { get; }

    internal static AnnotationFormatException AtLine(string file, int line, string problem) =>
        new(file, "line " + line.ToString(CultureInfo.InvariantCulture), problem);
}

/// <summary>Number formatting shared by the writers: the shortest text that reads back to the same float.</summary>
internal static class Numbers
{
    public static string F(float v) => v.ToString("R", CultureInfo.InvariantCulture);

    public static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    public static string Fixed6(double v) => v.ToString("0.######", CultureInfo.InvariantCulture);

    public static string I(int v) => v.ToString(CultureInfo.InvariantCulture);

    public static bool TryFloat(string s, out float v) =>
        float.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out v) && float.IsFinite(v);

    public static bool TryInt(string s, out int v)
    {
        if (int.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out v)) return true;
        if (TryFloat(s, out var f) && f == MathF.Floor(f) && f is >= int.MinValue and <= int.MaxValue)
        {
            v = (int)f;
            return true;
        }

        return false;
    }
}
