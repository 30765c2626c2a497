using System.Globalization;
using CinemaVision.Core.Events;
using CinemaVision.Core.Geometry;
using CinemaVision.Core.Showings;

namespace CinemaVision.Core.Piracy;

/// <summary>A small bright blob found in a dark frame (a phone screen), placed in the seat under it.</summary>
public sealed record GlowBlob(string SeatId, PointF Centre, float Area, float Brightness);

public sealed record ScreenGlowOptions
{
    /// <summary>A glow must persist this long at one seat.</summary>
    public TimeSpan PersistFor { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Samples kept per seat for the correlation test.</summary>
    public int History { get; init; } = 40;

    /// <summary>
    /// A glow whose brightness follows the film's (the frame's mean brightness) with at least this correlation is a
    /// reflection of the screen on a face or a shiny seat, not a device: it does not count.
    /// </summary>
    public double MaxCorrelationWithScene { get; init; } = 0.7;

    public TimeSpan EndAfter { get; init; } = TimeSpan.FromSeconds(10);
    public IReadOnlySet<ShowingState> ArmedIn { get; init; } = new HashSet<ShowingState> { ShowingState.Feature };
}

/// <summary>
/// For dark auditoriums where the detector sees little: a small bright glow at head height in one seat that
/// persists and does not move with the film's light is a suspected recording (device <see cref="RecordingDevice.ScreenGlow"/>).
/// </summary>
public sealed class ScreenGlowRule
{
    private readonly CameraRef _camera;
    private readonly ScreenGlowOptions _options;
    private readonly Dictionary<string, SeatGlow> _seats = new(StringComparer.Ordinal);

    public ScreenGlowRule(CameraRef camera, ScreenGlowOptions? options = null)
    {
        _camera = camera;
        _options = options ?? new ScreenGlowOptions();
    }

    public IReadOnlyList<PiracySuspicion> Evaluate(DateTimeOffset at, ShowingState state, double sceneBrightness, IReadOnlyList<GlowBlob> blobs, string? showingId = null)
    {
        var events = new List<PiracySuspicion>();
        if (!_options.ArmedIn.Contains(state))
        {
            events.AddRange(_seats.Where(s => s.Value.OpenSince is not null).Select(s => Event(s.Key, s.Value, IncidentPhase.End, s.Value.LastSeen, showingId)));
            _seats.Clear();
            return events;
        }

        foreach (var blob in blobs.GroupBy(b => b.SeatId, StringComparer.Ordinal).Select(g => g.MaxBy(b => b.Brightness)!))
        {
            if (!_seats.TryGetValue(blob.SeatId, out var g)) _seats[blob.SeatId] = g = new SeatGlow { Since = at };
            g.LastSeen = at;
            g.Samples.Add((sceneBrightness, blob.Brightness));
            if (g.Samples.Count > _options.History) g.Samples.RemoveAt(0);
            double correlation = Correlation(g.Samples);
            g.Correlation = correlation;
            if (g.OpenSince is null && at - g.Since >= _options.PersistFor && g.Samples.Count >= 5 && correlation < _options.MaxCorrelationWithScene)
            {
                g.OpenSince = g.Since;
                events.Add(Event(blob.SeatId, g, IncidentPhase.Start, at, showingId));
            }
        }

        foreach (var (seat, g) in _seats.ToList())
        {
            if (at - g.LastSeen <= _options.EndAfter) continue;
            if (g.OpenSince is not null) events.Add(Event(seat, g, IncidentPhase.End, g.LastSeen, showingId));
            _seats.Remove(seat);
        }

        return events;
    }

    /// <summary>Pearson correlation of (scene, glow) brightness; 0 when either does not vary.</summary>
    public static double Correlation(IReadOnlyList<(double Scene, double Glow)> samples)
    {
        int n = samples.Count;
        if (n < 3) return 0;
        double ms = samples.Average(s => s.Scene), mg = samples.Average(s => s.Glow);
        double cov = 0, vs = 0, vg = 0;
        foreach (var (s, g) in samples)
        {
            cov += (s - ms) * (g - mg);
            vs += (s - ms) * (s - ms);
            vg += (g - mg) * (g - mg);
        }

        return vs < 1e-9 || vg < 1e-9 ? 0 : cov / Math.Sqrt(vs * vg);
    }

    private PiracySuspicion Event(string seat, SeatGlow g, IncidentPhase phase, DateTimeOffset at, string? showingId)
    {
        var since = g.OpenSince ?? g.Since;
        var incident = string.Create(CultureInfo.InvariantCulture, $"{_camera.AuditoriumId}-{_camera.CameraId}-glow-{seat}-{since.ToUnixTimeMilliseconds()}");
        return new PiracySuspicion(
            string.Create(CultureInfo.InvariantCulture, $"{incident}-{(int)phase}-{at.ToUnixTimeMilliseconds()}"),
            incident, phase, RecordingDevice.ScreenGlow, _camera.SiteId, _camera.AuditoriumId, _camera.CameraId, seat, since, at,
            Math.Round((at - since).TotalSeconds, 1), Math.Round(Math.Clamp(0.9 - Math.Max(0, g.Correlation), 0.3, 0.8), 3),
            Detail: string.Create(CultureInfo.InvariantCulture, $"glow correlation with the film's light {g.Correlation:0.00}"), ShowingId: showingId);
    }

    private sealed class SeatGlow
    {
        public DateTimeOffset Since { get; init; }
        public DateTimeOffset LastSeen { get; set; }
        public DateTimeOffset? OpenSince { get; set; }
        public double Correlation { get; set; }
        public List<(double Scene, double Glow)> Samples { get; } = [];
    }
}
