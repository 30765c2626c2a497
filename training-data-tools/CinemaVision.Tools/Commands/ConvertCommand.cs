using System.CommandLine;
using CinemaVision.Core.Datasets;
using CinemaVision.Tools.Datasets;
using Spectre.Console;

namespace CinemaVision.Tools.Commands;

/// <summary><c>cvtools convert --from F --to F --input PATH [--images DIR] --out PATH</c>: annotations between formats, every box kept to the pixel.</summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var from = new Option<string?>("--from") { Description = "Input format: mot | voc | yolo | coco | cvat | csv (default: guessed from the input)." };
        var to = new Option<string>("--to") { Description = "Output format: mot | voc | yolo | coco | cvat.", Required = true };
        var input = new Option<string>("--input") { Description = "Annotations: MOT gt.txt, VOC folder, YOLO folder or data.yaml, COCO .json, CVAT .xml, corner .csv.", Required = true };
        var images = new Option<string?>("--images") { Description = "The images (folder, one image, or the video of a MOT sequence): sizes for YOLO and MOT, and copied into a folder output." };
        var output = new Option<string>("--out") { Description = "Output: a .json (coco), .xml (cvat) or .txt (mot) file, or a folder in the format's layout.", Required = true };
        var labels = new Option<string?>("--labels") { Description = "Class name(s), comma-separated: the class of a MOT or CSV file, or the YOLO class ids when there is no data.yaml or classes.txt." };
        var command = new Command("convert", """
            Convert annotations between MOT, Pascal VOC, YOLO, COCO and CVAT 1.1 XML (and corner CSV in).
            Boxes keep their pixel coordinates as given (no 0/1-based shift); YOLO is written with 6 decimals.
            What a format cannot hold (YOLO: ignore regions; MOT: several classes) is reported, never silent.

            Examples:
              cvtools convert --from voc --to coco --input data/scut-head-classroom --out heads.json
              cvtools convert --from mot --to yolo --input gt_first100.txt --images vtest_first100.avi --out pets-yolo
              cvtools convert --from yolo --to cvat --input faces.yolo.txt --images solvay.png --labels face --out faces.xml
            """) { from, to, input, images, output, labels };
        command.SetAction(parse => Ui.Guard("convert", () =>
        {
            var console = Ui.Create();
            var inPath = parse.GetValue(input)!;
            var fromFormat = parse.GetValue(from) is { } f ? AnnotationFiles.ParseFormat(f, "--from") : AnnotationFiles.Infer(inPath);
            var toFormat = AnnotationFiles.ParseFormat(parse.GetValue(to)!, "--to");
            var names = parse.GetValue(labels)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var imagesPath = parse.GetValue(images);
            var set = AnnotationFiles.Load(fromFormat, inPath, imagesPath, names);
            using var pixels = imagesPath is null ? null : DatasetImages.Open(imagesPath);
            var summary = Ui.Progress(console, "copying images", p => AnnotationFiles.Save(set, toFormat, parse.GetValue(output)!, pixels, new Progress<int>(n => p.Report((n, set.Images.Count)))));
            var table = Ui.Table("label", "boxes", "ignore");
            foreach (var (label, count) in set.CountByLabel()) table.Row(label, count, set.Images.Sum(i => i.Boxes.Count(b => b.Label == label && b.Ignore)));
            console.Write(table);
            console.WriteLine($"{AnnotationFiles.Name(fromFormat)} -> {AnnotationFiles.Name(toFormat)}: {summary.Images} images, {summary.Boxes} boxes written to {summary.Path}");
            foreach (var note in summary.Notes) console.WriteLine("note: " + note);
            return 0;
        }));
        return command;
    }
}
