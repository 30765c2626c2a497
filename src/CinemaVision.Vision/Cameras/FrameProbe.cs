using CinemaVision.Core.Cameras;
using OpenCvSharp;

namespace CinemaVision.Vision.Cameras;

/// <summary>
/// Cheap per-frame measurements for the camera-health rules, on a grey copy downscaled to <see cref="ProbeWidth"/>:
/// brightness, sharpness (variance of the Laplacian), difference to the previous frame, uniformity (share of
/// texture-less blocks) and, against the reference frame the seat map was drawn on, the shift (phase correlation)
/// and match strength.
/// </summary>
public sealed class FrameProbe : IDisposable
{
    public const int ProbeWidth = 320;
    private Mat? _previous;
    private Mat? _reference;

    public double? ReferenceSharpness { get; private set; }

    public void SetReference(Mat bgr)
    {
        _reference?.Dispose();
        _reference = new Mat();
        using var grey = Grey(bgr);
        grey.ConvertTo(_reference, MatType.CV_32F);
        ReferenceSharpness = Sharpness(grey);
    }

    public FrameMeasurements Measure(Mat bgr)
    {
        using var grey = Grey(bgr);
        double brightness = Cv2.Mean(grey).Val0;
        double sharpness = Sharpness(grey);
        double difference = 255;
        if (_previous is not null && _previous.Size() == grey.Size())
        {
            using var diff = new Mat();
            Cv2.Absdiff(grey, _previous, diff);
            difference = Cv2.Mean(diff).Val0;
        }

        _previous?.Dispose();
        _previous = grey.Clone();
        double uniformity = Uniformity(grey);
        double? shift = null, match = null;
        if (_reference is not null && _reference.Size() == grey.Size())
        {
            using var current = new Mat();
            grey.ConvertTo(current, MatType.CV_32F);
            using var window = new Mat();
            Cv2.CreateHanningWindow(window, current.Size(), MatType.CV_32F);
            var p = Cv2.PhaseCorrelate(_reference, current, window, out var response);
            shift = Math.Sqrt((p.X * p.X) + (p.Y * p.Y));
            match = response;
        }

        return new FrameMeasurements(brightness, sharpness, difference, uniformity, shift, match);
    }

    private static Mat Grey(Mat bgr)
    {
        var grey = new Mat();
        using var small = new Mat();
        double scale = (double)ProbeWidth / bgr.Width;
        Cv2.Resize(bgr, small, new Size(ProbeWidth, Math.Max(1, (int)Math.Round(bgr.Height * scale))), 0, 0, InterpolationFlags.Area);
        Cv2.CvtColor(small, grey, ColorConversionCodes.BGR2GRAY);
        return grey;
    }

    private static double Sharpness(Mat grey)
    {
        using var lap = new Mat();
        Cv2.Laplacian(grey, lap, MatType.CV_64F);
        Cv2.MeanStdDev(lap, out _, out var std);
        return std.Val0 * std.Val0;
    }

    /// <summary>Share of 16x16 blocks whose grey levels barely vary (tape, a hand, a lens cap).</summary>
    private static double Uniformity(Mat grey)
    {
        const int Block = 16;
        int flat = 0, total = 0;
        int rows = grey.Rows, cols = grey.Cols;
        for (int y = 0; y + Block <= rows; y += Block)
        {
            for (int x = 0; x + Block <= cols; x += Block)
            {
                using var roi = new Mat(grey, new Rect(x, y, Block, Block));
                Cv2.MeanStdDev(roi, out _, out var std);
                if (std.Val0 < 3) flat++;
                total++;
            }
        }

        return total == 0 ? 0 : (double)flat / total;
    }

    public void Dispose()
    {
        _previous?.Dispose();
        _reference?.Dispose();
    }
}
