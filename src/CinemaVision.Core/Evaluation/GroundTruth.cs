using System.Globalization;
using CinemaVision.Core.Datasets;
using CinemaVision.Core.Detections;
using CinemaVision.Core.Geometry;

namespace CinemaVision.Core.Evaluation;

/// <summary>One labelled object. <see cref="Ignore"/> marks an ignore region (MOT flag 0): detections there count neither way.</summary>
public readonly record struct GroundTruthBox(BoxF Box, ObjectClass Class, int TrackId = -1, bool Ignore = false);

/// <summary>Ground truth for a sequence or a set of images: per frame key (frame index or image name), its boxes.</summary>
public sealed class GroundTruthSet
{
    private readonly Dictionary<string, List<GroundTruthBox>> _frames = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> Keys => _frames.Keys;

    public int BoxCount => _frames.Values.Sum(f => f.Count(b => !b.Ignore));

    public IReadOnlyList<GroundTruthBox> For(string key) => _frames.TryGetValue(key, out var list) ? list : [];

    /// <summary>Records a labelled image that may have no boxes (an empty hall is ground truth too).</summary>
    public void Declare(string key)
    {
        if (!_frames.ContainsKey(key)) _frames[key] = [];
    }

    public void Add(string key, GroundTruthBox box)
    {
        if (!_frames.TryGetValue(key, out var list)) _frames[key] = list = [];
        list.Add(box);
    }

    /// <summary>
    /// Ground truth from an annotation set (any format). Key = the frame number for sequence frames (MOT), else
    /// the image file name; labels map onto product classes through <see cref="ObjectClassNames"/>.
    /// </summary>
    public static GroundTruthSet From(AnnotationSet annotations)
    {
        var set = new GroundTruthSet();
        foreach (var image in annotations.Images)
        {
            var key = KeyOf(image);
            set.Declare(key);
            foreach (var b in image.Boxes) set.Add(key, ToTruth(b));
        }

        return set;
    }

    /// <summary>The key eval looks an image up by: the frame number of a sequence frame, else the file name.</summary>
    public static string KeyOf(AnnotatedImage image) => image.Frame is { } f ? f.ToString(CultureInfo.InvariantCulture) : image.FileName;

    public static GroundTruthBox ToTruth(AnnotationBox b) => new(b.Box, ObjectClassNames.FromLabel(b.Label), b.TrackId, b.Ignore);

    /// <summary>Key of a video frame: MOT numbers frames from 1, VideoCapture from 0.</summary>
    public static string FrameKey(int zeroBasedFrame) => (zeroBasedFrame + 1).ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// Ground truth in the shapes eval and the tests use, read through the one home of the formats
/// (<see cref="CinemaVision.Core.Datasets"/>). Errors name the file and line (or JSON path).
/// </summary>
public static class GroundTruthParser
{
    /// <summary>MOT Challenge: <c>frame,id,left,top,width,height,flag[,x,y,z]</c>; flag 0 = ignore region. Key = frame number (1-based).</summary>
    public static GroundTruthSet ParseMot(string text, ObjectClass objectClass = ObjectClass.Person, string fileName = "MOT ground truth") =>
        GroundTruthSet.From(MotFormat.Read(text, fileName, ObjectClassNames.ToLabel(objectClass)));

    /// <summary>YOLO: <c>class cx cy w h</c> normalised to the image size. Class ids map through <paramref name="classes"/> (default: 0 = person).</summary>
    public static List<GroundTruthBox> ParseYolo(string text, SizeI imageSize, IReadOnlyList<ObjectClass>? classes = null, string fileName = "YOLO labels")
    {
        var names = (classes ?? [ObjectClass.Person]).Select(ObjectClassNames.ToLabel).ToList();
        // Ids beyond the given classes are objects of no product class (scored as Other), as before.
        int max = text.Split('\n').Select(l => l.Trim().Split(' ', 2)[0]).Select(s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : -1).DefaultIfEmpty(-1).Max();
        while (names.Count <= max) names.Add(ObjectClassNames.ToLabel(ObjectClass.Other));
        return YoloFormat.ReadLabels(text, fileName, imageSize, names).Select(GroundTruthSet.ToTruth).ToList();
    }

    /// <summary>Corner CSV: <c>x1,y1,x2,y2[,...]</c> in pixels, '#' comments.</summary>
    public static List<GroundTruthBox> ParseCornerCsv(string text, ObjectClass objectClass, string fileName = "CSV ground truth") =>
        CornerCsvFormat.Read(text, fileName, ObjectClassNames.ToLabel(objectClass)).Select(GroundTruthSet.ToTruth).ToList();

    /// <summary>COCO instances JSON: key = image file name; categories map to product classes by name; iscrowd = ignore.</summary>
    public static GroundTruthSet ParseCoco(string json, string fileName = "COCO ground truth") => GroundTruthSet.From(CocoFormat.Read(json, fileName));

    /// <summary>
    /// Pascal VOC: one XML file per image; corners kept as given; <c>difficult</c> = 1 marks an ignore box.
    /// Returns the image file name (the key), its size when recorded, and the boxes.
    /// </summary>
    public static (string Key, SizeI? ImageSize, List<GroundTruthBox> Boxes) ParseVoc(string xml, string fileName)
    {
        var image = VocFormat.Read(xml, fileName);
        return (image.FileName, image.Size.IsEmpty ? null : image.Size, image.Boxes.Select(GroundTruthSet.ToTruth).ToList());
    }

    /// <summary>A folder of VOC XML files (or a VOC root with <c>Annotations/</c>): one entry per image file name.</summary>
    public static GroundTruthSet ParseVocFolder(string folder)
    {
        var dir = Directory.Exists(Path.Combine(folder, "Annotations")) ? Path.Combine(folder, "Annotations") : folder;
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"VOC annotation folder {folder} does not exist.");
        var images = Directory.GetFiles(dir, "*.xml").OrderBy(f => f, StringComparer.Ordinal).Select(f => VocFormat.Read(File.ReadAllText(f), f));
        return GroundTruthSet.From(AnnotationSet.Create(images));
    }
}
