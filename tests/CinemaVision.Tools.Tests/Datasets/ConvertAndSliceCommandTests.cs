using CinemaVision.Core.Datasets;
using CinemaVision.Tools.Datasets;
using CinemaVision.Tools.Tests.Infrastructure;
using OpenCvSharp;

namespace CinemaVision.Tools.Tests.Datasets;

/// <summary>`cvtools convert` and `cvtools slice` on real labelled material, as a data team runs them.</summary>
[Collection("Console")]
public sealed class ConvertAndSliceCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cv-convert-").FullName;

    [Fact]
    public async Task Convert_ClassroomVocToCoco_KeepsAllHeadBoxesAndImageSizes()
    {
        var output = Path.Combine(_dir, "heads.json");
        var (exit, stdout, stderr) = await Cli.RunAsync("convert", "--from", "voc", "--to", "coco", "--input", RealData.Classroom, "--out", output);

        Assert.True(exit == 0, stderr);
        Assert.Contains("885 images, 25442 boxes", stdout, StringComparison.Ordinal);
        var back = AnnotationFiles.Load(AnnotationFormat.Coco, output);
        Assert.Equal(25442, back.BoxCount);
        Assert.All(back.Images, i => Assert.False(i.Size.IsEmpty));
        // The typo label of PartA_01006 is kept as given; eval reads it as a head.
        Assert.Equal(6, back.CountByLabel()["headdddddaaddwddd"]);
    }

    [Fact]
    public async Task Convert_PetsMotWithItsVideo_ToYolo_WritesFramesLabelsAndDataYamlThatLoadBack()
    {
        var output = Path.Combine(_dir, "pets-yolo");
        var (exit, _, stderr) = await Cli.RunAsync("convert", "--from", "mot", "--to", "yolo", "--input", RealData.PetsGroundTruth, "--images", RealData.PetsVideo, "--out", output);

        Assert.True(exit == 0, stderr);
        Assert.Equal(100, Directory.GetFiles(Path.Combine(output, "images"), "*.jpg").Length);
        Assert.True(File.Exists(Path.Combine(output, "data.yaml")));
        var back = AnnotationFiles.Load(AnnotationFormat.Yolo, output);
        Assert.Equal(523, back.BoxCount);
        Assert.Equal(["person"], back.Labels);
        using var frame = Cv2.ImRead(Path.Combine(output, "images", "000001.jpg"));
        Assert.Equal(new Size(768, 576), frame.Size());
    }

    [Fact]
    public async Task Convert_MalformedVoc_ExitsWith2NamingTheFileAndLine_AndWritesNothing()
    {
        var input = Directory.CreateDirectory(Path.Combine(_dir, "bad-voc")).FullName;
        File.WriteAllText(Path.Combine(input, "a.xml"), "<annotation>\n<filename>a.jpg</filename>\n<object><name>head</name>\n<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>oops</xmax><ymax>4</ymax></bndbox></object></annotation>");
        var output = Path.Combine(_dir, "out");
        var (exit, _, stderr) = await Cli.RunAsync("convert", "--from", "voc", "--to", "coco", "--input", input, "--out", output + ".json");

        Assert.Equal(2, exit);
        Assert.Contains("a.xml line 4", stderr, StringComparison.Ordinal);
        Assert.Contains("<xmax>", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(output + ".json"));
    }

    [Fact]
    public async Task Convert_FailingHalfWay_LeavesNoHalfWrittenFolder()
    {
        // VOC files without a size cannot become YOLO (normalised coordinates) without the images: the writer fails
        // after the first image, and neither the output nor its temporary folder remain.
        var input = Directory.CreateDirectory(Path.Combine(_dir, "no-size")).FullName;
        File.WriteAllText(Path.Combine(input, "a.xml"), "<annotation><filename>a.jpg</filename><size><width>10</width><height>10</height></size><object><name>head</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>3</xmax><ymax>4</ymax></bndbox></object></annotation>");
        File.WriteAllText(Path.Combine(input, "b.xml"), "<annotation><filename>b.jpg</filename><object><name>head</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>3</xmax><ymax>4</ymax></bndbox></object></annotation>");
        var parent = Directory.CreateDirectory(Path.Combine(_dir, "outputs")).FullName;
        var (exit, _, stderr) = await Cli.RunAsync("convert", "--from", "voc", "--to", "yolo", "--input", input, "--out", Path.Combine(parent, "yolo"));

        Assert.Equal(2, exit);
        Assert.Contains("b.jpg", stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(parent));
    }

    [Fact]
    public async Task Slice_ClassroomFrames_TwoScales_TilesLoadBackAndCoverEveryHead()
    {
        var subset = RealData.ClassroomSubset(Path.Combine(_dir, "subset"), 8);
        var output = Path.Combine(_dir, "tiles");
        var (exit, stdout, stderr) = await Cli.RunAsync("slice", "--input", subset, "--images", RealData.ClassroomImages, "--sizes", "320,640", "--overlap", "0.25", "--out", output);

        Assert.True(exit == 0, stderr);
        Assert.Contains("320", stdout, StringComparison.Ordinal);
        Assert.Contains("re-assembled:", stdout, StringComparison.Ordinal);

        var original = AnnotationFiles.Load(AnnotationFormat.Voc, subset);
        var tiles = AnnotationFiles.Load(AnnotationFormat.Coco, output);
        var report = DatasetSlicer.Reassemble(original, tiles);
        Assert.True(report.CoversEverything, string.Join("; ", report.Uncovered));
        Assert.Equal(2 * original.Images.Sum(i => i.Boxes.Count(b => !b.IsDegenerate)), report.Boxes);

        // Every tile is a real crop of the right size at the right place.
        Assert.All(tiles.Images, t =>
        {
            var file = Path.Combine(output, "images", t.FileName);
            Assert.Equal(t.Size, DatasetImages.ReadSize(file));
            Assert.True(t.Size.Width <= int.Parse(t.Attributes[DatasetSlicer.ScaleAttribute], System.Globalization.CultureInfo.InvariantCulture));
        });
        var sample = tiles.Images.First(t => t.Boxes.Count > 3);
        using var tile = Cv2.ImRead(Path.Combine(output, "images", sample.FileName));
        using var source = Cv2.ImRead(Path.Combine(RealData.ClassroomImages, sample.Attributes[DatasetSlicer.SourceAttribute]));
        int x = int.Parse(sample.Attributes[DatasetSlicer.OffsetXAttribute], System.Globalization.CultureInfo.InvariantCulture);
        int y = int.Parse(sample.Attributes[DatasetSlicer.OffsetYAttribute], System.Globalization.CultureInfo.InvariantCulture);
        using var crop = new Mat(source, new Rect(x, y, tile.Width, tile.Height));
        using var diff = new Mat();
        Cv2.Absdiff(tile, crop, diff);
        Assert.True(Cv2.Mean(diff).Val0 < 3, $"tile differs from its source region by {Cv2.Mean(diff).Val0}");
    }

    [Fact]
    public async Task Slice_PetsVideoToYolo_LoadsBackWithItsDataYaml()
    {
        var output = Path.Combine(_dir, "pets-tiles");
        var (exit, _, stderr) = await Cli.RunAsync("slice", "--input", RealData.PetsGroundTruth, "--images", RealData.PetsVideo, "--sizes", "256,512", "--format", "yolo", "--out", output);

        Assert.True(exit == 0, stderr);
        var tiles = AnnotationFiles.Load(AnnotationFormat.Yolo, output);
        Assert.Equal(["person"], tiles.Labels);
        var manifest = File.ReadAllLines(Path.Combine(output, "tiles.csv"));
        Assert.Equal(tiles.Images.Count + 1, manifest.Length);
        Assert.Equal(tiles.BoxCount, manifest.Skip(1).Sum(l => int.Parse(l.Split(',')[^1], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.True(tiles.BoxCount > 523, "at two scales every person appears at least once per scale");
    }

    [Fact]
    public async Task Slice_BadSizes_NamesTheOption()
    {
        var (exit, _, stderr) = await Cli.RunAsync("slice", "--input", RealData.PetsGroundTruth, "--images", RealData.PetsVideo, "--sizes", "320,abc", "--out", Path.Combine(_dir, "x"));
        Assert.Equal(2, exit);
        Assert.Contains("--sizes", stderr, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
