using System.Text;
using System.Text.Json;
using System.Xml.Linq;

namespace CinemaVision.Core.Datasets;

/// <summary>
/// Label Studio import: a JSON list of tasks (<c>data.image</c>) whose model boxes are <c>predictions</c>
/// (rectanglelabels in percent of the image, with scores), so labellers start from the model's boxes; and the
/// labelling configuration that names the classes.
/// </summary>
public static class LabelStudioFormat
{
    public const string FromName = "label";
    public const string ToName = "image";

    /// <param name="imageUrlPrefix">Prepended to each image file name (Label Studio local storage: <c>/data/local-files/?d=export/images/</c>).</param>
    public static string WriteTasks(AnnotationSet set, string imageUrlPrefix, string modelVersion)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartArray();
            int region = 0;
            foreach (var img in set.Images)
            {
                var size = img.RequireSize("Label Studio (percent coordinates)");
                w.WriteStartObject();
                w.WriteStartObject("data");
                w.WriteString("image", imageUrlPrefix + img.FileName);
                foreach (var (k, v) in img.Attributes.OrderBy(kv => kv.Key, StringComparer.Ordinal)) w.WriteString(k, v);
                w.WriteEndObject();
                w.WriteStartArray("predictions");
                w.WriteStartObject();
                w.WriteString("model_version", modelVersion);
                var scored = img.Boxes.Where(b => b.Score is not null).ToList();
                w.WriteNumber("score", scored.Count == 0 ? 0 : Math.Round(scored.Average(b => b.Score!.Value), 4));
                w.WriteStartArray("result");
                foreach (var b in img.Boxes.Where(b => !b.Ignore))
                {
                    w.WriteStartObject();
                    w.WriteString("id", "r" + (++region).ToString(System.Globalization.CultureInfo.InvariantCulture));
                    w.WriteString("from_name", FromName);
                    w.WriteString("to_name", ToName);
                    w.WriteString("type", "rectanglelabels");
                    w.WriteNumber("original_width", size.Width);
                    w.WriteNumber("original_height", size.Height);
                    w.WriteNumber("image_rotation", 0);
                    w.WriteStartObject("value");
                    w.WriteNumber("x", Math.Round(100.0 * b.Box.X / size.Width, 4));
                    w.WriteNumber("y", Math.Round(100.0 * b.Box.Y / size.Height, 4));
                    w.WriteNumber("width", Math.Round(100.0 * b.Box.Width / size.Width, 4));
                    w.WriteNumber("height", Math.Round(100.0 * b.Box.Height / size.Height, 4));
                    w.WriteNumber("rotation", 0);
                    w.WriteStartArray("rectanglelabels");
                    w.WriteStringValue(b.Label);
                    w.WriteEndArray();
                    w.WriteEndObject();
                    if (b.Score is { } s) w.WriteNumber("score", Math.Round(s, 4));
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>The labelling configuration (Settings, Labeling Interface, Code) for the set's classes.</summary>
    public static string WriteLabelingConfig(IReadOnlyList<string> labels) =>
        new XElement("View",
            new XElement("Image", new XAttribute("name", ToName), new XAttribute("value", "$image"), new XAttribute("zoom", "true")),
            new XElement("RectangleLabels", new XAttribute("name", FromName), new XAttribute("toName", ToName),
                labels.Select(l => new XElement("Label", new XAttribute("value", l))))).ToString() + "\n";
}
