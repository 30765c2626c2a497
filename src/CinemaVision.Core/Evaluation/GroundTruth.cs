using System.Globalization;
using System.Text.Json;
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

    /// <summary>Key of a video frame: MOT numbers frames from 1, VideoCapture from 0.</summary>
    public static string FrameKey(int zeroBasedFrame) => (zeroBasedFrame + 1).ToString(CultureInfo.InvariantCulture);
}

/// <summary>Parsers for the ground-truth formats data teams bring. Errors name the line.</summary>
public static class GroundTruthParser
{
    /// <summary>MOT Challenge: <c>frame,id,left,top,width,height,flag[,x,y,z]</c>; flag 0 = ignore region. Key = frame number (1-based).</summary>
    public static GroundTruthSet ParseMot(string text, ObjectClass objectClass = ObjectClass.Person)
    {
        var set = new GroundTruthSet();
        int lineNo = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNo++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var f = line.Split(',');
            if (f.Length < 6) throw new FormatException($"MOT ground truth line {lineNo}: expected at least 6 comma-separated fields, got {f.Length}.");
            int frame = ParseInt(f[0], lineNo, "frame");
            int id = ParseInt(f[1], lineNo, "id");
            var box = new BoxF(ParseFloat(f[2], lineNo, "left"), ParseFloat(f[3], lineNo, "top"), ParseFloat(f[4], lineNo, "width"), ParseFloat(f[5], lineNo, "height"));
            bool ignore = f.Length > 6 && ParseFloat(f[6], lineNo, "flag") == 0;
            set.Add(frame.ToString(CultureInfo.InvariantCulture), new GroundTruthBox(box, objectClass, id, ignore));
        }

        return set;
    }

    /// <summary>YOLO: <c>class cx cy w h</c> normalised to the image size. Class ids map through <paramref name="classes"/> (default: 0 = person).</summary>
    public static List<GroundTruthBox> ParseYolo(string text, SizeI imageSize, IReadOnlyList<ObjectClass>? classes = null)
    {
        var boxes = new List<GroundTruthBox>();
        int lineNo = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNo++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 5) throw new FormatException($"YOLO label line {lineNo}: expected 'class cx cy w h', got {f.Length} fields.");
            int c = ParseInt(f[0], lineNo, "class");
            float cx = ParseFloat(f[1], lineNo, "cx") * imageSize.Width, cy = ParseFloat(f[2], lineNo, "cy") * imageSize.Height;
            float w = ParseFloat(f[3], lineNo, "w") * imageSize.Width, h = ParseFloat(f[4], lineNo, "h") * imageSize.Height;
            var cls = classes is not null && c < classes.Count ? classes[c] : (c == 0 ? ObjectClass.Person : ObjectClass.Other);
            boxes.Add(new GroundTruthBox(BoxF.FromCenter(cx, cy, w, h), cls));
        }

        return boxes;
    }

    /// <summary>Corner CSV: <c>x1,y1,x2,y2[,...]</c> in pixels, '#' comments.</summary>
    public static List<GroundTruthBox> ParseCornerCsv(string text, ObjectClass objectClass)
    {
        var boxes = new List<GroundTruthBox>();
        int lineNo = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNo++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var f = line.Split(',');
            if (f.Length < 4) throw new FormatException($"CSV ground truth line {lineNo}: expected x1,y1,x2,y2.");
            if (!float.TryParse(f[0], NumberStyles.Float, CultureInfo.InvariantCulture, out _)) continue; // header
            boxes.Add(new GroundTruthBox(BoxF.FromLtrb(ParseFloat(f[0], lineNo, "x1"), ParseFloat(f[1], lineNo, "y1"), ParseFloat(f[2], lineNo, "x2"), ParseFloat(f[3], lineNo, "y2")), objectClass));
        }

        return boxes;
    }

    /// <summary>COCO instances JSON: key = image file name; categories named 'person', 'cell phone', 'face' map to product classes; iscrowd = ignore.</summary>
    public static GroundTruthSet ParseCoco(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        var images = new Dictionary<long, string>();
        foreach (var img in root.GetProperty("images").EnumerateArray())
        {
            images[img.GetProperty("id").GetInt64()] = img.GetProperty("file_name").GetString() ?? "";
        }

        var categories = new Dictionary<long, ObjectClass>();
        if (root.TryGetProperty("categories", out var cats))
        {
            foreach (var c in cats.EnumerateArray())
            {
                categories[c.GetProperty("id").GetInt64()] = ObjectClassNames.FromLabel(c.GetProperty("name").GetString());
            }
        }

        var set = new GroundTruthSet();
        foreach (var a in root.GetProperty("annotations").EnumerateArray())
        {
            var bbox = a.GetProperty("bbox");
            var box = new BoxF(bbox[0].GetSingle(), bbox[1].GetSingle(), bbox[2].GetSingle(), bbox[3].GetSingle());
            long imageId = a.GetProperty("image_id").GetInt64();
            var cls = categories.GetValueOrDefault(a.GetProperty("category_id").GetInt64(), ObjectClass.Other);
            bool crowd = a.TryGetProperty("iscrowd", out var ic) && ic.GetInt32() == 1;
            set.Add(images.GetValueOrDefault(imageId, imageId.ToString(CultureInfo.InvariantCulture)), new GroundTruthBox(box, cls, -1, crowd));
        }

        return set;
    }

    /// <summary>
    /// Pascal VOC: one XML file per image with <c>object/name</c> and <c>object/bndbox/{xmin,ymin,xmax,ymax}</c> in
    /// pixels (kept as given, no 1-based shift, so boxes round-trip exactly). <c>difficult</c> = 1 marks an ignore box.
    /// Returns the image file name (the key, from <c>filename</c>, else the XML file's stem + ".jpg") and the boxes.
    /// Errors name the file and the element.
    /// </summary>
    public static (string Key, SizeI? ImageSize, List<GroundTruthBox> Boxes) ParseVoc(string xml, string fileName)
    {
        System.Xml.Linq.XDocument doc;
        try
        {
            doc = System.Xml.Linq.XDocument.Parse(xml, System.Xml.Linq.LoadOptions.SetLineInfo);
        }
        catch (System.Xml.XmlException ex)
        {
            throw new FormatException($"VOC annotation {fileName}: not well-formed XML (line {ex.LineNumber}): {ex.Message}", ex);
        }

        var root = doc.Root ?? throw new FormatException($"VOC annotation {fileName}: empty document.");
        if (root.Name.LocalName != "annotation") throw new FormatException($"VOC annotation {fileName}: root element is <{root.Name.LocalName}>, expected <annotation>.");
        var key = root.Element("filename")?.Value.Trim() is { Length: > 0 } f ? f : Path.GetFileNameWithoutExtension(fileName) + ".jpg";
        SizeI? size = null;
        if (root.Element("size") is { } s)
        {
            int w = VocInt(s, "width", fileName), h = VocInt(s, "height", fileName);
            if (w > 0 && h > 0) size = new SizeI(w, h);
        }

        var boxes = new List<GroundTruthBox>();
        foreach (var o in root.Elements("object"))
        {
            var bb = o.Element("bndbox") ?? throw new FormatException($"VOC annotation {fileName} line {LineOf(o)}: <object> has no <bndbox>.");
            float x1 = VocFloat(bb, "xmin", fileName), y1 = VocFloat(bb, "ymin", fileName), x2 = VocFloat(bb, "xmax", fileName), y2 = VocFloat(bb, "ymax", fileName);
            if (x2 < x1 || y2 < y1) throw new FormatException($"VOC annotation {fileName} line {LineOf(bb)}: box has xmax < xmin or ymax < ymin.");
            bool difficult = o.Element("difficult")?.Value.Trim() == "1";
            boxes.Add(new GroundTruthBox(BoxF.FromLtrb(x1, y1, x2, y2), ObjectClassNames.FromLabel(o.Element("name")?.Value), -1, difficult));
        }

        return (key, size, boxes);
    }

    /// <summary>A folder of VOC XML files (or a VOC root with <c>Annotations/</c>): one entry per image file name.</summary>
    public static GroundTruthSet ParseVocFolder(string folder)
    {
        var dir = Directory.Exists(Path.Combine(folder, "Annotations")) ? Path.Combine(folder, "Annotations") : folder;
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"VOC annotation folder {folder} does not exist.");
        var set = new GroundTruthSet();
        foreach (var file in Directory.GetFiles(dir, "*.xml").OrderBy(f => f, StringComparer.Ordinal))
        {
            var (key, _, boxes) = ParseVoc(File.ReadAllText(file), file);
            set.Declare(key);
            foreach (var b in boxes) set.Add(key, b);
        }

        return set;
    }

    private static int LineOf(System.Xml.Linq.XElement e) => ((System.Xml.IXmlLineInfo)e).LineNumber;

    private static float VocFloat(System.Xml.Linq.XElement parent, string name, string file)
    {
        var e = parent.Element(name) ?? throw new FormatException($"VOC annotation {file} line {LineOf(parent)}: <{parent.Name.LocalName}> has no <{name}>.");
        return float.TryParse(e.Value.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && float.IsFinite(v)
            ? v
            : throw new FormatException($"VOC annotation {file} line {LineOf(e)}: <{name}> is not a number: '{e.Value}'.");
    }

    private static int VocInt(System.Xml.Linq.XElement parent, string name, string file) => (int)VocFloat(parent, name, file);

    private static int ParseInt(string s, int line, string field) =>
        int.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v
        : (int)(float.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var fv) && fv == MathF.Floor(fv) ? fv
        : throw new FormatException($"Ground truth line {line}: field '{field}' is not an integer: '{s}'."));

    private static float ParseFloat(string s, int line, string field) =>
        float.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
        : throw new FormatException($"Ground truth line {line}: field '{field}' is not a number: '{s}'.");
}
