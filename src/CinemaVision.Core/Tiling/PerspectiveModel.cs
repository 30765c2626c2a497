namespace CinemaVision.Core.Tiling;

/// <summary>
/// Expected person height (pixels) as a function of the image row, from two or more reference measurements
/// (for example the back row and the front row of the seat map). Piecewise linear between references and
/// linearly extrapolated beyond them, never below <see cref="MinimumHeight"/>.
/// </summary>
public sealed class PerspectiveModel
{
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
}
