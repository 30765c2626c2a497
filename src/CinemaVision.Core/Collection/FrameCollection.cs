using CinemaVision.Core.Detections;

namespace CinemaVision.Core.Collection;

/// <summary>
/// Which frames an edge agent keeps for retraining, per auditorium. Off by default: the cameras film an audience,
/// and a cinema turns collection on knowingly, for a time, with a retention limit and a size cap.
/// </summary>
public sealed record FrameCollectionPolicy
{
    public bool Enabled { get; init; }

    /// <summary>Keep one frame every this many minutes while the auditorium is watched (0 = no scheduled frames).</summary>
    public double ScheduleMinutes { get; init; } = 30;

    /// <summary>Keep the frame on which an event of these kinds starts (empty = every kind), e.g. aisle, piracy.</summary>
    public bool AroundEvents { get; init; } = true;

    public IReadOnlyList<string> EventKinds { get; init; } = [];

    /// <summary>A detection whose score lies within this distance of its class threshold is a doubtful one.</summary>
    public float NearThresholdBand { get; init; } = 0.1f;

    /// <summary>Keep a frame when at least this many detections are doubtful.</summary>
    public int NearThresholdMinimum { get; init; } = 3;

    /// <summary>Keep a frame when the tiled and the full-frame pass count this many people apart (or more).</summary>
    public int PassDisagreement { get; init; } = 3;

    /// <summary>Keep a frame when seats flipped this many times within <see cref="FlipWindowMinutes"/>.</summary>
    public int SeatFlips { get; init; } = 4;

    public double FlipWindowMinutes { get; init; } = 5;

    /// <summary>Keep a frame when an usher's spot count differs from the agent's by this many people (or more).</summary>
    public int SpotCountDisagreement { get; init; } = 3;

    /// <summary>At most this many frames an hour per auditorium (all reasons together).</summary>
    public int MaxFramesPerHour { get; init; } = 20;

    /// <summary>The same reason keeps another frame only after this many minutes.</summary>
    public double ReasonCooldownMinutes { get; init; } = 10;

    /// <summary>Kept frames are deleted after this many days (agent and centre).</summary>
    public double RetentionDays { get; init; } = 14;

    /// <summary>The agent's store of kept frames never grows beyond this; the oldest go first.</summary>
    public long MaxBytes { get; init; } = 512L * 1024 * 1024;

    public IEnumerable<string> Validate()
    {
        if (ScheduleMinutes < 0) yield return "scheduleMinutes: must not be negative.";
        if (NearThresholdBand is < 0 or > 0.5f) yield return "nearThresholdBand: must be within 0..0.5.";
        if (NearThresholdMinimum < 1) yield return "nearThresholdMinimum: at least 1.";
        if (PassDisagreement < 1) yield return "passDisagreement: at least 1.";
        if (SeatFlips < 1) yield return "seatFlips: at least 1.";
        if (FlipWindowMinutes <= 0) yield return "flipWindowMinutes: must be positive.";
        if (SpotCountDisagreement < 1) yield return "spotCountDisagreement: at least 1.";
        if (MaxFramesPerHour < 1) yield return "maxFramesPerHour: at least 1.";
        if (ReasonCooldownMinutes < 0) yield return "reasonCooldownMinutes: must not be negative.";
        if (RetentionDays is <= 0 or > 365) yield return "retentionDays: within (0, 365].";
        if (MaxBytes < 1024 * 1024) yield return "maxBytes: at least 1 MiB.";
    }
}

/// <summary>Why a frame was kept. The names travel with the frame and are the filter the data team uses.</summary>
public static class CollectionReasons
{
    public const string Schedule = "schedule";
    public const string Event = "event";
    public const string NearThreshold = "near-threshold";
    public const string PassesDisagree = "tiled-vs-full";
    public const string SeatFlipping = "seat-flipping";
    public const string SpotCount = "spot-count";

    public static IReadOnlyList<string> All { get; } = [Schedule, Event, NearThreshold, PassesDisagree, SeatFlipping, SpotCount];

    /// <summary>Reasons that mean the detector was unsure (the "uncertainty" selection of an export).</summary>
    public static IReadOnlyList<string> Uncertain { get; } = [NearThreshold, PassesDisagree, SeatFlipping, SpotCount];
}

/// <summary>What the agent knows about one analysed frame, as far as collection cares.</summary>
/// <param name="Detections">The merged detections (all scores the detector kept) and the threshold of each class.</param>
/// <param name="FullFramePeople">People counted by the full-frame pass alone, when it ran separately.</param>
/// <param name="TiledPeople">People counted by the tiled passes.</param>
/// <param name="SeatChanges">Times of recent seat state changes (any seat) for flip counting.</param>
/// <param name="SpotCountDifference">The last usher spot count minus the agent's count at that time, when one just arrived.</param>
/// <param name="EventsStarted">Kinds of events that started on this frame (aisle, piracy, after-show, ...).</param>
public sealed record FrameObservation(
    DateTimeOffset Time,
    IReadOnlyList<Detection> Detections,
    Func<ObjectClass, float> ThresholdFor,
    int? FullFramePeople = null,
    int? TiledPeople = null,
    IReadOnlyList<DateTimeOffset>? SeatChanges = null,
    int? SpotCountDifference = null,
    IReadOnlyList<string>? EventsStarted = null);

/// <summary>The collector's verdict: keep or not, why, and how unsure the detector was (0 = sure, 1 = very unsure).</summary>
public sealed record CollectionDecision(bool Keep, IReadOnlyList<string> Reasons, double Uncertainty, string? EventKind = null)
{
    public static CollectionDecision Skip(double uncertainty) => new(false, [], uncertainty);
}

/// <summary>
/// The pure selection rules of frame collection for one auditorium camera: a frame is kept on the schedule, when an
/// event starts, and when the detector was unsure (scores near the threshold, the tiled and full-frame passes
/// disagreeing, a seat flipping, a spot count that disagreed), within an hourly budget and a per-reason cooldown.
/// State in, decision out; the agent stores the frame, the centre receives it.
/// </summary>
public sealed class FrameCollector
{
    private readonly FrameCollectionPolicy _policy;
    private readonly Dictionary<string, DateTimeOffset> _lastByReason = new(StringComparer.Ordinal);
    private readonly Queue<DateTimeOffset> _kept = new();
    private DateTimeOffset? _lastScheduled;

    public FrameCollector(FrameCollectionPolicy policy)
    {
        var problems = policy.Validate().ToList();
        if (problems.Count > 0) throw new ArgumentException("Invalid frame collection policy: " + string.Join(" ", problems), nameof(policy));
        _policy = policy;
    }

    public CollectionDecision Observe(FrameObservation frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        double uncertainty = Uncertainty(frame, out int nearThreshold);
        if (!_policy.Enabled) return CollectionDecision.Skip(uncertainty);

        var reasons = new List<string>();
        string? eventKind = null;
        if (_policy.ScheduleMinutes > 0 && (_lastScheduled is null || frame.Time - _lastScheduled.Value >= TimeSpan.FromMinutes(_policy.ScheduleMinutes)))
        {
            reasons.Add(CollectionReasons.Schedule);
        }

        if (_policy.AroundEvents && frame.EventsStarted is { Count: > 0 } events)
        {
            eventKind = events.FirstOrDefault(e => _policy.EventKinds.Count == 0 || _policy.EventKinds.Contains(e, StringComparer.OrdinalIgnoreCase));
            if (eventKind is not null) reasons.Add(CollectionReasons.Event);
        }

        if (nearThreshold >= _policy.NearThresholdMinimum) reasons.Add(CollectionReasons.NearThreshold);
        if (frame.FullFramePeople is { } full && frame.TiledPeople is { } tiled && Math.Abs(full - tiled) >= _policy.PassDisagreement) reasons.Add(CollectionReasons.PassesDisagree);
        if (frame.SeatChanges is { } changes && changes.Count(t => frame.Time - t <= TimeSpan.FromMinutes(_policy.FlipWindowMinutes) && t <= frame.Time) >= _policy.SeatFlips) reasons.Add(CollectionReasons.SeatFlipping);
        if (frame.SpotCountDifference is { } spot && Math.Abs(spot) >= _policy.SpotCountDisagreement) reasons.Add(CollectionReasons.SpotCount);

        // Cooldown per reason (events are never cooled down: each start is its own moment); budget per hour.
        reasons = reasons.Where(r => r == CollectionReasons.Event || r == CollectionReasons.Schedule || !_lastByReason.TryGetValue(r, out var last) || frame.Time - last >= TimeSpan.FromMinutes(_policy.ReasonCooldownMinutes)).ToList();
        while (_kept.Count > 0 && frame.Time - _kept.Peek() >= TimeSpan.FromHours(1)) _kept.Dequeue();
        if (reasons.Count == 0 || _kept.Count >= _policy.MaxFramesPerHour) return CollectionDecision.Skip(uncertainty);

        _kept.Enqueue(frame.Time);
        foreach (var r in reasons) _lastByReason[r] = frame.Time;
        if (reasons.Contains(CollectionReasons.Schedule)) _lastScheduled = frame.Time;
        return new CollectionDecision(true, reasons, uncertainty, eventKind);
    }

    /// <summary>
    /// How unsure the detector was: the share of detections within the band of their threshold, raised to 1 when the
    /// two passes disagree by the policy's margin or a spot count disagreed.
    /// </summary>
    private double Uncertainty(FrameObservation frame, out int nearThreshold)
    {
        nearThreshold = frame.Detections.Count(d => MathF.Abs(d.Score - frame.ThresholdFor(d.Class)) <= _policy.NearThresholdBand);
        double share = frame.Detections.Count == 0 ? 0 : (double)nearThreshold / frame.Detections.Count;
        double passes = frame.FullFramePeople is { } f && frame.TiledPeople is { } t ? Math.Min(1, Math.Abs(f - t) / (double)_policy.PassDisagreement) : 0;
        double spot = frame.SpotCountDifference is { } s ? Math.Min(1, Math.Abs(s) / (double)_policy.SpotCountDisagreement) : 0;
        return Math.Round(Math.Max(share, Math.Max(passes, spot)), 4);
    }
}

/// <summary>A kept frame as a store knows it, for retention.</summary>
public readonly record struct StoredFrame(string Id, DateTimeOffset CapturedAt, long Bytes);

/// <summary>Retention and size cap for kept frames: older than the retention first, then the oldest until under the cap.</summary>
public static class FrameRetention
{
    public static IReadOnlyList<string> ToDelete(IEnumerable<StoredFrame> frames, DateTimeOffset now, double retentionDays, long maxBytes)
    {
        var ordered = frames.OrderBy(f => f.CapturedAt).ThenBy(f => f.Id, StringComparer.Ordinal).ToList();
        var cutoff = now - TimeSpan.FromDays(retentionDays);
        var delete = ordered.Where(f => f.CapturedAt < cutoff).Select(f => f.Id).ToList();
        long total = ordered.Where(f => f.CapturedAt >= cutoff).Sum(f => f.Bytes);
        foreach (var f in ordered.Where(f => f.CapturedAt >= cutoff))
        {
            if (total <= maxBytes) break;
            delete.Add(f.Id);
            total -= f.Bytes;
        }

        return delete;
    }
}
