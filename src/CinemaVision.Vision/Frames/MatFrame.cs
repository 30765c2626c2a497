using CinemaVision.Core.Frames;
using CinemaVision.Core.Geometry;
using OpenCvSharp;

namespace CinemaVision.Vision.Frames;

/// <summary>
/// A frame whose pixels are an OpenCV BGR <see cref="Mat"/> (CV_8UC3). The frame owns the Mat unless a
/// <paramref name="onDispose"/> callback is given, in which case disposing hands the Mat back (to a pool).
/// </summary>
public sealed class MatFrame : IFrame
{
    private readonly Action<Mat>? _onDispose;
    private Mat? _mat;

    public MatFrame(Mat mat, string cameraId, long sequence, DateTimeOffset timestamp, Action<Mat>? onDispose = null)
    {
        ArgumentNullException.ThrowIfNull(mat);
        if (mat.Type() != MatType.CV_8UC3)
        {
            throw new ArgumentException($"MatFrame needs a BGR 8-bit 3-channel image, got {mat.Type()}.", nameof(mat));
        }

        _mat = mat;
        _onDispose = onDispose;
        CameraId = cameraId;
        Sequence = sequence;
        Timestamp = timestamp;
        Size = new SizeI(mat.Width, mat.Height);
    }

    public string CameraId { get; }
    public long Sequence { get; }
    public DateTimeOffset Timestamp { get; }
    public SizeI Size { get; }

    /// <summary>The BGR pixels. Valid until the frame is disposed.</summary>
    public Mat Mat => _mat ?? throw new ObjectDisposedException(nameof(MatFrame));

    /// <summary>Wraps an image for one-off use (tools, tests); the frame owns and disposes it.</summary>
    public static MatFrame FromImage(Mat bgr, string cameraId = "image") => new(bgr, cameraId, 0, DateTimeOffset.UtcNow);

    /// <summary>Wraps a Mat the caller keeps owning (disposing the frame leaves the Mat alone).</summary>
    public static MatFrame Borrow(Mat bgr, string cameraId, DateTimeOffset timestamp, long sequence = 0) => new(bgr, cameraId, sequence, timestamp, static _ => { });

    /// <summary>The Mat behind any frame produced by this adapter layer.</summary>
    public static Mat MatOf(IFrame frame) => frame is MatFrame m
        ? m.Mat
        : throw new ArgumentException($"Frame type {frame.GetType().Name} does not carry OpenCV pixels.", nameof(frame));

    public void Dispose()
    {
        var mat = Interlocked.Exchange(ref _mat, null);
        if (mat is null) return;
        if (_onDispose is not null) _onDispose(mat);
        else mat.Dispose();
    }
}
