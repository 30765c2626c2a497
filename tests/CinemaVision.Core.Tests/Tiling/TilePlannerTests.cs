using CinemaVision.Core.Geometry;
using CinemaVision.Core.Tiling;

namespace CinemaVision.Core.Tests.Tiling;

public class TilePlannerTests
{
    private static readonly SizeI Model416 = new(416, 416);

    [Theory]
    [InlineData(768, 576)]
    [InlineData(1920, 1080)]
    [InlineData(3840, 2160)]
    [InlineData(1000, 300)]
    public void Plan_AnyFrame_TilesCoverEveryPixelWithoutPadding(int width, int height)
    {
        var plan = TilePlanner.Plan(new SizeI(width, height), Model416, new TilingOptions { TileSizes = [416], Overlap = 0.2f, FullFrame = false });

        foreach (var t in plan.Tiles)
        {
            Assert.InRange(t.Region.X, 0, width - t.Region.Width);
            Assert.InRange(t.Region.Y, 0, height - t.Region.Height);
            Assert.Equal(Math.Min(416, width), t.Region.Width);
            Assert.Equal(Math.Min(416, height), t.Region.Height);
        }

        for (int x = 0; x < width; x += 7)
        {
            for (int y = 0; y < height; y += 7)
            {
                Assert.True(plan.Tiles.Any(t => x >= t.Region.X && x < t.Region.Right && y >= t.Region.Y && y < t.Region.Bottom), $"pixel {x},{y} is in no tile");
            }
        }
    }

    [Fact]
    public void Plan_LastTile_IsShiftedInwardToEndAtTheFrameEdge()
    {
        var plan = TilePlanner.Plan(new SizeI(1000, 416), Model416, new TilingOptions { TileSizes = [416], Overlap = 0.25f, FullFrame = false });

        var xs = plan.Tiles.Select(t => t.Region.X).Order().ToList();
        Assert.Equal(0, xs[0]);
        Assert.Equal(1000 - 416, xs[^1]);
        Assert.All(plan.Tiles, t => Assert.True(t.Region.Right <= 1000));
    }

    [Fact]
    public void Plan_Overlap_NeighboursShareAtLeastTheRequestedFraction()
    {
        var plan = TilePlanner.Plan(new SizeI(1920, 416), Model416, new TilingOptions { TileSizes = [416], Overlap = 0.2f, FullFrame = false });
        var xs = plan.Tiles.Select(t => t.Region.X).Order().ToList();
        for (int i = 1; i < xs.Count; i++)
        {
            Assert.True(416 - (xs[i] - xs[i - 1]) >= 0.2 * 416 - 1, $"tiles at {xs[i - 1]} and {xs[i]} overlap too little");
        }
    }

    [Fact]
    public void Plan_TwoScalesAndFullFrame_AddsCoarseTilesAndOneFullFramePass()
    {
        var plan = TilePlanner.Plan(new SizeI(1920, 1080), Model416, new TilingOptions { TileSizes = [416, 832], Overlap = 0.2f, FullFrame = true });

        Assert.Single(plan.Tiles, t => t.IsFullFrame);
        Assert.Contains(plan.Tiles, t => t.Level == 0 && t.Region.Width == 416);
        Assert.Contains(plan.Tiles, t => t.Level == 1 && t.Region.Width == 832);
        Assert.Equal(new RectI(0, 0, 1920, 1080), plan.Tiles.Single(t => t.IsFullFrame).Region);
    }

    [Fact]
    public void Plan_RegionOfInterest_SkipsTilesThatDoNotTouchTheSeats()
    {
        var frame = new SizeI(1920, 1080);
        var all = TilePlanner.Plan(frame, Model416, new TilingOptions { TileSizes = [416], FullFrame = false });
        var seating = new RegionOfInterest([[new PointF(0, 700), new PointF(1920, 700), new PointF(1920, 1080), new PointF(0, 1080)]]);
        var roi = TilePlanner.Plan(frame, Model416, new TilingOptions { TileSizes = [416], FullFrame = false, RegionOfInterest = seating });

        Assert.True(roi.TileCount < all.TileCount);
        Assert.All(roi.Tiles, t => Assert.True(t.Region.Bottom > 700));
    }

    [Fact]
    public void Plan_InvalidOptions_NamesTheProblem()
    {
        var ex = Assert.Throws<ArgumentException>(() => TilePlanner.Plan(new SizeI(100, 100), Model416, new TilingOptions { TileSizes = [416], Overlap = 0.95f }));
        Assert.Contains("Overlap", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cache_SameFrameSize_ReturnsTheSamePlan()
    {
        var cache = new TilePlanCache(Model416, new TilingOptions { TileSizes = [416] });
        Assert.Same(cache.Get(new SizeI(1920, 1080)), cache.Get(new SizeI(1920, 1080)));
        Assert.NotSame(cache.Get(new SizeI(1920, 1080)), cache.Get(new SizeI(1280, 720)));
    }

    [Fact]
    public void PerspectiveBands_SmallPeopleAtTheBack_GetSmallerTilesThanTheFront()
    {
        // Back row (top of the image) people 30 px tall, front row (bottom) 240 px.
        var perspective = new PerspectiveModel([(100f, 30f), (1000f, 240f)]);
        var bands = TilePlanner.PerspectiveBands(new SizeI(1920, 1080), Model416, perspective, targetPixels: 96);

        Assert.True(bands.Count >= 2);
        Assert.True(bands[0].TileSize < bands[^1].TileSize, $"back {bands[0].TileSize} px vs front {bands[^1].TileSize} px");
        // Every row belongs to exactly one band, top to bottom.
        Assert.Equal(0, bands[0].Top);
        Assert.Equal(1080, bands[^1].Bottom);
        for (int i = 1; i < bands.Count; i++) Assert.Equal(bands[i - 1].Bottom, bands[i].Top);
        // A band's tiles reach half a person beyond it so people on the border are seen whole.
        Assert.All(bands.Skip(1), b => Assert.True(b.CoverTop < b.Top));
    }

    [Fact]
    public void Plan_WithPerspective_PutsBackRowPeopleNearTheTargetSize()
    {
        var perspective = new PerspectiveModel([(150f, 40f), (950f, 200f)]);
        var plan = TilePlanner.Plan(new SizeI(1920, 1080), Model416, new TilingOptions { Perspective = perspective, TargetObjectPixels = 96, FullFrame = false });

        var backTile = plan.Tiles.Where(t => t.Region.Y <= 150 && t.Region.Bottom > 150).Min(t => t.Region.Width);
        float backPersonInModelPixels = 40f * 416 / backTile;
        Assert.InRange(backPersonInModelPixels, 96 / 1.5f, 96 * 1.5f);
    }

    [Theory]
    [InlineData(704, 480, 0.15f, 416f / 480)] // a substream: two rows of tiles become one
    [InlineData(960, 540, 0.15f, 1f)]         // 23 % too tall: not worth the resolution
    [InlineData(416, 416, 0.15f, 1f)]         // already one tile
    [InlineData(300, 200, 0.15f, 1f)]         // smaller than a tile: never enlarged here
    [InlineData(470, 470, 0.15f, 416f / 470)] // both ways at once: four tiles become one
    [InlineData(704, 480, 0f, 1f)]            // switched off
    public void FitScale_ShrinksAFrameJustOverOneTileToOneTile_WithinTheTolerance(int width, int height, float tolerance, float expected)
    {
        var scale = TilePlanner.FitScale(new SizeI(width, height), Model416, tolerance);
        Assert.Equal(expected, scale, 4);

        var options = new TilingOptions { TileSizes = [416], Overlap = 0.2f, FullFrame = false };
        var before = TilePlanner.Plan(new SizeI(width, height), Model416, options).Tiles.Count;
        var after = TilePlanner.Plan(new SizeI((int)MathF.Round(width * scale), (int)MathF.Round(height * scale)), Model416, options).Tiles.Count;
        if (scale < 1) Assert.True(after * 2 <= before, $"{before} tiles before, {after} after");
        else Assert.Equal(before, after);
    }

    [Fact]
    public void PerspectiveModel_Interpolates_AndNeedsTwoReferences()
    {
        var p = new PerspectiveModel([(0f, 20f), (100f, 120f)]);
        Assert.Equal(70f, p.ExpectedHeightAt(50), 3);
        Assert.Equal(220f, p.ExpectedHeightAt(200), 3);
        Assert.Throws<ArgumentException>(() => new PerspectiveModel([(0f, 20f)]));
    }
}
