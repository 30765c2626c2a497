using System.Xml;
using System.Xml.Linq;
using CinemaVision.Core.Geometry;

namespace CinemaVision.Core.Datasets;

/// <summary>
/// Pascal VOC: one XML file per image with <c>filename</c>, <c>size/{width,height}</c> and <c>object</c>s of
/// <c>name</c> and <c>bndbox/{xmin,ymin,xmax,ymax}</c> in pixels. Corners are kept as given (no 1-based shift in
/// either direction), so a box read and written again keeps its numbers; <c>difficult</c> = 1 is an ignore box.
/// </summary>
public static class VocFormat
{
    /// <summary>
    /// Reads one annotation file. The image name is <c>filename</c>, else the XML file's stem + ".jpg". Errors name
    /// the file, the line and the element.
    /// </summary>
    public static AnnotatedImage Read(string xml, string fileName)
    {
        XDocument doc;
        try
        {
            doc = XDocument.Parse(xml, LoadOptions.SetLineInfo);
        }
        catch (XmlException ex)
        {
            throw AnnotationFormatException.AtLine(fileName, ex.LineNumber, $"not well-formed XML: {ex.Message}");
        }

        var root = doc.Root ?? throw new AnnotationFormatException(fileName, "line 1", "empty document.");
        if (root.Name.LocalName != "annotation") throw AnnotationFormatException.AtLine(fileName, LineOf(root), $"root element is <{root.Name.LocalName}>, expected <annotation>.");
        var name = root.Element("filename")?.Value.Trim() is { Length: > 0 } f ? f : Path.GetFileNameWithoutExtension(fileName) + ".jpg";
        var size = default(SizeI);
        if (root.Element("size") is { } s)
        {
            int w = (int)Number(s, "width", fileName), h = (int)Number(s, "height", fileName);
            if (w > 0 && h > 0) size = new SizeI(w, h);
        }

        var boxes = new List<AnnotationBox>();
        foreach (var o in root.Elements("object"))
        {
            var bb = o.Element("bndbox") ?? throw AnnotationFormatException.AtLine(fileName, LineOf(o), "<object> has no <bndbox>.");
            float x1 = Number(bb, "xmin", fileName), y1 = Number(bb, "ymin", fileName), x2 = Number(bb, "xmax", fileName), y2 = Number(bb, "ymax", fileName);
            if (x2 < x1 || y2 < y1) throw AnnotationFormatException.AtLine(fileName, LineOf(bb), "box has xmax < xmin or ymax < ymin.");
            var label = o.Element("name")?.Value.Trim() ?? "";
            if (label.Length == 0) throw AnnotationFormatException.AtLine(fileName, LineOf(o), "<object> has no <name>.");
            bool difficult = o.Element("difficult")?.Value.Trim() == "1";
            int track = o.Element("track_id") is { } t && Numbers.TryInt(t.Value, out var id) ? id : -1;
            float? score = o.Element("score") is { } sc && Numbers.TryFloat(sc.Value, out var sv) ? sv : null;
            boxes.Add(new AnnotationBox(BoxF.FromLtrb(x1, y1, x2, y2), label, difficult, track, score));
        }

        return new AnnotatedImage(name, size, boxes);
    }

    /// <summary>Writes one image's annotation file (the size is required: VOC readers rely on it).</summary>
    public static string Write(AnnotatedImage image, string folder = "JPEGImages")
    {
        var size = image.RequireSize("Pascal VOC");
        var root = new XElement("annotation",
            new XElement("folder", folder),
            new XElement("filename", image.FileName),
            new XElement("size", new XElement("width", size.Width), new XElement("height", size.Height), new XElement("depth", 3)),
            new XElement("segmented", 0));
        foreach (var b in image.Boxes)
        {
            var o = new XElement("object",
                new XElement("name", b.Label),
                new XElement("pose", "Unspecified"),
                new XElement("truncated", 0),
                new XElement("difficult", b.Ignore ? 1 : 0),
                new XElement("bndbox",
                    new XElement("xmin", Numbers.F(b.Box.Left)),
                    new XElement("ymin", Numbers.F(b.Box.Top)),
                    new XElement("xmax", Numbers.F(b.Box.Right)),
                    new XElement("ymax", Numbers.F(b.Box.Bottom))));
            if (b.TrackId >= 0) o.Add(new XElement("track_id", b.TrackId));
            if (b.Score is { } s) o.Add(new XElement("score", Numbers.F(s)));
            root.Add(o);
        }

        return new XDocument(root).ToString() + "\n";
    }

    /// <summary>The annotation file name for an image: its stem + ".xml".</summary>
    public static string FileNameFor(AnnotatedImage image) => Path.GetFileNameWithoutExtension(image.FileName) + ".xml";

    internal static int LineOf(XObject e) => ((IXmlLineInfo)e).LineNumber;

    private static float Number(XElement parent, string name, string file)
    {
        var e = parent.Element(name) ?? throw AnnotationFormatException.AtLine(file, LineOf(parent), $"<{parent.Name.LocalName}> has no <{name}>.");
        return Numbers.TryFloat(e.Value, out var v) ? v : throw AnnotationFormatException.AtLine(file, LineOf(e), $"<{name}> is not a number: '{e.Value}'.");
    }
}
