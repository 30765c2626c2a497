using CinemaVision.Core.Geometry;

namespace CinemaVision.Core.Frames;

/// <summary>
/// A decoded video frame, opaque to the domain (pixels live in an adapter such as an OpenCV Mat).
/// Frames come from a pool: dispose returns the buffer, so never keep a frame past its use.
/// </summary>
public interface IFrame : IDisposable
{
    string CameraId { get; }

    /// <summary>Monotonic index of this frame in its source (counts skipped frames too).</summary>
    long Sequence { get; }

    DateTimeOffset Timestamp { get; }

    SizeI Size { get; }
}
