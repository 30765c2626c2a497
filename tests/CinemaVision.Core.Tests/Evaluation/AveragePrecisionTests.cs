using CinemaVision.Core.Detections;
using CinemaVision.Core.Evaluation;
using CinemaVision.Core.Geometry;

namespace CinemaVision.Core.Tests.Evaluation;

public class AveragePrecisionTests
{
    private static Detection Person(float x, float y, float w, float h, float score) => new(new BoxF(x, y, w, h), 0, score, ObjectClass.Person);

    private static GroundTruthBox Label(float x, float y, float w, float h, bool ignore = false) => new(new BoxF(x, y, w, h), ObjectClass.Person, -1, ignore);

    [Fact]
    public void Compute_HitMissHit_Gives101PointInterpolatedAp()
    {
        // Two labels; ranked detections TP 0.9, FP 0.8, TP 0.7: recall 0.5, 0.5, 1; precision 1, 0.5, 0.667.
        // Envelope: 1 up to recall 0.5 (51 points), 2/3 beyond (50 points) -> (51 + 50 * 2/3) / 101.
        var (ap, curve) = AveragePrecisionEvaluator.Compute([(0.9f, true), (0.8f, false), (0.7f, true)], 2);
        Assert.Equal((51 + (50 * 2.0 / 3)) / 101, ap!.Value, 6);
        Assert.Equal(101, curve.Count);
        Assert.Equal(1.0, curve[50], 6);
        Assert.Equal(2.0 / 3, curve[51], 6);
    }

    [Fact]
    public void Compute_NoLabels_IsUndefinedNotZero() => Assert.Null(AveragePrecisionEvaluator.Compute([(0.9f, false)], 0).Ap);

    [Fact]
    public void Evaluator_PerfectDetections_ApOneAtEveryThreshold()
    {
        var ap = new AveragePrecisionEvaluator(ObjectClass.Person, 0.5f);
        ap.AddFrame([Person(10, 10, 40, 50, 0.9f), Person(100, 10, 120, 120, 0.8f)], [Label(10, 10, 40, 50), Label(100, 10, 120, 120)]);
        var r = ap.Result();

        Assert.Equal(1.0, r.Ap50!.Value, 6);
        Assert.Equal(1.0, r.Ap50To95!.Value, 6);
        Assert.Equal(1, r.Sizes.Single(s => s.Name == "medium").Labels);
        Assert.Equal(1, r.Sizes.Single(s => s.Name == "large").Labels);
        Assert.Null(r.Sizes.Single(s => s.Name == "small").Ap50);
    }

    [Fact]
    public void Evaluator_LooseBox_CountsAtIoU05ButNotAtStricterThresholds()
    {
        // IoU of a 100x100 label and a 100x150 detection over it = 0.667: a hit at 0.50..0.65, a miss from 0.70.
        var ap = new AveragePrecisionEvaluator(ObjectClass.Person, 0.5f);
        ap.AddFrame([Person(0, 0, 100, 150, 0.9f)], [Label(0, 0, 100, 100)]);
        var r = ap.Result();

        Assert.Equal(1.0, r.Ap50!.Value, 6);
        Assert.Equal(0.4, r.Ap50To95!.Value, 6); // 4 of 10 thresholds
        Assert.Equal(0.0, r.Ap75!.Value, 6);
    }

    [Fact]
    public void Evaluator_DetectionOnAnIgnoreLabel_CountsNeitherWay()
    {
        var ap = new AveragePrecisionEvaluator(ObjectClass.Person, 0.5f);
        ap.AddFrame([Person(0, 0, 20, 50, 0.95f), Person(200, 0, 20, 50, 0.9f)], [Label(0, 0, 40, 60, ignore: true), Label(200, 0, 20, 50)]);
        Assert.Equal(1.0, ap.Result().Ap50!.Value, 6);
    }

    [Fact]
    public void Evaluator_RecallPerSize_AtTheOperatingThreshold()
    {
        var ap = new AveragePrecisionEvaluator(ObjectClass.Person, operatingThreshold: 0.5f);
        // A small head found only at 0.3 (below the operating threshold), a medium one found at 0.9.
        ap.AddFrame([Person(0, 0, 10, 10, 0.3f), Person(100, 0, 40, 40, 0.9f)], [Label(0, 0, 10, 10), Label(100, 0, 40, 40)]);
        var small = ap.Result().Sizes.Single(s => s.Name == "small");
        Assert.Equal(0.0, small.Recall50!.Value, 6);
        Assert.Equal(1.0, small.MaxRecall50!.Value, 6);
    }

    [Fact]
    public void CountError_MeanSignedRmseAndWorst()
    {
        var c = new CountErrorAccumulator();
        c.Add(10, 12);
        c.Add(13, 12);
        c.Add(12, 12);
        var r = c.Result();
        Assert.Equal(1.0, r.MeanAbsolute, 6);
        Assert.Equal(-1.0 / 3, r.MeanSigned, 6);
        Assert.Equal(Math.Sqrt(5.0 / 3), r.Rmse, 6);
        Assert.Equal(2, r.MaxAbsolute);
    }

    [Fact]
    public void SeatAccuracy_LabelsAndDetectionsOnTheSameSeats()
    {
        Core.Auditoriums.Seat Seat(string id, float x) => new(id, "A", 1, [new PointF(x, 100), new PointF(x + 50, 100), new PointF(x + 50, 200), new PointF(x, 200)]);
        var seats = new[] { Seat("A1", 0), Seat("A2", 60), Seat("A3", 120) };
        var eval = new SeatAccuracyEvaluator(seats, ObjectClass.Person);
        // People in A1 (found) and A2 (missed); a false person in A3.
        eval.AddFrame([Person(5, 90, 40, 100, 0.9f), Person(125, 90, 40, 100, 0.9f)], [Label(5, 90, 40, 100), Label(65, 90, 40, 100)]);
        var r = eval.Result();
        Assert.Equal((1, 1, 1, 0), (r.OccupiedBoth, r.OccupiedOnlyByDetections, r.OccupiedOnlyByLabels, r.EmptyBoth));
        Assert.Equal(1.0 / 3, r.Accuracy, 6);
    }
}
