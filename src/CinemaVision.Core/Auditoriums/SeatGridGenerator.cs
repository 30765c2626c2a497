using System.Globalization;
using CinemaVision.Core.Geometry;

namespace CinemaVision.Core.Auditoriums;

/// <summary>
/// One row of seats as an installer clicks it: the centre of the first and of the last seat as seen in the
/// image, the number of seats, and the seat outline height in pixels at each end (rows further away are smaller).
/// </summary>
public sealed record SeatRowSpec(string Row, PointF First, PointF Last, int Count, float HeightAtFirst, float HeightAtLast, int FirstNumber = 1, bool NumberRightToLeft = false);

/// <summary>Generates seat outlines from a few clicks so nobody draws 400 polygons by hand.</summary>
public static class SeatGridGenerator
{
    /// <summary>Quadrilateral seats along each row, each as wide as the spacing between seat centres.</summary>
    public static IReadOnlyList<Seat> Generate(IEnumerable<SeatRowSpec> rows)
    {
        var seats = new List<Seat>();
        foreach (var row in rows)
        {
            if (row.Count < 1) throw new ArgumentException($"Row {row.Row}: seat count must be at least 1.", nameof(rows));
            float dx = row.Count == 1 ? 0 : (row.Last.X - row.First.X) / (row.Count - 1);
            float dy = row.Count == 1 ? 0 : (row.Last.Y - row.First.Y) / (row.Count - 1);
            float halfW = row.Count == 1 ? row.HeightAtFirst / 2 : MathF.Sqrt((dx * dx) + (dy * dy)) / 2;
            for (int i = 0; i < row.Count; i++)
            {
                float t = row.Count == 1 ? 0 : (float)i / (row.Count - 1);
                float cx = row.First.X + (dx * i), cy = row.First.Y + (dy * i);
                float halfH = (row.HeightAtFirst + ((row.HeightAtLast - row.HeightAtFirst) * t)) / 2;
                // Edges follow the row's slope so a tilted row gives parallelograms that tile without gaps.
                float sx = row.Count == 1 ? halfW : dx / 2, sy = row.Count == 1 ? 0 : dy / 2;
                PointF[] polygon =
                [
                    new(cx - sx, cy - sy - halfH), new(cx + sx, cy + sy - halfH),
                    new(cx + sx, cy + sy + halfH), new(cx - sx, cy - sy + halfH),
                ];
                int number = row.NumberRightToLeft ? row.FirstNumber + (row.Count - 1 - i) : row.FirstNumber + i;
                seats.Add(new Seat(row.Row + number.ToString(CultureInfo.InvariantCulture), row.Row, number, polygon));
            }
        }

        return seats;
    }

    /// <summary>Rows between a back row and a front row, interpolated (labels from <paramref name="rowLabels"/>, back first).</summary>
    public static IReadOnlyList<SeatRowSpec> Interpolate(SeatRowSpec back, SeatRowSpec front, IReadOnlyList<string> rowLabels, IReadOnlyList<int>? seatsPerRow = null)
    {
        int n = rowLabels.Count;
        if (n < 2) throw new ArgumentException("Interpolation needs at least two row labels.", nameof(rowLabels));
        var rows = new List<SeatRowSpec>(n);
        for (int r = 0; r < n; r++)
        {
            float t = (float)r / (n - 1);
            static PointF Lerp(PointF a, PointF b, float t) => new(a.X + ((b.X - a.X) * t), a.Y + ((b.Y - a.Y) * t));
            rows.Add(new SeatRowSpec(
                rowLabels[r],
                Lerp(back.First, front.First, t),
                Lerp(back.Last, front.Last, t),
                seatsPerRow?[r] ?? (int)MathF.Round(back.Count + ((front.Count - back.Count) * t)),
                back.HeightAtFirst + ((front.HeightAtFirst - back.HeightAtFirst) * t),
                back.HeightAtLast + ((front.HeightAtLast - back.HeightAtLast) * t),
                back.FirstNumber,
                back.NumberRightToLeft));
        }

        return rows;
    }
}
