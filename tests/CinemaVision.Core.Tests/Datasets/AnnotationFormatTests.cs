using CinemaVision.Core.Datasets;
using CinemaVision.Core.Geometry;

namespace CinemaVision.Core.Tests.Datasets;

public class AnnotationFormatTests
{
    private static AnnotationSet Sample() => AnnotationSet.Create(
    [
        new AnnotatedImage("a.jpg", new SizeI(1070, 594),
        [
            new AnnotationBox(new BoxF(64, 222, 43, 49), "head"),
            new AnnotationBox(new BoxF(499.5f, 158.25f, 31.03f, 75.17f), "person", TrackId: 9),
            new AnnotationBox(new BoxF(10, 10, 100, 50), "head", Ignore: true),
        ]),
        new AnnotatedImage("b.png", new SizeI(640, 480), []),
    ]);

    [Fact]
    public void Coco_WriteThenRead_KeepsBoxesLabelsIgnoreTracksAndEmptyImages()
    {
        var set = Sample();
        var back = CocoFormat.Read(CocoFormat.Write(set), "x.json");

        Assert.Equal(set.Labels, back.Labels);
        Assert.Equal(2, back.Images.Count);
        Assert.Equal(set.Images[0].Boxes, back.Images[0].Boxes);
        Assert.Empty(back.Images[1].Boxes);
        Assert.Equal(new SizeI(640, 480), back.Images[1].Size);
    }

    [Fact]
    public void Voc_WriteThenRead_KeepsCornersAsGiven()
    {
        var image = Sample().Images[0];
        var back = VocFormat.Read(VocFormat.Write(image), "a.xml");

        Assert.Equal(image.Size, back.Size);
        for (int i = 0; i < image.Boxes.Count; i++)
        {
            Assert.Equal(image.Boxes[i].Label, back.Boxes[i].Label);
            Assert.Equal(image.Boxes[i].Ignore, back.Boxes[i].Ignore);
            AssertClose(image.Boxes[i].Box, back.Boxes[i].Box, 0.0001f);
        }
    }

    [Fact]
    public void Cvat_WriteThenRead_KeepsBoxesAndTheIgnoreAttribute()
    {
        var set = Sample();
        var xml = CvatFormat.Write(set);
        var back = CvatFormat.Read(xml, "x.xml");

        Assert.Contains("<version>1.1</version>", xml, StringComparison.Ordinal);
        Assert.Equal(set.Labels, back.Labels);
        Assert.True(back.Images[0].Boxes[2].Ignore);
        AssertClose(set.Images[0].Boxes[1].Box, back.Images[0].Boxes[1].Box, 0.0001f);
    }

    [Fact]
    public void Yolo_WriteThenRead_WithinAHundredthOfAPixel_AndDropsIgnoreRegionsWithANote()
    {
        var set = Sample();
        var notes = new List<string>();
        YoloFormat.Describe(set, notes);
        var text = YoloFormat.WriteLabels(set.Images[0], set.Labels);
        var back = YoloFormat.ReadLabels(text, "a.txt", set.Images[0].Size, set.Labels);

        Assert.Equal(2, back.Count);
        AssertClose(set.Images[0].Boxes[0].Box, back[0].Box, 0.01f);
        AssertClose(set.Images[0].Boxes[1].Box, back[1].Box, 0.01f);
        Assert.Contains("ignore", Assert.Single(notes), StringComparison.Ordinal);
    }

    [Fact]
    public void Mot_WriteThenRead_KeepsFramesTracksAndIgnoreFlags()
    {
        var set = AnnotationSet.Create([new AnnotatedImage("000007.jpg", new SizeI(768, 576), [new AnnotationBox(new BoxF(499, 158, 31.03f, 75.17f), "person", TrackId: 9), new AnnotationBox(new BoxF(1, 2, 3, 4), "person", Ignore: true)])]);
        var back = MotFormat.Read(MotFormat.Write(set), "gt.txt");

        var image = Assert.Single(back.Images);
        Assert.Equal(7, image.Frame);
        Assert.Equal(set.Images[0].Boxes, image.Boxes);
    }

    [Fact]
    public void Mot_SeveralClasses_AreNotedNotSilentlyMerged()
    {
        var notes = new List<string>();
        MotFormat.Write(Sample(), notes);
        Assert.Contains("one class", Assert.Single(notes), StringComparison.Ordinal);
    }

    [Fact]
    public void Coco_BadBox_ErrorNamesTheFileAndJsonPath()
    {
        const string json = """
            {"images":[{"id":1,"file_name":"a.jpg","width":10,"height":10}],"categories":[{"id":1,"name":"head"}],
             "annotations":[{"image_id":1,"category_id":1,"bbox":[1,2,3,4]},{"image_id":1,"category_id":1,"bbox":[1,2,"x",4]}]}
            """;
        var ex = Assert.Throws<AnnotationFormatException>(() => CocoFormat.Read(json, "heads.json"));
        Assert.Equal("heads.json $.annotations[1].bbox[2]: is not a number: \"x\".", ex.Message);
    }

    [Fact]
    public void Coco_UnknownCategory_ErrorNamesThePath()
    {
        const string json = """{"images":[{"id":1,"file_name":"a.jpg"}],"categories":[],"annotations":[{"image_id":1,"category_id":3,"bbox":[1,2,3,4]}]}""";
        var ex = Assert.Throws<AnnotationFormatException>(() => CocoFormat.Read(json, "c.json"));
        Assert.Contains("$.annotations[0].category_id", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Coco_NotJson_ErrorNamesTheLine()
    {
        var ex = Assert.Throws<AnnotationFormatException>(() => CocoFormat.Read("{\n\"images\": [\n}", "c.json"));
        Assert.Contains("c.json line 3", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Yolo_PixelCoordinates_ErrorNamesTheFileAndLine()
    {
        var ex = Assert.Throws<AnnotationFormatException>(() => YoloFormat.ReadLabels("0 0.5 0.5 0.1 0.1\n0 320 240 20 20\n", "labels/a.txt", new SizeI(640, 480), ["head"]));
        Assert.StartsWith("labels/a.txt line 2:", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Yolo_ClassBeyondTheNames_ErrorNamesTheNames()
    {
        var ex = Assert.Throws<AnnotationFormatException>(() => YoloFormat.ReadLabels("3 0.5 0.5 0.1 0.1\n", "a.txt", new SizeI(640, 480), ["head", "person"]));
        Assert.Contains("class 3", ex.Message, StringComparison.Ordinal);
        Assert.Contains("head, person", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("names:\n  - head\n  - person\n")]
    [InlineData("names: [head, 'person']\nnc: 2\n")]
    [InlineData("path: .  # root\ntrain: images\nnames:\n  0: head\n  1: \"person\"\n")]
    [InlineData("names: {0: head, 1: person}\n")]
    public void DataYaml_ListInlineAndMapForms_ReadTheSameNames(string yaml) =>
        Assert.Equal(["head", "person"], YoloFormat.ReadDataYaml(yaml, "data.yaml").Names);

    [Fact]
    public void DataYaml_WrittenThenRead_GivesTheNamesAndFolders()
    {
        var back = YoloFormat.ReadDataYaml(YoloFormat.WriteDataYaml(["head", "cell phone"]), "data.yaml");
        Assert.Equal(["head", "cell phone"], back.Names);
        Assert.Equal("images", back.Train);
    }

    [Fact]
    public void DataYaml_NcDisagreesWithNames_ErrorNamesTheLine()
    {
        var ex = Assert.Throws<AnnotationFormatException>(() => YoloFormat.ReadDataYaml("nc: 3\nnames: [a, b]\n", "data.yaml"));
        Assert.StartsWith("data.yaml line 1:", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cvat_BadCoordinate_ErrorNamesTheLine()
    {
        const string xml = "<annotations>\n<image id=\"0\" name=\"a.jpg\" width=\"10\" height=\"10\">\n<box label=\"head\" xtl=\"1\" ytl=\"1\" xbr=\"two\" ybr=\"3\"/></image></annotations>";
        var ex = Assert.Throws<AnnotationFormatException>(() => CvatFormat.Read(xml, "task.xml"));
        Assert.StartsWith("task.xml line 3:", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SeqInfo_ReadsTheFrameSize()
    {
        var info = MotFormat.ReadSequenceInfo("[Sequence]\nname=PETS09-S2L1\nimDir=img1\nframeRate=7\nseqLength=795\nimWidth=768\nimHeight=576\nimExt=.jpg\n", "seqinfo.ini");
        Assert.Equal(new SizeI(768, 576), info.FrameSize);
        Assert.Equal(795, info.Length);
    }

    [Fact]
    public void ImageHeader_PngAndJpegSizes()
    {
        byte[] png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 5, 0, 0, 0, 3, 0x9E];
        Assert.Equal(new SizeI(1280, 926), ImageHeader.TryReadSize(png));
        byte[] jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, 0xFF, 0xC0, 0, 17, 8, 0x02, 0x52, 0x04, 0x2E, 3, 0, 0, 0, 0, 0, 0];
        Assert.Equal(new SizeI(1070, 594), ImageHeader.TryReadSize(jpeg));
        Assert.Null(ImageHeader.TryReadSize("not an image"u8));
    }

    internal static void AssertClose(BoxF expected, BoxF actual, float tolerance)
    {
        Assert.True(
            MathF.Abs(expected.Left - actual.Left) <= tolerance && MathF.Abs(expected.Top - actual.Top) <= tolerance &&
            MathF.Abs(expected.Right - actual.Right) <= tolerance && MathF.Abs(expected.Bottom - actual.Bottom) <= tolerance,
            $"{actual} differs from {expected} by more than {tolerance} px");
    }
}
