using System.Globalization;
using System.Text;
using CinemaVision.Core.Datasets;
using OpenCvSharp;

namespace CinemaVision.Tools.Datasets;

/// <summary>What <see cref="DatasetSlicing.Run"/> wrote.</summary>
public sealed record SliceResult(string Path, SlicePlan Plan, ReassemblyReport Reassembly, IReadOnlyList<string> Notes);

/// <summary>
/// Multi-scale training tiles from labelled high-resolution images: plans with Core's <see cref="DatasetSlicer"/>,
/// crops the pixels, and writes COCO (<c>annotations.json</c>, tile source and offset on each image) or YOLO
/// (<c>labels/</c>, <c>data.yaml</c>) with <c>images/</c> and a <c>tiles.csv</c> manifest, staged and moved into
/// place when complete. The C# entry point for training code; <c>cvtools slice</c> is its command.
/// </summary>
public static class DatasetSlicing
{
    public static SliceResult Run(AnnotationSet set, DatasetImages images, SliceOptions options, AnnotationFormat format, string output, IProgress<(int Done, int Total)>? progress = null)
    {
        if (format is not (AnnotationFormat.Coco or AnnotationFormat.Yolo)) throw new ArgumentException($"slice writes coco or yolo (was {AnnotationFiles.Name(format)}).");
        set = AnnotationFiles.FillSizes(set, images);
        var plan = DatasetSlicer.Plan(set, options);
        var tiles = plan.ToAnnotationSet();
        var reassembly = DatasetSlicer.Reassemble(set, tiles);
        var notes = new List<string>();
        if (plan.DegenerateSkipped > 0) notes.Add($"{plan.DegenerateSkipped} box(es) with zero width or height skipped.");

        using var staged = StagedOutput.Folder(output);
        var imageDir = Path.Combine(staged.Path, "images");
        Directory.CreateDirectory(imageDir);
        var bySource = plan.Tiles.GroupBy(t => (t.SourceFile, t.SourceFrame)).ToList();
        int done = 0;
        foreach (var group in bySource)
        {
            var image = set.Images.First(i => i.FileName == group.Key.SourceFile && i.Frame == group.Key.SourceFrame);
            var mat = images.Read(image, out bool owns);
            try
            {
                foreach (var tile in group)
                {
                    using var crop = new Mat(mat, new Rect(tile.Region.X, tile.Region.Y, tile.Region.Width, tile.Region.Height));
                    if (!Cv2.ImWrite(Path.Combine(imageDir, tile.FileName), crop, [(int)ImwriteFlags.JpegQuality, 95])) throw new IOException($"Cannot write tile {tile.FileName}.");
                }
            }
            finally
            {
                if (owns) mat.Dispose();
            }

            progress?.Report((++done, bySource.Count));
        }

        AnnotationFiles.WriteFolder(tiles, format, staged.Path, images: null, notes);
        var manifest = new StringBuilder("file,source,frame,scale,x,y,width,height,labels\n");
        foreach (var t in plan.Tiles)
        {
            manifest.Append(CultureInfo.InvariantCulture, $"{t.FileName},{t.SourceFile},{t.SourceFrame?.ToString(CultureInfo.InvariantCulture) ?? ""},{t.Size},{t.Region.X},{t.Region.Y},{t.Region.Width},{t.Region.Height},{t.Boxes.Count(b => !b.Ignore)}\n");
        }

        File.WriteAllText(Path.Combine(staged.Path, "tiles.csv"), manifest.ToString());
        staged.Commit();
        return new SliceResult(Path.GetFullPath(output), plan, reassembly, notes);
    }
}
