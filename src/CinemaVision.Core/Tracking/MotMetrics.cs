using CinemaVision.Core.Geometry;

namespace CinemaVision.Core.Tracking;

/// <summary>CLEAR MOT metrics: misses, false positives, identity switches and MOTA (IoU 0.5 matching).</summary>
public sealed class MotMetrics
{
    private readonly float _iou;
    private readonly Dictionary<int, int> _lastMatch = [];

    public MotMetrics(float iouThreshold = 0.5f) => _iou = iouThreshold;

    public int GroundTruth { get; private set; }
    public int Matches { get; private set; }
    public int Misses { get; private set; }
    public int FalsePositives { get; private set; }
    public int IdSwitches { get; private set; }
    public int Frames { get; private set; }

    public double Mota => GroundTruth == 0 ? 0 : 1 - ((double)(Misses + FalsePositives + IdSwitches) / GroundTruth);

    public void AddFrame(IReadOnlyList<(int Id, BoxF Box)> truth, IReadOnlyList<(int Id, BoxF Box)> tracks, IReadOnlyList<BoxF>? ignoreRegions = null)
    {
        Frames++;
        GroundTruth += truth.Count;
        var matchedTruth = new bool[truth.Count];
        var matchedTrack = new bool[tracks.Count];

        // Keep last frame's correspondences when still valid (CLEAR MOT), then assign the rest by IoU.
        for (int i = 0; i < truth.Count; i++)
        {
            if (!_lastMatch.TryGetValue(truth[i].Id, out var trackId)) continue;
            int j = IndexOf(tracks, trackId);
            if (j >= 0 && !matchedTrack[j] && truth[i].Box.IoU(tracks[j].Box) >= _iou)
            {
                matchedTruth[i] = matchedTrack[j] = true;
                Matches++;
            }
        }

        var cost = new double[truth.Count, tracks.Count];
        for (int i = 0; i < truth.Count; i++)
        {
            for (int j = 0; j < tracks.Count; j++) cost[i, j] = matchedTruth[i] || matchedTrack[j] ? 2 : 1 - truth[i].Box.IoU(tracks[j].Box);
        }

        var assignment = Hungarian.Solve(cost, 1 - _iou);
        for (int i = 0; i < truth.Count; i++)
        {
            int j = assignment[i];
            if (matchedTruth[i] || j < 0) continue;
            matchedTruth[i] = matchedTrack[j] = true;
            Matches++;
            if (_lastMatch.TryGetValue(truth[i].Id, out var previous) && previous != tracks[j].Id) IdSwitches++;
            _lastMatch[truth[i].Id] = tracks[j].Id;
        }

        Misses += matchedTruth.Count(m => !m);
        for (int j = 0; j < tracks.Count; j++)
        {
            if (matchedTrack[j]) continue;
            if (ignoreRegions?.Any(r => tracks[j].Box.IntersectionArea(r) >= 0.5f * tracks[j].Box.Area) == true) continue;
            FalsePositives++;
        }
    }

    private static int IndexOf(IReadOnlyList<(int Id, BoxF Box)> tracks, int id)
    {
        for (int j = 0; j < tracks.Count; j++) if (tracks[j].Id == id) return j;
        return -1;
    }
}
