using CinemaVision.Core.Detections;
using CinemaVision.Core.Geometry;
using OpenCvSharp;

namespace CinemaVision.Vision.Imaging;

/// <summary>
/// Blurs faces in an exported frame, except those inside the boxes being labelled (a head or person a labeller must
/// see): the audience around them stays unrecognisable. The blur is strong (kernel about the face's size) and
/// covers the face box grown by a fifth on each side, never the pixels of a labelled box.
/// </summary>
public static class FaceBlur
{
    /// <summary>Blurs in place every face whose area lies less than half inside <paramref name="keep"/>; returns how many.</summary>
    public static int BlurOutside(Mat bgr, IReadOnlyList<Detection> faces, IReadOnlyList<BoxF> keep)
    {
        ArgumentNullException.ThrowIfNull(bgr);
        // The labelled boxes keep their pixels even where a neighbouring face's blur reaches into them.
        var frame = new Rect(0, 0, bgr.Width, bgr.Height);
        var kept = new List<(Rect Rect, Mat Pixels)>();
        foreach (var k in keep)
        {
            var r = new Rect((int)MathF.Floor(k.X), (int)MathF.Floor(k.Y), (int)MathF.Ceiling(k.Width) + 1, (int)MathF.Ceiling(k.Height) + 1).Intersect(frame);
            if (r.Width <= 0 || r.Height <= 0) continue;
            using var roi = new Mat(bgr, r);
            kept.Add((r, roi.Clone()));
        }

        int blurred = 0;
        foreach (var face in faces)
        {
            var box = face.Box;
            if (box.IsEmpty) continue;
            if (keep.Any(k => box.IntersectionArea(k) >= 0.5f * box.Area)) continue;
            float grow = 0.2f * MathF.Max(box.Width, box.Height);
            var region = new BoxF(box.X - grow, box.Y - grow, box.Width + (2 * grow), box.Height + (2 * grow)).ClipTo(bgr.Width, bgr.Height);
            var rect = new Rect((int)region.X, (int)region.Y, Math.Max(1, (int)MathF.Ceiling(region.Width)), Math.Max(1, (int)MathF.Ceiling(region.Height)));
            rect = rect.Intersect(new Rect(0, 0, bgr.Width, bgr.Height));
            if (rect.Width < 2 || rect.Height < 2) continue;
            using var roi = new Mat(bgr, rect);
            int k = Math.Max(3, (Math.Max(rect.Width, rect.Height) / 2) | 1);
            Cv2.GaussianBlur(roi, roi, new Size(k, k), 0);
            // Twice: one pass at this kernel still leaves a face's layout readable at large sizes.
            Cv2.GaussianBlur(roi, roi, new Size(k, k), 0);
            blurred++;
        }

        foreach (var (rect, pixels) in kept)
        {
            if (blurred > 0)
            {
                using var target = new Mat(bgr, rect);
                pixels.CopyTo(target);
            }

            pixels.Dispose();
        }

        return blurred;
    }
}
