using CinemaVision.Core.Auditoriums;
using CinemaVision.Core.Detections;
using CinemaVision.Core.Geometry;

namespace CinemaVision.Core.Seating;

/// <summary>A detection placed in a seat.</summary>
public readonly record struct SeatAssignment(string SeatId, int DetectionIndex, float Score);

public sealed record SeatAssignmentOptions
{
    /// <summary>Where a seated person's anchor sits in a person box, as a fraction of its height from the top (upper body).</summary>
    public float PersonAnchorFromTop { get; init; } = 0.4f;

    /// <summary>How far below a face (or head) box the anchor sits, in its heights: the shoulders and chest, which are on the seat.</summary>
    public float FaceAnchorBelow { get; init; } = 0.4f;

    /// <summary>Least share of the detection's anchor region that must fall in the seat when the anchor point is outside it.</summary>
    public float MinOverlap { get; init; } = 0.3f;
}

/// <summary>
/// Places each person (or face, or head) detection in at most one seat and each seat holds at most one person: candidate
/// pairs are scored by whether the anchor point (upper-body centre) is inside the seat outline and by overlap, and
/// taken greedily best first (one-to-one).
/// </summary>
public static class SeatAssigner
{
    public static PointF Anchor(in Detection d, SeatAssignmentOptions options) => d.Class is ObjectClass.Face or ObjectClass.Head
        ? new PointF(d.Box.CenterX, d.Box.Bottom + (options.FaceAnchorBelow * d.Box.Height))
        : new PointF(d.Box.CenterX, d.Box.Top + (options.PersonAnchorFromTop * d.Box.Height));

    /// <summary>The part of the detection that should lie on the seat: the upper body, or the chest under a face.</summary>
    public static BoxF AnchorRegion(in Detection d, SeatAssignmentOptions options) => d.Class is ObjectClass.Face or ObjectClass.Head
        ? new BoxF(d.Box.X, d.Box.Bottom, d.Box.Width, d.Box.Height * options.FaceAnchorBelow * 2)
        : new BoxF(d.Box.X, d.Box.Y + (d.Box.Height * 0.15f), d.Box.Width, d.Box.Height * 0.5f);

    public static List<SeatAssignment> Assign(IReadOnlyList<Detection> detections, IReadOnlyList<Seat> seats, SeatAssignmentOptions? options = null)
    {
        options ??= new SeatAssignmentOptions();
        var candidates = new List<SeatAssignment>();
        for (int d = 0; d < detections.Count; d++)
        {
            var det = detections[d];
            if (det.Class is not (ObjectClass.Person or ObjectClass.Face or ObjectClass.Head)) continue;
            var anchor = Anchor(det, options);
            var region = AnchorRegion(det, options);
            for (int s = 0; s < seats.Count; s++)
            {
                var seat = seats[s];
                var bounds = seat.Bounds;
                if (!bounds.Contains(anchor) && bounds.IntersectionArea(region) <= 0) continue;
                bool inside = Polygons.Contains(seat.Polygon, anchor);
                float overlap = region.Area <= 0 ? 0 : Polygons.IntersectionArea(seat.Polygon, region) / MathF.Min(region.Area, Polygons.Area(seat.Polygon));
                if (!inside && overlap < options.MinOverlap) continue;
                // Inside beats overlap; among insides, the seat whose centre is nearest the anchor wins.
                float centreDistance = anchor.DistanceTo(new PointF(bounds.CenterX, bounds.CenterY)) / MathF.Max(1, bounds.Width);
                float score = (inside ? 2f : 0f) + overlap - (0.1f * centreDistance) + (0.01f * det.Score);
                candidates.Add(new SeatAssignment(seat.Id, d, score));
            }
        }

        candidates.Sort((a, b) => b.Score.CompareTo(a.Score));
        var takenSeats = new HashSet<string>(StringComparer.Ordinal);
        var takenDetections = new HashSet<int>();
        var result = new List<SeatAssignment>();
        foreach (var c in candidates)
        {
            if (takenSeats.Contains(c.SeatId) || takenDetections.Contains(c.DetectionIndex)) continue;
            takenSeats.Add(c.SeatId);
            takenDetections.Add(c.DetectionIndex);
            result.Add(c);
        }

        return result;
    }
}
