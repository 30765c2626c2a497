using CinemaVision.Core.Auditoriums;
using CinemaVision.Core.Detections;
using CinemaVision.Core.Geometry;
using CinemaVision.Core.Seating;

namespace CinemaVision.Core.Evaluation;

/// <summary>Seat-level figures: each seat of each frame judged occupied or empty by the detections and by the labels.</summary>
public sealed record SeatAccuracyResult(int Seats, int Frames, int OccupiedBoth, int OccupiedOnlyByDetections, int OccupiedOnlyByLabels, int EmptyBoth)
{
    public int Judgements => OccupiedBoth + OccupiedOnlyByDetections + OccupiedOnlyByLabels + EmptyBoth;

    public double Accuracy => Judgements == 0 ? 0 : (double)(OccupiedBoth + EmptyBoth) / Judgements;

    public double Precision => OccupiedBoth + OccupiedOnlyByDetections == 0 ? 1 : (double)OccupiedBoth / (OccupiedBoth + OccupiedOnlyByDetections);

    public double Recall => OccupiedBoth + OccupiedOnlyByLabels == 0 ? 1 : (double)OccupiedBoth / (OccupiedBoth + OccupiedOnlyByLabels);
}

/// <summary>
/// Seat-level accuracy with a seat map: the labels and the detections are put on seats by the same
/// <see cref="SeatAssigner"/> the product uses, and each seat's occupied/empty verdict is compared. A head sits
/// above its seat as a face does, so heads are placed with the face anchor.
/// </summary>
public sealed class SeatAccuracyEvaluator(IReadOnlyList<Seat> seats, ObjectClass objectClass, SeatAssignmentOptions? options = null)
{
    private int _both, _detOnly, _labelOnly, _empty, _frames;

    public void AddFrame(IReadOnlyList<Detection> detections, IReadOnlyList<GroundTruthBox> truth)
    {
        var found = Occupied(detections.Where(d => d.Class == objectClass).Select(d => d with { Class = Placeable(d.Class) }).ToList());
        var labelled = Occupied(truth.Where(t => t.Class == objectClass && !t.Ignore).Select(t => new Detection(t.Box, 0, 1f, Placeable(t.Class))).ToList());
        foreach (var seat in seats)
        {
            bool f = found.Contains(seat.Id), l = labelled.Contains(seat.Id);
            if (f && l) _both++;
            else if (f) _detOnly++;
            else if (l) _labelOnly++;
            else _empty++;
        }

        _frames++;
    }

    public SeatAccuracyResult Result() => new(seats.Count, _frames, _both, _detOnly, _labelOnly, _empty);

    private HashSet<string> Occupied(List<Detection> detections) =>
        SeatAssigner.Assign(detections, seats, options).Select(a => a.SeatId).ToHashSet(StringComparer.Ordinal);

    private static ObjectClass Placeable(ObjectClass c) => c == ObjectClass.Head ? ObjectClass.Face : c;
}

/// <summary>Seat helpers for evaluation.</summary>
public static class SeatMaps
{
    /// <summary>The seats of one camera of an auditorium (the first camera when none is named).</summary>
    public static IReadOnlyList<Seat> SeatsOf(Auditorium auditorium, string? cameraId)
    {
        var camera = cameraId is null ? (auditorium.Cameras.Count > 0 ? auditorium.Cameras[0] : null) : auditorium.Cameras.FirstOrDefault(c => c.Id == cameraId);
        return camera?.Seats ?? throw new ArgumentException(cameraId is null ? "the auditorium has no camera." : $"the auditorium has no camera '{cameraId}' (cameras: {string.Join(", ", auditorium.Cameras.Select(c => c.Id))}).");
    }

    /// <summary>Scales a seat map drawn on a reference frame to the evaluated frame size.</summary>
    public static IReadOnlyList<Seat> ScaleTo(IReadOnlyList<Seat> seats, SizeI reference, SizeI frame)
    {
        if (reference.IsEmpty || reference == frame) return seats;
        float sx = (float)frame.Width / reference.Width, sy = (float)frame.Height / reference.Height;
        return seats.Select(s => s with { Polygon = s.Polygon.Select(p => new PointF(p.X * sx, p.Y * sy)).ToList() }).ToList();
    }
}
