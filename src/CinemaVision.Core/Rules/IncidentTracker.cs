using System.Globalization;
using CinemaVision.Core.Events;

namespace CinemaVision.Core.Rules;

/// <summary>
/// When a condition becomes an incident and when the incident ends. Time-based (<see cref="MinDuration"/>,
/// <see cref="EndGrace"/>) for rules judged on people, count-based (<see cref="EnterAfter"/>, <see cref="LeaveAfter"/>)
/// for rules judged per analysed frame such as camera health; both may be combined.
/// </summary>
public sealed record IncidentOptions
{
    /// <summary>The condition must hold this long before an incident starts (no alarm for a moment).</summary>
    public TimeSpan MinDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The condition may lapse this long without ending the incident (a missed detection is not an end).</summary>
    public TimeSpan EndGrace { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>An open incident reports an update at most this often.</summary>
    public TimeSpan UpdateEvery { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The condition must hold in this many observations in a row before an incident starts (hysteresis).</summary>
    public int EnterAfter { get; init; } = 1;

    /// <summary>An open incident ends only after this many observations in a row without the condition (hysteresis).</summary>
    public int LeaveAfter { get; init; } = 1;

    public IEnumerable<string> Validate(string prefix = "")
    {
        if (MinDuration < TimeSpan.Zero) yield return $"{prefix}MinDuration must not be negative (was {MinDuration}).";
        if (EndGrace < TimeSpan.Zero) yield return $"{prefix}EndGrace must not be negative (was {EndGrace}).";
        if (UpdateEvery <= TimeSpan.Zero) yield return $"{prefix}UpdateEvery must be positive (was {UpdateEvery}).";
        if (EnterAfter < 1) yield return $"{prefix}EnterAfter must be at least 1 (was {EnterAfter}).";
        if (LeaveAfter < 1) yield return $"{prefix}LeaveAfter must be at least 1 (was {LeaveAfter}).";
    }
}

/// <summary>A phase change of one incident.</summary>
public readonly record struct IncidentTransition<TKey>(TKey Key, IncidentPhase Phase, string IncidentId, DateTimeOffset StartedAt, DateTimeOffset At)
{
    /// <summary>The id of the event reporting this phase: unique per incident, phase and time, the same when recomputed.</summary>
    public string EventId => string.Create(CultureInfo.InvariantCulture, $"{IncidentId}-{(int)Phase}-{At.ToUnixTimeMilliseconds()}");
}

/// <summary>
/// The one incident lifecycle every rule shares (anomalies, piracy, screen glow, camera health): it turns "this
/// condition holds for this key now" into incidents with one Start, Updates and one End, so a rule raises one event
/// per incident rather than one per frame. A rule may add its own start requirement (held-up time in a window, a
/// glow that does not follow the film) through <c>mayStart</c>. Deterministic: the same observations give the same
/// incidents and ids (<c>{prefix}-{key}-{start ms}</c>).
/// </summary>
public sealed class IncidentTracker<TKey>
    where TKey : notnull
{
    private readonly IncidentOptions _options;
    private readonly string _prefix;
    private readonly Dictionary<TKey, Entry> _entries = [];

    public IncidentTracker(string prefix, IncidentOptions options)
    {
        var problems = options.Validate().ToList();
        if (problems.Count > 0) throw new ArgumentException(string.Join(" ", problems), nameof(options));
        _prefix = prefix;
        _options = options;
    }

    public int OpenCount => _entries.Values.Count(e => e.Open);

    public bool IsOpen(TKey key) => _entries.TryGetValue(key, out var e) && e.Open;

    /// <summary>True while the key's condition is being followed (open, or holding but not yet long enough).</summary>
    public bool IsTracked(TKey key) => _entries.ContainsKey(key);

    /// <summary>The keys with an open incident.</summary>
    public IReadOnlyList<TKey> OpenKeys => [.. _entries.Where(kv => kv.Value.Open).Select(kv => kv.Key)];

    /// <summary>When the key's current stretch of the condition began, if it is being followed.</summary>
    public DateTimeOffset? Since(TKey key) => _entries.TryGetValue(key, out var e) ? e.Since : null;

    /// <summary>
    /// One observation: <paramref name="active"/> are the keys whose condition holds now; every other followed key
    /// is observed without it. <paramref name="mayStart"/>, when given, must also be true for an incident to start.
    /// </summary>
    public IReadOnlyList<IncidentTransition<TKey>> Step(DateTimeOffset now, IReadOnlyCollection<TKey> active, Func<TKey, bool>? mayStart = null)
    {
        var transitions = new List<IncidentTransition<TKey>>();
        foreach (var key in active)
        {
            if (!_entries.TryGetValue(key, out var e))
            {
                _entries[key] = e = new Entry { Since = now };
            }

            e.LastTrue = now;
            e.Holding++;
            e.Lapsed = 0;
            if (!e.Open && now - e.Since >= _options.MinDuration && e.Holding >= _options.EnterAfter && (mayStart?.Invoke(key) ?? true))
            {
                e.Open = true;
                e.Id = string.Create(CultureInfo.InvariantCulture, $"{_prefix}-{key}-{e.Since.ToUnixTimeMilliseconds()}");
                e.LastReport = now;
                transitions.Add(new(key, IncidentPhase.Start, e.Id, e.Since, now));
            }
            else if (e.Open && now - e.LastReport >= _options.UpdateEvery)
            {
                e.LastReport = now;
                transitions.Add(new(key, IncidentPhase.Update, e.Id!, e.Since, now));
            }
        }

        var activeSet = active as IReadOnlySet<TKey> ?? active.ToHashSet();
        foreach (var (key, e) in _entries.ToList())
        {
            if (activeSet.Contains(key)) continue;
            e.Holding = 0;
            e.Lapsed++;
            if (now - e.LastTrue <= _options.EndGrace || (e.Open && e.Lapsed < _options.LeaveAfter)) continue;
            if (e.Open) transitions.Add(new(key, IncidentPhase.End, e.Id!, e.Since, e.LastTrue));
            _entries.Remove(key);
        }

        return transitions;
    }

    /// <summary>Ends every open incident (the rule was disarmed, e.g. the feature ended) and forgets every key.</summary>
    public IReadOnlyList<IncidentTransition<TKey>> EndAll(DateTimeOffset now)
    {
        var transitions = _entries.Where(kv => kv.Value.Open).Select(kv => new IncidentTransition<TKey>(kv.Key, IncidentPhase.End, kv.Value.Id!, kv.Value.Since, kv.Value.LastTrue)).ToList();
        _entries.Clear();
        return transitions;
    }

    private sealed class Entry
    {
        public DateTimeOffset Since;
        public DateTimeOffset LastTrue;
        public DateTimeOffset LastReport;
        public int Holding;
        public int Lapsed;
        public bool Open;
        public string? Id;
    }
}
