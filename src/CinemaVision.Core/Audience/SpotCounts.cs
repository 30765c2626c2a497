using CinemaVision.Core.Events;

namespace CinemaVision.Core.Audience;

/// <summary>A person counted by an usher: people in an auditorium at a time, and optionally which seats were taken.</summary>
public sealed record SpotCount(string SiteId, string AuditoriumId, DateTimeOffset At, int People, IReadOnlyList<string>? OccupiedSeats = null, string? Note = null);

/// <summary>What the agent reported around the spot count's time, and how far off it was.</summary>
/// <param name="ReportedPeople">The agent's count nearest in time (null when it reported nothing close enough).</param>
/// <param name="ReportedAt">When that sample was taken.</param>
/// <param name="Error">Reported minus counted (negative: the system missed people).</param>
/// <param name="SeatsAgreed">Seats the usher and the system both saw occupied (when the usher gave seats).</param>
/// <param name="SeatsMissed">Seats the usher saw occupied and the system did not.</param>
/// <param name="SeatsFalse">Seats the system saw occupied and the usher did not.</param>
public sealed record SpotCountComparison(int? ReportedPeople, DateTimeOffset? ReportedAt, int? Error, int? SeatsAgreed = null, int? SeatsMissed = null, int? SeatsFalse = null);

/// <summary>Compares a spot count with what the agent reported at that time (pure).</summary>
public static class SpotCountComparer
{
    /// <param name="samples">The auditorium's samples around the spot count.</param>
    /// <param name="seatStates">Each seat's state at the spot count's time (null when the usher gave no seats).</param>
    /// <param name="window">How far in time a sample may be from the spot count to be compared with it.</param>
    public static SpotCountComparison Compare(SpotCount spot, IReadOnlyList<OccupancySample> samples, IReadOnlyDictionary<string, SeatState>? seatStates, TimeSpan window)
    {
        var nearest = samples
            .Where(s => (s.Timestamp - spot.At).Duration() <= window)
            .OrderBy(s => (s.Timestamp - spot.At).Duration())
            .FirstOrDefault();
        int? agreed = null, missed = null, falseSeats = null;
        if (spot.OccupiedSeats is { } seats && seatStates is not null && seatStates.Count > 0)
        {
            var counted = seats.ToHashSet(StringComparer.Ordinal);
            var seen = seatStates.Where(kv => kv.Value == SeatState.Occupied).Select(kv => kv.Key).ToHashSet(StringComparer.Ordinal);
            agreed = counted.Count(seen.Contains);
            missed = counted.Count(s => !seen.Contains(s));
            falseSeats = seen.Count(s => !counted.Contains(s));
        }

        return nearest is null
            ? new SpotCountComparison(null, null, null, agreed, missed, falseSeats)
            : new SpotCountComparison(nearest.People, nearest.Timestamp, nearest.People - spot.People, agreed, missed, falseSeats);
    }
}

/// <summary>Bounds and pace of the seat-prior adjustment from spot counts.</summary>
public sealed record SeatPriorCalibrationOptions
{
    /// <summary>The adjusted threshold never leaves [Minimum, Maximum] (a few spot counts must not wreck an auditorium).</summary>
    public float Minimum { get; init; } = 0.12f;

    public float Maximum { get; init; } = 0.45f;

    /// <summary>One adjustment moves the threshold by at most this much.</summary>
    public float Step { get; init; } = 0.03f;

    /// <summary>Spot counts (compared, most recent) an adjustment needs.</summary>
    public int MinSpotCounts { get; init; } = 3;

    /// <summary>Only the most recent spot counts count.</summary>
    public int RecentSpotCounts { get; init; } = 10;

    /// <summary>A mean relative error (signed, share of the counted people) inside this band needs no adjustment.</summary>
    public double Tolerance { get; init; } = 0.05;

    /// <summary>At least this long between two adjustments of one auditorium (let the last one show its effect).</summary>
    public TimeSpan MinInterval { get; init; } = TimeSpan.FromHours(12);

    public IEnumerable<string> Validate()
    {
        if (Minimum is < 0 or > 1 || Maximum is < 0 or > 1 || Maximum < Minimum) yield return $"Minimum/Maximum: need 0 <= Minimum <= Maximum <= 1 (were {Minimum}, {Maximum}).";
        if (Step is <= 0 or > 0.2f) yield return $"Step: must be within (0, 0.2] (was {Step}).";
        if (MinSpotCounts < 1) yield return $"MinSpotCounts: must be at least 1 (was {MinSpotCounts}).";
        if (RecentSpotCounts < MinSpotCounts) yield return $"RecentSpotCounts: must be at least MinSpotCounts (was {RecentSpotCounts}).";
        if (Tolerance is < 0 or > 1) yield return $"Tolerance: must be within 0..1 (was {Tolerance}).";
    }
}

/// <summary>A decided change of an auditorium's seat-prior threshold, with the reason written to the audit log.</summary>
public sealed record SeatPriorAdjustment(float From, float To, int SpotCounts, double MeanRelativeError, string Reason);

/// <summary>
/// Adjusts an auditorium's seat-prior head threshold from its spot counts (pure): when the system keeps counting too
/// few people (mean signed error below -tolerance), the threshold inside seats is lowered one step so weaker evidence
/// counts there; when it counts too many, raised. Never outside the bounds, never more than one step at a time, and
/// not again before <see cref="SeatPriorCalibrationOptions.MinInterval"/>, so each change is seen before the next.
/// </summary>
public static class SeatPriorCalibration
{
    /// <param name="errors">Compared spot counts, newest last: (when, counted people, reported minus counted).</param>
    public static SeatPriorAdjustment? Decide(IReadOnlyList<(DateTimeOffset At, int Counted, int Error)> errors, float current, DateTimeOffset now, DateTimeOffset? lastAdjusted, SeatPriorCalibrationOptions? options = null)
    {
        options ??= new SeatPriorCalibrationOptions();
        if (lastAdjusted is { } last && now - last < options.MinInterval) return null;
        // Only spot counts taken since the last adjustment show the current threshold's effect.
        var recent = errors.Where(e => lastAdjusted is null || e.At > lastAdjusted).TakeLast(options.RecentSpotCounts).ToList();
        if (recent.Count < options.MinSpotCounts) return null;
        double counted = recent.Sum(e => Math.Max(1, e.Counted));
        double relative = recent.Sum(e => e.Error) / counted;
        if (Math.Abs(relative) <= options.Tolerance) return null;
        float target = relative < 0 ? current - options.Step : current + options.Step;
        target = Math.Clamp(target, options.Minimum, options.Maximum);
        if (MathF.Abs(target - current) < 1e-4f) return null;
        var direction = relative < 0 ? "counted too few" : "counted too many";
        var reason = FormattableString.Invariant($"the system {direction} people over the last {recent.Count} spot counts (mean error {relative:+0.0%;-0.0%} of the counted people): seat-prior head threshold {current:0.00} -> {target:0.00} (bounds {options.Minimum:0.00}..{options.Maximum:0.00})");
        return new SeatPriorAdjustment(current, target, recent.Count, Math.Round(relative, 4), reason);
    }
}
