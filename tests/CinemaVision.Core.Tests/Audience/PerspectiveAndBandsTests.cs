using CinemaVision.Core.Audience;
using CinemaVision.Core.Geometry;
using CinemaVision.Core.Tiling;

namespace CinemaVision.Core.Tests.Audience;

public class PerspectiveAndBandsTests
{
    /// <summary>Heads 10 px tall at row 100 growing to 50 px at row 500: height = 0.1 * row.</summary>
    private static List<BoxF> Rows(int perRow = 5) =>
        [.. Enumerable.Range(1, 5).SelectMany(r => Enumerable.Range(0, perRow).Select(i => BoxF.FromCenter(100 + (i * 120), r * 100, r * 10, r * 10)))];

    [Fact]
    public void Fit_HeadsGrowingDownTheFrame_RecoversTheLine()
    {
        var model = PerspectiveEstimator.Fit(Rows());

        Assert.NotNull(model);
        Assert.Equal(10, model.ExpectedHeightAt(100), 1);
        Assert.Equal(30, model.ExpectedHeightAt(300), 1);
        Assert.Equal(60, model.ExpectedHeightAt(600), 1); // extrapolated below the last row
    }

    [Fact]
    public void Fit_AFewWildBoxes_DoNotMoveTheLine()
    {
        var boxes = Rows();
        boxes.Add(BoxF.FromCenter(50, 120, 90, 90));   // a curtain seen as a huge head at the back
        boxes.Add(BoxF.FromCenter(70, 480, 8, 8));     // a fleck in the front row
        boxes.Add(BoxF.FromCenter(90, 150, 120, 120));

        var model = PerspectiveEstimator.Fit(boxes);

        Assert.NotNull(model);
        Assert.Equal(20, model.ExpectedHeightAt(200), 2);
        Assert.Equal(40, model.ExpectedHeightAt(400), 2);
    }

    [Fact]
    public void Fit_TooFewHeadsOrOneRow_IsUnknown()
    {
        Assert.Null(PerspectiveEstimator.Fit(Rows().Take(4).ToList()));
        Assert.Null(PerspectiveEstimator.Fit([.. Enumerable.Range(0, 10).Select(i => BoxF.FromCenter(i * 50, 200, 20, 20))]));
    }

    [Fact]
    public void Bands_SmallHeadsAtTheBack_AreUpsampled_LargeOnesAtTheFrontDownsampled()
    {
        var perspective = new PerspectiveModel([(0, 10), (1000, 110)]);
        var bands = ScaleBandPlanner.Bands(new SizeI(1920, 1000), perspective, new ScaleBandOptions { TargetObjectPixels = 40, MinScale = 0.5f, MaxScale = 2.83f });

        Assert.True(bands.Count >= 3);
        Assert.True(bands[0].Scale >= 2.8f, $"back band scale {bands[0].Scale}");
        Assert.True(bands[^1].Scale <= 0.5f, $"front band scale {bands[^1].Scale}");
        for (int i = 1; i < bands.Count; i++)
        {
            Assert.True(bands[i].Scale < bands[i - 1].Scale, "scale falls towards the camera");
            Assert.Equal(bands[i - 1].Bottom, bands[i].Top);
            Assert.True(bands[i].CoverTop < bands[i].Top, "a band reaches into its neighbour by a head");
        }

        Assert.Equal(0, bands[0].Top);
        Assert.Equal(1000, bands[^1].Bottom);
    }

    [Fact]
    public void Plan_WideBandAtHighScale_IsSplitIntoOverlappingTilesThatCoverIt()
    {
        var perspective = new PerspectiveModel([(0, 14), (1080, 14.01f)]);
        var plan = ScaleBandPlanner.Plan(new SizeI(1920, 1080), perspective, new ScaleBandOptions { TargetObjectPixels = 40, MaxTileInputPixels = 600_000 });

        Assert.All(plan.Tiles, t => Assert.Equal(2.83f, t.Scale, 2));
        Assert.All(plan.Tiles, t => Assert.True(t.Region.Width * t.Region.Height * t.Scale * t.Scale <= 650_000, $"tile {t.Region} too large"));
        for (int x = 0; x < 1920; x += 5)
        {
            Assert.Contains(plan.Tiles, t => x >= t.Region.X && x < t.Region.Right);
        }
    }

    [Fact]
    public void Plan_RegionOfInterest_SkipsRowsAndColumnsWithoutSeats()
    {
        var perspective = new PerspectiveModel([(0, 20), (1000, 60)]);
        var seats = new RegionOfInterest([[new(600, 300), new(1400, 300), new(1400, 600), new(600, 600)]]);
        var plan = ScaleBandPlanner.Plan(new SizeI(1920, 1000), perspective, new ScaleBandOptions { RegionOfInterest = seats });

        Assert.NotEmpty(plan.Tiles);
        Assert.All(plan.Tiles, t =>
        {
            Assert.True(t.Region.Bottom > 300 && t.Region.Y < 600, $"tile {t.Region} rows miss the seats");
            Assert.True(t.Region.X >= 500 && t.Region.Right <= 1500, $"tile {t.Region} reaches far outside the seats");
        });
    }
}
