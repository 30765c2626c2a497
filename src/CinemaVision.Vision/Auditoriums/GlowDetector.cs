using CinemaVision.Core.Auditoriums;
using CinemaVision.Core.Geometry;
using CinemaVision.Core.Piracy;
using OpenCvSharp;

namespace CinemaVision.Vision.Auditoriums;

/// <summary>Finds small bright blobs (phone screens) at head height in the seats of a dark frame.</summary>
public static class GlowDetector
{
    /// <summary>The thresholds are the pipeline's (<see cref="ScreenGlowOptions"/>): one home for every glow threshold.</summary>
    /// <returns>The scene's mean brightness and the glows found, each placed in the seat it lies in (seats in this frame's pixels).</returns>
    public static (double SceneBrightness, IReadOnlyList<GlowBlob> Blobs) Find(Mat bgr, IReadOnlyList<Seat> seats, ScreenGlowOptions? options = null)
    {
        options ??= new ScreenGlowOptions();
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
