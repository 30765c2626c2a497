using CinemaVision.Core.Geometry;

namespace CinemaVision.Core.Auditoriums;

public sealed record AuditoriumValidationOptions
{
    /// <summary>Largest share of a seat's area that may overlap another seat (neighbouring outlines touch).</summary>
    public float MaxSeatOverlap { get; init; } = 0.25f;

    /// <summary>How far outside the frame a point may lie, in pixels (rounding of drawn outlines).</summary>
    public float FrameTolerance { get; init; } = 2f;
}

/// <summary>Checks an auditorium's geometry and identities; returns every problem with its location.</summary>
public static class AuditoriumValidator
{
    public static IReadOnlyList<ConfigProblem> Validate(Auditorium auditorium, AuditoriumValidationOptions? options = null)
    {
        options ??= new AuditoriumValidationOptions();
        var problems = new List<ConfigProblem>();
        if (auditorium.Cameras.Count == 0) problems.Add(new("cameras", "at least one camera is required"));
        foreach (var dup in auditorium.Cameras.GroupBy(c => c.Id, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            problems.Add(new("cameras", $"duplicate camera id '{dup.Key}'"));
        }

        for (int c = 0; c < auditorium.Cameras.Count; c++)
        {
            var cam = auditorium.Cameras[c];
            var path = $"cameras[{c}]";
            var size = cam.Reference.Size;
            var seen = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int s = 0; s < cam.Seats.Count; s++)
            {
                var seat = cam.Seats[s];
                var sp = $"{path}.seats[{s}]";
                if (seen.TryGetValue(seat.Id, out var first)) problems.Add(new($"{sp}.id", $"duplicate seat id '{seat.Id}' (also {path}.seats[{first}])"));
                else seen[seat.Id] = s;
                CheckPolygon(seat.Polygon, $"{sp}.polygon", $"seat '{seat.Id}'", size, options, problems);
            }

            // Overlap between seats: only neighbours can overlap, so compare boxes first.
            for (int a = 0; a < cam.Seats.Count; a++)
            {
                var sa = cam.Seats[a];
                if (sa.Polygon.Count < 3) continue;
                float areaA = Polygons.Area(sa.Polygon);
                for (int b = a + 1; b < cam.Seats.Count; b++)
                {
                    var sb = cam.Seats[b];
                    if (sb.Polygon.Count < 3 || sa.Bounds.IntersectionArea(sb.Bounds) <= 0) continue;
                    var clip = Polygons.IsConvex(sb.Polygon) ? sb.Polygon : null;
                    float inter = clip is null ? sa.Bounds.IntersectionArea(sb.Bounds) : Polygons.IntersectionArea(sa.Polygon, clip);
                    float smaller = MathF.Min(areaA, Polygons.Area(sb.Polygon));
                    if (smaller > 0 && inter / smaller > options.MaxSeatOverlap)
                    {
                        problems.Add(new($"{path}.seats[{b}].polygon", $"seat '{sb.Id}' overlaps seat '{sa.Id}' by {inter / smaller:P0} (at most {options.MaxSeatOverlap:P0} allowed)"));
                    }
                }
            }

            var zoneIds = new HashSet<string>(StringComparer.Ordinal);
            for (int z = 0; z < cam.Zones.Count; z++)
            {
                var zone = cam.Zones[z];
                var zp = $"{path}.zones[{z}]";
                if (!zoneIds.Add(zone.Id)) problems.Add(new($"{zp}.id", $"duplicate zone id '{zone.Id}'"));
                CheckPolygon(zone.Polygon, $"{zp}.polygon", $"zone '{zone.Id}'", size, options, problems);
            }

            var maskIds = new HashSet<string>(StringComparer.Ordinal);
            for (int m = 0; m < cam.Masks.Count; m++)
            {
                var mask = cam.Masks[m];
                var mp = $"{path}.masks[{m}]";
                if (!maskIds.Add(mask.Id)) problems.Add(new($"{mp}.id", $"duplicate mask id '{mask.Id}'"));
                CheckPolygon(mask.Polygon, $"{mp}.polygon", $"mask '{mask.Id}'", size, options, problems);
            }

            if (cam.Perspective is { Count: 1 }) problems.Add(new($"{path}.perspective", "needs at least two references (or none)"));
        }

        return problems;
    }

    private static void CheckPolygon(IReadOnlyList<PointF> polygon, string path, string what, SizeI frame, AuditoriumValidationOptions options, List<ConfigProblem> problems)
    {
        if (polygon.Count < 3)
        {
            problems.Add(new(path, $"{what} needs a polygon of at least 3 points (has {polygon.Count})"));
            return;
        }

        if (!frame.IsEmpty)
        {
            float t = options.FrameTolerance;
            var outside = polygon.Select((p, i) => (p, i)).Where(x => x.p.X < -t || x.p.Y < -t || x.p.X > frame.Width + t || x.p.Y > frame.Height + t).ToList();
            if (outside.Count > 0)
            {
                problems.Add(new($"{path}[{outside[0].i}]", $"{what} has {outside.Count} point(s) outside the {frame} reference frame, first {outside[0].p}"));
            }
        }

        if (Polygons.IsSelfIntersecting(polygon)) problems.Add(new(path, $"{what} outline crosses itself"));
        else if (Polygons.Area(polygon) < 1) problems.Add(new(path, $"{what} outline has no area"));
    }
}
