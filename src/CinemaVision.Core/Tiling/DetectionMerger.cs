using System.Buffers;
using CinemaVision.Core.Detections;
using CinemaVision.Core.Geometry;

namespace CinemaVision.Core.Tiling;

public enum MergeStrategy
{
    /// <summary>Non-maximum suppression: the best box of a group survives unchanged.</summary>
    Nms = 0,

    /// <summary>Greedy non-maximum merging (SAHI's GREEDYNMM): matched boxes are fused into the best one.</summary>
    GreedyNmm = 1,
}

public enum MatchMetric
{
    /// <summary>Intersection over union.</summary>
    IoU = 0,

    /// <summary>Intersection over the smaller box: a part inside a whole counts as the same object.</summary>
    IoS = 1,
}

public enum BoxFusion
{
    /// <summary>Score-weighted mean of the matched boxes (keeps the box tight).</summary>
    WeightedAverage = 0,

    /// <summary>The union of the matched boxes (SAHI's behaviour).</summary>
    Union = 1,
}

/// <summary>How detections from several tiles and scales become one list.</summary>
public sealed record MergeOptions
{
    public MergeStrategy Strategy { get; init; } = MergeStrategy.GreedyNmm;
    public MatchMetric Metric { get; init; } = MatchMetric.IoU;
    public float MatchThreshold { get; init; } = 0.5f;
    public BoxFusion Fusion { get; init; } = BoxFusion.WeightedAverage;

    /// <summary>Merge across classes too (a box seen as two classes is one object).</summary>
    public bool ClassAgnostic { get; init; }

    /// <summary>
    /// A box cut by an inner tile edge is dropped when a box not cut (from another tile or scale) covers this
    /// fraction of it (intersection over the cut box's area), whatever the scores.
    /// </summary>
    public float CutContainment { get; init; } = 0.6f;

    /// <summary>Distance in source pixels within which a box is said to touch a tile edge.</summary>
    public float EdgeTolerance { get; init; } = 3f;

    public float DefaultScoreThreshold { get; init; } = 0.3f;

    public IReadOnlyDictionary<ObjectClass, float> ScoreThresholds { get; init; } = new Dictionary<ObjectClass, float>();

    public float ThresholdFor(ObjectClass c) => ScoreThresholds.TryGetValue(c, out var t) ? t : DefaultScoreThreshold;

    /// <summary>The lowest threshold of any class: decoders can drop candidates below it early.</summary>
    public float MinimumScoreThreshold => ScoreThresholds.Count == 0 ? DefaultScoreThreshold : Math.Min(DefaultScoreThreshold, ScoreThresholds.Values.Min());
}

/// <summary>A candidate detection with where it came from.</summary>
public readonly record struct TileDetection(Detection Detection, bool IsCut);

/// <summary>Merges candidate detections from overlapping tiles and scales into one list.</summary>
public static class DetectionMerger
{
    /// <summary>True when the box touches an edge of the tile that lies inside the frame (the object may be cut).</summary>
    public static bool IsCutByTileEdge(in BoxF box, in Tile tile, SizeI frame, float tolerance)
    {
        if (tile.IsFullFrame) return false;
        var r = tile.Region;
        var inner = tile.InnerEdges(frame);
        return ((inner & TileEdges.Left) != 0 && box.Left <= r.X + tolerance)
            || ((inner & TileEdges.Top) != 0 && box.Top <= r.Y + tolerance)
            || ((inner & TileEdges.Right) != 0 && box.Right >= r.Right - tolerance)
            || ((inner & TileEdges.Bottom) != 0 && box.Bottom >= r.Bottom - tolerance);
    }

    public static List<Detection> Merge(IReadOnlyList<TileDetection> candidates, MergeOptions options)
    {
        var result = new List<Detection>();
        int n = candidates.Count;
        if (n == 0) return result;

        int[] order = ArrayPool<int>.Shared.Rent(n);
        float[] keys = ArrayPool<float>.Shared.Rent(n);
        bool[] done = ArrayPool<bool>.Shared.Rent(n);
        try
        {
            int count = 0;
            for (int i = 0; i < n; i++)
            {
                var d = candidates[i].Detection;
                done[i] = false;
                if (d.Score < options.ThresholdFor(d.Class) || d.Box.IsEmpty) continue;
                // Whole boxes first (by score), then cut ones: a cut box can never suppress the whole object.
                keys[count] = (candidates[i].IsCut ? 2f : 0f) - d.Score;
                order[count++] = i;
            }

            Array.Sort(keys, order, 0, count);

            for (int oi = 0; oi < count; oi++)
            {
                int i = order[oi];
                if (done[i]) continue;
                done[i] = true;
                var best = candidates[i];
                var keep = best.Detection;

                // A cut box that a whole box already accounts for is a duplicate fragment.
                if (best.IsCut && CoveredByKept(result, keep, options)) continue;

                float sumW = keep.Score;
                float x1 = keep.Box.Left * sumW, y1 = keep.Box.Top * sumW, x2 = keep.Box.Right * sumW, y2 = keep.Box.Bottom * sumW;
                var union = keep.Box;
                float maxScore = keep.Score;

                for (int oj = oi + 1; oj < count; oj++)
                {
                    int j = order[oj];
                    if (done[j]) continue;
                    var other = candidates[j];
                    var od = other.Detection;
                    if (!options.ClassAgnostic && od.ClassId != keep.ClassId) continue;
                    if (!Matches(best, other, options)) continue;
                    done[j] = true;
                    if (options.Strategy == MergeStrategy.Nms) continue;
                    // Fragments are absorbed without changing the whole box.
                    if (other.IsCut && !best.IsCut) continue;
                    float w = od.Score;
                    sumW += w;
                    x1 += od.Box.Left * w; y1 += od.Box.Top * w; x2 += od.Box.Right * w; y2 += od.Box.Bottom * w;
                    union = union.Union(od.Box);
                    maxScore = MathF.Max(maxScore, od.Score);
                }

                if (options.Strategy == MergeStrategy.GreedyNmm && sumW > keep.Score)
                {
                    var box = options.Fusion == BoxFusion.Union ? union : BoxF.FromLtrb(x1 / sumW, y1 / sumW, x2 / sumW, y2 / sumW);
                    keep = keep with { Box = box, Score = maxScore };
                }

                result.Add(keep);
            }

            return result;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(order);
            ArrayPool<float>.Shared.Return(keys);
            ArrayPool<bool>.Shared.Return(done);
        }
    }

    private static readonly Comparison<Detection> ByScoreDescending = static (a, b) => b.Score.CompareTo(a.Score);

    /// <summary>
    /// Class-aware non-maximum suppression in place (one model run's raw candidates), without allocating:
    /// keeps the best box of every group whose IoU exceeds <paramref name="iouThreshold"/>.
    /// </summary>
    public static void SuppressInPlace(List<Detection> detections, float iouThreshold)
    {
        if (detections.Count < 2) return;
        detections.Sort(ByScoreDescending);
        int kept = 0;
        for (int i = 0; i < detections.Count; i++)
        {
            var d = detections[i];
            bool suppressed = false;
            for (int k = 0; k < kept; k++)
            {
                var q = detections[k];
                if (q.ClassId == d.ClassId && q.Box.IoU(d.Box) > iouThreshold) { suppressed = true; break; }
            }

            if (!suppressed) detections[kept++] = d;
        }

        detections.RemoveRange(kept, detections.Count - kept);
    }

    private static bool Matches(in TileDetection a, in TileDetection b, MergeOptions options)
    {
        // A fragment is matched to the object it belongs to by containment, whatever metric is chosen for wholes.
        if (a.IsCut || b.IsCut)
        {
            var cut = a.IsCut ? a.Detection.Box : b.Detection.Box;
            var other = a.IsCut ? b.Detection.Box : a.Detection.Box;
            float area = cut.Area;
            return area > 0 && cut.IntersectionArea(other) / area >= options.CutContainment
                || a.Detection.Box.IoU(b.Detection.Box) >= options.MatchThreshold;
        }

        return options.Metric == MatchMetric.IoS
            ? a.Detection.Box.IntersectionOverSmaller(b.Detection.Box) >= options.MatchThreshold
            : a.Detection.Box.IoU(b.Detection.Box) >= options.MatchThreshold;
    }

    private static bool CoveredByKept(List<Detection> kept, in Detection cut, MergeOptions options)
    {
        float area = cut.Box.Area;
        foreach (var k in kept)
        {
            if (!options.ClassAgnostic && k.ClassId != cut.ClassId) continue;
            if (cut.Box.IntersectionArea(k.Box) / area >= options.CutContainment) return true;
        }

        return false;
    }
}
