using System.Globalization;
using CinemaVision.Core.Events;
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
}

/// <summary>
/// Camera-health decisions (pure and deterministic): each condition has its measured value, its threshold and
/// hysteresis, and becomes one incident (Start, End) rather than a flapping flag.
/// </summary>
public sealed class CameraHealthRules
{
    private readonly CameraRef _camera;
    private readonly CameraHealthOptions _options;
    private readonly double? _referenceSharpness;
    private readonly Dictionary<CameraHealthKind, Condition> _conditions = [];
    private DateTimeOffset? _unchangedSince;

    public CameraHealthRules(CameraRef camera, CameraHealthOptions? options = null, double? referenceSharpness = null)
    {
        _camera = camera;
        _options = options ?? new CameraHealthOptions();
        _referenceSharpness = referenceSharpness;
        foreach (var kind in Enum.GetValues<CameraHealthKind>()) _conditions[kind] = new Condition();
    }

    public IReadOnlyCollection<CameraHealthKind> Active => [.. _conditions.Where(c => c.Value.Open).Select(c => c.Key)];

    /// <summary>One analysed frame.</summary>
    public IReadOnlyList<CameraHealthEvent> Observe(DateTimeOffset at, FrameMeasurements m, ShowingState state)
    {
        var o = _options;
        var events = new List<CameraHealthEvent>();
        _unchangedSince = m.Difference < o.FrozenBelowDifference ? _unchangedSince ?? at : null;
        double frozenSeconds = _unchangedSince is { } since ? (at - since).TotalSeconds : 0;
        bool lightsExpectedOff = state == ShowingState.Feature;
        double blurThreshold = _referenceSharpness is { } r ? r * o.BlurredBelowReferenceShare : o.BlurredBelow;
        bool covered = m.Uniformity > o.CoveredAboveUniformity;

        Step(events, at, CameraHealthKind.Frozen, frozenSeconds >= o.FrozenAfter.TotalSeconds, frozenSeconds, o.FrozenAfter.TotalSeconds, immediate: true);
        Step(events, at, CameraHealthKind.Covered, covered, m.Uniformity, o.CoveredAboveUniformity);
        // A dark auditorium during the feature is normal; darkness at other times is a fault (or a covered lens).
        Step(events, at, CameraHealthKind.TooDark, !lightsExpectedOff && !covered && m.Brightness < o.TooDarkBelow, m.Brightness, o.TooDarkBelow);
        Step(events, at, CameraHealthKind.LightsOn, lightsExpectedOff && m.Brightness > o.LightsOnAbove, m.Brightness, o.LightsOnAbove);
        // Blur cannot be judged on a covered or very dark image.
        Step(events, at, CameraHealthKind.Blurred, !covered && m.Brightness >= o.TooDarkBelow && m.Sharpness < blurThreshold, m.Sharpness, blurThreshold);
        bool moved = !covered && ((m.ReferenceShift is { } shift && shift > o.MovedAboveShift) || (m.ReferenceMatch is { } match && match < o.MovedBelowMatch));
        Step(events, at, CameraHealthKind.Moved, moved, m.ReferenceShift ?? 0, o.MovedAboveShift);
        Step(events, at, CameraHealthKind.Offline, false, 0, o.OfflineAfter.TotalSeconds, immediate: true);
        return events;
    }

    /// <summary>The stream delivered nothing: offline after <see cref="CameraHealthOptions.OfflineAfter"/>.</summary>
    public IReadOnlyList<CameraHealthEvent> ObserveNoFrame(DateTimeOffset at, DateTimeOffset? lastFrameAt, string? reason)
    {
        var events = new List<CameraHealthEvent>();
        double silent = lastFrameAt is { } last ? (at - last).TotalSeconds : double.MaxValue;
        Step(events, at, CameraHealthKind.Offline, silent >= _options.OfflineAfter.TotalSeconds, Math.Min(silent, 1e9), _options.OfflineAfter.TotalSeconds, immediate: true, detail: reason);
        return events;
    }

    private void Step(List<CameraHealthEvent> events, DateTimeOffset at, CameraHealthKind kind, bool bad, double value, double threshold, bool immediate = false, string? detail = null)
    {
        var c = _conditions[kind];
        c.Bad = bad ? c.Bad + 1 : 0;
        c.Good = bad ? 0 : c.Good + 1;
        if (!c.Open && c.Bad >= (immediate ? 1 : _options.EnterAfter))
        {
            c.Open = true;
            c.Since = at;
            events.Add(Event(kind, IncidentPhase.Start, c, at, value, threshold, detail));
        }
        else if (c.Open && c.Good >= (immediate ? 1 : _options.LeaveAfter))
        {
            c.Open = false;
            events.Add(Event(kind, IncidentPhase.End, c, at, value, threshold, detail));
        }
    }

    private CameraHealthEvent Event(CameraHealthKind kind, IncidentPhase phase, Condition c, DateTimeOffset at, double value, double threshold, string? detail)
    {
        var incident = string.Create(CultureInfo.InvariantCulture, $"{_camera.AuditoriumId}-{_camera.CameraId}-{kind}-{c.Since.ToUnixTimeMilliseconds()}");
        return new CameraHealthEvent($"{incident}-{(int)phase}", incident, phase, kind, _camera.SiteId, _camera.AuditoriumId, _camera.CameraId, c.Since, at, Math.Round(value, 3), Math.Round(threshold, 3), detail);
    }

    private sealed class Condition
    {
        public int Bad;
        public int Good;
        public bool Open;
        public DateTimeOffset Since;
    }
}
