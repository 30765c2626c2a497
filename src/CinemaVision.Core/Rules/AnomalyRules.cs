using System.Globalization;
using CinemaVision.Core.Events;
using CinemaVision.Core.Geometry;
using CinemaVision.Core.Showings;

namespace CinemaVision.Core.Rules;

/// <summary>A person at one analysis, after tracking: which zones their feet are in, and whether they sit in a seat.</summary>
public sealed record ObservedPerson(int TrackId, BoxF Box, IReadOnlyList<string> ZoneIds, string? SeatId = null);

/// <summary>Everything the anomaly rules look at for one analysis of one camera.</summary>
public sealed record AuditoriumObservation(DateTimeOffset At, ShowingState State, string? ShowingId, IReadOnlyList<ObservedPerson> People, int SeatsTotal);

/// <summary>Thresholds of each anomaly rule, and when each is armed.</summary>
public sealed record AnomalyRuleOptions
{
    public IncidentOptions Aisle { get; init; } = new() { MinDuration = TimeSpan.FromSeconds(30) };
    public IReadOnlySet<ShowingState> AisleArmedIn { get; init; } = new HashSet<ShowingState> { ShowingState.Feature };

    public int ExitCrowdAtLeast { get; init; } = 4;
    public IncidentOptions ExitCrowding { get; init; } = new() { MinDuration = TimeSpan.FromSeconds(20) };
    public IReadOnlySet<ShowingState> ExitArmedIn { get; init; } = new HashSet<ShowingState> { ShowingState.Trailers, ShowingState.Feature };

    /// <summary>People still present this long into the lights-up / cleaning period raise an incident.</summary>
    public IncidentOptions AfterShow { get; init; } = new() { MinDuration = TimeSpan.FromMinutes(5), EndGrace = TimeSpan.FromSeconds(30) };

    public IncidentOptions StaffZone { get; init; } = new() { MinDuration = TimeSpan.FromSeconds(3) };
    public IReadOnlySet<ShowingState> StaffZoneArmedIn { get; init; } = new HashSet<ShowingState> { ShowingState.Trailers, ShowingState.Feature, ShowingState.LightsUp };

    /// <summary>More people than seats by at least this many, for the duration below, is an incident (counting error or overcrowding).</summary>
    public int OverSeatsMargin { get; init; } = 1;
    public IncidentOptions MoreThanSeats { get; init; } = new() { MinDuration = TimeSpan.FromSeconds(60) };
}

/// <summary>
/// The auditorium anomaly rules for one camera. Each rule keeps its incidents in an <see cref="IncidentTracker{TKey}"/>
/// and emits <see cref="AnomalyEvent"/>s with start, updates and end. Deterministic and I/O-free.
/// </summary>
public sealed class AnomalyRules
{
    private readonly CameraRef _camera;
    private readonly AnomalyRuleOptions _options;
    private readonly IReadOnlySet<string> _aisles;
    private readonly IReadOnlySet<string> _exits;
    private readonly IReadOnlySet<string> _staffOnly;
    private readonly IncidentTracker<(int Track, string Zone)> _aisle;
    private readonly IncidentTracker<string> _exit;
    private readonly IncidentTracker<string> _afterShow;
    private readonly IncidentTracker<(int Track, string Zone)> _staff;
    private readonly IncidentTracker<string> _overSeats;
    private readonly Dictionary<string, int> _latestCount = new(StringComparer.Ordinal);

    public AnomalyRules(CameraRef camera, IEnumerable<(string ZoneId, Auditoriums.ZoneKind Kind)> zones, AnomalyRuleOptions? options = null)
    {
        _camera = camera;
        _options = options ?? new AnomalyRuleOptions();
        var list = zones.ToList();
        _aisles = list.Where(z => z.Kind == Auditoriums.ZoneKind.Aisle).Select(z => z.ZoneId).ToHashSet(StringComparer.Ordinal);
        _exits = list.Where(z => z.Kind == Auditoriums.ZoneKind.Exit).Select(z => z.ZoneId).ToHashSet(StringComparer.Ordinal);
        _staffOnly = list.Where(z => z.Kind == Auditoriums.ZoneKind.StaffOnly).Select(z => z.ZoneId).ToHashSet(StringComparer.Ordinal);
        string p = $"{camera.AuditoriumId}-{camera.CameraId}";
        _aisle = new($"{p}-aisle", _options.Aisle);
        _exit = new($"{p}-exit", _options.ExitCrowding);
        _afterShow = new($"{p}-aftershow", _options.AfterShow);
        _staff = new($"{p}-staff", _options.StaffZone);
        _overSeats = new($"{p}-overseats", _options.MoreThanSeats);
    }

    public IReadOnlyList<AnomalyEvent> Evaluate(AuditoriumObservation o)
    {
        var events = new List<AnomalyEvent>();
        var now = o.At;

        // Standing or walking in an aisle (not seated), per person and aisle.
        var inAisle = _options.AisleArmedIn.Contains(o.State)
            ? o.People.Where(p => p.SeatId is null).SelectMany(p => p.ZoneIds.Where(_aisles.Contains).Select(z => (p.TrackId, z))).ToHashSet()
            : [];
        foreach (var t in _aisle.Step(now, inAisle)) events.Add(Event(t, AnomalyKind.AisleStanding, o, t.Key.Zone, null, 1, $"track {t.Key.Track}"));

        // Crowding in an exit zone.
        var crowdedExits = new HashSet<string>(StringComparer.Ordinal);
        if (_options.ExitArmedIn.Contains(o.State))
        {
            foreach (var exit in _exits)
            {
                int n = o.People.Count(p => p.ZoneIds.Contains(exit));
                _latestCount[exit] = n;
                if (n >= _options.ExitCrowdAtLeast) crowdedExits.Add(exit);
            }
        }

        foreach (var t in _exit.Step(now, crowdedExits)) events.Add(Event(t, AnomalyKind.ExitCrowding, o, t.Key, null, _latestCount.GetValueOrDefault(t.Key), null));

        // People still present after the show.
        bool afterShow = o.State is ShowingState.LightsUp or ShowingState.Cleaning or ShowingState.Closed && o.People.Count > 0;
        _latestCount["*"] = o.People.Count;
        foreach (var t in _afterShow.Step(now, afterShow ? ["present"] : Array.Empty<string>())) events.Add(Event(t, AnomalyKind.PresentAfterShow, o, null, null, o.People.Count, null));

        // Entering a staff-only zone.
        var inStaff = _options.StaffZoneArmedIn.Contains(o.State)
            ? o.People.SelectMany(p => p.ZoneIds.Where(_staffOnly.Contains).Select(z => (p.TrackId, z))).ToHashSet()
            : [];
        foreach (var t in _staff.Step(now, inStaff)) events.Add(Event(t, AnomalyKind.StaffZoneEntry, o, t.Key.Zone, null, 1, $"track {t.Key.Track}"));

        // More people than seats.
        bool over = o.State is ShowingState.Trailers or ShowingState.Feature && o.SeatsTotal > 0 && o.People.Count >= o.SeatsTotal + _options.OverSeatsMargin;
        foreach (var t in _overSeats.Step(now, over ? ["over"] : Array.Empty<string>())) events.Add(Event(t, AnomalyKind.MoreThanSeats, o, null, null, o.People.Count, $"{o.People.Count} people for {o.SeatsTotal} seats"));

        return events;
    }

    private AnomalyEvent Event<TKey>(IncidentTransition<TKey> t, AnomalyKind kind, AuditoriumObservation o, string? zone, string? seat, int people, string? detail) =>
        new(
            Id: string.Create(CultureInfo.InvariantCulture, $"{t.IncidentId}-{(int)t.Phase}-{t.At.ToUnixTimeMilliseconds()}"),
            IncidentId: t.IncidentId,
            Phase: t.Phase,
            Kind: kind,
            SiteId: _camera.SiteId,
            AuditoriumId: _camera.AuditoriumId,
            CameraId: _camera.CameraId,
            StartedAt: t.StartedAt,
            Timestamp: t.At,
            ZoneId: zone,
            SeatId: seat,
            People: people,
            Confidence: 0.9,
            Detail: detail,
            ShowingId: o.ShowingId);
}
