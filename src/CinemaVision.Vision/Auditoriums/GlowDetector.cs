using CinemaVision.Core.Auditoriums;
using CinemaVision.Core.Geometry;
using CinemaVision.Core.Piracy;
using OpenCvSharp;

namespace CinemaVision.Vision.Auditoriums;

public sealed record GlowOptions
{
    /// <summary>The scene must be darker than this mean grey level (0..255) for glow detection to run.</summary>
    public double MaxSceneBrightness { get; init; } = 60;

    /// <summary>A pixel is part of a glow when brighter than the scene mean by this much.</summary>
    public double AboveScene { get; init; } = 90;

    /// <summary>Blob area limits as fractions of the seat outline's area (a phone screen is small).</summary>
    public float MinSeatFraction { get; init; } = 0.002f;
    public float MaxSeatFraction { get; init; } = 0.15f;
}

/// <summary>Finds small bright blobs (phone screens) at head height in the seats of a dark frame.</summary>
public static class GlowDetector
{
    /// <returns>The scene's mean brightness and the glows found, each placed in the seat it lies in.</returns>
    public static (double SceneBrightness, IReadOnlyList<GlowBlob> Blobs) Find(Mat bgr, IReadOnlyList<Seat> seats, GlowOptions? options = null)
    {
        options ??= new GlowOptions();
        using var grey = new Mat();
        Cv2.CvtColor(bgr, grey, ColorConversionCodes.BGR2GRAY);
        double scene = Cv2.Mean(grey).Val0;
        if (scene > options.MaxSceneBrightness) return (scene, []);

        using var mask = new Mat();
        Cv2.Threshold(grey, mask, Math.Min(250, scene + options.AboveScene), 255, ThresholdTypes.Binary);
        using var labels = new Mat();
        using var stats = new Mat();
        using var centroids = new Mat();
        int n = Cv2.ConnectedComponentsWithStats(mask, labels, stats, centroids);
        var blobs = new List<GlowBlob>();
        for (int i = 1; i < n; i++)
        {
            int area = stats.At<int>(i, (int)ConnectedComponentsTypes.Area);
            var centre = new PointF((float)centroids.At<double>(i, 0), (float)centroids.At<double>(i, 1));
            foreach (var seat in seats)
            {
                if (!Polygons.Contains(seat.Polygon, centre)) continue;
                float seatArea = Polygons.Area(seat.Polygon);
                if (area < options.MinSeatFraction * seatArea || area > options.MaxSeatFraction * seatArea) break;
                var rect = new Rect(stats.At<int>(i, 0), stats.At<int>(i, 1), stats.At<int>(i, 2), stats.At<int>(i, 3));
                using var roi = new Mat(grey, rect);
                blobs.Add(new GlowBlob(seat.Id, centre, area, (float)Cv2.Mean(roi).Val0));
                break;
            }
        }

        return (scene, blobs);
    }
}
