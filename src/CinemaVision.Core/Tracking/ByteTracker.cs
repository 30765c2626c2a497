using CinemaVision.Core.Detections;
using CinemaVision.Core.Geometry;

namespace CinemaVision.Core.Tracking;

public sealed record TrackerOptions
{
    /// <summary>Detections at or above this score start tracks and are matched first.</summary>
    public float HighScore { get; init; } = DetectionThresholds.DefaultPerson;

    /// <summary>Detections between this and <see cref="HighScore"/> only keep existing tracks alive (second pass).</summary>
    public float LowScore { get; init; } = 0.1f;

    /// <summary>A new track needs a detection at least this confident.</summary>
    public float NewTrackScore { get; init; } = 0.6f;

    public float MatchIoU { get; init; } = 0.1f;
    public float SecondPassIoU { get; init; } = 0.3f;

    /// <summary>Frames a track survives without a match before it is removed.</summary>
    public int MaxLostFrames { get; init; } = 30;

    /// <summary>Consecutive matches before a track is confirmed (reported).</summary>
    public int ConfirmAfter { get; init; } = 2;
}

public enum TrackState
{
    Tentative = 0,
    Confirmed = 1,
    Lost = 2,
}

/// <summary>A tracked person: stable id, current box, velocity and how long it has been seen.</summary>
public sealed class Track
{
    internal Track(int id, Detection detection, DateTimeOffset at)
    {
        Id = id;
        Filter = new KalmanBoxFilter(detection.Box);
        Detection = detection;
        FirstSeen = at;
        LastSeen = at;
        Hits = 1;
    }

    public int Id { get; }
    internal KalmanBoxFilter Filter { get; }
    public Detection Detection { get; internal set; }
    public TrackState State { get; internal set; }
    public int Hits { get; internal set; }
    public int LostFrames { get; internal set; }
    public DateTimeOffset FirstSeen { get; }
    public DateTimeOffset LastSeen { get; internal set; }
    public BoxF Box => Filter.Box;

    /// <summary>Centre velocity in pixels per analysis.</summary>
    public PointF Velocity => Filter.Velocity;

    /// <summary>Feet: the bottom centre of the box (where a standing or walking person is).</summary>
    public PointF Foot => new(Box.CenterX, Box.Bottom);
}

/// <summary>
/// ByteTrack-style multi-object tracker: Kalman prediction, a first association of high-score detections by IoU
/// (Hungarian), a second association of the remaining tracks with low-score detections (occluded people keep
/// their id), new tracks only from confident unmatched detections, removal after <see cref="TrackerOptions.MaxLostFrames"/>.
/// </summary>
public sealed class ByteTracker
{
    private readonly TrackerOptions _options;
    private readonly List<Track> _tracks = [];
    private int _nextId = 1;

    public ByteTracker(TrackerOptions? options = null) => _options = options ?? new TrackerOptions();

    public IReadOnlyList<Track> Tracks => _tracks;

    /// <summary>Tracks that are confirmed and matched in the latest update.</summary>
    public IEnumerable<Track> Active => _tracks.Where(t => t.State == TrackState.Confirmed && t.LostFrames == 0);

    public IReadOnlyList<Track> Update(IReadOnlyList<Detection> detections, DateTimeOffset at)
    {
        foreach (var t in _tracks) t.Filter.Predict();
        var people = detections.Where(d => d.Class == ObjectClass.Person && d.Score >= _options.LowScore).ToList();
        var high = people.Where(d => d.Score >= _options.HighScore).ToList();
        var low = people.Where(d => d.Score < _options.HighScore).ToList();

        var candidates = _tracks.ToList();
        var unmatchedTracks = Associate(candidates, high, _options.MatchIoU, at, out var unmatchedHigh);
        Associate(unmatchedTracks.Where(t => t.State != TrackState.Tentative || t.Hits > 0).ToList(), low, _options.SecondPassIoU, at, out _);

        foreach (var t in _tracks.Where(t => t.LastSeen != at))
        {
            t.LostFrames++;
            if (t.State == TrackState.Confirmed) t.State = TrackState.Lost;
        }

        _tracks.RemoveAll(t => t.LostFrames > _options.MaxLostFrames || (t.State == TrackState.Tentative && t.LostFrames > 0));
        foreach (var d in unmatchedHigh.Where(d => d.Score >= _options.NewTrackScore))
        {
            var t = new Track(_nextId++, d, at);
            if (_options.ConfirmAfter <= 1) t.State = TrackState.Confirmed;
            _tracks.Add(t);
        }

        return _tracks;
    }

    private List<Track> Associate(List<Track> tracks, List<Detection> detections, float minIoU, DateTimeOffset at, out List<Detection> unmatched)
    {
        var cost = new double[tracks.Count, detections.Count];
        for (int i = 0; i < tracks.Count; i++)
        {
            var box = tracks[i].Box;
            for (int j = 0; j < detections.Count; j++) cost[i, j] = 1 - box.IoU(detections[j].Box);
        }

        var assignment = Hungarian.Solve(cost, 1 - minIoU);
        var used = new bool[detections.Count];
        var unmatchedTracks = new List<Track>();
        for (int i = 0; i < tracks.Count; i++)
        {
            int j = assignment[i];
            if (j < 0)
            {
                unmatchedTracks.Add(tracks[i]);
                continue;
            }

            used[j] = true;
            var t = tracks[i];
            t.Filter.Update(detections[j].Box);
            t.Detection = detections[j];
            t.Hits++;
            t.LostFrames = 0;
            t.LastSeen = at;
            if (t.State == TrackState.Lost || (t.State == TrackState.Tentative && t.Hits >= _options.ConfirmAfter)) t.State = TrackState.Confirmed;
        }

        unmatched = detections.Where((_, j) => !used[j]).ToList();
        return unmatchedTracks;
    }
}
