using CinemaVision.Core.Datasets;
using CinemaVision.Core.Geometry;
using CinemaVision.Tools.Datasets;
using CinemaVision.Tools.Tests.Infrastructure;

namespace CinemaVision.Tools.Tests.Datasets;

/// <summary>
/// Round trips between every pair of formats on real labels: the PETS MOT ground truth (with its video), the Solvay
/// face boxes (corner CSV) and classroom head boxes (Pascal VOC). Every box must come back to the pixel.
/// </summary>
public sealed class FormatRoundTripTests : IDisposable
{
    private static readonly AnnotationFormat[] Formats = [AnnotationFormat.Mot, AnnotationFormat.Voc, AnnotationFormat.Yolo, AnnotationFormat.Coco, AnnotationFormat.Cvat];
    private readonly string _dir = Directory.CreateTempSubdirectory("cv-formats-").FullName;

    private (AnnotationSet Set, string Images) Source(string name) => name switch
    {
        "pets" => (AnnotationFiles.Load(AnnotationFormat.Mot, RealData.PetsGroundTruth), RealData.PetsVideo),
        "solvay" => (AnnotationFiles.Load(AnnotationFormat.Csv, RealData.SolvayFacesCsv, RealData.Solvay, ["face"]), RealData.Solvay),
        _ => (AnnotationFiles.Load(AnnotationFormat.Voc, RealData.ClassroomSubset(Path.Combine(_dir, "voc-in"), 30)), RealData.ClassroomImages),
    };

    [Theory]
    [InlineData("pets")]
    [InlineData("solvay")]
    [InlineData("classroom")]
    public void RoundTrip_EveryPairOfFormats_KeepsEveryBoxToThePixel(string source)
    {
        var (original, images) = Source(source);
        Assert.True(original.BoxCount > 20);
        Assert.All(original.Images, i => Assert.False(i.Size.IsEmpty));
        foreach (var a in Formats)
        {
            var viaA = WriteAndRead(original, a, images, original);
            foreach (var b in Formats)
            {
                // MOT has no file names; YOLO needs each image's file to size its boxes: only frame-named images can take that path.
                if (source == "classroom" && a == AnnotationFormat.Mot && b == AnnotationFormat.Yolo) continue;
                var viaB = WriteAndRead(viaA, b, images, original);
                bool lossyYolo = a == AnnotationFormat.Yolo || b == AnnotationFormat.Yolo;
                bool byPosition = a == AnnotationFormat.Mot || b == AnnotationFormat.Mot;
                AssertSameBoxes(original, viaB, lossyYolo ? 0.01f : 0.001f, byPosition, $"{source} {a} -> {b}");
            }
        }
    }

    private AnnotationSet WriteAndRead(AnnotationSet set, AnnotationFormat format, string images, AnnotationSet original)
    {
        var path = Path.Combine(_dir, $"{format}-{Guid.NewGuid():N}");
        AnnotationFiles.Save(set, format, path);
        var back = AnnotationFiles.Load(format, path, format == AnnotationFormat.Yolo ? images : null, set.Labels);
        // MOT keeps one frame size per sequence (seqinfo.ini) and no file names: give back the sizes by position.
        var withBoxes = original.Images.Where(i => i.Boxes.Count > 0).ToList();
        var restored = back.Images.Select((img, k) => img.Size.IsEmpty && k < withBoxes.Count ? img with { Size = withBoxes[k].Size } : img).ToList();
        return back with { Images = restored };
    }

    private static void AssertSameBoxes(AnnotationSet expected, AnnotationSet actual, float tolerance, bool byPosition, string what)
    {
        var e = expected.Images.Where(i => !byPosition || i.Boxes.Count > 0).ToList();
        var a = actual.Images.Where(i => !byPosition || i.Boxes.Count > 0).ToList();
        if (!byPosition)
        {
            // A YOLO set read with an image folder holds every image of it: the ones not labelled are empty.
            var names = e.Select(i => i.FileName).ToHashSet(StringComparer.Ordinal);
            Assert.All(a.Where(i => !names.Contains(i.FileName)), i => Assert.Empty(i.Boxes));
            a = a.Where(i => names.Contains(i.FileName)).ToList();
        }

        Assert.True(e.Count == a.Count, $"{what}: {a.Count} images, expected {e.Count}");
        for (int i = 0; i < e.Count; i++)
        {
            var other = byPosition ? a[i] : a.Single(x => x.FileName == e[i].FileName);
            var want = e[i].Boxes.OrderBy(b => MathF.Round(b.Box.X, 1)).ThenBy(b => MathF.Round(b.Box.Y, 1)).ThenBy(b => MathF.Round(b.Box.Width, 1)).ToList();
            var got = other.Boxes.OrderBy(b => MathF.Round(b.Box.X, 1)).ThenBy(b => MathF.Round(b.Box.Y, 1)).ThenBy(b => MathF.Round(b.Box.Width, 1)).ToList();
            Assert.True(want.Count == got.Count, $"{what}: {e[i].FileName} has {got.Count} boxes, expected {want.Count}");
            for (int k = 0; k < want.Count; k++)
            {
                Assert.Equal(want[k].Label, got[k].Label);
                Assert.True(Close(want[k].Box, got[k].Box, tolerance), $"{what}: {e[i].FileName} box {want[k].Box} came back as {got[k].Box}");
            }
        }
    }

    private static bool Close(BoxF a, BoxF b, float t) =>
        MathF.Abs(a.Left - b.Left) <= t && MathF.Abs(a.Top - b.Top) <= t && MathF.Abs(a.Right - b.Right) <= t && MathF.Abs(a.Bottom - b.Bottom) <= t;

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
