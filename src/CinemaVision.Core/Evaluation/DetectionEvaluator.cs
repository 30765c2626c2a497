using CinemaVision.Core.Detections;
using CinemaVision.Core.Geometry;

namespace CinemaVision.Core.Evaluation;

public enum MatchCriterion
{
    /// <summary>A detection matches a label when their IoU reaches the threshold.</summary>
    IoU = 0,

    /// <summary>
    /// A detection matches a label whose centre lies inside it (for labels of a part, such as face boxes, scored
    /// against whole-person detections). One-to-one: each detection takes at most one label.
    /// </summary>
    Center = 1,
}

/// <summary>Accumulates detection quality over frames: precision, recall, F1 and the mean absolute count error.</summary>
public sealed class DetectionEvaluator
{
    private readonly ObjectClass _class;
    private readonly MatchCriterion _criterion;
    private readonly float _iouThreshold;
    private readonly IReadOnlyList<BoxF> _ignoreRegions;

    public DetectionEvaluator(ObjectClass objectClass = ObjectClass.Person, MatchCriterion criterion = MatchCriterion.IoU, float iouThreshold = 0.5f, IReadOnlyList<BoxF>? ignoreRegions = null)
    {
        _class = objectClass;
        _criterion = criterion;
        _iouThreshold = iouThreshold;
        _ignoreRegions = ignoreRegions ?? [];
    }

    public int TruePositives { get; private set; }
    public int FalsePositives { get; private set; }
    public int FalseNegatives { get; private set; }
    public int Frames { get; private set; }
    public double CountAbsoluteErrorSum { get; private set; }

    public double Precision => TruePositives + FalsePositives == 0 ? 1 : (double)TruePositives / (TruePositives + FalsePositives);
    public double Recall => TruePositives + FalseNegatives == 0 ? 1 : (double)TruePositives / (TruePositives + FalseNegatives);
    public double F1 => Precision + Recall == 0 ? 0 : 2 * Precision * Recall / (Precision + Recall);
    public double CountMae => Frames == 0 ? 0 : CountAbsoluteErrorSum / Frames;

    /// <summary>Scores one frame and returns its outcome.</summary>
    public FrameOutcome AddFrame(IReadOnlyList<Detection> detections, IReadOnlyList<GroundTruthBox> truth)
    {
        var labels = truth.Where(t => t.Class == _class && !t.Ignore).ToList();
        var ignores = truth.Where(t => t.Class == _class && t.Ignore).Select(t => t.Box).Concat(_ignoreRegions).ToList();
        var preds = detections.Where(d => d.Class == _class).OrderByDescending(d => d.Score).ToList();

        var labelTaken = new bool[labels.Count];
        int tp = 0, fp = 0, counted = 0;
        foreach (var p in preds)
        {
            int best = -1;
            float bestScore = 0;
            for (int i = 0; i < labels.Count; i++)
            {
                if (labelTaken[i]) continue;
                float s = Score(p.Box, labels[i].Box);
                if (s > bestScore) { bestScore = s; best = i; }
            }

            if (best >= 0)
            {
                labelTaken[best] = true;
                tp++;
                counted++;
            }
            else if (!InIgnoreRegion(p.Box, ignores))
            {
                fp++;
                counted++;
            }
        }

        int fn = labelTaken.Count(t => !t);
        TruePositives += tp;
        FalsePositives += fp;
        FalseNegatives += fn;
        Frames++;
        CountAbsoluteErrorSum += Math.Abs(counted - labels.Count);
        return new FrameOutcome(tp, fp, fn, counted, labels.Count);
    }

    private float Score(in BoxF prediction, in BoxF label)
    {
        if (_criterion == MatchCriterion.Center)
        {
            // The label's centre inside the detection, and the detection not absurdly larger than a person around it.
            return prediction.Contains(new PointF(label.CenterX, label.CenterY)) && prediction.Height <= label.Height * 12
                ? 1f / (1f + MathF.Abs(prediction.CenterX - label.CenterX))
                : 0f;
        }

        float iou = prediction.IoU(label);
        return iou >= _iouThreshold ? iou : 0f;
    }

    private static bool InIgnoreRegion(in BoxF box, List<BoxF> ignores)
    {
        foreach (var region in ignores)
        {
            if (box.IntersectionArea(region) >= 0.5f * box.Area) return true;
        }

        return false;
    }

    public EvaluationResult Result(string name, double msPerFrame) =>
        new(name, Precision, Recall, F1, CountMae, Frames, msPerFrame, TruePositives, FalsePositives, FalseNegatives);
}

public readonly record struct FrameOutcome(int TruePositives, int FalsePositives, int FalseNegatives, int Counted, int Labelled);

/// <summary>The figures `cvtools eval` reports for one configuration.</summary>
public sealed record EvaluationResult(
    string Name,
    double Precision,
    double Recall,
    double F1,
    double CountMae,
    int Frames,
    double MsPerFrame,
    int TruePositives,
    int FalsePositives,
    int FalseNegatives);
