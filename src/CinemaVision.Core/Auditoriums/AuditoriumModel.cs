using System.Text.Json.Serialization;
using CinemaVision.Core.Geometry;

namespace CinemaVision.Core.Auditoriums;

/// <summary>
/// An auditorium as configured by an installer: its cameras, and for each camera the reference frame the seat map
/// was drawn on, the seats and the zones. Stored as JSON (schema: schemas/auditorium.schema.json).
/// </summary>
public sealed record Auditorium
{
    public string SchemaVersion { get; init; } = "1";
    public required string SiteId { get; init; }
    public required string AuditoriumId { get; init; }
    public string? Name { get; init; }
    public IReadOnlyList<CameraView> Cameras { get; init; } = [];

    [JsonIgnore]
    public int SeatCount => Cameras.SelectMany(c => c.Seats).Select(s => s.Id).Distinct(StringComparer.Ordinal).Count();
}

/// <summary>What one camera sees: seats and zones in the pixel coordinates of its reference frame.</summary>
public sealed record CameraView
{
    public required string Id { get; init; }
    public required ReferenceFrame Reference { get; init; }
    public IReadOnlyList<Seat> Seats { get; init; } = [];
    public IReadOnlyList<Zone> Zones { get; init; } = [];

    /// <summary>Optional (image row, person height in px) pairs; otherwise derived from the seat sizes.</summary>
    public IReadOnlyList<PerspectiveReference>? Perspective { get; init; }
}

/// <summary>The frame the seat map was drawn on (kept to detect a moved camera).</summary>
public sealed record ReferenceFrame(int Width, int Height, string? File = null)
{
    [JsonIgnore]
    public SizeI Size => new(Width, Height);
}

public sealed record PerspectiveReference(float Row, float Height);

/// <summary>A seat: id such as <c>F12</c>, its row and number, and its outline in the reference frame.</summary>
public sealed record Seat(string Id, string Row, int Number, IReadOnlyList<PointF> Polygon)
{
    [JsonIgnore]
    public BoxF Bounds => Polygons.Bounds(Polygon);
}

/// <summary>The kinds of zone the rules know.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ZoneKind>))]
public enum ZoneKind
{
    Seating = 0,
    Aisle = 1,
    Exit = 2,
    Stage = 3,
    Screen = 4,
    StaffOnly = 5,

    /// <summary>Never analysed: detections inside are ignored (a mirror, a foyer window, a reflective wall).</summary>
    Mask = 6,
}

public sealed record Zone(string Id, ZoneKind Kind, IReadOnlyList<PointF> Polygon, string? Name = null)
{
    [JsonIgnore]
    public BoxF Bounds => Polygons.Bounds(Polygon);
}
