using CinemaVision.Core.Events;

namespace CinemaVision.Core.Seating;

/// <summary>What one analysis saw at a seat.</summary>
public enum SeatObservation : byte
{
    Empty = 0,
    Occupied = 1,

    /// <summary>Not observable this time: occluded, or the camera is unhealthy.</summary>
    Unknown = 2,

    /// <summary>Changed against the empty hall but no person seen: something lies on the seat.</summary>
    Object = 3,
}

public sealed record SeatSmoothingOptions
{
    /// <summary>Analyses remembered per seat.</summary>
    public int Window { get; init; } = 5;

    /// <summary>A seat becomes occupied when seen occupied in at least this many of the window's analyses.</summary>
    public int OccupiedWhenAtLeast { get; init; } = 3;

    /// <summary>An occupied seat becomes empty only when seen occupied in at most this many (hysteresis).</summary>
    public int EmptyWhenAtMost { get; init; } = 1;

    /// <summary>A seat is unknown when at least this many of the window's analyses could not see it.</summary>
    public int UnknownWhenAtLeast { get; init; } = 3;

    public IEnumerable<string> Validate()
    {
        if (Window < 1) yield return $"Window must be at least 1 (was {Window}).";
        if (OccupiedWhenAtLeast < 1 || OccupiedWhenAtLeast > Window) yield return $"OccupiedWhenAtLeast must be within 1..Window (was {OccupiedWhenAtLeast}).";
        if (EmptyWhenAtMost >= OccupiedWhenAtLeast) yield return "EmptyWhenAtMost must be below OccupiedWhenAtLeast, or seats flicker.";
    }
}

/// <summary>
/// Smooths each seat's state over the last analyses with hysteresis (occupied when seen in k of the last n; empty
/// again only when seen in at most m &lt; k), so a head turning or a person leaning does not flicker the count.
/// Pure: feed observations, read states and the changes.
/// </summary>
public sealed class SeatStateSmoother
{
    private readonly SeatSmoothingOptions _options;
    private readonly Dictionary<string, SeatHistory> _seats = new(StringComparer.Ordinal);

    public SeatStateSmoother(IEnumerable<string> seatIds, SeatSmoothingOptions? options = null)
    {
        _options = options ?? new SeatSmoothingOptions();
        var problems = _options.Validate().ToList();
        if (problems.Count > 0) throw new ArgumentException(string.Join(" ", problems), nameof(options));
        foreach (var id in seatIds) _seats[id] = new SeatHistory(_options.Window);
    }

    public IReadOnlyCollection<string> SeatIds => _seats.Keys;

    public SeatState StateOf(string seatId) => _seats[seatId].State;

    public IReadOnlyDictionary<string, SeatState> States => _seats.ToDictionary(kv => kv.Key, kv => kv.Value.State, StringComparer.Ordinal);

    /// <summary>
    /// Records one analysis. Seats absent from <paramref name="occupied"/> are empty, or unknown when listed in
    /// <paramref name="unobservable"/>, or hold an object when listed in <paramref name="objects"/>.
    /// </summary>
    public IReadOnlyList<(string SeatId, SeatState From, SeatState To)> Observe(IReadOnlySet<string> occupied, IReadOnlySet<string>? unobservable = null, IReadOnlySet<string>? objects = null)
    {
        var changes = new List<(string, SeatState, SeatState)>();
        foreach (var (id, history) in _seats)
        {
            var observation = unobservable?.Contains(id) == true ? SeatObservation.Unknown
                : occupied.Contains(id) ? SeatObservation.Occupied
                : objects?.Contains(id) == true ? SeatObservation.Object : SeatObservation.Empty;
            var before = history.State;
            history.Push(observation);
            history.State = Decide(history, before, _options);
            if (history.State != before) changes.Add((id, before, history.State));
        }

        return changes;
    }

    /// <summary>The smoothing decision for one seat (pure, table-tested).</summary>
    public static SeatState Decide(SeatHistory history, SeatState current, SeatSmoothingOptions options)
    {
        if (history.Count(SeatObservation.Unknown) >= options.UnknownWhenAtLeast) return SeatState.Unknown;
        int occupied = history.Count(SeatObservation.Occupied);
        if (occupied >= options.OccupiedWhenAtLeast) return SeatState.Occupied;
        if (current == SeatState.Occupied && occupied > options.EmptyWhenAtMost) return SeatState.Occupied;
        int known = history.Length - history.Count(SeatObservation.Unknown);
        // Not yet enough evidence either way right after start: stay unknown until the window has filled a little.
        if (current == SeatState.Unknown && known < options.OccupiedWhenAtLeast && occupied > 0) return SeatState.Unknown;
        // Something on the seat most of the time, nobody seen on it: a coat or a bag, not a person.
        int objects = history.Count(SeatObservation.Object);
        if (objects + occupied >= options.OccupiedWhenAtLeast && objects > 0) return SeatState.ObjectOnSeat;
        if (current == SeatState.ObjectOnSeat && objects + occupied > options.EmptyWhenAtMost) return SeatState.ObjectOnSeat;
        return SeatState.Empty;
    }

    /// <summary>A fixed-size ring of the latest observations of one seat.</summary>
    public sealed class SeatHistory(int window)
    {
        private readonly SeatObservation[] _ring = new SeatObservation[window];
        private int _next;

        public int Length { get; private set; }

        public SeatState State { get; internal set; } = SeatState.Unknown;

        public void Push(SeatObservation o)
        {
            _ring[_next] = o;
            _next = (_next + 1) % _ring.Length;
            Length = Math.Min(Length + 1, _ring.Length);
        }

        public int Count(SeatObservation o)
        {
            int n = 0;
            for (int i = 0; i < Length; i++) if (_ring[i] == o) n++;
            return n;
        }

        public static SeatHistory Of(params SeatObservation[] observations)
        {
            var h = new SeatHistory(Math.Max(1, observations.Length));
            foreach (var o in observations) h.Push(o);
            return h;
        }
    }
}
