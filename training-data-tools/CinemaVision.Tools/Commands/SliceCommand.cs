using System.CommandLine;
using System.Globalization;
using CinemaVision.Core.Datasets;
using CinemaVision.Tools.Datasets;
using Spectre.Console;

namespace CinemaVision.Tools.Commands;

/// <summary><c>cvtools slice --input ANNOTATIONS --images DIR --sizes 320,640 [--overlap R] --out DIR</c>: multi-scale training tiles.</summary>
internal static class SliceCommand
{
    public static Command Create()
    {
        var input = new Option<string>("--input") { Description = "Annotations in any format convert reads (format guessed, or --from).", Required = true };
        var from = new Option<string?>("--from") { Description = "Input format: mot | voc | yolo | coco | cvat | csv." };
        var images = new Option<string>("--images") { Description = "The images (folder, one image, or the video of a MOT sequence).", Required = true };
        var sizes = new Option<string>("--sizes") { Description = "Tile edges in source pixels, one scale each.", DefaultValueFactory = _ => "320,640" };
        var overlap = new Option<float>("--overlap") { Description = "Overlap between neighbouring tiles (share of the edge).", DefaultValueFactory = _ => 0.2f };
        var output = new Option<string>("--out") { Description = "Output folder (images/, annotations.json or labels/ + data.yaml, tiles.csv).", Required = true };
        var format = new Option<string>("--format") { Description = "coco | yolo.", DefaultValueFactory = _ => "coco" };
        var visibility = new Option<float>("--min-visibility") { Description = "A cut box stays a label when at least this share of it is in the tile; smaller slivers become ignore regions.", DefaultValueFactory = _ => 0.3f };
        var empty = new Option<float>("--empty-share") { Description = "Share of tiles with no box that are kept as background examples.", DefaultValueFactory = _ => 0.1f };
        var seed = new Option<int>("--seed") { Description = "Varies which empty tiles are kept (deterministic).", DefaultValueFactory = _ => 0 };
        var labels = new Option<string?>("--labels") { Description = "Class name(s) for MOT/CSV input, or YOLO ids without data.yaml." };
        var command = new Command("slice", """
            Cut high-resolution labelled images into overlapping tiles at several sizes (multi-scale training data).
            Boxes are clipped at tile borders; a cut box keeps its label where at least --min-visibility of it is in
            the tile, a smaller sliver becomes an ignore region (COCO iscrowd; YOLO cannot hold it and leaves it out);
            --empty-share of the empty tiles are kept. Prints counts per scale and checks that the tiles, mapped back
            by their offsets, cover every original box.

            Examples:
              cvtools slice --input data/scut-head-classroom --images data/scut-head-classroom/JPEGImages --sizes 320,640 --out tiles
              cvtools slice --input gt_first100.txt --images vtest_first100.avi --sizes 256,512 --overlap 0.25 --format yolo --out pets-tiles
            """) { input, from, images, sizes, overlap, output, format, visibility, empty, seed, labels };
        command.SetAction(parse => Ui.Guard("slice", () =>
        {
            var console = Ui.Create();
            var inPath = parse.GetValue(input)!;
            var fromFormat = parse.GetValue(from) is { } f ? AnnotationFiles.ParseFormat(f, "--from") : AnnotationFiles.Infer(inPath);
            var outFormat = AnnotationFiles.ParseFormat(parse.GetValue(format)!, "--format");
            var names = parse.GetValue(labels)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var options = new SliceOptions
            {
                Sizes = ParseSizes(parse.GetValue(sizes)!),
                Overlap = parse.GetValue(overlap),
                MinVisibility = parse.GetValue(visibility),
                EmptyShare = parse.GetValue(empty),
                Seed = parse.GetValue(seed),
            };
            var problems = options.Validate().ToList();
            if (problems.Count > 0) throw new ArgumentException(string.Join(" ", problems));
            var set = AnnotationFiles.Load(fromFormat, inPath, parse.GetValue(images), names);
            using var pixels = DatasetImages.Open(parse.GetValue(images)!);
            var result = Ui.Progress(console, "slicing", p => DatasetSlicing.Run(set, pixels, options, outFormat, parse.GetValue(output)!, p));

            var table = Ui.Table("scale", "tiles", "kept", "empty kept", "empty dropped", "labels", "cut", "slivers (ignore)");
            foreach (var s in result.Plan.Scales) table.Row(s.Size, s.Tiles, s.Kept, s.EmptyKept, s.EmptyDropped, s.Labels, s.Clipped, s.Slivers);
            console.Write(table);
            console.WriteLine($"{set.Images.Count} images, {set.BoxCount} boxes -> {result.Plan.Tiles.Count} tiles in {result.Path}");
            console.WriteLine($"re-assembled: {result.Reassembly.Covered} of {result.Reassembly.Boxes} box-scale pairs covered to the pixel");
            foreach (var miss in result.Reassembly.Uncovered.Take(5)) console.WriteLine("not covered: " + miss);
            foreach (var note in result.Notes) console.WriteLine("note: " + note);
            return result.Reassembly.CoversEverything ? 0 : 1;
        }));
        return command;
    }

    internal static int[] ParseSizes(string value) => value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : throw new ArgumentException($"--sizes: '{s}' is not a whole number of pixels."))
        .ToArray();
}
