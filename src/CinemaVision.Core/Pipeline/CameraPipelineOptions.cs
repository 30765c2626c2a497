using CinemaVision.Core.Cameras;
using CinemaVision.Core.Detections;
using CinemaVision.Core.Piracy;
using CinemaVision.Core.Rules;
using CinemaVision.Core.Seating;
using CinemaVision.Core.Showings;
using CinemaVision.Core.Tracking;

namespace CinemaVision.Core.Pipeline;

/// <summary>
/// How often each kind of pass runs on a camera. An occupancy pass is the full multi-scale detection the seat states
/// and counts come from; a watching pass is the cheaper plan the aisle and piracy rules follow between them; a health
/// pass only measures the frame (a closed auditorium).
/// </summary>
public sealed record PassCadence
{
    /// <summary>A full occupancy pass per camera at least this often while the auditorium is not closed.</summary>
    public TimeSpan OccupancyPeriod { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Watching passes per second while a watching rule is armed.</summary>
    public double WatchFps { get; init; } = 1;

    /// <summary>Every Nth watching pass also runs the full-frame pass (large, near people); the others run seat and zone tiles only.</summary>
    public int FullFrameEvery { get; init; } = 5;

    /// <summary>Health checks of a closed auditorium's cameras this often.</summary>
    public TimeSpan HealthPeriod { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Showing states in which watching passes run (the watching rules are armed in these).</summary>
    public IReadOnlySet<ShowingState> WatchIn { get; init; } = new HashSet<ShowingState> { ShowingState.Trailers, ShowingState.Feature };

    public IEnumerable<string> Validate(string prefix = "")
    {
        if (OccupancyPeriod < TimeSpan.FromSeconds(1)) yield return $"{prefix}occupancyPeriodSeconds: must be at least 1 (was {OccupancyPeriod.TotalSeconds}).";
        if (double.IsNaN(WatchFps) || WatchFps is < 0.05 or > 30) yield return $"{prefix}watchFps: must be within 0.05..30 (was {WatchFps}).";
        if (FullFrameEvery < 1) yield return $"{prefix}fullFrameEvery: must be at least 1 (was {FullFrameEvery}).";
        if (HealthPeriod < TimeSpan.FromSeconds(1)) yield return $"{prefix}healthPeriodSeconds: must be at least 1 (was {HealthPeriod.TotalSeconds}).";
    }
}

/// <summary>
/// Every threshold and timing of one camera's pipeline, in one record: detection scores per class (counting,
/// seat-conditioned, tracking floor), which class fills seats, seat assignment and smoothing, the tracker, the anomaly,
/// piracy and screen-glow rules, camera health and the pass cadence. Defaults are the product's; an auditorium file may
/// override any of them in its <c>pipeline</c> section (<see cref="PipelineSettings"/>), which the centre serves to the
/// agents, so the edge agent and <c>cvtools occupancy</c> read the same values.
/// </summary>
public sealed record CameraPipelineOptions
{
    public static CameraPipelineOptions Default { get; } = new();

    public DetectionThresholds Scores { get; init; } = DetectionThresholds.Default;

    /// <summary>
    /// Which detections fill seats and are counted: people (a camera behind or above the audience), faces (a camera at
    /// the screen end facing it) or heads. A fusion step may combine several classes into one audience.
    /// </summary>
    public ObjectClass SeatsFrom { get; init; } = ObjectClass.Person;

    public SeatAssignmentOptions Assignment { get; init; } = new();
    public SeatSmoothingOptions Smoothing { get; init; } = new();

    /// <summary>
    /// The tracker's association settings. Its score thresholds are not set here: the first pass takes people from
    /// <see cref="DetectionThresholds.Person"/> and the second from <see cref="DetectionThresholds.TrackingFloor"/> (<see cref="EffectiveTracker"/>).
    /// </summary>
    public TrackerOptions Tracker { get; init; } = new();

    public AnomalyRuleOptions Anomalies { get; init; } = new();
    public PiracyRuleOptions Piracy { get; init; } = new();
    public ScreenGlowOptions Glow { get; init; } = new();
    public CameraHealthOptions Health { get; init; } = new();
    public PassCadence Cadence { get; init; } = new();

    /// <summary>The tracker as the pipeline runs it: person thresholds from <see cref="Scores"/>.</summary>
    public TrackerOptions EffectiveTracker => Tracker with { HighScore = Scores.Person, LowScore = Scores.TrackingFloor, NewTrackScore = Math.Max(Tracker.NewTrackScore, Scores.Person) };

    /// <summary>Every problem with these options, each naming its setting (as the auditorium file's <c>pipeline</c> section spells it).</summary>
    public IEnumerable<string> Validate(string prefix = "")
    {
        foreach (var p in Scores.Validate($"{prefix}scores.")) yield return p;
        if (SeatsFrom is not (ObjectClass.Person or ObjectClass.Face or ObjectClass.Head)) yield return $"{prefix}seatsFrom: must be person, face or head (was {SeatsFrom}).";
        foreach (var p in Smoothing.Validate()) yield return $"{prefix}smoothing: {p}";
        foreach (var p in Cadence.Validate($"{prefix}cadence.")) yield return p;
        foreach (var (name, incident) in new[] { ("aisle", Anomalies.Aisle), ("exit", Anomalies.ExitCrowding), ("afterShow", Anomalies.AfterShow), ("staffZone", Anomalies.StaffZone), ("moreThanSeats", Anomalies.MoreThanSeats) })
        {
            foreach (var p in incident.Validate($"{prefix}anomalies.{name}.")) yield return p;
        }

        if (Piracy.HeldUpFor > Piracy.Window) yield return $"{prefix}piracy.heldUpSeconds: must not exceed piracy.windowSeconds ({Piracy.HeldUpFor.TotalSeconds} > {Piracy.Window.TotalSeconds}): a suspicion could never start.";
        if (Health.EnterAfter < 1 || Health.LeaveAfter < 1) yield return $"{prefix}health.enterAfter/leaveAfter: must be at least 1.";
    }
}
