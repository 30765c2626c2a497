using CinemaVision.Core.Auditoriums;
using CinemaVision.Core.Geometry;
using OpenCvSharp;

namespace CinemaVision.Vision.Auditoriums;

/// <summary>
/// Evidence for an alert: a JPEG of the seat region only (the rest of the frame, and so the rest of the audience,
/// is never kept).
/// </summary>
public static class EvidenceCropper
{
    public static byte[] CropSeat(Mat bgr, Seat seat, IEnumerable<BoxF>? alsoInclude = null, float margin = 0.5f, int jpegQuality = 85)
    {
        var box = seat.Bounds;
        foreach (var b in alsoInclude ?? []) box = box.Union(b);
        float mx = box.Width * margin / 2, my = box.Height * margin / 2;
        var r = BoxF.FromLtrb(box.Left - mx, box.Top - my, box.Right + mx, box.Bottom + my).ClipTo(bgr.Width, bgr.Height);
        var rect = new Rect((int)r.X, (int)r.Y, Math.Max(1, (int)r.Width), Math.Max(1, (int)r.Height));
        using var crop = new Mat(bgr, rect);
        Cv2.ImEncode(".jpg", crop, out var jpeg, new ImageEncodingParam(ImwriteFlags.JpegQuality, jpegQuality));
        return jpeg;
    }
}
