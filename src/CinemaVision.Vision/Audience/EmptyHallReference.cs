using CinemaVision.Core.Cameras;
using CinemaVision.Core.Geometry;
using OpenCvSharp;

namespace CinemaVision.Vision.Audience;

/// <summary>
/// A camera's empty-hall reference: a picture of the auditorium with nobody in it, one per lighting mode, and the
/// heads the detector finds on it (static objects: a coat, a sign, a pattern). Each frame is compared with the
/// reference of its lighting mode (or the nearest one) after aligning the two (the camera may have drifted a little;
/// a crop or a different resolution is handled too): a detection that is also on the reference and whose patch has
/// not changed is static; each seat's change against its empty self is a second occupancy signal.
/// </summary>
public sealed class EmptyHallReference : IDisposable
{
    private readonly Dictionary<LightingMode, Entry> _entries = [];

    /// <summary>The lighting modes a reference is held for.</summary>
    public IReadOnlyCollection<LightingMode> Modes => _entries.Keys;

    /// <summary>Adds (or replaces) the reference of one lighting mode with the static heads found on it (reference pixels).</summary>
    public void Set(LightingMode mode, Mat bgr, IReadOnlyList<BoxF> staticHeads)
    {
        ArgumentNullException.ThrowIfNull(bgr);
        if (_entries.Remove(mode, out var old)) old.Dispose();
        _entries[mode] = new Entry(bgr, staticHeads);
    }

    /// <summary>The reference image of a mode (or null).</summary>
    public Mat? ImageOf(LightingMode mode) => _entries.TryGetValue(mode, out var e) ? e.Image : null;

    /// <summary>Aligns the reference of the frame's lighting mode (else any held mode) to the frame.</summary>
    public AlignedReference AlignTo(Mat frame, LightingMode mode)
    {
        if (_entries.Count == 0) throw new InvalidOperationException("The empty-hall reference holds no picture.");
        var entry = _entries.TryGetValue(mode, out var e) ? e
            : _entries.TryGetValue(LightingMode.Colour, out var lit) ? lit
            : _entries.Values.First();
        return entry.AlignTo(frame);
    }

    public void Dispose()
    {
        foreach (var e in _entries.Values) e.Dispose();
        _entries.Clear();
    }

    private sealed class Entry : IDisposable
    {
        private readonly Mat _grey = new();
        private readonly IReadOnlyList<BoxF> _heads;
        private readonly KeyPoint[] _keys;
        private readonly Mat _descriptors = new();
        private (Size Frame, Mat Transform)? _lastTransform;

        public Entry(Mat bgr, IReadOnlyList<BoxF> heads)
        {
            Image = bgr.Clone();
            Cv2.CvtColor(bgr, _grey, ColorConversionCodes.BGR2GRAY);
            _heads = heads;
            using var orb = ORB.Create(1500);
            orb.DetectAndCompute(_grey, null, out _keys, _descriptors);
        }

        public Mat Image { get; }

        public AlignedReference AlignTo(Mat frame)
        {
            using var grey = new Mat();
            Cv2.CvtColor(frame, grey, ColorConversionCodes.BGR2GRAY);
            var transform = Estimate(grey);
            var warped = new Mat();
            Cv2.WarpAffine(_grey, warped, transform, grey.Size(), InterpolationFlags.Linear, BorderTypes.Constant, Scalar.All(0));
            var valid = new Mat();
            using (var ones = new Mat(_grey.Size(), MatType.CV_8UC1, Scalar.All(255)))
            {
                Cv2.WarpAffine(ones, valid, transform, grey.Size(), InterpolationFlags.Nearest, BorderTypes.Constant, Scalar.All(0));
            }

            var heads = _heads.Select(h => Map(transform, h)).ToList();
            return new AlignedReference(warped, valid, heads);
        }

        /// <summary>Reference-to-frame similarity from ORB matches (RANSAC); identity when the two are the same size and matching fails.</summary>
        private Mat Estimate(Mat grey)
        {
            if (_lastTransform is { } last && last.Frame == grey.Size() && _grey.Size() == grey.Size())
            {
                // A fixed camera at the same resolution: reuse until the frame size changes (health reports a moved camera).
                return last.Transform;
            }

            using var orb = ORB.Create(1500);
            using var descriptors = new Mat();
            orb.DetectAndCompute(grey, null, out var keys, descriptors);
            Mat? transform = null;
            if (keys.Length >= 8 && _keys.Length >= 8)
            {
                using var matcher = new BFMatcher(NormTypes.Hamming, crossCheck: true);
                var matches = matcher.Match(_descriptors, descriptors).OrderBy(m => m.Distance).Take(400).ToArray();
                if (matches.Length >= 8)
                {
                    var from = matches.Select(m => _keys[m.QueryIdx].Pt).Select(p => new Point2f(p.X, p.Y));
                    var to = matches.Select(m => keys[m.TrainIdx].Pt).Select(p => new Point2f(p.X, p.Y));
                    using var src = InputArray.Create(from.ToArray());
                    using var dst = InputArray.Create(to.ToArray());
                    using var inliers = new Mat();
                    var m = Cv2.EstimateAffinePartial2D(src, dst, inliers, RobustEstimationAlgorithms.RANSAC, 3);
                    if (m is not null && !m.Empty() && Cv2.CountNonZero(inliers) >= 8) transform = m;
                    else m?.Dispose();
                }
            }

            transform ??= Identity(grey.Size(), _grey.Size());
            if (_grey.Size() == grey.Size())
            {
                _lastTransform?.Transform.Dispose();
                _lastTransform = (grey.Size(), transform);
                return transform;
            }

            return transform;
        }

        private static Mat Identity(Size frame, Size reference)
        {
            var m = new Mat(2, 3, MatType.CV_64F, Scalar.All(0));
            m.Set(0, 0, (double)frame.Width / reference.Width);
            m.Set(1, 1, (double)frame.Height / reference.Height);
            return m;
        }

        private static BoxF Map(Mat m, in BoxF b)
        {
            double a = m.At<double>(0, 0), bb = m.At<double>(0, 1), tx = m.At<double>(0, 2);
            double c = m.At<double>(1, 0), d = m.At<double>(1, 1), ty = m.At<double>(1, 2);
            double s = Math.Sqrt((a * d) - (bb * c));
            double cx = (a * b.CenterX) + (bb * b.CenterY) + tx, cy = (c * b.CenterX) + (d * b.CenterY) + ty;
            return BoxF.FromCenter((float)cx, (float)cy, (float)(b.Width * s), (float)(b.Height * s));
        }

        public void Dispose()
        {
            Image.Dispose();
            _grey.Dispose();
            _descriptors.Dispose();
            _lastTransform?.Transform.Dispose();
        }
    }
}

/// <summary>The reference warped onto one frame: its static heads in frame pixels, and the appearance change of any region against it.</summary>
public sealed class AlignedReference : IDisposable
{
    private readonly Mat _reference;
    private readonly Mat _valid;

    internal AlignedReference(Mat reference, Mat valid, IReadOnlyList<BoxF> heads)
    {
        _reference = reference;
        _valid = valid;
        Heads = heads;
    }

    /// <summary>The heads found on the empty hall, in frame pixels.</summary>
    public IReadOnlyList<BoxF> Heads { get; }

    /// <summary>
    /// How much a box of the frame changed against the empty hall: 1 - the zero-mean normalised cross-correlation of
    /// the two grey patches (illumination-normalised: a dimmer or brighter hall does not count as a change), clamped to
    /// 0..1; for flat patches, the normalised difference of their means. NaN when the reference does not cover the box.
    /// </summary>
    public float ChangeAt(Mat frame, in BoxF box)
    {
        var r = ClampRect(box, frame.Width, frame.Height);
        if (r.Width < 3 || r.Height < 3) return float.NaN;
        using var valid = new Mat(_valid, r);
        if (Cv2.CountNonZero(valid) < 0.9 * r.Width * r.Height) return float.NaN;
        using var framePatch = new Mat(frame, r);
        using var grey = new Mat();
        Cv2.CvtColor(framePatch, grey, ColorConversionCodes.BGR2GRAY);
        using var refPatch = new Mat(_reference, r);
        return Change(grey, refPatch, null);
    }

    /// <summary>The change inside a polygon (a seat outline), compared on its pixels only.</summary>
    public float ChangeIn(Mat frame, IReadOnlyList<PointF> polygon)
    {
        var box = Polygons.Bounds(polygon);
        var r = ClampRect(box, frame.Width, frame.Height);
        if (r.Width < 3 || r.Height < 3) return float.NaN;
        using var mask = new Mat(r.Height, r.Width, MatType.CV_8UC1, Scalar.All(0));
        Cv2.FillPoly(mask, [polygon.Select(p => new Point(p.X - r.X, p.Y - r.Y)).ToArray()], Scalar.All(255));
        using var valid = new Mat(_valid, r);
        Cv2.BitwiseAnd(mask, valid, mask);
        if (Cv2.CountNonZero(mask) < 9) return float.NaN;
        using var framePatch = new Mat(frame, r);
        using var grey = new Mat();
        Cv2.CvtColor(framePatch, grey, ColorConversionCodes.BGR2GRAY);
        using var refPatch = new Mat(_reference, r);
        return Change(grey, refPatch, mask);
    }

    private static float Change(Mat a, Mat b, Mat? mask)
    {
        Scalar ma, sa, mb, sb;
        if (mask is null)
        {
            Cv2.MeanStdDev(a, out ma, out sa);
            Cv2.MeanStdDev(b, out mb, out sb);
        }
        else
        {
            Cv2.MeanStdDev(a, out ma, out sa, mask);
            Cv2.MeanStdDev(b, out mb, out sb, mask);
        }

        const double Flat = 6;
        if (sa.Val0 < Flat && sb.Val0 < Flat)
        {
            // Two flat patches: only a change of level that illumination does not explain (a coat on a light seat).
            return (float)Math.Clamp(Math.Abs(ma.Val0 - mb.Val0) / 96.0, 0, 1);
        }

        using var fa = new Mat();
        using var fb = new Mat();
        a.ConvertTo(fa, MatType.CV_32F, 1, -ma.Val0);
        b.ConvertTo(fb, MatType.CV_32F, 1, -mb.Val0);
        using var product = new Mat();
        Cv2.Multiply(fa, fb, product);
        double n = mask is null ? a.Rows * a.Cols : Cv2.CountNonZero(mask);
        double sum;
        if (mask is null)
        {
            sum = Cv2.Sum(product).Val0;
        }
        else
        {
            using var masked = Masked(product, mask);
            sum = Cv2.Sum(masked).Val0;
        }

        double covariance = sum / Math.Max(1, n);
        double ncc = covariance / Math.Max(1e-6, sa.Val0 * sb.Val0);
        return (float)Math.Clamp(1 - ncc, 0, 1);
    }

    private static Mat Masked(Mat values, Mat mask)
    {
        var result = new Mat(values.Size(), values.Type(), Scalar.All(0));
        values.CopyTo(result, mask);
        return result;
    }

    private static Rect ClampRect(in BoxF box, int width, int height)
    {
        int x1 = Math.Clamp((int)MathF.Floor(box.Left), 0, width), y1 = Math.Clamp((int)MathF.Floor(box.Top), 0, height);
        int x2 = Math.Clamp((int)MathF.Ceiling(box.Right), 0, width), y2 = Math.Clamp((int)MathF.Ceiling(box.Bottom), 0, height);
        return new Rect(x1, y1, x2 - x1, y2 - y1);
    }

    public void Dispose()
    {
        _reference.Dispose();
        _valid.Dispose();
    }
}
