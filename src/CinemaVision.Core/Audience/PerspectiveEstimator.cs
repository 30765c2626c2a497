using CinemaVision.Core.Geometry;
using CinemaVision.Core.Tiling;

namespace CinemaVision.Core.Audience;

/// <summary>How a perspective is fitted from the detections themselves.</summary>
public sealed record PerspectiveFitOptions
{
    /// <summary>Fewest boxes a fit needs (an empty hall has too few heads to say anything).</summary>
    public int MinBoxes { get; init; } = 6;

    /// <summary>The boxes must span at least this many rows, else the slope is noise.</summary>
    public float MinRowSpan { get; init; } = 60;

    /// <summary>Pairs closer than this in rows do not vote for the slope.</summary>
    public float MinPairRowGap { get; init; } = 8;

    /// <summary>The expected size never falls below this (pixels).</summary>
    public float MinimumHeight { get; init; } = 6;

    /// <summary>Most boxes used (the most confident are kept): the fit is quadratic in their number.</summary>
    public int MaxBoxes { get; init; } = 300;
}

/// <summary>
/// Perspective from the detections themselves: in a raked auditorium seen from the front, a head's size grows about
/// linearly with its image row. A Theil–Sen fit (median of the pairwise slopes, then the median intercept) of box
/// height against box centre row ignores the outliers a detector produces (a big false box on a texture, a child, a
/// standing teacher) that would drag a least-squares line. Used when the camera has no seat map yet (day one) and to
/// check a seat map's perspective.
/// </summary>
public static class PerspectiveEstimator
{
    /// <summary>Returns the fitted model as references at the top and bottom of the data, or null when the boxes cannot support a fit.</summary>
    public static PerspectiveModel? Fit(IReadOnlyList<BoxF> boxes, PerspectiveFitOptions? options = null)
    {
        options ??= new PerspectiveFitOptions();
        var usable = boxes.Where(b => !b.IsEmpty).Take(options.MaxBoxes).ToList();
        if (usable.Count < options.MinBoxes) return null;
        float minRow = usable.Min(b => b.CenterY), maxRow = usable.Max(b => b.CenterY);
        if (maxRow - minRow < options.MinRowSpan) return null;

        var slopes = new List<float>(usable.Count * (usable.Count - 1) / 2);
        for (int i = 0; i < usable.Count; i++)
        {
            for (int j = i + 1; j < usable.Count; j++)
            {
                float dy = usable[j].CenterY - usable[i].CenterY;
                if (MathF.Abs(dy) < options.MinPairRowGap) continue;
                slopes.Add((usable[j].Height - usable[i].Height) / dy);
            }
        }

        if (slopes.Count < options.MinBoxes) return null;
        float slope = Median(slopes);
        float intercept = Median(usable.Select(b => b.Height - (slope * b.CenterY)).ToList());
        float top = MathF.Max(options.MinimumHeight, intercept + (slope * minRow));
        float bottom = MathF.Max(options.MinimumHeight, intercept + (slope * maxRow));
        return new PerspectiveModel([(minRow, top), (maxRow, bottom)], options.MinimumHeight);
    }

    internal static float Median(List<float> values)
    {
        values.Sort();
        int n = values.Count;
        return n % 2 == 1 ? values[n / 2] : 0.5f * (values[(n / 2) - 1] + values[n / 2]);
    }
}
