using CinemaVision.Core.Events;
using CinemaVision.Core.Geometry;
using CinemaVision.Core.Rules;
using CinemaVision.Core.Showings;

namespace CinemaVision.Core.Piracy;

/// <summary>A small bright blob found in a dark frame (a phone screen), placed in the seat under it.</summary>
public sealed record GlowBlob(string SeatId, PointF Centre, float Area, float Brightness);

/// <summary>
/// Every screen-glow threshold: how the glow detector finds blobs in the pixels (brightness levels, blob size) and
/// when the rule calls a persisting blob a suspicion. Owned by the camera pipeline's options.
/// </summary>
public sealed record ScreenGlowOptions
{
    /// <summary>The scene must be darker than this mean grey level (0..255) for glow detection to run.</summary>
    public double MaxSceneBrightness { get; init; } = 60;

    /// <summary>A pixel is part of a glow when brighter than the scene mean by this much.</summary>
    public double AboveScene { get; init; } = 90;

    /// <summary>Blob area limits as fractions of the seat outline's area (a phone screen is small).</summary>
    public float MinSeatFraction { get; init; } = 0.002f;
    public float MaxSeatFraction { get; init; } = 0.15f;

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
    public TimeSpan UpdateEvery { get; init; } = TimeSpan.FromSeconds(30);
    public IReadOnlySet<ShowingState> ArmedIn { get; init; } = new HashSet<ShowingState> { ShowingState.Feature };

    /// <summary>The shared incident lifecycle: persist <see cref="PersistFor"/> to start, <see cref="EndAfter"/> unseen to end.</summary>
    public IncidentOptions Incident => new() { MinDuration = PersistFor, EndGrace = EndAfter, UpdateEvery = UpdateEvery };
}

/// <summary>
/// For dark auditoriums where the detector sees little: a small bright glow at head height in one seat that
/// persists and does not move with the film's light is a suspected recording (device <see cref="RecordingDevice.ScreenGlow"/>).
/// The incident lifecycle is the shared <see cref="IncidentTracker{TKey}"/>.
/// </summary>
public sealed class ScreenGlowRule
{
    private const int MinSamples = 5;
    private readonly CameraRef _camera;
    private readonly ScreenGlowOptions _options;
    private readonly IncidentTracker<string> _incidents;
    private readonly Dictionary<string, SeatGlow> _seats = new(StringComparer.Ordinal);

    public ScreenGlowRule(CameraRef camera, ScreenGlowOptions? options = null)
    {
        _camera = camera;
        _options = options ?? new ScreenGlowOptions();
        _incidents = new IncidentTracker<string>($"{camera.AuditoriumId}-{camera.CameraId}-glow", _options.Incident);
    }

    public IReadOnlyList<PiracySuspicion> Evaluate(DateTimeOffset at, ShowingState state, double sceneBrightness, IReadOnlyList<GlowBlob> blobs, string? showingId = null)
    {
        if (!_options.ArmedIn.Contains(state))
        {
            var ended = _incidents.EndAll(at).Select(t => Event(t, showingId)).ToList();
            _seats.Clear();
            return ended;
        }

        var glowing = new HashSet<string>(StringComparer.Ordinal);
        foreach (var blob in blobs.GroupBy(b => b.SeatId, StringComparer.Ordinal).Select(g => g.MaxBy(b => b.Brightness)!))
        {
            if (!_seats.TryGetValue(blob.SeatId, out var g)) _seats[blob.SeatId] = g = new SeatGlow();
            g.Samples.Add((sceneBrightness, blob.Brightness));
            if (g.Samples.Count > _options.History) g.Samples.RemoveAt(0);
            g.Correlation = Correlation(g.Samples);
            glowing.Add(blob.SeatId);
        }

        var events = _incidents.Step(at, glowing, seat => _seats[seat] is { } g && g.Samples.Count >= MinSamples && g.Correlation < _options.MaxCorrelationWithScene)
            .Select(t => Event(t, showingId)).ToList();
        foreach (var seat in _seats.Keys.Where(k => !_incidents.IsTracked(k)).ToList()) _seats.Remove(seat);
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

    private PiracySuspicion Event(IncidentTransition<string> t, string? showingId)
    {
        double correlation = _seats.TryGetValue(t.Key, out var g) ? g.Correlation : 0;
        return new PiracySuspicion(
            t.EventId, t.IncidentId, t.Phase, RecordingDevice.ScreenGlow, _camera.SiteId, _camera.AuditoriumId, _camera.CameraId, t.Key, t.StartedAt, t.At,
            Math.Round((t.At - t.StartedAt).TotalSeconds, 1), Math.Round(Math.Clamp(0.9 - Math.Max(0, correlation), 0.3, 0.8), 3),
            Detail: FormattableString.Invariant($"glow correlation with the film's light {correlation:0.00}"), ShowingId: showingId);
    }

    private sealed class SeatGlow
    {
        public double Correlation { get; set; }
        public List<(double Scene, double Glow)> Samples { get; } = [];
    }
}
