using CinemaVision.Core.Events;
using CinemaVision.Core.Rules;
using CinemaVision.Core.Showings;

namespace CinemaVision.Core.Cameras;

/// <summary>What the probes measured on one frame (cheap, on a downscaled grey image).</summary>
/// <param name="Brightness">Mean grey level 0..255.</param>
/// <param name="Sharpness">Variance of the Laplacian (focus).</param>
/// <param name="Difference">Mean absolute difference to the previous analysed frame (0 = identical).</param>
/// <param name="Uniformity">Share of the image with almost no texture (a lens covered by a hand or tape is near 1).</param>
/// <param name="ReferenceShift">Pixels the view moved from the reference frame, or null when not measured.</param>
/// <param name="ReferenceMatch">0..1 similarity to the reference frame (phase-correlation response), or null.</param>
public sealed record FrameMeasurements(double Brightness, double Sharpness, double Difference, double Uniformity, double? ReferenceShift = null, double? ReferenceMatch = null);

/// <summary>Thresholds, with hysteresis: a condition starts after <see cref="EnterAfter"/> bad analyses in a row and ends after <see cref="LeaveAfter"/> good ones.</summary>
public sealed record CameraHealthOptions
{
    public int EnterAfter { get; init; } = 3;
    public int LeaveAfter { get; init; } = 3;

    /// <summary>Below this brightness the camera is too dark (when the lights should be on).</summary>
    public double TooDarkBelow { get; init; } = 25;

    /// <summary>Above this brightness during the feature, the lights are on.</summary>
    public double LightsOnAbove { get; init; } = 110;

    /// <summary>Sharpness below this share of the reference sharpness is blurred (or, without a reference, below <see cref="BlurredBelow"/>).</summary>
    public double BlurredBelowReferenceShare { get; init; } = 0.35;
    public double BlurredBelow { get; init; } = 40;

    /// <summary>Frames whose difference stays below this are identical: after <see cref="FrozenAfter"/> the stream is frozen.</summary>
    public double FrozenBelowDifference { get; init; } = 0.05;
    public TimeSpan FrozenAfter { get; init; } = TimeSpan.FromSeconds(10);

    public double CoveredAboveUniformity { get; init; } = 0.85;

    /// <summary>
    /// The view moved when it shifted more than this many pixels (at probe resolution) or the phase-correlation
    /// response dropped below <see cref="MovedBelowMatch"/> (a different view altogether). People moving in the
    /// audience lower the response too, so its threshold is low and the shift is the main test.
    /// </summary>
    public double MovedAboveShift { get; init; } = 12;
    public double MovedBelowMatch { get; init; } = 0.02;

    /// <summary>No frame for this long: offline.</summary>
    public TimeSpan OfflineAfter { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>An open camera-health incident reports an update at most this often.</summary>
    public TimeSpan UpdateEvery { get; init; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// Camera-health decisions (pure and deterministic): each condition has its measured value, its threshold and
/// hysteresis, and becomes one incident (Start, End) rather than a flapping flag. The lifecycle is the shared
/// <see cref="IncidentTracker{TKey}"/>: count-based for conditions judged per frame, immediate for a frozen or
/// silent stream.
/// </summary>
public sealed class CameraHealthRules
{
    private static readonly CameraHealthKind[] Judged = [CameraHealthKind.Covered, CameraHealthKind.TooDark, CameraHealthKind.LightsOn, CameraHealthKind.Blurred, CameraHealthKind.Moved];
    private readonly CameraRef _camera;
    private readonly CameraHealthOptions _options;
    private readonly double? _referenceSharpness;
    private readonly IncidentTracker<CameraHealthKind> _judged;
    private readonly IncidentTracker<CameraHealthKind> _frozen;
    private readonly IncidentTracker<CameraHealthKind> _offline;
    private readonly Dictionary<CameraHealthKind, (double Value, double Threshold, string? Detail)> _latest = [];
    private DateTimeOffset? _unchangedSince;

    public CameraHealthRules(CameraRef camera, CameraHealthOptions? options = null, double? referenceSharpness = null)
    {
        _camera = camera;
        _options = options ?? new CameraHealthOptions();
        _referenceSharpness = referenceSharpness;
        string prefix = $"{camera.AuditoriumId}-{camera.CameraId}";
        var hysteresis = new IncidentOptions { MinDuration = TimeSpan.Zero, EndGrace = TimeSpan.Zero, UpdateEvery = _options.UpdateEvery, EnterAfter = _options.EnterAfter, LeaveAfter = _options.LeaveAfter };
        var immediate = hysteresis with { EnterAfter = 1, LeaveAfter = 1 };
        _judged = new(prefix, hysteresis);
        _frozen = new(prefix, immediate);
        _offline = new(prefix, immediate);
    }

    public IReadOnlyCollection<CameraHealthKind> Active => [.. _judged.OpenKeys.Concat(_frozen.OpenKeys).Concat(_offline.OpenKeys).Order()];

    /// <summary>
    /// True while a condition is open under which the camera does not show the seats as they are now (covered,
    /// frozen, moved, offline): seat states are then unknown rather than empty.
    /// </summary>
    public bool SeesTheSeats => !_judged.IsOpen(CameraHealthKind.Covered) && !_judged.IsOpen(CameraHealthKind.Moved) && !_frozen.IsOpen(CameraHealthKind.Frozen) && !_offline.IsOpen(CameraHealthKind.Offline);

    /// <summary>One analysed frame.</summary>
    public IReadOnlyList<CameraHealthEvent> Observe(DateTimeOffset at, FrameMeasurements m, ShowingState state)
    {
        var o = _options;
        _unchangedSince = m.Difference < o.FrozenBelowDifference ? _unchangedSince ?? at : null;
        double frozenSeconds = _unchangedSince is { } since ? (at - since).TotalSeconds : 0;
        bool lightsExpectedOff = state == ShowingState.Feature;
        double blurThreshold = _referenceSharpness is { } r ? r * o.BlurredBelowReferenceShare : o.BlurredBelow;
        bool covered = m.Uniformity > o.CoveredAboveUniformity;
        bool moved = !covered && ((m.ReferenceShift is { } shift && shift > o.MovedAboveShift) || (m.ReferenceMatch is { } match && match < o.MovedBelowMatch));

        var bad = new HashSet<CameraHealthKind>();
        void Judge(CameraHealthKind kind, bool condition, double value, double threshold)
        {
            _latest[kind] = (value, threshold, null);
            if (condition) bad.Add(kind);
        }

        Judge(CameraHealthKind.Covered, covered, m.Uniformity, o.CoveredAboveUniformity);
        // A dark auditorium during the feature is normal; darkness at other times is a fault (or a covered lens).
        Judge(CameraHealthKind.TooDark, !lightsExpectedOff && !covered && m.Brightness < o.TooDarkBelow, m.Brightness, o.TooDarkBelow);
        Judge(CameraHealthKind.LightsOn, lightsExpectedOff && m.Brightness > o.LightsOnAbove, m.Brightness, o.LightsOnAbove);
        // Blur cannot be judged on a covered or very dark image.
        Judge(CameraHealthKind.Blurred, !covered && m.Brightness >= o.TooDarkBelow && m.Sharpness < blurThreshold, m.Sharpness, blurThreshold);
        Judge(CameraHealthKind.Moved, moved, m.ReferenceShift ?? 0, o.MovedAboveShift);
        _latest[CameraHealthKind.Frozen] = (frozenSeconds, o.FrozenAfter.TotalSeconds, null);
        _latest[CameraHealthKind.Offline] = (0, o.OfflineAfter.TotalSeconds, null);

        var events = new List<CameraHealthEvent>();
        events.AddRange(_frozen.Step(at, frozenSeconds >= o.FrozenAfter.TotalSeconds ? [CameraHealthKind.Frozen] : []).Select(Event));
        events.AddRange(_judged.Step(at, Judged.Where(bad.Contains).ToList()).Select(Event));
        events.AddRange(_offline.Step(at, []).Select(Event));
        return events;
    }

    /// <summary>The stream delivered nothing: offline after <see cref="CameraHealthOptions.OfflineAfter"/>.</summary>
    public IReadOnlyList<CameraHealthEvent> ObserveNoFrame(DateTimeOffset at, DateTimeOffset? lastFrameAt, string? reason)
    {
        double silent = lastFrameAt is { } last ? (at - last).TotalSeconds : double.MaxValue;
        _latest[CameraHealthKind.Offline] = (Math.Min(silent, 1e9), _options.OfflineAfter.TotalSeconds, reason);
        return [.. _offline.Step(at, silent >= _options.OfflineAfter.TotalSeconds ? [CameraHealthKind.Offline] : []).Select(Event)];
    }

    private CameraHealthEvent Event(IncidentTransition<CameraHealthKind> t)
    {
        var (value, threshold, detail) = _latest.GetValueOrDefault(t.Key);
        return new CameraHealthEvent(t.EventId, t.IncidentId, t.Phase, t.Key, _camera.SiteId, _camera.AuditoriumId, _camera.CameraId, t.StartedAt, t.At, Math.Round(value, 3), Math.Round(threshold, 3), detail);
    }
}
