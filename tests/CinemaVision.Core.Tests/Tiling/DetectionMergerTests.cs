using CinemaVision.Core.Detections;
using CinemaVision.Core.Geometry;
using CinemaVision.Core.Tiling;

namespace CinemaVision.Core.Tests.Tiling;

public class DetectionMergerTests
{
    private static Detection Person(float x, float y, float w, float h, float score) => new(new BoxF(x, y, w, h), 0, score, ObjectClass.Person);

    private static Detection Phone(float x, float y, float w, float h, float score) => new(new BoxF(x, y, w, h), 67, score, ObjectClass.Phone);

    private static readonly MergeOptions Options = new() { Strategy = MergeStrategy.GreedyNmm, Metric = MatchMetric.IoU, MatchThreshold = 0.5f, DefaultScoreThreshold = 0.3f };

    [Fact]
    public void Merge_FragmentCutByInnerTileEdge_DoesNotSurviveBesideTheWholePerson()
    {
        // The left tile sees only the top of a person (cut by its right edge) with a HIGHER score than the
        // neighbouring tile that sees the whole person; IoU between them is below any usual threshold.
        var fragment = new TileDetection(Person(400, 100, 16, 50, 0.9f), IsCut: true);
        var whole = new TileDetection(Person(400, 100, 20, 130, 0.7f), IsCut: false);

        var merged = DetectionMerger.Merge([fragment, whole], Options);

        var only = Assert.Single(merged);
        Assert.Equal(130, only.Box.Height, 1);
    }

    [Fact]
    public void Merge_FragmentsWithoutAWholeView_AreFusedIntoOneObject()
    {
        var left = new TileDetection(Person(380, 100, 40, 120, 0.6f), IsCut: true);
        var right = new TileDetection(Person(385, 100, 45, 120, 0.5f), IsCut: true);

        Assert.Single(DetectionMerger.Merge([left, right], Options));
    }

    [Fact]
    public void Merge_TwoPeopleSideBySide_BothKept()
    {
        // Neighbours in a row of seats overlap a little; they are two people.
        var a = new TileDetection(Person(100, 100, 40, 60, 0.9f), false);
        var b = new TileDetection(Person(130, 100, 40, 60, 0.8f), false);

        Assert.Equal(2, DetectionMerger.Merge([a, b], Options).Count);
    }

    [Fact]
    public void Merge_SamePersonFromTwoScales_FusedWithTheBestScore()
    {
        var fine = new TileDetection(Person(100, 100, 40, 100, 0.8f), false);
        var coarse = new TileDetection(Person(104, 102, 40, 100, 0.6f), false);

        var merged = Assert.Single(DetectionMerger.Merge([fine, coarse], Options));
        Assert.Equal(0.8f, merged.Score, 3);
        Assert.InRange(merged.Box.X, 100f, 104f);
    }

    [Fact]
    public void Merge_PhoneInsideAPerson_ClassAwareKeepsBoth()
    {
        var person = new TileDetection(Person(100, 100, 60, 150, 0.9f), false);
        var phone = new TileDetection(Phone(120, 140, 12, 20, 0.5f), false);

        var merged = DetectionMerger.Merge([person, phone], Options with { Metric = MatchMetric.IoS });
        Assert.Equal(2, merged.Count);
        Assert.Single(DetectionMerger.Merge([person, phone], Options with { Metric = MatchMetric.IoS, ClassAgnostic = true, MatchThreshold = 0.5f }));
    }

    [Fact]
    public void Merge_IoSAndIoU_DisagreeOnANestedBox()
    {
        var big = new TileDetection(Person(100, 100, 100, 200, 0.9f), false);
        var nested = new TileDetection(Person(120, 120, 40, 60, 0.8f), false);

        Assert.Equal(2, DetectionMerger.Merge([big, nested], Options with { Metric = MatchMetric.IoU }).Count);
        Assert.Single(DetectionMerger.Merge([big, nested], Options with { Metric = MatchMetric.IoS }));
    }

    [Fact]
    public void Merge_PerClassThresholds_ApplyPerClass()
    {
        var options = Options with { ScoreThresholds = new Dictionary<ObjectClass, float> { [ObjectClass.Person] = 0.6f, [ObjectClass.Phone] = 0.2f } };
        var merged = DetectionMerger.Merge(
            [new TileDetection(Person(0, 0, 10, 30, 0.5f), false), new TileDetection(Phone(50, 50, 5, 8, 0.25f), false)],
            options);

        var only = Assert.Single(merged);
        Assert.Equal(ObjectClass.Phone, only.Class);
    }

    [Fact]
    public void Nms_Strategy_KeepsTheBestBoxUnchanged()
    {
        var best = Person(100, 100, 40, 100, 0.9f);
        var merged = DetectionMerger.Merge([new(best, false), new(Person(110, 105, 40, 100, 0.7f), false)], Options with { Strategy = MergeStrategy.Nms });
        Assert.Equal(best, Assert.Single(merged));
    }

    [Fact]
    public void IsCutByTileEdge_OnlyInnerEdgesCount()
    {
        var frame = new SizeI(1000, 500);
        var tile = new Tile(new RectI(0, 0, 416, 416), 0, false);

        Assert.True(DetectionMerger.IsCutByTileEdge(new BoxF(380, 100, 36, 50), tile, frame, 2));   // right edge is inside the frame
        Assert.False(DetectionMerger.IsCutByTileEdge(new BoxF(0, 0, 30, 50), tile, frame, 2));      // left/top edges are the frame's
        Assert.False(DetectionMerger.IsCutByTileEdge(new BoxF(0, 0, 30, 50), new Tile(new RectI(0, 0, 1000, 500), -1, true), frame, 2));
    }

    [Fact]
    public void SuppressInPlace_OverlappingSameClass_KeepsBest()
    {
        var list = new List<Detection> { Person(0, 0, 10, 10, 0.5f), Person(1, 1, 10, 10, 0.9f), Phone(1, 1, 10, 10, 0.4f) };
        DetectionMerger.SuppressInPlace(list, 0.45f);
        Assert.Equal(2, list.Count);
        Assert.Equal(0.9f, list[0].Score);
    }
}
