using System.Collections.Concurrent;
using CinemaVision.Core.Auditoriums;
using CinemaVision.Server.Sites;

namespace CinemaVision.Server.Dashboard.Data;

/// <summary>A stored auditorium file, read: the model (null when the stored file no longer parses) and its version.</summary>
public sealed record AuditoriumEntry(AuditoriumConfig Config, Auditorium? Model)
{
    public string AuditoriumId => Config.AuditoriumId;

    public string Name => Model?.Name is { Length: > 0 } n ? n : Config.AuditoriumId;

    public int SeatCount => Model?.SeatCount ?? 0;

    /// <summary>Every seat of the auditorium once (a seat seen by two cameras counts once, first camera wins).</summary>
    public IReadOnlyList<Seat> Seats => Model is null ? [] : Model.Cameras.SelectMany(c => c.Seats).DistinctBy(s => s.Id, StringComparer.Ordinal).ToList();
}

/// <summary>
/// The auditorium files of each site as models, read once per version: pages ask often, a file with hundreds of
/// seats is validated once, not on every render.
/// </summary>
public sealed class AuditoriumCatalog(AuditoriumConfigStore configs)
{
    private readonly ConcurrentDictionary<(string Site, string Auditorium), AuditoriumEntry> _parsed = new();

    public IReadOnlyList<AuditoriumEntry> ForSite(string siteId) => configs.ForSite(siteId).Select(Read).ToList();

    public AuditoriumEntry? Find(string siteId, string auditoriumId) => ForSite(siteId).FirstOrDefault(a => a.AuditoriumId == auditoriumId);

    private AuditoriumEntry Read(AuditoriumConfig config)
    {
        var key = (config.SiteId, config.AuditoriumId);
        if (_parsed.TryGetValue(key, out var cached) && cached.Config.ETag == config.ETag) return cached;
        var parsed = AuditoriumFile.Parse(config.Body);
        var entry = new AuditoriumEntry(config, parsed.Auditorium);
        _parsed[key] = entry;
        return entry;
    }
}
