using CinemaVision.Core.Geometry;

namespace CinemaVision.Core.Tests.Tiling;

public class BoxGeometryTests
{
    [Fact]
    public void IoUAndIoS_PartInsideWhole_Disagree()
    {
        // A head-and-shoulders fragment inside a whole person box: IoU is low, intersection-over-smaller is 1.
        var whole = new BoxF(100, 100, 40, 120);
        var fragment = new BoxF(105, 100, 30, 40);

        Assert.True(whole.IoU(fragment) < 0.3f);
        Assert.Equal(1f, whole.IntersectionOverSmaller(fragment), 3);
    }

    [Fact]
    public void IoU_DisjointAndIdentical_ZeroAndOne()
    {
        var a = new BoxF(0, 0, 10, 10);
        Assert.Equal(0f, a.IoU(new BoxF(20, 20, 5, 5)));
        Assert.Equal(1f, a.IoU(a), 5);
        Assert.Equal(0f, a.IoU(default));
    }

    [Fact]
    public void ClipTo_BoxPastTheEdge_StaysInsideFrame()
    {
        var clipped = new BoxF(-5, 90, 20, 20).ClipTo(100, 100);
        Assert.Equal(BoxF.FromLtrb(0, 90, 15, 100), clipped);
    }
}
