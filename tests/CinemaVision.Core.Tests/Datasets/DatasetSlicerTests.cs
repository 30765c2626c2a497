using CinemaVision.Core.Datasets;
using CinemaVision.Core.Geometry;

namespace CinemaVision.Core.Tests.Datasets;

public class DatasetSlicerTests
{
    private static AnnotationSet OneImage(params AnnotationBox[] boxes) => AnnotationSet.Create([new AnnotatedImage("hall.jpg", new SizeI(1000, 600), boxes)]);

    [Fact]
    public void Regions_CoverTheImageWithoutPaddingAtEveryScale()
    {
        foreach (int scale in new[] { 320, 640, 2000 })
        {
            var regions = DatasetSlicer.Regions(new SizeI(1000, 600), scale, 0.2f).ToList();
            Assert.All(regions, r => Assert.True(r.X >= 0 && r.Y >= 0 && r.Right <= 1000 && r.Bottom <= 600));
            Assert.Contains(regions, r => r.X == 0 && r.Y == 0);
            Assert.Contains(regions, r => r.Right == 1000 && r.Bottom == 600);
        }
    }

    [Fact]
    public void Plan_BoxCutByATileBorder_IsClippedAndSliversBecomeIgnoreRegions()
    {
        // Tiles of 320 at overlap 0.2: x = 0, 227, 453, 680 (spread evenly). A head at x 300..340 is whole in the
        // second tile and cut in the first (20 of 40 px: half visible, kept) ...
        var set = OneImage(new AnnotationBox(new BoxF(300, 100, 40, 40), "head"), new AnnotationBox(new BoxF(316, 400, 40, 40), "head"));
        var plan = DatasetSlicer.Plan(set, new SliceOptions { Sizes = [320], Overlap = 0.2f, MinVisibility = 0.3f, EmptyShare = 0 });

        var first = plan.Tiles.First(t => t.Region.X == 0 && t.Region.Y == 0);
        var cut = Assert.Single(first.Boxes);
        Assert.Equal(new BoxF(300, 100, 20, 40), cut.Box);
        Assert.False(cut.Ignore);

        // ... while the second head shows only 4 of 40 px in the first tile's lower row: a sliver, kept as an ignore region.
        var lower = plan.Tiles.First(t => t.Region.X == 0 && t.Region.Bottom == 600);
        var sliver = Assert.Single(lower.Boxes);
        Assert.True(sliver.Ignore);
        Assert.Equal(4, sliver.Box.Width, 3);
    }

    [Fact]
    public void Plan_EmptyShare_KeepsThatShareOfEmptyTilesDeterministically()
    {
        var set = AnnotationSet.Create(Enumerable.Range(0, 20).Select(i => new AnnotatedImage($"empty{i}.jpg", new SizeI(1000, 600), [])));
        var none = DatasetSlicer.Plan(set, new SliceOptions { Sizes = [320], EmptyShare = 0 });
        var all = DatasetSlicer.Plan(set, new SliceOptions { Sizes = [320], EmptyShare = 1 });
        var some = DatasetSlicer.Plan(set, new SliceOptions { Sizes = [320], EmptyShare = 0.25f });
        var again = DatasetSlicer.Plan(set, new SliceOptions { Sizes = [320], EmptyShare = 0.25f });

        Assert.Empty(none.Tiles);
        Assert.Equal(all.Scales[0].Tiles, all.Tiles.Count);
        double share = (double)some.Tiles.Count / all.Tiles.Count;
        Assert.InRange(share, 0.15, 0.35);
        Assert.Equal(some.Tiles.Select(t => t.FileName), again.Tiles.Select(t => t.FileName));
    }

    [Fact]
    public void Reassemble_TilesMappedBack_CoverEveryBox_AndDetectAMissingPiece()
    {
        var set = OneImage(new AnnotationBox(new BoxF(300, 100, 40, 40), "head"), new AnnotationBox(new BoxF(620, 250, 150, 120), "person"), new AnnotationBox(new BoxF(5, 5, 0, 10), "head"));
        var plan = DatasetSlicer.Plan(set, new SliceOptions { Sizes = [320, 640], EmptyShare = 0 });
        var tiles = plan.ToAnnotationSet();

        var report = DatasetSlicer.Reassemble(set, tiles);
        Assert.True(report.CoversEverything, string.Join("; ", report.Uncovered));
        Assert.Equal(4, report.Boxes); // two real boxes at two scales; the degenerate box is skipped
        Assert.Equal(1, plan.DegenerateSkipped);

        // Remove one piece of the person at scale 320: re-assembly must notice.
        var damaged = tiles with
        {
            Images = tiles.Images.Select(i => i.Attributes[DatasetSlicer.ScaleAttribute] == "320" && i.Boxes.Any(b => b.Label == "person")
                ? i with { Boxes = i.Boxes.Where(b => b.Label != "person").ToList() }
                : i).Take(tiles.Images.Count).ToList(),
        };
        Assert.False(DatasetSlicer.Reassemble(set, damaged).CoversEverything);
    }

    [Fact]
    public void Options_BadValues_AreNamed()
    {
        var problems = new SliceOptions { Sizes = [16, 640, 640], Overlap = 0.95f, MinVisibility = 0 }.Validate().ToList();
        Assert.Equal(4, problems.Count);
        Assert.Throws<ArgumentException>(() => DatasetSlicer.Plan(OneImage(), new SliceOptions { Sizes = [] }));
    }
}
