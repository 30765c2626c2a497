namespace CinemaVision.Core.Cameras;

public enum CameraSourceKind
{
    /// <summary>A video file (demos, tests), read with OpenCV.</summary>
    File = 0,

    /// <summary>RTSP, RTMP, HTTP(S) MJPEG or anything ffmpeg reads, through an ffmpeg child process.</summary>
    Stream = 1,

    /// <summary>An HTTP JPEG snapshot URL polled at the analysis rate.</summary>
    Snapshot = 2,

    /// <summary>A V4L2 device such as /dev/video0.</summary>
    Device = 3,
}

/// <summary>How to read one camera. Validated at start: every bad key is named at once.</summary>
public sealed record CameraSource
{
    public required string CameraId { get; init; }
    public required string Url { get; init; }
    public CameraSourceKind? Kind { get; init; }

    /// <summary>Frames analysed per second; the source hands over the newest frame at most this often.</summary>
    public double AnalysisFps { get; init; } = 2;

    /// <summary>No frame for this long means the stream stalled: it is restarted.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan BackoffInitial { get; init; } = TimeSpan.FromMilliseconds(500);
    public TimeSpan BackoffMax { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>Files only: start again at the end.</summary>
    public bool Loop { get; init; }

    /// <summary>Files only: deliver frames at the file's frame rate (demos), not as fast as they decode.</summary>
    public bool RealTime { get; init; }

    /// <summary>
    /// Stream only: decode keyframes only (a main stream needed only for the occupancy pass every 30 s): about one frame
    /// a second instead of 25, the other frames are not decoded at all, which is most of the decoding cost.
    /// </summary>
    public bool KeyframesOnly { get; init; }

    /// <summary>Stream only: pass at most this many frames per second out of the decoder (less conversion and copying); null = all.</summary>
    public double? DecodeFps { get; init; }

    /// <summary>
    /// Stream only: decoder threads (null = ffmpeg's choice, one per core). An agent decoding many cameras on few cores
    /// gives each one thread: no oversubscription, far less memory per stream.
    /// </summary>
    public int? DecoderThreads { get; init; }

    /// <summary>Stream only: frame size if known (skips probing).</summary>
    public int? Width { get; init; }
    public int? Height { get; init; }

    public CameraSourceKind ResolvedKind => Kind ?? Infer(Url);

    public static CameraSourceKind Infer(string url)
    {
        if (url.StartsWith("/dev/video", StringComparison.Ordinal)) return CameraSourceKind.Device;
        if (url.Contains("://", StringComparison.Ordinal))
        {
            var lower = url.ToLowerInvariant();
            return (lower.StartsWith("http", StringComparison.Ordinal) && (lower.EndsWith(".jpg", StringComparison.Ordinal) || lower.EndsWith(".jpeg", StringComparison.Ordinal) || lower.Contains("snapshot", StringComparison.Ordinal)))
                ? CameraSourceKind.Snapshot
                : CameraSourceKind.Stream;
        }

        return CameraSourceKind.File;
    }

    public IEnumerable<string> Validate(string prefix = "")
    {
        if (string.IsNullOrWhiteSpace(CameraId)) yield return $"{prefix}CameraId: required.";
        if (string.IsNullOrWhiteSpace(Url)) yield return $"{prefix}Url: required.";
        else if (Url.Contains("://", StringComparison.Ordinal) && (!Uri.TryCreate(Url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))) yield return $"{prefix}Url: '{Url}' is not a valid URL (scheme://host[:port]/path).";
        if (AnalysisFps is <= 0 or > 120) yield return $"{prefix}AnalysisFps: must be within (0, 120] (was {AnalysisFps}).";
        if (StallTimeout < TimeSpan.FromSeconds(1)) yield return $"{prefix}StallTimeout: must be at least 1 s (was {StallTimeout}).";
        if (BackoffInitial <= TimeSpan.Zero || BackoffMax < BackoffInitial) yield return $"{prefix}BackoffInitial/BackoffMax: need 0 < initial <= max.";
        if ((Width is null) != (Height is null) || Width <= 0 || Height <= 0) yield return $"{prefix}Width/Height: give both, positive, or neither.";
        if (DecodeFps is { } decode && (double.IsNaN(decode) || decode <= 0 || decode > 240)) yield return $"{prefix}DecodeFps: must be within (0, 240] (was {decode}).";
        if (DecoderThreads is < 1 or > 64) yield return $"{prefix}DecoderThreads: must be within 1..64 (was {DecoderThreads}).";
    }
}

/// <summary>Reconnect delays: exponential from the initial delay to the maximum, with ±20 % jitter so cameras restarting together do not retry in step.</summary>
public static class ReconnectBackoff
{
    public static TimeSpan Delay(int attempt, TimeSpan initial, TimeSpan max, double jitter01)
    {
        double baseMs = Math.Min(max.TotalMilliseconds, initial.TotalMilliseconds * Math.Pow(2, Math.Clamp(attempt, 0, 30)));
        double factor = 0.8 + (0.4 * Math.Clamp(jitter01, 0, 1));
        return TimeSpan.FromMilliseconds(Math.Min(max.TotalMilliseconds * 1.2, baseMs * factor));
    }
}
