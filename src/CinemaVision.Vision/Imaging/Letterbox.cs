using CinemaVision.Core.Geometry;
using OpenCvSharp;

namespace CinemaVision.Vision.Imaging;

/// <summary>How a source region was placed into the model input: input = (source - offset) * scale + pad.</summary>
public readonly record struct LetterboxTransform(float ScaleX, float ScaleY, float PadX, float PadY, int OffsetX, int OffsetY)
{
    /// <summary>Maps a box in model-input pixels back to frame pixels.</summary>
    public BoxF ToFrame(in BoxF inputBox) => new(
        ((inputBox.X - PadX) / ScaleX) + OffsetX,
        ((inputBox.Y - PadY) / ScaleY) + OffsetY,
        inputBox.Width / ScaleX,
        inputBox.Height / ScaleY);
}

/// <summary>
/// Writes a region of a BGR frame into a model's NCHW float input: letterboxed (aspect kept, padded, anchored
/// top-left or centred) or stretched, channel order and normalisation per the model's convention.
/// Works in caller-owned buffers: no allocation per call beyond OpenCV's sub-matrix headers.
/// </summary>
public static class Letterbox
{
    public sealed record Convention(bool Stretch, bool CenterAnchor, byte PadValue, bool Rgb, float[] Mean, float[] InverseStd)
    {
        /// <summary>Same mean and scale for every channel: normalisation is one SIMD ConvertTo.</summary>
        public bool UniformNormalisation => Mean[0] == Mean[1] && Mean[1] == Mean[2] && InverseStd[0] == InverseStd[1] && InverseStd[1] == InverseStd[2];
    }

    /// <summary>
    /// Reusable OpenCV views for the fast path: a float canvas and three single-channel Mats that alias the
    /// planes of the (pinned) input tensor, so OpenCV's vectorised ConvertTo and MixChannels write the tensor directly.
    /// </summary>
    public sealed class PlanarTarget : IDisposable
    {
        private static readonly int[] BgrOrder = [0, 0, 1, 1, 2, 2];
        private static readonly int[] RgbOrder = [0, 2, 1, 1, 2, 0];
        private readonly Mat[] _source;

        public unsafe PlanarTarget(float[] pinnedInput, int width, int height)
        {
            FloatCanvas = new Mat(height, width, MatType.CV_32FC3);
            _source = [FloatCanvas];
            int plane = width * height;
            fixed (float* p = pinnedInput)
            {
                // The array lives on the pinned object heap: the pointer stays valid for the array's lifetime.
                Planes = [
                    Mat.FromPixelData(height, width, MatType.CV_32FC1, (IntPtr)p),
                    Mat.FromPixelData(height, width, MatType.CV_32FC1, (IntPtr)(p + plane)),
                    Mat.FromPixelData(height, width, MatType.CV_32FC1, (IntPtr)(p + (2 * plane)))];
            }
        }

        public Mat FloatCanvas { get; }
        public Mat[] Planes { get; }

        internal void WritePlanes(Convention convention, Mat canvas)
        {
            canvas.ConvertTo(FloatCanvas, MatType.CV_32FC3, convention.InverseStd[0], -convention.Mean[0] * convention.InverseStd[0]);
            Cv2.MixChannels(_source, Planes, convention.Rgb ? RgbOrder : BgrOrder);
        }

        public void Dispose()
        {
            FloatCanvas.Dispose();
            foreach (var m in Planes) m.Dispose();
        }
    }

    /// <param name="frame">BGR 8-bit frame.</param>
    /// <param name="region">The part of the frame to feed (a tile, or the whole frame).</param>
    /// <param name="canvas">A reusable CV_8UC3 Mat of exactly the model input size.</param>
    /// <param name="destination">NCHW planar float buffer of 3 * input width * input height.</param>
    public static unsafe LetterboxTransform Write(Mat frame, RectI region, Mat canvas, Span<float> destination, Convention convention, PlanarTarget? planar = null)
    {
        int inW = canvas.Width, inH = canvas.Height;
        if (destination.Length < 3 * inW * inH)
        {
            throw new ArgumentException($"Destination holds {destination.Length} floats; the input needs {3 * inW * inH}.", nameof(destination));
        }

        float sx, sy;
        int newW, newH;
        if (convention.Stretch)
        {
            sx = (float)inW / region.Width;
            sy = (float)inH / region.Height;
            newW = inW;
            newH = inH;
        }
        else
        {
            float r = Math.Min((float)inW / region.Width, (float)inH / region.Height);
            sx = sy = r;
            newW = Math.Clamp((int)MathF.Round(region.Width * r), 1, inW);
            newH = Math.Clamp((int)MathF.Round(region.Height * r), 1, inH);
        }

        int padX = convention.CenterAnchor ? (inW - newW) / 2 : 0;
        int padY = convention.CenterAnchor ? (inH - newH) / 2 : 0;
        if (newW < inW || newH < inH) canvas.SetTo(Scalar.All(convention.PadValue));

        using (var src = new Mat(frame, new Rect(region.X, region.Y, region.Width, region.Height)))
        using (var dst = new Mat(canvas, new Rect(padX, padY, newW, newH)))
        {
            var interpolation = newW < region.Width / 2 ? InterpolationFlags.Area : InterpolationFlags.Linear;
            Cv2.Resize(src, dst, new Size(newW, newH), 0, 0, interpolation);
        }

        var transform = new LetterboxTransform(sx, sy, padX, padY, region.X, region.Y);
        if (planar is not null && convention.UniformNormalisation)
        {
            planar.WritePlanes(convention, canvas);
            return transform;
        }

        int plane = inW * inH;
        // Channel c of the tensor reads BGR byte index map[c].
        int c0 = convention.Rgb ? 2 : 0, c2 = convention.Rgb ? 0 : 2;
        float m0 = convention.Mean[0], m1 = convention.Mean[1], m2 = convention.Mean[2];
        float s0 = convention.InverseStd[0], s1 = convention.InverseStd[1], s2 = convention.InverseStd[2];
        fixed (float* dstPtr = destination)
        {
            float* p0 = dstPtr, p1 = dstPtr + plane, p2 = dstPtr + (2 * plane);
            for (int y = 0; y < inH; y++)
            {
                byte* row = (byte*)canvas.Ptr(y);
                int o = y * inW;
                for (int x = 0; x < inW; x++)
                {
                    byte* px = row + (3 * x);
                    p0[o + x] = (px[c0] - m0) * s0;
                    p1[o + x] = (px[1] - m1) * s1;
                    p2[o + x] = (px[c2] - m2) * s2;
                }
            }
        }

        return transform;
    }
}
