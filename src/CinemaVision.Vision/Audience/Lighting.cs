using CinemaVision.Core.Cameras;
using OpenCvSharp;

namespace CinemaVision.Vision.Audience;

/// <summary>Measures brightness, colourfulness and contrast on a small copy of the frame (about a millisecond).</summary>
public static class LightingProbe
{
    public const int ProbeWidth = 256;

    public static LightingMeasurements Measure(Mat bgr)
    {
        using var small = new Mat();
        double scale = (double)ProbeWidth / bgr.Width;
        Cv2.Resize(bgr, small, new Size(ProbeWidth, Math.Max(1, (int)Math.Round(bgr.Height * scale))), 0, 0, InterpolationFlags.Area);
        using var lab = new Mat();
        Cv2.CvtColor(small, lab, ColorConversionCodes.BGR2Lab);
        var planes = Cv2.Split(lab);
        try
        {
            Cv2.MeanStdDev(planes[0], out var meanL, out var stdL);
            // 8-bit Lab stores a and b offset by 128; chroma is the distance from grey.
            using var a = new Mat();
            using var b = new Mat();
            planes[1].ConvertTo(a, MatType.CV_32F, 1, -128);
            planes[2].ConvertTo(b, MatType.CV_32F, 1, -128);
            using var chroma = new Mat();
            Cv2.Magnitude(a, b, chroma);
            // OpenCV's 8-bit L is 0..255 already.
            return new LightingMeasurements(meanL.Val0, Cv2.Mean(chroma).Val0, stdL.Val0);
        }
        finally
        {
            foreach (var p in planes) p.Dispose();
        }
    }
}

/// <summary>
/// Contrast normalisation before detection, where it helps: in dim light, CLAHE on the lightness of a colour picture
/// (colours kept); in infrared, CLAHE on the grey picture (after a light denoise: infrared pictures are noisy). A lit
/// colour picture is left alone (normalising it only moved the detector's scores in the measurements).
/// </summary>
public static class ContrastNormaliser
{
    /// <summary>A normalised copy for detection, or null when the frame is best used as it is.</summary>
    public static Mat? ForDetection(Mat bgr, LightingMode mode)
    {
        if (mode == LightingMode.Colour) return null;
        using var clahe = Cv2.CreateCLAHE(2.0, new Size(8, 8));
        var result = new Mat();
        if (mode == LightingMode.Infrared)
        {
            using var grey = new Mat();
            Cv2.CvtColor(bgr, grey, ColorConversionCodes.BGR2GRAY);
            using var smooth = new Mat();
            Cv2.GaussianBlur(grey, smooth, new Size(3, 3), 0);
            using var equalised = new Mat();
            clahe.Apply(smooth, equalised);
            Cv2.CvtColor(equalised, result, ColorConversionCodes.GRAY2BGR);
            return result;
        }

        using var lab = new Mat();
        Cv2.CvtColor(bgr, lab, ColorConversionCodes.BGR2Lab);
        var planes = Cv2.Split(lab);
        try
        {
            using var l = new Mat();
            clahe.Apply(planes[0], l);
            l.CopyTo(planes[0]);
            using var merged = new Mat();
            Cv2.Merge(planes, merged);
            Cv2.CvtColor(merged, result, ColorConversionCodes.Lab2BGR);
            return result;
        }
        finally
        {
            foreach (var p in planes) p.Dispose();
        }
    }
}
