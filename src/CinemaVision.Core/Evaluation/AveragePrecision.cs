using CinemaVision.Core.Detections;
using CinemaVision.Core.Geometry;

namespace CinemaVision.Core.Evaluation;

/// <summary>A size class of labels by area in pixels² (COCO: small &lt; 32², medium &lt; 96², large above).</summary>
public sealed record SizeRange(string Name, float MinArea, float MaxArea)
{
    public static IReadOnlyList<SizeRange> Coco { get; } =
    [
        new("small", 0, 32 * 32),
        new("medium", 32 * 32, 96 * 96),
        new("large", 96 * 96, float.PositiveInfinity),
    ];

    public bool Holds(float area) => area >= MinArea && area < MaxArea;
}

/// <summary>Average precision and recall for one size range.</summary>
public sealed record SizeBreakdown(string Name, int Labels, double? Ap50, double? Ap50To95, double? Recall50, double? MaxRecall50);

/// <summary>What <see cref="AveragePrecisionEvaluator"/> measured.</summary>
/// <param name="Ap50">AP at IoU 0.5 (null when there are no labels).</param>
/// <param name="Ap50To95">Mean AP over IoU 0.50, 0.55, ..., 0.95 (COCO's AP).</param>
/// <param name="PrecisionAtRecall50">Interpolated precision at the 101 recall points 0, 0.01, ..., 1 (IoU 0.5).</param>
/// <param name="ApCenter">AP when a detection matches a label whose centre it contains (for part labels); null otherwise.</param>
public sealed record AveragePrecisionResult(
    double? Ap50,
    double? Ap75,
    double? Ap50To95,
    double? ApCenter,
    int Labels,
    int Detections,
    IReadOnlyList<double> PrecisionAtRecall50,
    IReadOnlyList<SizeBreakdown> Sizes)
{
    public static IReadOnlyList<double> RecallPoints { get; } = Enumerable.Range(0, 101).Select(i => i / 100.0).ToArray();
}

/// <summary>
/// COCO-style average precision over a sequence of frames, for one product class: per frame, detections (all
/// scores, best first, at most <see cref="MaxDetections"/>) are matched greedily to the unmatched label of highest
/// IoU at each threshold; ignore labels (and the ignore regions given) absorb detections without counting them;
/// then precision is made monotone and read at 101 recall points (COCO's interpolation). Per-size figures follow
/// COCO's area ranges: labels outside a range are ignored there, and so are unmatched detections outside it.
/// <para><see cref="MaxDetections"/> is 1000, not COCO's 100: an auditorium frame holds hundreds of heads.</para>
/// </summary>
public sealed class AveragePrecisionEvaluator
{
    public const int MaxDetections = 1000;
    private static readonly float[] Thresholds = Enumerable.Range(0, 10).Select(i => 0.5f + (0.05f * i)).ToArray();
    private readonly ObjectClass _class;
    private readonly bool _center;
    private readonly float _operatingThreshold;
    private readonly IReadOnlyList<BoxF> _ignoreRegions;
    private readonly IReadOnlyList<SizeRange?> _ranges;

    // Per (range, threshold): the scored detections and the label count.
    private readonly List<(float Score, bool Tp)>[,] _records;
    private readonly int[,] _labels;
    private readonly List<(float Score, bool Tp)> _centerRecords = [];
    private int _centerLabels;
    private int _detections;

    /// <param name="operatingThreshold">The score at which the detector is operated: recall per size is reported there too.</param>
    public AveragePrecisionEvaluator(ObjectClass objectClass, float operatingThreshold, bool centerMatch = false, IReadOnlyList<BoxF>? ignoreRegions = null)
    {
        _class = objectClass;
        _center = centerMatch;
        _operatingThreshold = operatingThreshold;
        _ignoreRegions = ignoreRegions ?? [];
        _ranges = [null, .. SizeRange.Coco];
        _records = new List<(float, bool)>[_ranges.Count, Thresholds.Length];
        _labels = new int[_ranges.Count, Thresholds.Length];
        for (int r = 0; r < _ranges.Count; r++)
        {
            for (int t = 0; t < Thresholds.Length; t++) _records[r, t] = [];
        }
    }

    public void AddFrame(IReadOnlyList<Detection> detections, IReadOnlyList<GroundTruthBox> truth)
    {
        var dets = detections.Where(d => d.Class == _class).OrderByDescending(d => d.Score).Take(MaxDetections).ToList();
        var labels = truth.Where(t => t.Class == _class).ToList();
        _detections += dets.Count;
        for (int r = 0; r < _ranges.Count; r++)
        {
            var range = _ranges[r];
            for (int t = 0; t < Thresholds.Length; t++)
            {
                _labels[r, t] += Match(dets, labels, range, (d, g) => Overlap(d, g), Thresholds[t], _records[r, t]);
            }
        }

        if (_center)
        {
            _centerLabels += Match(dets, labels, null, (d, g) => g.Ignore ? Overlap(d, g) : (d.Contains(new PointF(g.Box.CenterX, g.Box.CenterY)) && d.Height <= g.Box.Height * 12 ? 1f : 0f), 0.5f, _centerRecords);
        }
    }

    /// <summary>COCO's per-image matching; returns the number of labels that count (not ignored) in this range.</summary>
    private int Match(List<Detection> dets, List<GroundTruthBox> labels, SizeRange? range, Func<BoxF, GroundTruthBox, float> overlap, float threshold, List<(float, bool)> records)
    {
        // Labels that count first, ignored ones after (COCO sorts them so a detection prefers a real label).
        var gts = labels.Select(g => (Box: g, Ignored: g.Ignore || (range is not null && !range.Holds(g.Box.Area))))
            .OrderBy(g => g.Ignored).ToList();
        var taken = new bool[gts.Count];
        foreach (var d in dets)
        {
            float best = MathF.Min(threshold, 1 - 1e-6f);
            int match = -1;
            for (int g = 0; g < gts.Count; g++)
            {
                if (taken[g] && !gts[g].Box.Ignore) continue;
                if (match >= 0 && !gts[match].Ignored && gts[g].Ignored) break;
                float o = overlap(d.Box, gts[g].Box);
                if (o < best) continue;
                best = o;
                match = g;
            }

            bool ignored;
            bool tp = false;
            if (match >= 0)
            {
                taken[match] = true;
                ignored = gts[match].Ignored;
                tp = !ignored;
            }
            else
            {
                ignored = (range is not null && !range.Holds(d.Box.Area)) || _ignoreRegions.Any(r => d.Box.IntersectionArea(r) >= 0.5f * d.Box.Area);
            }

            if (!ignored) records.Add((d.Score, tp));
        }

        return gts.Count(g => !g.Ignored);
    }

    /// <summary>IoU with a label; with an ignore label, the share of the detection inside it (COCO's crowd rule).</summary>
    private static float Overlap(BoxF d, GroundTruthBox g) => g.Ignore ? (d.Area <= 0 ? 0 : d.IntersectionArea(g.Box) / d.Area) : d.IoU(g.Box);

    public AveragePrecisionResult Result()
    {
        double? Ap(int r, int t) => Compute(_records[r, t], _labels[r, t]).Ap;
        double? Mean(int r)
        {
            var aps = Enumerable.Range(0, Thresholds.Length).Select(t => Ap(r, t)).ToList();
            return aps.All(a => a is null) ? null : aps.Where(a => a is not null).Average(a => a!.Value);
        }

        var (_, curve) = Compute(_records[0, 0], _labels[0, 0]);
        var sizes = new List<SizeBreakdown>();
        for (int r = 1; r < _ranges.Count; r++)
        {
            sizes.Add(new SizeBreakdown(_ranges[r]!.Name, _labels[r, 0], Ap(r, 0), Mean(r), RecallAt(_records[r, 0], _labels[r, 0], _operatingThreshold), RecallAt(_records[r, 0], _labels[r, 0], float.NegativeInfinity)));
        }

        return new AveragePrecisionResult(Ap(0, 0), Ap(0, 5), Mean(0), _center ? Compute(_centerRecords, _centerLabels).Ap : null, _labels[0, 0], _detections, curve, sizes);
    }

    private static double? RecallAt(List<(float Score, bool Tp)> records, int labels, float threshold) =>
        labels == 0 ? null : (double)records.Count(r => r.Tp && r.Score >= threshold) / labels;

    /// <summary>COCO accumulate: cumulative precision/recall by descending score, precision envelope, 101-point read-out.</summary>
    public static (double? Ap, IReadOnlyList<double> PrecisionAtRecall) Compute(IReadOnlyList<(float Score, bool Tp)> records, int labels)
    {
        var points = AveragePrecisionResult.RecallPoints;
        if (labels == 0) return (null, points.Select(_ => 0.0).ToArray());
        // Stable sort by score, as COCO's mergesort: equal scores keep frame order.
        var sorted = records.Select((r, i) => (r, i)).OrderByDescending(x => x.r.Score).ThenBy(x => x.i).Select(x => x.r).ToList();
        var recall = new double[sorted.Count];
        var precision = new double[sorted.Count];
        int tp = 0, fp = 0;
        for (int i = 0; i < sorted.Count; i++)
        {
            if (sorted[i].Tp) tp++;
            else fp++;
            recall[i] = (double)tp / labels;
            precision[i] = (double)tp / (tp + fp);
        }

        for (int i = precision.Length - 2; i >= 0; i--) precision[i] = Math.Max(precision[i], precision[i + 1]);
        var q = new double[points.Count];
        int k = 0;
        for (int p = 0; p < points.Count; p++)
        {
            while (k < recall.Length && recall[k] < points[p] - 1e-12) k++;
            q[p] = k < recall.Length ? precision[k] : 0;
        }

        return (q.Average(), q);
    }
}

/// <summary>How far the per-frame counts are off: mean absolute, mean signed (bias), root mean square, worst frame, relative.</summary>
public sealed record CountErrorSummary(double MeanAbsolute, double MeanSigned, double Rmse, int MaxAbsolute, double RelativeMae);

/// <summary>Accumulates per-frame count errors (counted minus labelled).</summary>
public sealed class CountErrorAccumulator
{
    private double _abs, _signed, _squared, _labelled;
    private int _max, _frames;

    public void Add(int counted, int labelled)
    {
        int e = counted - labelled;
        _abs += Math.Abs(e);
        _signed += e;
        _squared += (double)e * e;
        _labelled += labelled;
        _max = Math.Max(_max, Math.Abs(e));
        _frames++;
    }

    public CountErrorSummary Result() => _frames == 0
        ? new CountErrorSummary(0, 0, 0, 0, 0)
        : new CountErrorSummary(_abs / _frames, _signed / _frames, Math.Sqrt(_squared / _frames), _max, _labelled == 0 ? 0 : _abs / _labelled);
}
