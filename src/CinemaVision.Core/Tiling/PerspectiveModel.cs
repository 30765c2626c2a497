namespace CinemaVision.Core.Tiling;

/// <summary>
/// Expected person height (pixels) as a function of the image row, from two or more reference measurements
/// (for example the back row and the front row of the seat map). Piecewise linear between references and
/// linearly extrapolated beyond them, never below <see cref="MinimumHeight"/>.
/// </summary>
public sealed class PerspectiveModel
{
    /// <summary>A seated person's box height as a multiple of the seat spacing (to derive perspective from a seat map).</summary>
    public const float DefaultPersonHeightPerSeatWidth = 1.8f;

    private readonly (float Row, float Height)[] _references;

    public PerspectiveModel(IEnumerable<(float Row, float Height)> references, float minimumHeight = 8)
    {
        _references = references.OrderBy(r => r.Row).ToArray();
        if (_references.Length < 2)
        {
            throw new ArgumentException("Perspective needs at least two reference (row, person height) pairs.", nameof(references));
        }

        if (_references.Any(r => r.Height <= 0))
        {
            throw new ArgumentException("Reference person heights must be positive.", nameof(references));
        }

        for (int i = 1; i < _references.Length; i++)
        {
            if (_references[i].Row - _references[i - 1].Row < 1)
            {
                throw new ArgumentException($"Reference rows must differ (row {_references[i].Row} given twice).", nameof(references));
            }
        }

        MinimumHeight = minimumHeight;
    }

    public float MinimumHeight { get; }

    public IReadOnlyList<(float Row, float Height)> References => _references;

    public float ExpectedHeightAt(float row)
    {
        int i = 1;
        while (i < _references.Length - 1 && row > _references[i].Row) i++;
        var (r0, h0) = _references[i - 1];
        var (r1, h1) = _references[i];
        float t = (row - r0) / (r1 - r0);
        return MathF.Max(MinimumHeight, h0 + (t * (h1 - h0)));
    }

    /// <summary>
    /// Perspective from a camera's seat map: the given (row, height) references when there are at least two, else per
    /// seat row the seat spacing times <paramref name="personHeightPerSeatWidth"/> is the expected height of a seated
    /// person. Null when the map has fewer than two distinct rows.
    /// </summary>
    public static PerspectiveModel? FromSeatMap(Auditoriums.CameraView camera, float personHeightPerSeatWidth = DefaultPersonHeightPerSeatWidth)
    {
        if (camera.Perspective is { Count: >= 2 } given) return new PerspectiveModel(given.Select(p => (p.Row, p.Height)));
        var rows = camera.Seats.GroupBy(s => s.Row, StringComparer.Ordinal)
            .Select(g => (Row: g.Average(s => s.Bounds.CenterY), Height: personHeightPerSeatWidth * g.Average(s => s.Bounds.Width)))
            .OrderBy(r => r.Row)
            .ToList();
        var distinct = rows.Where((r, i) => i == 0 || r.Row - rows[i - 1].Row >= 1).ToList();
        return distinct.Count >= 2 ? new PerspectiveModel(distinct.Select(r => ((float)r.Row, (float)r.Height))) : null;
    }
}
