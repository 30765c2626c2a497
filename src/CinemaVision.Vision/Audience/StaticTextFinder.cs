using CinemaVision.Core.Geometry;
using OpenCvSharp;

namespace CinemaVision.Vision.Audience;

/// <summary>
/// Finds text burnt into a camera's picture (its clock, its name) so an installer can mask it: the detectors box
/// glyphs as heads at low thresholds. On-screen text is drawn in saturated white (or black) with hard edges, in
/// horizontal runs of similar glyphs; a run is kept when it is long, short in height, dense in hard edges and
/// made of near-white or near-black pixels. With several frames, only runs found at the same place in most of them
/// are kept (the clock's digits change, its place does not; a white shirt does not stay put).
/// </summary>
public static class StaticTextFinder
{
    /// <summary>Text runs in one picture, as boxes in its pixels.</summary>
    public static IReadOnlyList<RectI> Find(Mat bgr) => Merge([.. FindIn(bgr, bgr.Rows, blackToo: true, maxHeight: 0.12)]);

    /// <param name="pictureHeight">The whole picture's height: text sizes are relative to it, also when <paramref name="bgr"/> is a strip of it.</param>
    /// <param name="blackToo">Also black text: a row of dark hair looks like it, so the automatic masks look for white text only.</param>
    /// <param name="maxHeight">Tallest line of text, as a share of the picture height.</param>
    private static List<RectI> FindIn(Mat bgr, int pictureHeight, bool blackToo, double maxHeight)
    {
        using var grey = new Mat();
        Cv2.CvtColor(bgr, grey, ColorConversionCodes.BGR2GRAY);
        int h = pictureHeight, w = grey.Cols;
        // Glyph strokes: pixels much brighter (white text) or darker (black text) than their neighbourhood.
        using var tophat = new Mat();
        using var blackhat = new Mat();
        int k = Math.Max(9, h / 40) | 1;
        using (var kernel = Cv2.GetStructuringElement(MorphShapes.Rect, new Size(k, k)))
        {
            Cv2.MorphologyEx(grey, tophat, MorphTypes.TopHat, kernel);
            Cv2.MorphologyEx(grey, blackhat, MorphTypes.BlackHat, kernel);
        }

        using var white = new Mat();
        using var black = new Mat();
        using var veryBright = new Mat();
        using var veryDark = new Mat();
        Cv2.Threshold(tophat, white, 60, 255, ThresholdTypes.Binary);
        Cv2.Threshold(grey, veryBright, 215, 255, ThresholdTypes.Binary);
        Cv2.BitwiseAnd(white, veryBright, white);
        Cv2.Threshold(blackhat, black, 60, 255, ThresholdTypes.Binary);
        Cv2.Threshold(grey, veryDark, 40, 255, ThresholdTypes.BinaryInv);
        Cv2.BitwiseAnd(black, veryDark, black);

        // White and black text are found apart: a white glyph's black outline would join it to dark surroundings.
        var runs = new List<RectI>();
        foreach (var strokes in blackToo ? new[] { white, black } : [white])
        {
            Runs(strokes, w, h, maxHeight, runs);
        }

        return runs;
    }

    private static void Runs(Mat strokes, int w, int h, double maxHeight, List<RectI> runs)
    {
        // Join the glyphs of a line: close horizontally by about a character's width.
        using var joined = new Mat();
        using (var line = Cv2.GetStructuringElement(MorphShapes.Rect, new Size(Math.Max(9, w / 60), Math.Max(3, h / 200))))
        {
            Cv2.MorphologyEx(strokes, joined, MorphTypes.Close, line);
        }

        Cv2.FindContours(joined, out var contours, out _, RetrievalModes.External, ContourApproximationModes.ApproxSimple);
        foreach (var c in contours)
        {
            var r = Tighten(strokes, Cv2.BoundingRect(c));
            // A line of text: wider than tall, a few percent of the picture high, with many stroke pixels.
            if (r.Height < h * 0.015 || r.Height > h * maxHeight || r.Width < r.Height * 2.5 || r.Width < w * 0.05) continue;
            using var region = new Mat(strokes, r);
            double density = (double)Cv2.CountNonZero(region) / (r.Width * r.Height);
            if (density is < 0.08 or > 0.75) continue;
            // Grow by a stroke's width so the whole glyph (its outline) is inside.
            int pad = Math.Max(2, r.Height / 6);
            runs.Add(Clamp(new RectI(r.X - pad, r.Y - pad, r.Width + (2 * pad), r.Height + (2 * pad)), w, strokes.Rows));
        }
    }

    /// <summary>
    /// Text runs found at the same place in at least <paramref name="share"/> of the pictures (all of one camera, one
    /// size). With a single picture nothing can be seen to stay put, so only runs along its top or bottom edge (where
    /// cameras draw their clock and name) are kept.
    /// </summary>
    public static IReadOnlyList<RectI> FindStatic(IReadOnlyList<Mat> frames, double share = 0.6)
    {
        if (frames.Count == 0) return [];
        if (frames.Count == 1)
        {
            int h = frames[0].Rows;
            return [.. Find(frames[0]).Where(r => r.Y < h * 0.15 || r.Bottom > h * 0.85)];
        }

        var perFrame = frames.Select(Find).ToList();
        var candidates = Merge([.. perFrame.SelectMany(r => r)]);
        return [.. candidates.Where(c => perFrame.Count(found => found.Any(r => Overlap(r, c) > 0.5)) >= Math.Ceiling(share * frames.Count))];
    }

    /// <summary>
    /// White text runs along the top and bottom edges of one picture (the bands where cameras draw their clock and
    /// name, <paramref name="edge"/> of the height each): what the audience pipeline masks on a camera with no masks
    /// drawn. Looking only there keeps it cheap and away from the seats; black runs are left out (a row of dark hair
    /// at the back looks like black text).
    /// </summary>
    public static IReadOnlyList<RectI> FindAtEdges(Mat bgr, double edge = 0.15)
    {
        int band = Math.Max(16, (int)(bgr.Rows * edge));
        var runs = new List<RectI>();
        foreach (int y in new[] { 0, bgr.Rows - band })
        {
            using var strip = new Mat(bgr, new Rect(0, y, bgr.Cols, band));
            // The strip is analysed with the whole picture's scale of text in mind.
            // A camera's clock is one short line (under 7.5 % of the picture high); taller bright runs are windows.
            runs.AddRange(FindIn(strip, bgr.Rows, blackToo: false, maxHeight: 0.075).Select(r => new RectI(r.X, r.Y + y, r.Width, r.Height)));
        }

        return Merge(runs);
    }

    /// <summary>
    /// The rows of a run where its strokes are dense: a line of glyphs is a dense band, whereas window bars or a row
    /// of heads joined to it are sparse, so the box shrinks to the text line itself.
    /// </summary>
    private static Rect Tighten(Mat strokes, Rect r)
    {
        if (r.Height < 6) return r;
        using var region = new Mat(strokes, r);
        using var rows = new Mat();
        Cv2.Reduce(region, rows, ReduceDimension.Column, ReduceTypes.Sum, MatType.CV_32S);
        var counts = new int[r.Height];
        for (int y = 0; y < r.Height; y++) counts[y] = rows.At<int>(y, 0) / 255;
        int peak = counts.Max();
        if (peak == 0) return r;
        // The densest row, grown while rows keep at least a fifth of its strokes.
        int centre = Array.IndexOf(counts, peak), top = centre, bottom = centre;
        while (top > 0 && counts[top - 1] >= peak / 5) top--;
        while (bottom < r.Height - 1 && counts[bottom + 1] >= peak / 5) bottom++;
        return new Rect(r.X, r.Y + top, r.Width, bottom - top + 1);
    }

    /// <summary>A run as a mask polygon (its four corners).</summary>
    public static IReadOnlyList<PointF> Polygon(RectI r) => [new(r.X, r.Y), new(r.Right, r.Y), new(r.Right, r.Bottom), new(r.X, r.Bottom)];

    private static double Overlap(RectI a, RectI b)
    {
        var inter = a.ToBoxF().IntersectionArea(b.ToBoxF());
        return inter / Math.Max(1, Math.Min(a.Area, b.Area));
    }

    /// <summary>Overlapping or touching runs on one line become one.</summary>
    private static List<RectI> Merge(List<RectI> runs)
    {
        var merged = new List<RectI>(runs);
        bool changed = true;
        while (changed)
        {
            changed = false;
            for (int i = 0; i < merged.Count && !changed; i++)
            {
                for (int j = i + 1; j < merged.Count && !changed; j++)
                {
                    var a = merged[i];
                    var b = merged[j];
                    var grown = new RectI(a.X - (a.Height / 2), a.Y, a.Width + a.Height, a.Height);
                    if (!grown.IntersectsWith(b)) continue;
                    int x = Math.Min(a.X, b.X), y = Math.Min(a.Y, b.Y);
                    merged[i] = new RectI(x, y, Math.Max(a.Right, b.Right) - x, Math.Max(a.Bottom, b.Bottom) - y);
                    merged.RemoveAt(j);
                    changed = true;
                }
            }
        }

        return merged;
    }

    private static RectI Clamp(RectI r, int w, int h)
    {
        int x = Math.Clamp(r.X, 0, w), y = Math.Clamp(r.Y, 0, h);
        return new RectI(x, y, Math.Clamp(r.Right, x, w) - x, Math.Clamp(r.Bottom, y, h) - y);
    }
}
