using System.Globalization;
using CinemaVision.Core.Events;

namespace CinemaVision.Core.Rules;

public sealed record IncidentOptions
{
    /// <summary>The condition must hold this long before an incident starts (no alarm for a moment).</summary>
    public TimeSpan MinDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The condition may lapse this long without ending the incident (a missed detection is not an end).</summary>
    public TimeSpan EndGrace { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>An open incident reports an update at most this often.</summary>
    public TimeSpan UpdateEvery { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>A phase change of one incident.</summary>
public readonly record struct IncidentTransition<TKey>(TKey Key, IncidentPhase Phase, string IncidentId, DateTimeOffset StartedAt, DateTimeOffset At);

/// <summary>
/// Turns "this condition holds for this key now" into incidents with one Start, Updates and one End, so a rule
/// raises one event per incident rather than one per frame. Deterministic: the same observations give the same
/// incidents and ids.
/// </summary>
public sealed class IncidentTracker<TKey>
    where TKey : notnull
{
    private readonly IncidentOptions _options;
    private readonly string _prefix;
    private readonly Dictionary<TKey, Entry> _entries = [];

    public IncidentTracker(string prefix, IncidentOptions options)
    {
        _prefix = prefix;
        _options = options;
    }

    public int OpenCount => _entries.Values.Count(e => e.Open);

    public bool IsOpen(TKey key) => _entries.TryGetValue(key, out var e) && e.Open;

    public IReadOnlyList<IncidentTransition<TKey>> Step(DateTimeOffset now, IReadOnlyCollection<TKey> active)
    {
        var transitions = new List<IncidentTransition<TKey>>();
        foreach (var key in active)
        {
            if (!_entries.TryGetValue(key, out var e))
            {
                _entries[key] = e = new Entry { Since = now };
            }

            e.LastTrue = now;
            if (!e.Open && now - e.Since >= _options.MinDuration)
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
            if (activeSet.Contains(key) || now - e.LastTrue <= _options.EndGrace) continue;
            if (e.Open) transitions.Add(new(key, IncidentPhase.End, e.Id!, e.Since, e.LastTrue));
            _entries.Remove(key);
        }

        return transitions;
    }

    /// <summary>Ends every open incident (the rule was disarmed, e.g. the feature ended).</summary>
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
        public bool Open;
        public string? Id;
    }
}
