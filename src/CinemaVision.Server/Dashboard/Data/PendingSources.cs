namespace CinemaVision.Server.Dashboard.Data;

/// <summary>Which reference image of a camera: the newest frame it sent, or the empty hall it was calibrated on.</summary>
public enum ReferenceMode
{
    Latest = 0,
    Empty = 1,
}

/// <summary>
/// Where the dashboard finds a camera's reference image (no live video is ever shown: privacy). The reference
/// frames are collected from the agents by the audience work; until that is part of this service the dashboard draws
/// the seat map and zones over a plain canvas of the reference frame's size and says so.
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

/// <summary>Used while this service holds no reference images: the dashboard shows its "no reference image yet" state.</summary>
public sealed class NoReferenceFrames : IReferenceFrameSource
{
    public Task<string?> ImageUrlAsync(string siteId, string auditoriumId, string cameraId, ReferenceMode mode, CancellationToken cancellationToken) => Task.FromResult<string?>(null);
}

/// <summary>Used while this service records no spot counts: reports say accuracy has not been measured here.</summary>
public sealed class NoMeasuredAccuracy : IMeasuredAccuracySource
{
    public Task<IReadOnlyList<MeasuredAccuracy>?> ForSiteAsync(string siteId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<MeasuredAccuracy>?>(null);
}
