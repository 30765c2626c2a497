using CinemaVision.Core.Cameras;
using CinemaVision.Core.Showings;

namespace CinemaVision.Core.Audience;

/// <summary>When an empty-hall reference is captured automatically.</summary>
public sealed record EmptyHallCaptureOptions
{
    /// <summary>Showing states in which the hall is expected empty (the schedule says so).</summary>
    public IReadOnlySet<ShowingState> EmptyIn { get; init; } = new HashSet<ShowingState> { ShowingState.Closed, ShowingState.Cleaning };

    /// <summary>Nobody counted and the picture unchanged for this long before a capture (cleaners gone, doors shut).</summary>
    public TimeSpan StableFor { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>Consecutive frames differ by less than this mean grey level: the picture is still.</summary>
    public double StillBelowDifference { get; init; } = 2.0;

    /// <summary>A mode's reference is renewed after this long (seats get recovered, lights replaced).</summary>
    public TimeSpan RenewAfter { get; init; } = TimeSpan.FromDays(7);

    public IEnumerable<string> Validate()
    {
        if (StableFor < TimeSpan.Zero) yield return $"StableFor: must not be negative (was {StableFor}).";
        if (StillBelowDifference <= 0) yield return $"StillBelowDifference: must be above 0 (was {StillBelowDifference}).";
        if (RenewAfter <= TimeSpan.Zero) yield return $"RenewAfter: must be positive (was {RenewAfter}).";
    }
}

/// <summary>
/// Decides when a camera captures its empty-hall reference by itself (pure, per camera): the schedule says the hall
/// is closed or being cleaned, nobody has been counted and the picture has not changed for
/// <see cref="EmptyHallCaptureOptions.StableFor"/>, the camera is healthy, and the current lighting mode has no
/// reference yet or an old one. One reference per lighting mode (lit colour and infrared grey look nothing alike).
/// </summary>
public sealed class EmptyHallCaptureRule(EmptyHallCaptureOptions? options = null)
{
    private readonly EmptyHallCaptureOptions _options = options ?? new EmptyHallCaptureOptions();
    private readonly Dictionary<LightingMode, DateTimeOffset> _captured = [];
    private DateTimeOffset? _stableSince;
    private LightingMode? _stableMode;

    /// <summary>When each mode's reference was captured (or loaded).</summary>
    public IReadOnlyDictionary<LightingMode, DateTimeOffset> Captured => _captured;

    /// <summary>A reference for <paramref name="mode"/> exists from <paramref name="at"/> (loaded from the centre, set by calibration, or captured).</summary>
    public void Has(LightingMode mode, DateTimeOffset at) => _captured[mode] = at;

    /// <summary>One analysed frame; returns the mode to capture a reference for now, or null.</summary>
    /// <param name="people">People counted in this frame (null when not counted: a health-only pass).</param>
    /// <param name="difference">Mean grey difference to the previous analysed frame.</param>
    /// <param name="healthy">The camera sees the hall (not covered, moved, frozen or too dark).</param>
    public LightingMode? Observe(DateTimeOffset at, ShowingState state, int? people, double? difference, LightingMode? mode, bool healthy)
    {
        bool quiet = _options.EmptyIn.Contains(state) && healthy && people is null or 0 && difference is { } d && d < _options.StillBelowDifference && mode is not null;
        if (!quiet)
        {
            _stableSince = null;
            return null;
        }

        // A new lighting mode has to settle too (lamps warming up, the camera switching to infrared).
        if (_stableMode != mode) _stableSince = null;
        _stableMode = mode;
        _stableSince ??= at;
        if (at - _stableSince.Value < _options.StableFor) return null;
        var m = mode!.Value;
        if (_captured.TryGetValue(m, out var last) && at - last < _options.RenewAfter) return null;
        _captured[m] = at;
        return m;
    }
}
