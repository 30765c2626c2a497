using CinemaVision.Core.Audience;
using CinemaVision.Core.Detections;
using CinemaVision.Core.Geometry;
using CinemaVision.Core.Tiling;

namespace CinemaVision.Core.Tests.Audience;

public class AudienceFusionTests
{
    private static readonly AudienceOptions Options = new() { SeatHeadScore = 0.3f, AisleHeadScore = 0.5f, FaceScore = 0.6f, PersonScore = 0.6f };

    private static HeadCandidate Head(float cx, float cy, float size, float score, float change = float.NaN) =>
        new(new Detection(BoxF.FromCenter(cx, cy, size, size), 0, score, ObjectClass.Head), HeadEvidence.Head, change);

    private static HeadCandidate Face(float cx, float cy, float size, float score) =>
        new(new Detection(BoxF.FromCenter(cx, cy, size, size), 1, score, ObjectClass.Face), HeadEvidence.Face);

    private static HeadCandidate Person(float left, float top, float width, float height, float score) =>
        new(new Detection(new BoxF(left, top, width, height), 0, score, ObjectClass.Person), HeadEvidence.Person);

    private static List<PointF> Square(float x, float y, float size) => [new(x, y), new(x + size, y), new(x + size, y + size), new(x, y + size)];

    [Fact]
    public void Fuse_TwoScalesSeeTheSameHead_CountsOnce()
    {
        var heads = AudienceFusion.Fuse([Head(100, 100, 20, 0.9f), Head(103, 98, 24, 0.6f), Head(160, 100, 20, 0.8f)], AudienceScene.Empty, Options);

        Assert.Equal(2, heads.Count);
        var first = Assert.Single(heads, h => h.Box.CenterX < 130);
        Assert.Equal(2, first.Support);
        Assert.Equal(0.9f, first.Score);
    }

    [Fact]
    public void Fuse_NeighboursInATightRow_StayTwoPeople()
    {
        // Heads 20 px wide, centres 14 px apart (shoulder to shoulder, seen slightly from the side).
        var heads = AudienceFusion.Fuse([Head(100, 100, 20, 0.9f), Head(114, 100, 20, 0.8f)], AudienceScene.Empty, Options);
        Assert.Equal(2, heads.Count);
    }

    [Fact]
    public void Fuse_SeatPrior_WeakHeadCountsInASeatButNotInTheAisle()
    {
        var scene = new AudienceScene { Seats = [Square(80, 80, 40)] };
        var inSeat = Head(100, 100, 20, 0.35f);
        var inAisle = Head(300, 100, 20, 0.35f);
        var strongInAisle = Head(300, 200, 20, 0.6f);

        var trace = new List<FusionDrop>();
        var heads = AudienceFusion.Fuse([inSeat, inAisle, strongInAisle], scene, Options, trace);

        Assert.Equal([FusionDrop.Kept, FusionDrop.BelowThreshold, FusionDrop.Kept], trace);
        Assert.Equal(2, heads.Count);
    }

    [Fact]
    public void Fuse_NoSeatMap_ThePictureIsSeating()
    {
        var heads = AudienceFusion.Fuse([Head(100, 100, 20, 0.29f), Head(300, 100, 20, 0.31f)], AudienceScene.Empty, Options);
        Assert.Equal(300, Assert.Single(heads).Box.CenterX);
    }

    [Fact]
    public void Fuse_SizeThatDoesNotFitTheRow_IsDropped()
    {
        // Heads are 20 px tall at every row here; a 70 px "head" is a texture, a 6 px one a fleck.
        var scene = new AudienceScene { Perspective = new PerspectiveModel([(0, 20), (500, 20)]) };
        var trace = new List<FusionDrop>();
        AudienceFusion.Fuse([Head(100, 100, 20, 0.9f), Head(200, 100, 70, 0.95f), Head(300, 100, 6, 0.95f)], scene, Options, trace);
        Assert.Equal([FusionDrop.Kept, FusionDrop.WrongSize, FusionDrop.WrongSize], trace);
    }

    [Fact]
    public void Fuse_Masked_CountsNowhere()
    {
        var scene = new AudienceScene { Masks = [Square(0, 0, 200)] };
        var trace = new List<FusionDrop>();
        var heads = AudienceFusion.Fuse([Head(100, 100, 20, 0.99f)], scene, Options, trace);
        Assert.Empty(heads);
        Assert.Equal(FusionDrop.Masked, trace[0]);
    }

    [Fact]
    public void Fuse_FaceInsideAHead_IsThatHead_AndAFaceAloneAddsOne()
    {
        var heads = AudienceFusion.Fuse([Head(100, 100, 24, 0.8f), Face(100, 104, 16, 0.9f), Face(200, 104, 16, 0.9f), Face(300, 104, 16, 0.5f)], AudienceScene.Empty, Options);

        Assert.Equal(2, heads.Count);
        Assert.Equal(HeadEvidence.Head, heads[0].Evidence);
        Assert.Equal(2, heads[0].Support);
        var fromFace = heads[1];
        Assert.Equal(HeadEvidence.Face, fromFace.Evidence);
        Assert.True(fromFace.Box.Top < 104 - 8, "the head around a face reaches above it");
    }

    [Fact]
    public void Fuse_PersonWithAHeadInItsHeadRegion_IsOnePerson_AndAHeadlessPersonAddsTheirHead()
    {
        // A seated person 60 px wide, 120 tall with a detected head at the top; another with no head found.
        var heads = AudienceFusion.Fuse([Head(130, 112, 22, 0.7f), Person(100, 100, 60, 120, 0.9f), Person(300, 100, 60, 120, 0.9f)], AudienceScene.Empty, Options);

        Assert.Equal(2, heads.Count);
        var implied = Assert.Single(heads, h => h.Evidence == HeadEvidence.Person);
        Assert.InRange(implied.Box.CenterX, 325, 335);
        Assert.True(implied.Box.Bottom < 160, "the implied head is at the top of the person");
    }

    [Fact]
    public void Fuse_StaticObjectOnTheEmptyHall_IsSuppressedUnlessItsPatchChanged()
    {
        var coat = BoxF.FromCenter(100, 100, 20, 20);
        var scene = new AudienceScene { ReferenceHeads = [coat] };
        var trace = new List<FusionDrop>();

        AudienceFusion.Fuse([Head(101, 100, 20, 0.9f, change: 0.05f), Head(101, 100, 20, 0.9f, change: 0.7f)], scene, Options, trace);

        Assert.Equal(FusionDrop.Static, trace[0]);
        Assert.NotEqual(FusionDrop.Static, trace[1]); // someone sat where the coat was
    }

    [Fact]
    public void ThresholdAt_SmallHeadsAtTheBack_LowerWithinTheSetDrop()
    {
        var options = Options with { SmallHeadScoreDrop = 0.1f, SmallHeadPixels = 20 };
        var scene = new AudienceScene { Perspective = new PerspectiveModel([(0, 10), (400, 50)]) };

        float back = AudienceFusion.ThresholdAt(new PointF(50, 0), scene, options);
        float front = AudienceFusion.ThresholdAt(new PointF(50, 400), scene, options);

        Assert.Equal(0.3f, front, 3);
        Assert.Equal(0.25f, back, 3); // expected 10 px: half as small as 20, so half the drop
    }
}
