using CinemaVision.Server.Audience;

namespace CinemaVision.Server.Dashboard.Data;

/// <summary>
/// Reference images from the empty-hall references the agents upload (one per camera and lighting mode). The lit
/// picture is preferred: seats and zones are easiest to see and draw on it.
/// </summary>
public sealed class EmptyHallReferenceFrames(ReferenceFrameStore store) : IReferenceFrameSource
{
    private static readonly string[] Preference = ["lit", "dim", "infrared"];

    public Task<string?> ImageUrlAsync(string siteId, string auditoriumId, string cameraId, ReferenceMode mode, CancellationToken cancellationToken)
    {
        var frames = store.List(siteId, auditoriumId, cameraId);
        var best = Preference.Select(m => frames.FirstOrDefault(f => f.Mode == m)).FirstOrDefault(f => f is not null) ?? (frames.Count > 0 ? frames[0] : null);
        var url = best is null ? null
            : $"/api/v1/sites/{Uri.EscapeDataString(siteId)}/auditoriums/{Uri.EscapeDataString(auditoriumId)}/cameras/{Uri.EscapeDataString(cameraId)}/reference/{Uri.EscapeDataString(best.Mode)}?v={Uri.EscapeDataString(best.ETag.Trim('"'))}";
        return Task.FromResult(url);
    }
}

/// <summary>Per-auditorium accuracy from the ushers' spot counts, computed as the spot-count API computes it.</summary>
public sealed class SpotCountAccuracySource(SpotCountStore store, AuditoriumCatalog catalog) : IMeasuredAccuracySource
{
    public Task<IReadOnlyList<MeasuredAccuracy>?> ForSiteAsync(string siteId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        var list = new List<MeasuredAccuracy>();
        foreach (var auditorium in catalog.ForSite(siteId))
        {
            var spots = store.Between(siteId, auditorium.AuditoriumId, from, to);
            var summary = AudienceEndpoints.Accuracy(siteId, auditorium.AuditoriumId, spots, store.Threshold(siteId, auditorium.AuditoriumId));
            if (summary.Compared == 0) continue;
            list.Add(new MeasuredAccuracy(
                auditorium.AuditoriumId,
                summary.Compared,
                summary.MeanAbsoluteError ?? 0,
                Math.Max(0, 1 - (summary.MeanAbsolutePercentageError ?? 0)),
                spots.Count == 0 ? null : spots.Max(s => s.At)));
        }

        return Task.FromResult<IReadOnlyList<MeasuredAccuracy>?>(list);
    }
}
