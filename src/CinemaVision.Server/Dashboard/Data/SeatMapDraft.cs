using CinemaVision.Core.Auditoriums;
using CinemaVision.Core.Geometry;

namespace CinemaVision.Server.Dashboard.Data;

/// <summary>
/// The seat-map editor's working copy of an auditorium: mutable outlines the person drags, turned back into Core's
/// <see cref="Auditorium"/> for validation (Core's <see cref="AuditoriumValidator"/>) and saving (Core's
/// <see cref="AuditoriumFile"/>). Nothing here decides what is valid.
/// </summary>
public sealed class SeatMapDraft
{
    public required string SiteId { get; init; }

    public required string AuditoriumId { get; init; }

    public string? Name { get; set; }

    public List<DraftCamera> Cameras { get; init; } = [];

    public static SeatMapDraft From(Auditorium a) => new()
    {
        SiteId = a.SiteId,
        AuditoriumId = a.AuditoriumId,
        Name = a.Name,
        Cameras = a.Cameras.Select(c => new DraftCamera
        {
            Id = c.Id,
            Reference = c.Reference,
            Perspective = c.Perspective,
            Seats = c.Seats.Select(s => new DraftShape(s.Id, [.. s.Polygon]) { Row = s.Row, Number = s.Number }).ToList(),
            Zones = c.Zones.Select(z => new DraftShape(z.Id, [.. z.Polygon]) { Kind = z.Kind, Label = z.Name }).ToList(),
        }).ToList(),
    };

    public Auditorium ToAuditorium() => new()
    {
        SiteId = SiteId,
        AuditoriumId = AuditoriumId,
        Name = string.IsNullOrWhiteSpace(Name) ? null : Name.Trim(),
        Cameras = Cameras.Select(c => new CameraView
        {
            Id = c.Id,
            Reference = c.Reference,
            Perspective = c.Perspective,
            Seats = c.Seats.Select(s => new Seat(s.Id, s.Row, s.Number, [.. s.Points])).ToList(),
            Zones = c.Zones.Select(z => new Zone(z.Id, z.Kind, [.. z.Points], string.IsNullOrWhiteSpace(z.Label) ? null : z.Label)).ToList(),
        }).ToList(),
    };

    /// <summary>Adds generated seats to a camera; a seat with the same id is replaced. Returns how many replaced existing ones.</summary>
    public static int AddSeats(DraftCamera camera, IEnumerable<Seat> seats)
    {
        int replaced = 0;
        foreach (var seat in seats)
        {
            int existing = camera.Seats.FindIndex(s => s.Id == seat.Id);
            var shape = new DraftShape(seat.Id, [.. seat.Polygon]) { Row = seat.Row, Number = seat.Number };
            if (existing >= 0)
            {
                camera.Seats[existing] = shape;
                replaced++;
            }
            else
            {
                camera.Seats.Add(shape);
            }
        }

        return replaced;
    }

    /// <summary>Row labels from "A-M", "M-A", "A,B,C" or "AA-AD" (letters only, in the order written).</summary>
    public static IReadOnlyList<string>? ParseRowLabels(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        text = text.Trim().ToUpperInvariant();
        if (text.Contains(',', StringComparison.Ordinal))
        {
            var list = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
            return list.Count > 0 && list.All(l => l.All(char.IsLetterOrDigit)) ? list : null;
        }

        var parts = text.Split('-', StringSplitOptions.TrimEntries);
        if (parts.Length == 1) return parts[0].All(char.IsLetter) && parts[0].Length > 0 ? [parts[0]] : null;
        if (parts.Length != 2 || parts[0].Length != 1 || parts[1].Length != 1 || !char.IsLetter(parts[0][0]) || !char.IsLetter(parts[1][0])) return null;
        char a = parts[0][0], b = parts[1][0];
        int step = a <= b ? 1 : -1;
        var labels = new List<string>();
        for (char c = a; step > 0 ? c <= b : c >= b; c = (char)(c + step)) labels.Add(c.ToString());
        return labels;
    }
}

/// <summary>One camera in the editor.</summary>
public sealed class DraftCamera
{
    public required string Id { get; init; }

    public required ReferenceFrame Reference { get; init; }

    public IReadOnlyList<PerspectiveReference>? Perspective { get; init; }

    public List<DraftShape> Seats { get; init; } = [];

    public List<DraftShape> Zones { get; init; } = [];
}

/// <summary>A seat or zone outline being edited.</summary>
public sealed class DraftShape(string id, List<PointF> points)
{
    public string Id { get; set; } = id;

    public List<PointF> Points { get; set; } = points;

    public string Row { get; set; } = "";

    public int Number { get; set; }

    public ZoneKind Kind { get; set; } = ZoneKind.Aisle;

    public string? Label { get; set; }
}
