using System.Text;
using System.Text.Json;
using CinemaVision.Core.Geometry;

namespace CinemaVision.Core.Datasets;

/// <summary>
/// COCO instances JSON: <c>images</c> (id, file_name, width, height), <c>categories</c> (id, name) and
/// <c>annotations</c> (image_id, category_id, bbox [x, y, width, height] in pixels, iscrowd = ignore, optional
/// score). Boxes are kept as given. Errors name the file and the JSON path, e.g. <c>$.annotations[3].bbox</c>.
/// Extra string or number keys of an image (a tile's source and offset, a frame number) are kept as attributes.
/// </summary>
public static class CocoFormat
{
    private static readonly HashSet<string> ImageKeys = ["id", "file_name", "width", "height", "license", "coco_url", "flickr_url", "date_captured"];

    public static AnnotationSet Read(string json, string fileName)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException ex)
        {
            throw new AnnotationFormatException(fileName, $"line {(ex.LineNumber ?? 0) + 1}", $"not valid JSON: {ex.Message}", ex);
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new AnnotationFormatException(fileName, "$", "expected an object with images, annotations and categories.");
            var images = new List<(long Id, string Name, SizeI Size, int? Frame, Dictionary<string, string> Attributes)>();
            var byId = new Dictionary<long, int>();
            var imagesArray = ArrayOf(root, "images", "$", fileName);
            int index = 0;
            foreach (var img in imagesArray.EnumerateArray())
            {
                var path = $"$.images[{index}]";
                long id = Long(img, "id", path, fileName);
                var name = Text(img, "file_name", path, fileName);
                int w = img.TryGetProperty("width", out _) ? (int)Long(img, "width", path, fileName) : 0;
                int h = img.TryGetProperty("height", out _) ? (int)Long(img, "height", path, fileName) : 0;
                if (!byId.TryAdd(id, images.Count)) throw new AnnotationFormatException(fileName, path + ".id", $"image id {id} is used twice.");
                var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
                int? frame = null;
                foreach (var p in img.EnumerateObject())
                {
                    if (ImageKeys.Contains(p.Name)) continue;
                    if (p.Name == "frame" && p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt32(out var fr)) frame = fr;
                    else if (p.Value.ValueKind is JsonValueKind.String) attributes[p.Name] = p.Value.GetString()!;
                    else if (p.Value.ValueKind is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False) attributes[p.Name] = p.Value.GetRawText();
                }

                images.Add((id, name, w > 0 && h > 0 ? new SizeI(w, h) : default, frame, attributes));
                index++;
            }

            var categories = new Dictionary<long, string>();
            var labelOrder = new List<string>();
            if (root.TryGetProperty("categories", out var cats))
            {
                if (cats.ValueKind != JsonValueKind.Array) throw new AnnotationFormatException(fileName, "$.categories", "must be an array.");
                index = 0;
                foreach (var c in cats.EnumerateArray())
                {
                    var path = $"$.categories[{index++}]";
                    long id = Long(c, "id", path, fileName);
                    var name = Text(c, "name", path, fileName);
                    if (!categories.TryAdd(id, name)) throw new AnnotationFormatException(fileName, path + ".id", $"category id {id} is used twice.");
                    labelOrder.Add(name);
                }
            }

            var boxes = images.Select(_ => new List<AnnotationBox>()).ToList();
            index = 0;
            foreach (var a in ArrayOf(root, "annotations", "$", fileName).EnumerateArray())
            {
                var path = $"$.annotations[{index++}]";
                long imageId = Long(a, "image_id", path, fileName);
                if (!byId.TryGetValue(imageId, out int imageIndex)) throw new AnnotationFormatException(fileName, path + ".image_id", $"image {imageId} is not among the images.");
                long categoryId = Long(a, "category_id", path, fileName);
                if (!categories.TryGetValue(categoryId, out var label)) throw new AnnotationFormatException(fileName, path + ".category_id", $"category {categoryId} is not among the categories.");
                if (!a.TryGetProperty("bbox", out var bbox) || bbox.ValueKind != JsonValueKind.Array || bbox.GetArrayLength() != 4)
                {
                    throw new AnnotationFormatException(fileName, path + ".bbox", "expected [x, y, width, height].");
                }

                var v = new float[4];
                for (int k = 0; k < 4; k++)
                {
                    if (bbox[k].ValueKind != JsonValueKind.Number || !float.IsFinite(bbox[k].GetSingle())) throw new AnnotationFormatException(fileName, $"{path}.bbox[{k}]", $"is not a number: {bbox[k].GetRawText()}.");
                    v[k] = bbox[k].GetSingle();
                }

                if (v[2] < 0 || v[3] < 0) throw new AnnotationFormatException(fileName, path + ".bbox", "width and height must not be negative.");
                bool crowd = a.TryGetProperty("iscrowd", out var ic) && ic.ValueKind == JsonValueKind.Number && ic.GetInt32() == 1;
                float? score = a.TryGetProperty("score", out var sc) && sc.ValueKind == JsonValueKind.Number ? sc.GetSingle() : null;
                int track = a.TryGetProperty("track_id", out var tr) && tr.ValueKind == JsonValueKind.Number ? tr.GetInt32()
                    : a.TryGetProperty("attributes", out var at) && at.ValueKind == JsonValueKind.Object && at.TryGetProperty("track_id", out var tr2) && tr2.ValueKind == JsonValueKind.Number ? tr2.GetInt32() : -1;
                boxes[imageIndex].Add(new AnnotationBox(new BoxF(v[0], v[1], v[2], v[3]), label, crowd, track, score));
            }

            return AnnotationSet.Create(images.Select((img, i) => new AnnotatedImage(img.Name, img.Size, boxes[i]) { Frame = img.Frame, Attributes = img.Attributes }), labelOrder);
        }
    }

    /// <summary>
    /// Writes the set as COCO instances JSON (image ids 1..n in set order, category ids 1..n in label order). Every
    /// image needs its size. Scores are written for pre-annotations, so the file doubles as COCO results.
    /// </summary>
    public static string Write(AnnotationSet set, string description = "CinemaVision data set")
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartObject("info");
            w.WriteString("description", description);
            w.WriteString("version", "1.0");
            w.WriteEndObject();
            w.WriteStartArray("licenses");
            w.WriteEndArray();
            w.WriteStartArray("categories");
            for (int i = 0; i < set.Labels.Count; i++)
            {
                w.WriteStartObject();
                w.WriteNumber("id", i + 1);
                w.WriteString("name", set.Labels[i]);
                w.WriteString("supercategory", "");
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("images");
            for (int i = 0; i < set.Images.Count; i++)
            {
                var img = set.Images[i];
                var size = img.RequireSize("COCO");
                w.WriteStartObject();
                w.WriteNumber("id", i + 1);
                w.WriteString("file_name", img.FileName);
                w.WriteNumber("width", size.Width);
                w.WriteNumber("height", size.Height);
                if (img.Frame is { } frame) w.WriteNumber("frame", frame);
                foreach (var (k, v) in img.Attributes.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    if (!ImageKeys.Contains(k) && k != "frame") w.WriteString(k, v);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("annotations");
            int annotationId = 1;
            var categoryOf = set.Labels.Select((l, i) => (l, i)).ToDictionary(p => p.l, p => p.i + 1, StringComparer.Ordinal);
            for (int i = 0; i < set.Images.Count; i++)
            {
                foreach (var b in set.Images[i].Boxes)
                {
                    if (!categoryOf.TryGetValue(b.Label, out int category)) throw new FormatException($"Image {set.Images[i].FileName}: label '{b.Label}' is not in the class list.");
                    w.WriteStartObject();
                    w.WriteNumber("id", annotationId++);
                    w.WriteNumber("image_id", i + 1);
                    w.WriteNumber("category_id", category);
                    w.WriteStartArray("bbox");
                    w.WriteNumberValue(b.Box.X);
                    w.WriteNumberValue(b.Box.Y);
                    w.WriteNumberValue(b.Box.Width);
                    w.WriteNumberValue(b.Box.Height);
                    w.WriteEndArray();
                    w.WriteNumber("area", Math.Round((double)b.Box.Width * b.Box.Height, 2));
                    w.WriteStartArray("segmentation");
                    w.WriteEndArray();
                    w.WriteNumber("iscrowd", b.Ignore ? 1 : 0);
                    if (b.Score is { } s) w.WriteNumber("score", Math.Round(s, 4));
                    w.WriteStartObject("attributes");
                    w.WriteBoolean("occluded", false);
                    if (b.TrackId >= 0) w.WriteNumber("track_id", b.TrackId);
                    w.WriteEndObject();
                    w.WriteEndObject();
                }
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static JsonElement ArrayOf(JsonElement parent, string name, string path, string file) =>
        parent.TryGetProperty(name, out var e) && e.ValueKind == JsonValueKind.Array
            ? e
            : throw new AnnotationFormatException(file, $"{path}.{name}", e.ValueKind == JsonValueKind.Undefined ? "is missing (expected an array)." : "must be an array.");

    private static long Long(JsonElement parent, string name, string path, string file)
    {
        if (!parent.TryGetProperty(name, out var e)) throw new AnnotationFormatException(file, $"{path}.{name}", "is missing.");
        if (e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out var v)) return v;
        if (e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out var d) && d == Math.Floor(d)) return (long)d;
        throw new AnnotationFormatException(file, $"{path}.{name}", $"is not a whole number: {e.GetRawText()}.");
    }

    private static string Text(JsonElement parent, string name, string path, string file) =>
        parent.TryGetProperty(name, out var e) && e.ValueKind == JsonValueKind.String
            ? e.GetString()!
            : throw new AnnotationFormatException(file, $"{path}.{name}", e.ValueKind == JsonValueKind.Undefined ? "is missing." : $"is not a string: {e.GetRawText()}.");
}
