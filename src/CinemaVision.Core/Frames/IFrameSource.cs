using CinemaVision.Core.Geometry;

namespace CinemaVision.Core.Frames;

/// <summary>
/// A camera stream (file, RTSP/HTTP through ffmpeg, JPEG snapshots, V4L2). It decodes in the background, keeps only
/// the newest frame, reconnects forever with backoff, and reports what is wrong. Consumers take the newest frame
/// at their own analysis rate; frames that were replaced before anyone took them are counted as skipped.
/// </summary>
public interface IFrameSource : IAsyncDisposable
{
    string CameraId { get; }

    FrameSourceStatus Status { get; }

    /// <summary>Starts the background reader (idempotent).</summary>
    void Start();

    /// <summary>
    /// The newest frame not yet handed out, waiting for one if needed. Null when the source has ended (a file
    /// without looping) or <paramref name="timeout"/> passed. The caller disposes the frame (returns it to the pool).
    /// </summary>
    ValueTask<IFrame?> NextFrameAsync(TimeSpan timeout, CancellationToken cancellationToken = default);
}

public enum FrameSourceState
{
    Idle = 0,
    Connecting = 1,
    Streaming = 2,
    Reconnecting = 3,
    Ended = 4,
    Stopped = 5,
}

/// <summary>A snapshot of a source's health and counters.</summary>
public sealed record FrameSourceStatus(
    FrameSourceState State,
    SizeI FrameSize,
    long FramesRead,
    long FramesSkipped,
    long Reconnects,
    DateTimeOffset? LastFrameAt,
    string? LastError,
    double MeasuredFps);
