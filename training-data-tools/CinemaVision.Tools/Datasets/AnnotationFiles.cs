using CinemaVision.Core.Datasets;

namespace CinemaVision.Tools.Datasets;

/// <summary>The annotation formats cvtools reads and writes.</summary>
public enum AnnotationFormat
{
    Mot,
    Voc,
    Yolo,
    Coco,
    Cvat,
    Csv,
}

/// <summary>What a written data set holds, and what the format could not keep.</summary>
public sealed record WriteSummary(string Path, int Images, int Boxes, IReadOnlyList<string> Notes);

/// <summary>
/// The file layouts of each format on disk, over the one annotation model (<see cref="AnnotationSet"/>) and its
/// readers and writers in Core: a MOT <c>gt.txt</c> (with <c>seqinfo.ini</c>), a VOC folder (or VOC root with
/// <c>Annotations/</c>), a YOLO folder (<c>labels/</c>, <c>images/</c>, <c>data.yaml</c>, <c>classes.txt</c>), a COCO
/// JSON, a CVAT 1.1 XML, a corner CSV for one image. Image sizes the labels do not carry come from the images.
/// </summary>
public static class AnnotationFiles
{
    private static readonly string[] NamesFiles = ["classes.txt", "obj.names"];

    public static AnnotationFormat ParseFormat(string value, string option = "--from") => value.Trim().ToLowerInvariant() switch
    {
        "mot" => AnnotationFormat.Mot,
        "voc" or "pascal" or "pascal-voc" => AnnotationFormat.Voc,
        "yolo" => AnnotationFormat.Yolo,
        "coco" => AnnotationFormat.Coco,
        "cvat" or "cvat-xml" => AnnotationFormat.Cvat,
        "csv" => AnnotationFormat.Csv,
        _ => throw new ArgumentException($"{option} must be mot, voc, yolo, coco, cvat or csv (was '{value}')."),
    };

    public static string Name(AnnotationFormat f) => f.ToString().ToLowerInvariant();

    /// <summary>Guesses the format of an annotation path from its layout and first bytes.</summary>
    public static AnnotationFormat Infer(string path)
    {
        if (Directory.Exists(path))
        {
            if (Directory.Exists(Path.Combine(path, "Annotations")) || Directory.EnumerateFiles(path, "*.xml").Any()) return AnnotationFormat.Voc;
            if (File.Exists(Path.Combine(path, "gt", "gt.txt"))) return AnnotationFormat.Mot;
            if (File.Exists(Path.Combine(path, "annotations.json"))) return AnnotationFormat.Coco;
            return AnnotationFormat.Yolo;
        }

        if (!File.Exists(path)) throw new FileNotFoundException($"Annotations {path} do not exist.", path);
        switch (Path.GetExtension(path).ToLowerInvariant())
        {
            case ".json": return AnnotationFormat.Coco;
            case ".csv": return AnnotationFormat.Csv;
            case ".yaml" or ".yml": return AnnotationFormat.Yolo;
            case ".xml":
                using (var reader = System.Xml.XmlReader.Create(path))
                {
                    reader.MoveToContent();
                    return reader.LocalName == "annotations" ? AnnotationFormat.Cvat : AnnotationFormat.Voc;
                }
        }

        var first = File.ReadLines(path).FirstOrDefault(l => l.Trim().Length > 0 && !l.TrimStart().StartsWith('#')) ?? "";
        return first.Count(c => c == ',') >= 5 ? AnnotationFormat.Mot : AnnotationFormat.Yolo;
    }

    /// <summary>
    /// Loads annotations. <paramref name="images"/> (a folder, an image or a video) supplies sizes the labels do not
    /// carry (YOLO always, MOT without seqinfo.ini). <paramref name="labels"/> names the class of a MOT or CSV file
    /// (first entry) or the YOLO class ids when there is no data.yaml or classes.txt.
    /// </summary>
    public static AnnotationSet Load(AnnotationFormat format, string input, string? images = null, IReadOnlyList<string>? labels = null)
    {
        using var pixels = images is null ? null : DatasetImages.Open(images);
        var set = format switch
        {
            AnnotationFormat.Mot => LoadMot(input, labels),
            AnnotationFormat.Voc => LoadVoc(input),
            AnnotationFormat.Yolo => LoadYolo(input, pixels, labels),
            AnnotationFormat.Coco => CocoFormat.Read(File.ReadAllText(CocoFile(input)), CocoFile(input)),
            AnnotationFormat.Cvat => CvatFormat.Read(File.ReadAllText(InFolder(input, "annotations.xml")), InFolder(input, "annotations.xml")),
            AnnotationFormat.Csv => LoadCsv(input, pixels, labels),
            _ => throw new ArgumentOutOfRangeException(nameof(format)),
        };
        return pixels is null ? set : FillSizes(set, pixels);
    }

    /// <summary>Gives every image without a recorded size the size of its pixels.</summary>
    public static AnnotationSet FillSizes(AnnotationSet set, DatasetImages pixels)
    {
        if (set.Images.All(i => !i.Size.IsEmpty)) return set;
        var images = set.Images.Select(i => i.Size.IsEmpty && pixels.SizeOf(i) is { } s ? i with { Size = s } : i).ToList();
        return set with { Images = images };
    }

    private static AnnotationSet LoadMot(string input, IReadOnlyList<string>? labels)
    {
        var file = Directory.Exists(input) ? Path.Combine(input, "gt", "gt.txt") : input;
        if (!File.Exists(file)) throw new FileNotFoundException($"MOT ground truth {file} does not exist.", file);
        MotSequenceInfo? info = null;
        var dir = Path.GetDirectoryName(Path.GetFullPath(file))!;
        foreach (var candidate in new[] { Path.Combine(dir, "seqinfo.ini"), Path.Combine(Path.GetDirectoryName(dir) ?? dir, "seqinfo.ini") })
        {
            if (File.Exists(candidate))
            {
                info = MotFormat.ReadSequenceInfo(File.ReadAllText(candidate), candidate);
                break;
            }
        }

        return MotFormat.Read(File.ReadAllText(file), file, labels is { Count: > 0 } l ? l[0] : "person", info);
    }

    private static AnnotationSet LoadVoc(string input)
    {
        if (File.Exists(input)) return AnnotationSet.Create([VocFormat.Read(File.ReadAllText(input), input)]);
        var dir = Directory.Exists(Path.Combine(input, "Annotations")) ? Path.Combine(input, "Annotations") : input;
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"VOC annotation folder {input} does not exist.");
        var files = Directory.GetFiles(dir, "*.xml").Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new FileNotFoundException($"VOC annotation folder {dir} holds no .xml files.");
        return AnnotationSet.Create(files.Select(f => VocFormat.Read(File.ReadAllText(f), f)));
    }

    private static string InFolder(string input, string name) => Directory.Exists(input) ? Path.Combine(input, name) : input;

    private static string CocoFile(string input)
    {
        if (File.Exists(input)) return input;
        if (Directory.Exists(input))
        {
            var named = Path.Combine(input, "annotations.json");
            if (File.Exists(named)) return named;
            var json = Directory.GetFiles(input, "*.json");
            if (json.Length == 1) return json[0];
        }

        throw new FileNotFoundException($"COCO annotations {input} do not exist (a .json file, or a folder with annotations.json).", input);
    }

    private static AnnotationSet LoadCsv(string input, DatasetImages? pixels, IReadOnlyList<string>? labels)
    {
        var label = labels is { Count: > 0 } l ? l[0] : "person";
        var boxes = CornerCsvFormat.Read(File.ReadAllText(input), input, label);
        var image = pixels?.Files.Count == 1 ? Path.GetFileName(pixels.Files.First()) : Path.GetFileNameWithoutExtension(input) + ".jpg";
        return AnnotationSet.Create([new AnnotatedImage(image, default, boxes)], [label]);
    }

    private static AnnotationSet LoadYolo(string input, DatasetImages? pixels, IReadOnlyList<string>? labels)
    {
        // Where the label files, the names and the images are, for each accepted layout.
        string? yaml = null;
        string? labelDir = null;
        string? singleFile = null;
        string? root = null;
        if (File.Exists(input) && Path.GetExtension(input).ToLowerInvariant() is ".yaml" or ".yml")
        {
            yaml = input;
            root = Path.GetDirectoryName(Path.GetFullPath(input));
        }
        else if (File.Exists(input))
        {
            singleFile = input;
        }
        else if (Directory.Exists(input))
        {
            root = input;
            if (File.Exists(Path.Combine(input, "data.yaml"))) yaml = Path.Combine(input, "data.yaml");
            labelDir = Directory.Exists(Path.Combine(input, "labels")) ? Path.Combine(input, "labels") : input;
        }
        else
        {
            throw new FileNotFoundException($"YOLO annotations {input} do not exist.", input);
        }

        YoloDataYaml? data = yaml is null ? null : YoloFormat.ReadDataYaml(File.ReadAllText(yaml), yaml);
        if (data is not null && labelDir is null)
        {
            var basePath = data.Path is { } p ? (Path.IsPathRooted(p) ? p : Path.Combine(root!, p)) : root!;
            var train = data.Train is { } t ? (Path.IsPathRooted(t) ? t : Path.Combine(basePath, t)) : Path.Combine(basePath, "images");
            labelDir = LabelsFor(train);
            pixels ??= Directory.Exists(train) ? DatasetImages.Open(train) : null;
        }

        List<string>? names = data?.Names.ToList();
        if (names is null)
        {
            foreach (var dir in new[] { labelDir, root, singleFile is null ? null : Path.GetDirectoryName(Path.GetFullPath(singleFile)) }.OfType<string>())
            {
                var namesFile = NamesFiles.Select(n => Path.Combine(dir, n)).FirstOrDefault(File.Exists);
                if (namesFile is not null)
                {
                    names = YoloFormat.ReadNamesFile(File.ReadAllText(namesFile));
                    break;
                }
            }
        }

        names ??= labels?.ToList();
        if (names is null || names.Count == 0) throw new ArgumentException($"YOLO labels {input} have no class names: give a data.yaml, a classes.txt or --labels NAME[,NAME...].");

        if (pixels is null && root is not null && Directory.Exists(Path.Combine(root, "images"))) pixels = DatasetImages.Open(Path.Combine(root, "images"));
        if (pixels is null) throw new ArgumentException($"YOLO labels {input} are normalised to the image size: give the images with --images.");

        var images = new List<AnnotatedImage>();
        if (singleFile is not null)
        {
            var imageFile = pixels.FileOf(YoloFormat.FileNameFor(singleFile)) ?? (pixels.Files.Count == 1 ? pixels.Files.First() : null)
                ?? throw new FileNotFoundException($"No image for {singleFile} in {pixels.Root}.");
            var size = DatasetImages.ReadSize(imageFile);
            images.Add(new AnnotatedImage(Path.GetFileName(imageFile), size, YoloFormat.ReadLabels(File.ReadAllText(singleFile), singleFile, size, names)));
            return AnnotationSet.Create(images, names);
        }

        // Every image of the folder (an image without a label file is an empty image), and every label file
        // (a video's frames have no files: their names come from the labels).
        var imageNames = pixels.Files.Select(Path.GetFileName).OfType<string>().ToList();
        var stems = imageNames.Select(Path.GetFileNameWithoutExtension).ToHashSet(StringComparer.Ordinal);
        if (Directory.Exists(labelDir))
        {
            imageNames.AddRange(Directory.GetFiles(labelDir, "*.txt").Select(Path.GetFileNameWithoutExtension).OfType<string>()
                .Where(stem => stem is not ("classes" or "obj") && !stems.Contains(stem)).Select(stem => stem + ".jpg"));
        }

        if (imageNames.Count == 0) throw new FileNotFoundException($"No images and no label files for the YOLO set {input}.");
        foreach (var name in imageNames.Order(StringComparer.Ordinal))
        {
            var image = new AnnotatedImage(name, default, []);
            var size = pixels.SizeOf(image) ?? throw new FileNotFoundException($"No image for the YOLO labels of {name} in {pixels.Root}.");
            var labelFile = Path.Combine(labelDir!, YoloFormat.FileNameFor(name));
            var boxes = File.Exists(labelFile) ? YoloFormat.ReadLabels(File.ReadAllText(labelFile), labelFile, size, names) : [];
            images.Add(image with { Size = size, Boxes = boxes });
        }

        return AnnotationSet.Create(images, names);
    }

    /// <summary>Ultralytics' rule: the labels of <c>.../images/...</c> are in <c>.../labels/...</c>.</summary>
    private static string LabelsFor(string imagesDir)
    {
        var full = Path.GetFullPath(imagesDir).TrimEnd(Path.DirectorySeparatorChar);
        var sep = Path.DirectorySeparatorChar;
        int i = full.LastIndexOf($"{sep}images", StringComparison.Ordinal);
        return i >= 0 ? full[..i] + $"{sep}labels" + full[(i + 7)..] : Path.Combine(Path.GetDirectoryName(full)!, "labels");
    }

    /// <summary>
    /// Writes the set in a format at <paramref name="output"/> (staged, moved into place when complete). A path
    /// ending in .json (COCO), .xml (CVAT) or .txt (MOT) is one file; otherwise a folder in the format's layout,
    /// with the images copied in when <paramref name="images"/> is given.
    /// </summary>
    public static WriteSummary Save(AnnotationSet set, AnnotationFormat format, string output, DatasetImages? images = null, IProgress<int>? progress = null)
    {
        var notes = new List<string>();
        var ext = Path.GetExtension(output).ToLowerInvariant();
        bool single = format switch
        {
            AnnotationFormat.Coco => ext == ".json",
            AnnotationFormat.Cvat => ext == ".xml",
            AnnotationFormat.Mot => ext == ".txt",
            AnnotationFormat.Csv => throw new ArgumentException("csv is an input format only; write coco, yolo, voc, mot or cvat."),
            _ => false,
        };
        if (single)
        {
            using var staged = StagedOutput.File(output);
            File.WriteAllText(staged.Path, format switch
            {
                AnnotationFormat.Coco => CocoFormat.Write(set),
                AnnotationFormat.Cvat => CvatFormat.Write(set),
                _ => MotFormat.Write(set, notes),
            });
            staged.Commit();
            return new WriteSummary(Path.GetFullPath(output), set.Images.Count, set.BoxCount, notes);
        }

        using (var staged = StagedOutput.Folder(output))
        {
            WriteFolder(set, format, staged.Path, images, notes, progress);
            staged.Commit();
        }

        return new WriteSummary(Path.GetFullPath(output), set.Images.Count, set.BoxCount, notes);
    }

    /// <summary>Writes the format's folder layout into <paramref name="dir"/> (already created).</summary>
    public static void WriteFolder(AnnotationSet set, AnnotationFormat format, string dir, DatasetImages? images, List<string> notes, IProgress<int>? progress = null)
    {
        string imageDir = format switch
        {
            AnnotationFormat.Voc => Path.Combine(dir, "JPEGImages"),
            AnnotationFormat.Mot => Path.Combine(dir, "img1"),
            _ => Path.Combine(dir, "images"),
        };
        switch (format)
        {
            case AnnotationFormat.Coco:
                File.WriteAllText(Path.Combine(dir, "annotations.json"), CocoFormat.Write(set));
                break;
            case AnnotationFormat.Cvat:
                File.WriteAllText(Path.Combine(dir, "annotations.xml"), CvatFormat.Write(set));
                break;
            case AnnotationFormat.Voc:
                Directory.CreateDirectory(Path.Combine(dir, "Annotations"));
                foreach (var img in set.Images) File.WriteAllText(Path.Combine(dir, "Annotations", VocFormat.FileNameFor(img)), VocFormat.Write(img));
                break;
            case AnnotationFormat.Yolo:
                Directory.CreateDirectory(Path.Combine(dir, "labels"));
                YoloFormat.Describe(set, notes);
                foreach (var img in set.Images) File.WriteAllText(Path.Combine(dir, "labels", YoloFormat.FileNameFor(img.FileName)), YoloFormat.WriteLabels(img, set.Labels));
                File.WriteAllText(Path.Combine(dir, "data.yaml"), YoloFormat.WriteDataYaml(set.Labels));
                File.WriteAllText(Path.Combine(dir, "classes.txt"), string.Join("\n", set.Labels) + "\n");
                break;
            case AnnotationFormat.Mot:
                Directory.CreateDirectory(Path.Combine(dir, "gt"));
                File.WriteAllText(Path.Combine(dir, "gt", "gt.txt"), MotFormat.Write(set, notes));
                if (set.Images.Select(i => i.Size).Distinct().ToList() is [{ IsEmpty: false } size])
                {
                    File.WriteAllText(Path.Combine(dir, "seqinfo.ini"), FormattableString.Invariant(
                        $"[Sequence]\nname={Path.GetFileName(dir)}\nimDir=img1\nframeRate=0\nseqLength={set.Images.Select((i, k) => MotFormat.FrameOf(i, k)).DefaultIfEmpty(0).Max()}\nimWidth={size.Width}\nimHeight={size.Height}\nimExt=.jpg\n"));
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(format));
        }

        if (images is null) return;
        Directory.CreateDirectory(imageDir);
        int done = 0;
        for (int i = 0; i < set.Images.Count; i++)
        {
            var img = set.Images[i];
            var name = format == AnnotationFormat.Mot ? MotFormat.FrameFileName(MotFormat.FrameOf(img, i)) : img.FileName;
            images.CopyTo(img, Path.Combine(imageDir, name));
            progress?.Report(++done);
        }
    }
}
