using System.Text.Json.Serialization;
using CinemaVision.Core.Geometry;
using CinemaVision.Core.Pipeline;

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

    /// <summary>Per-auditorium overrides of the camera pipeline's thresholds and timings (the file's optional <c>pipeline</c> section).</summary>
    [JsonIgnore]
    public PipelineSettings Pipeline { get; init; } = PipelineSettings.Empty;

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

    /// <summary>Regions ignored everywhere: the burnt-in clock and camera name, a screen, a mirror.</summary>
    public IReadOnlyList<Mask> Masks { get; init; } = [];

    /// <summary>
    /// The same view in the pixels of a frame of another size (a camera's substream, or a main stream of another
    /// resolution than the reference frame the map was drawn on): seats, zones and perspective scaled.
    /// </summary>
    public CameraView ScaledTo(SizeI frame)
    {
        if (frame == Reference.Size || Reference.Width <= 0 || Reference.Height <= 0) return this;
        float sx = (float)frame.Width / Reference.Width, sy = (float)frame.Height / Reference.Height;
        IReadOnlyList<PointF> Scale(IReadOnlyList<PointF> polygon) => [.. polygon.Select(p => new PointF(p.X * sx, p.Y * sy))];
        return this with
        {
            Reference = new ReferenceFrame(frame.Width, frame.Height, Reference.File),
            Seats = [.. Seats.Select(s => s with { Polygon = Scale(s.Polygon) })],
            Zones = [.. Zones.Select(z => z with { Polygon = Scale(z.Polygon) })],
            Masks = [.. Masks.Select(m => m with { Polygon = Scale(m.Polygon) })],
            Perspective = Perspective is null ? null : [.. Perspective.Select(p => new PerspectiveReference(p.Row * sy, p.Height * sy))],
        };
    }
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

/// <summary>What a mask hides (all are ignored everywhere; the kind says why, for the installer).</summary>
public enum MaskKind
{
    /// <summary>Text burnt into the picture: the camera's clock, its name.</summary>
    Text = 0,

    /// <summary>The cinema screen (moving pictures of people).</summary>
    Screen = 1,

    /// <summary>A mirror or glass that shows people twice.</summary>
    Mirror = 2,

    Other = 3,
}

/// <summary>A region of a camera's picture where nothing is detected or counted.</summary>
public sealed record Mask(string Id, MaskKind Kind, IReadOnlyList<PointF> Polygon)
{
    [JsonIgnore]
    public BoxF Bounds => Polygons.Bounds(Polygon);
}

public sealed record Zone(string Id, ZoneKind Kind, IReadOnlyList<PointF> Polygon, string? Name = null)
{
    [JsonIgnore]
    public BoxF Bounds => Polygons.Bounds(Polygon);
}
