using System.Xml;
using System.Xml.Linq;
using CinemaVision.Core.Geometry;

namespace CinemaVision.Core.Datasets;

/// <summary>
/// CVAT for images 1.1 XML (what CVAT exports and imports as "CVAT 1.1"): <c>meta/task/labels</c>, then one
/// <c>image</c> (id, name, width, height) per image with <c>box</c>es (label, xtl, ytl, xbr, ybr in pixels, kept as
/// given). Ignore regions carry the checkbox attribute <c>ignore</c>; model boxes are marked <c>source="auto"</c>.
/// </summary>
public static class CvatFormat
{
    public const string IgnoreAttribute = "ignore";

    public static string Write(AnnotationSet set, string taskName = "CinemaVision export")
    {
        bool anyIgnore = set.Images.Any(i => i.Boxes.Any(b => b.Ignore));
        var labels = new XElement("labels");
        foreach (var l in set.Labels)
        {
            var label = new XElement("label", new XElement("name", l), new XElement("color", ColorFor(l)), new XElement("type", "rectangle"));
            var attributes = new XElement("attributes");
            if (anyIgnore)
            {
                attributes.Add(new XElement("attribute",
                    new XElement("name", IgnoreAttribute), new XElement("mutable", "False"), new XElement("input_type", "checkbox"),
                    new XElement("default_value", "false"), new XElement("values", "false")));
            }

            label.Add(attributes);
            labels.Add(label);
        }

        var root = new XElement("annotations",
            new XElement("version", "1.1"),
            new XElement("meta", new XElement("task",
                new XElement("name", taskName),
                new XElement("size", set.Images.Count),
                new XElement("mode", "annotation"),
                new XElement("overlap", 0),
                labels)));
        for (int i = 0; i < set.Images.Count; i++)
        {
            var img = set.Images[i];
            var size = img.RequireSize("CVAT");
            var e = new XElement("image", new XAttribute("id", i), new XAttribute("name", img.FileName), new XAttribute("width", size.Width), new XAttribute("height", size.Height));
            foreach (var b in img.Boxes)
            {
                var box = new XElement("box",
                    new XAttribute("label", b.Label),
                    new XAttribute("source", b.Score is null ? "manual" : "auto"),
                    new XAttribute("occluded", 0),
                    new XAttribute("xtl", Numbers.F(b.Box.Left)),
                    new XAttribute("ytl", Numbers.F(b.Box.Top)),
                    new XAttribute("xbr", Numbers.F(b.Box.Right)),
                    new XAttribute("ybr", Numbers.F(b.Box.Bottom)),
                    new XAttribute("z_order", 0));
                if (anyIgnore) box.Add(new XElement("attribute", new XAttribute("name", IgnoreAttribute), b.Ignore ? "true" : "false"));
                e.Add(box);
            }

            root.Add(e);
        }

        return new XDeclaration("1.0", "utf-8", null) + "\n" + root + "\n";
    }

    /// <summary>Reads a CVAT for images 1.1 file (boxes only; polygons and points are skipped). Errors name the file and line.</summary>
    public static AnnotationSet Read(string xml, string fileName)
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
        if (root.Name.LocalName != "annotations") throw AnnotationFormatException.AtLine(fileName, VocFormat.LineOf(root), $"root element is <{root.Name.LocalName}>, expected <annotations> (CVAT for images 1.1).");
        var labels = root.Element("meta")?.Descendants("label").Select(l => l.Element("name")?.Value.Trim() ?? "").Where(n => n.Length > 0).ToList() ?? [];
        var images = new List<AnnotatedImage>();
        foreach (var img in root.Elements("image"))
        {
            var name = img.Attribute("name")?.Value ?? throw AnnotationFormatException.AtLine(fileName, VocFormat.LineOf(img), "<image> has no name.");
            int w = (int)Number(img, "width", fileName), h = (int)Number(img, "height", fileName);
            var boxes = new List<AnnotationBox>();
            foreach (var b in img.Elements("box"))
            {
                var label = b.Attribute("label")?.Value ?? throw AnnotationFormatException.AtLine(fileName, VocFormat.LineOf(b), "<box> has no label.");
                float x1 = Number(b, "xtl", fileName), y1 = Number(b, "ytl", fileName), x2 = Number(b, "xbr", fileName), y2 = Number(b, "ybr", fileName);
                if (x2 < x1 || y2 < y1) throw AnnotationFormatException.AtLine(fileName, VocFormat.LineOf(b), "box has xbr < xtl or ybr < ytl.");
                bool ignore = b.Elements("attribute").Any(a => (string?)a.Attribute("name") == IgnoreAttribute && a.Value.Trim().Equals("true", StringComparison.OrdinalIgnoreCase));
                boxes.Add(new AnnotationBox(BoxF.FromLtrb(x1, y1, x2, y2), label, ignore));
            }

            images.Add(new AnnotatedImage(name, w > 0 && h > 0 ? new SizeI(w, h) : default, boxes));
        }

        return AnnotationSet.Create(images, labels);
    }

    /// <summary>A stable colour per label so the same class looks the same in every export.</summary>
    private static string ColorFor(string label)
    {
        uint h = 2166136261;
        foreach (char c in label) h = (h ^ c) * 16777619;
        return "#" + (h & 0xFFFFFF).ToString("x6", System.Globalization.CultureInfo.InvariantCulture);
    }

    private static float Number(XElement e, string attribute, string file)
    {
        var a = e.Attribute(attribute) ?? throw AnnotationFormatException.AtLine(file, VocFormat.LineOf(e), $"<{e.Name.LocalName}> has no {attribute}.");
        return Numbers.TryFloat(a.Value, out var v) ? v : throw AnnotationFormatException.AtLine(file, VocFormat.LineOf(e), $"{attribute} is not a number: '{a.Value}'.");
    }
}
