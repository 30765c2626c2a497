namespace CinemaVision.Server.Dashboard.Data;

/// <summary>What the reference image is for: showing the hall with its seats, or drawing the seat map on it.</summary>
public enum ReferenceMode
{
    Latest = 0,
    Empty = 1,
}

/// <summary>
/// Where the dashboard finds a camera's reference image (no live video is ever shown: privacy). Without one the
/// dashboard draws the seat map and zones over a plain canvas of the reference frame's size and says so.
/// </summary>
public interface IReferenceFrameSource
{
    /// <summary>An address the browser of a signed-in person can load the image from, or null when there is none.</summary>
    Task<string?> ImageUrlAsync(string siteId, string auditoriumId, string cameraId, ReferenceMode mode, CancellationToken cancellationToken);
}

/// <summary>Measured counting accuracy of an auditorium, from spot counts (a person counted the hall; the system's count at that moment).</summary>
public sealed record MeasuredAccuracy(string AuditoriumId, int SpotCounts, double MeanAbsoluteError, double Accuracy, DateTimeOffset? LastCountedAt);

/// <summary>Where reports get per-auditorium measured accuracy from (spot counts). Null means spot counts are not available in this service.</summary>
public interface IMeasuredAccuracySource
{
    Task<IReadOnlyList<MeasuredAccuracy>?> ForSiteAsync(string siteId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken);
}
