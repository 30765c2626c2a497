using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CinemaVision.Core.Datasets;
using CinemaVision.Core.Detections;
using CinemaVision.Core.Geometry;
using CinemaVision.Tools.Datasets;
using CinemaVision.Vision.Detectors;
using CinemaVision.Vision.Imaging;
using OpenCvSharp;

namespace CinemaVision.Tools.Export;

/// <summary>What an export writes and with which model.</summary>
public sealed record ExportOptions
{
    /// <summary>The classes written as pre-annotations (the detector's other classes are left out).</summary>
    public IReadOnlyList<ObjectClass> Classes { get; init; } = [ObjectClass.Person];

    /// <summary>Formats written side by side: yolo, coco, cvat (and the Label Studio tasks).</summary>
    public IReadOnlyList<AnnotationFormat> Formats { get; init; } = [AnnotationFormat.Yolo, AnnotationFormat.Coco, AnnotationFormat.Cvat];

    /// <summary>Blur faces outside the labelled boxes (UltraFace).</summary>
    public bool BlurFaces { get; init; }

    public string FaceModel { get; init; } = "ultraface_rfb_320";

    /// <summary>Prefix of the image URLs in the Label Studio tasks.</summary>
    public string LabelStudioImagePrefix { get; init; } = "/data/local-files/?d=images/";

    public int JpegQuality { get; init; } = 95;
}

/// <summary>What an export wrote.</summary>
public sealed record ExportResult(string Path, int Images, int Boxes, int FacesBlurred, IReadOnlyDictionary<string, int> BoxesByLabel);

/// <summary>
/// Writes a labelling data set from frames: each frame's detections by the current model become pre-annotations
/// (YOLO images/labels + data.yaml, COCO JSON, CVAT 1.1 XML, Label Studio tasks with predictions), faces outside
/// the labelled boxes are blurred on request, and <c>manifest.json</c> records each image's source, time, camera,
/// model and version, and the tile offsets the model ran on. Staged: nothing appears until the set is complete.
/// </summary>
public sealed class DatasetExporter(TiledDetector detector, TiledDetector? faces, ExportOptions options)
{
    public ExportResult Run(IExportSource source, string output, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        using var staged = StagedOutput.Folder(output);
        var imageDir = Directory.CreateDirectory(Path.Combine(staged.Path, "images")).FullName;
        var images = new List<AnnotatedImage>();
        var manifest = new JsonArray();
        var names = new HashSet<string>(StringComparer.Ordinal);
        int blurredTotal = 0, done = 0;
        var info = detector.Info;
        foreach (var frame in source.Frames(cancellationToken))
        {
            var name = Unique(frame.FileName, names);
            var size = new SizeI(frame.Image.Width, frame.Image.Height);
            var found = detector.Detect(frame.Image, cancellationToken).Where(d => options.Classes.Contains(d.Class)).ToList();
            var boxes = found.Select(d => new AnnotationBox(d.Box.ClipTo(size.Width, size.Height), ObjectClassNames.ToLabel(d.Class), Score: d.Score)).Where(b => !b.Box.IsEmpty).ToList();
            int blurred = 0;
            if (faces is not null)
            {
                using var copy = frame.Image.Clone();
                blurred = FaceBlur.BlurOutside(copy, faces.Detect(frame.Image, cancellationToken).Where(d => d.Class == ObjectClass.Face).ToList(), boxes.Select(b => b.Box).ToList());
                Write(copy, Path.Combine(imageDir, name));
            }
            else
            {
                Write(frame.Image, Path.Combine(imageDir, name));
            }

            blurredTotal += blurred;
            var p = frame.Provenance;
            var attributes = new Dictionary<string, string>(StringComparer.Ordinal) { ["source"] = p.Source };
            if (p.Time is { } t) attributes["time"] = t.ToString("O", CultureInfo.InvariantCulture);
            if (p.Camera is { } c) attributes["camera"] = c;
            if (p.Auditorium is { } a) attributes["auditorium"] = a;
            images.Add(new AnnotatedImage(name, size, boxes) { Attributes = attributes });
            var tiles = detector.PlanFor(size).Tiles;
            manifest.Add(new JsonObject
            {
                ["file"] = "images/" + name,
                ["source"] = p.Source,
                ["frame"] = p.Frame,
                ["time"] = p.Time?.ToString("O", CultureInfo.InvariantCulture),
                ["site"] = p.Site,
                ["auditorium"] = p.Auditorium,
                ["camera"] = p.Camera,
                ["kind"] = p.Kind,
                ["uncertainty"] = p.Uncertainty,
                ["captured_with"] = p.CapturedWith,
                ["width"] = size.Width,
                ["height"] = size.Height,
                ["model"] = info.ModelName,
                ["model_version"] = info.ModelVersion,
                ["tiling"] = detector.Options.Tiling.ToString().ToLowerInvariant(),
                ["tiles"] = new JsonArray([.. tiles.Select(tile => (JsonNode)new JsonArray(tile.Region.X, tile.Region.Y, tile.Region.Width, tile.Region.Height))]),
                ["pre_annotations"] = boxes.Count,
                ["faces_blurred"] = faces is null ? null : blurred,
            });
            progress?.Report(++done);
        }

        if (images.Count == 0) throw new InvalidDataException($"No frames to export from {source.Describe()}.");
        var set = AnnotationSet.Create(images, options.Classes.Select(ObjectClassNames.ToLabel));
        var notes = new List<string>();
        foreach (var format in options.Formats)
        {
            switch (format)
            {
                case AnnotationFormat.Yolo:
                    AnnotationFiles.WriteFolder(set, AnnotationFormat.Yolo, staged.Path, null, notes);
                    break;
                case AnnotationFormat.Coco:
                    File.WriteAllText(Path.Combine(staged.Path, "annotations.json"), CocoFormat.Write(set, $"CinemaVision export, pre-annotations by {info.ModelName} {info.ModelVersion}"));
                    break;
                case AnnotationFormat.Cvat:
                    File.WriteAllText(Path.Combine(staged.Path, "annotations.xml"), CvatFormat.Write(set, $"CinemaVision export ({info.ModelName} {info.ModelVersion})"));
                    break;
                default:
                    throw new ArgumentException($"export writes yolo, coco and cvat (not {AnnotationFiles.Name(format)}).");
            }
        }

        File.WriteAllText(Path.Combine(staged.Path, "label-studio.json"), LabelStudioFormat.WriteTasks(set, options.LabelStudioImagePrefix, $"{info.ModelName} {info.ModelVersion}"));
        File.WriteAllText(Path.Combine(staged.Path, "label-studio.xml"), LabelStudioFormat.WriteLabelingConfig(set.Labels));
        var root = new JsonObject
        {
            ["created"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
            ["source"] = source.Describe(),
            ["model"] = info.ModelName,
            ["model_version"] = info.ModelVersion,
            ["classes"] = new JsonArray([.. set.Labels.Select(l => (JsonNode)l)]),
            ["faces_blurred"] = options.BlurFaces,
            ["images"] = manifest,
        };
        File.WriteAllText(Path.Combine(staged.Path, "manifest.json"), root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        staged.Commit();
        return new ExportResult(Path.GetFullPath(output), set.Images.Count, set.BoxCount, blurredTotal, set.CountByLabel());
    }

    private void Write(Mat image, string path)
    {
        if (!Cv2.ImWrite(path, image, [(int)ImwriteFlags.JpegQuality, options.JpegQuality])) throw new IOException($"Cannot write {path}.");
    }

    private static string Unique(string name, HashSet<string> taken)
    {
        var candidate = name;
        for (int i = 2; !taken.Add(candidate); i++) candidate = $"{Path.GetFileNameWithoutExtension(name)}_{i}{Path.GetExtension(name)}";
        return candidate;
    }
}
