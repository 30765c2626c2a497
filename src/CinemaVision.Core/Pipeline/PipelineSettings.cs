using System.Globalization;
using System.Text.Json.Nodes;
using CinemaVision.Core.Auditoriums;
using CinemaVision.Core.Detections;

namespace CinemaVision.Core.Pipeline;

/// <summary>
/// The optional <c>pipeline</c> section of an auditorium file: per-auditorium overrides of
/// <see cref="CameraPipelineOptions"/>, written as nested objects (<c>{"scores": {"person": 0.5}}</c>) and kept as
/// dotted keys (<c>scores.person</c>). Only known keys are accepted, each checked against its range, so a typo is a
/// named problem rather than a silently ignored setting. The centre serves the file to its agents, so a change applies
/// to every camera of the auditorium without touching the agents. To add a setting, add one line to
/// <see cref="PipelineSettingCatalog"/>.
/// </summary>
public sealed record PipelineSettings
{
    public static PipelineSettings Empty { get; } = new(new Dictionary<string, double>());

    public PipelineSettings(IReadOnlyDictionary<string, double> values) => Values = new SortedDictionary<string, double>(values.ToDictionary(), StringComparer.Ordinal);

    /// <summary>Dotted key → value (booleans as 0/1, named choices as their index in the setting's choices).</summary>
    public IReadOnlyDictionary<string, double> Values { get; }

    public bool IsEmpty => Values.Count == 0;

    /// <summary>The defaults with these overrides applied.</summary>
    public CameraPipelineOptions Apply(CameraPipelineOptions? defaults = null)
    {
        var options = defaults ?? CameraPipelineOptions.Default;
        foreach (var (key, value) in Values)
        {
            if (PipelineSettingCatalog.Find(key) is { } setting) options = setting.Apply(options, value);
        }

        return options;
    }

    /// <summary>Reads the section; every problem is added with its path (<c>pipeline.scores.person</c>).</summary>
    public static PipelineSettings Read(JsonNode? section, List<ConfigProblem> problems, string path = "pipeline")
    {
        if (section is null) return Empty;
        if (section is not JsonObject obj)
        {
            problems.Add(new(path, "must be an object of settings, e.g. {\"scores\": {\"person\": 0.5}}"));
            return Empty;
        }

        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        Walk(obj, "", path, values, problems);
        var settings = new PipelineSettings(values);
        if (values.Count > 0)
        {
            // Settings valid one by one may still contradict each other (e.g. smoothing windows).
            foreach (var p in settings.Apply().Validate()) problems.Add(new(path, p));
        }

        return settings;
    }

    private static void Walk(JsonObject obj, string prefix, string path, Dictionary<string, double> values, List<ConfigProblem> problems)
    {
        foreach (var (name, node) in obj)
        {
            var key = prefix.Length == 0 ? name : $"{prefix}.{name}";
            var where = $"{path}.{key}";
            if (node is JsonObject child)
            {
                if (!PipelineSettingCatalog.All.Any(s => s.Key.StartsWith(key + ".", StringComparison.Ordinal)))
                {
                    problems.Add(new(where, $"unknown group (known: {string.Join(", ", PipelineSettingCatalog.Groups)})"));
                    continue;
                }

                Walk(child, key, path, values, problems);
                continue;
            }

            if (PipelineSettingCatalog.Find(key) is not { } setting)
            {
                var group = prefix.Length == 0 ? "" : prefix + ".";
                var known = PipelineSettingCatalog.All.Where(s => s.Key.StartsWith(group, StringComparison.Ordinal) && !s.Key[group.Length..].Contains('.', StringComparison.Ordinal)).Select(s => s.Key[group.Length..]);
                problems.Add(new(where, $"unknown setting (known here: {string.Join(", ", known)})"));
                continue;
            }

            if (setting.Read(node, out var value, out var error)) values[key] = value;
            else problems.Add(new(where, error));
        }
    }

    /// <summary>The section as nested JSON (for writing the auditorium file back), or null when empty.</summary>
    public JsonObject? ToJson()
    {
        if (IsEmpty) return null;
        var root = new JsonObject();
        foreach (var (key, value) in Values)
        {
            var parts = key.Split('.');
            var node = root;
            foreach (var part in parts[..^1])
            {
                if (node[part] is not JsonObject next) node[part] = next = [];
                node = next;
            }

            node[parts[^1]] = PipelineSettingCatalog.Find(key)?.Write(value) ?? JsonValue.Create(value);
        }

        return root;
    }

    public bool Equals(PipelineSettings? other) => other is not null && Values.Count == other.Values.Count && Values.All(kv => other.Values.TryGetValue(kv.Key, out var v) && v.Equals(kv.Value));

    public override int GetHashCode() => Values.Aggregate(0, (h, kv) => HashCode.Combine(h, kv.Key, kv.Value));
}

/// <summary>One overridable setting: its key, its range and unit, and how it changes the options.</summary>
public sealed record PipelineSetting(string Key, string Description, double Min, double Max, SettingKind Kind, Func<CameraPipelineOptions, double, CameraPipelineOptions> Apply, IReadOnlyList<string>? Choices = null)
{
    public bool Read(JsonNode? node, out double value, out string error)
    {
        value = 0;
        error = "";
        switch (Kind)
        {
            case SettingKind.Flag when node is JsonValue v && v.TryGetValue<bool>(out var b):
                value = b ? 1 : 0;
                return true;
            case SettingKind.Flag:
                error = "must be true or false";
                return false;
            case SettingKind.Choice when node is JsonValue v && v.TryGetValue<string>(out var s) && Choices!.ToList().FindIndex(c => string.Equals(c, s, StringComparison.OrdinalIgnoreCase)) is >= 0 and var i:
                value = i;
                return true;
            case SettingKind.Choice:
                error = $"must be one of {string.Join(", ", Choices!)}";
                return false;
        }

        if (node is not JsonValue number || !number.TryGetValue<double>(out var d) || !double.IsFinite(d))
        {
            error = $"must be a number ({Description})";
            return false;
        }

        if (Kind == SettingKind.Whole && d != Math.Floor(d))
        {
            error = $"must be a whole number (was {d.ToString(CultureInfo.InvariantCulture)})";
            return false;
        }

        if (d < Min || d > Max)
        {
            error = FormattableString.Invariant($"must be within {Min}..{Max} (was {d})");
            return false;
        }

        value = d;
        return true;
    }

    public JsonNode Write(double value) => Kind switch
    {
        SettingKind.Flag => JsonValue.Create(value != 0),
        SettingKind.Choice => JsonValue.Create(Choices![(int)value]),
        SettingKind.Whole => JsonValue.Create((long)value),
        _ => JsonValue.Create(value),
    };
}

public enum SettingKind
{
    Number = 0,
    Whole = 1,
    Flag = 2,
    Choice = 3,
}

/// <summary>
/// Every key the <c>pipeline</c> section accepts (documented in docs/auditorium.md). One line per setting: add a
/// line here to make a new option of <see cref="CameraPipelineOptions"/> overridable per auditorium.
/// </summary>
public static class PipelineSettingCatalog
{
    private static readonly string[] SeatClasses = ["person", "face", "head"];

    public static IReadOnlyList<PipelineSetting> All { get; } =
    [
        Score("scores.person", "people count from this detector score", (o, v) => o with { Scores = o.Scores with { Person = v } }),
        Score("scores.face", "faces count from this score", (o, v) => o with { Scores = o.Scores with { Face = v } }),
        Score("scores.head", "heads count from this score", (o, v) => o with { Scores = o.Scores with { Head = v } }),
        Score("scores.phone", "a phone counts from this score", (o, v) => o with { Scores = o.Scores with { Phone = v } }),
        Score("scores.camera", "a camcorder counts from this score", (o, v) => o with { Scores = o.Scores with { Camera = v } }),
        Score("scores.seatedPerson", "a person in a seat fills it from this score (seat prior)", (o, v) => o with { Scores = o.Scores with { SeatedPerson = v } }),
        Score("scores.seatedFace", "a face over a seat fills it from this score", (o, v) => o with { Scores = o.Scores with { SeatedFace = v } }),
        Score("scores.seatedHead", "a head over a seat fills it from this score", (o, v) => o with { Scores = o.Scores with { SeatedHead = v } }),
        Score("scores.trackingFloor", "people from this score keep tracks alive, never counted", (o, v) => o with { Scores = o.Scores with { TrackingFloor = v } }),
        new("seatsFrom", "which detections fill seats", 0, 2, SettingKind.Choice, (o, v) => o with { SeatsFrom = ObjectClassNames.Parse(SeatClasses[(int)v]) }, SeatClasses),

        Seconds("cadence.occupancyPeriodSeconds", 1, 3600, "a full occupancy pass at least this often", (o, v) => o with { Cadence = o.Cadence with { OccupancyPeriod = v } }),
        Number("cadence.watchFps", 0.05, 30, "watching passes per second during the feature", (o, v) => o with { Cadence = o.Cadence with { WatchFps = v } }),
        Whole("cadence.fullFrameEvery", 1, 1000, "every Nth watching pass includes the full-frame pass", (o, v) => o with { Cadence = o.Cadence with { FullFrameEvery = v } }),
        Seconds("cadence.healthPeriodSeconds", 1, 3600, "health checks of a closed auditorium this often", (o, v) => o with { Cadence = o.Cadence with { HealthPeriod = v } }),

        Whole("smoothing.window", 1, 50, "analyses remembered per seat", (o, v) => o with { Smoothing = o.Smoothing with { Window = v } }),
        Whole("smoothing.occupiedWhenAtLeast", 1, 50, "occupied when seen in at least this many", (o, v) => o with { Smoothing = o.Smoothing with { OccupiedWhenAtLeast = v } }),
        Whole("smoothing.emptyWhenAtMost", 0, 50, "empty again when seen in at most this many", (o, v) => o with { Smoothing = o.Smoothing with { EmptyWhenAtMost = v } }),
        Whole("smoothing.unknownWhenAtLeast", 1, 50, "unknown when not observable in at least this many", (o, v) => o with { Smoothing = o.Smoothing with { UnknownWhenAtLeast = v } }),

        Number("tracker.newTrackScore", 0, 1, "a new track needs this score", (o, v) => o with { Tracker = o.Tracker with { NewTrackScore = (float)v } }),
        Number("tracker.matchIoU", 0.01, 1, "least overlap to continue a track", (o, v) => o with { Tracker = o.Tracker with { MatchIoU = (float)v } }),
        Whole("tracker.maxLostFrames", 0, 1000, "analyses a track survives unseen", (o, v) => o with { Tracker = o.Tracker with { MaxLostFrames = v } }),
        Whole("tracker.confirmAfter", 1, 100, "matches before a track is reported", (o, v) => o with { Tracker = o.Tracker with { ConfirmAfter = v } }),

        Seconds("anomalies.aisleSeconds", 0, 3600, "in an aisle this long during the feature", (o, v) => o with { Anomalies = o.Anomalies with { Aisle = o.Anomalies.Aisle with { MinDuration = v } } }),
        Whole("anomalies.exitCrowdAtLeast", 1, 1000, "people in an exit that make a crowd", (o, v) => o with { Anomalies = o.Anomalies with { ExitCrowdAtLeast = v } }),
        Seconds("anomalies.exitSeconds", 0, 3600, "an exit crowded this long", (o, v) => o with { Anomalies = o.Anomalies with { ExitCrowding = o.Anomalies.ExitCrowding with { MinDuration = v } } }),
        Seconds("anomalies.afterShowSeconds", 0, 7200, "people still present this long after the show", (o, v) => o with { Anomalies = o.Anomalies with { AfterShow = o.Anomalies.AfterShow with { MinDuration = v } } }),
        Seconds("anomalies.staffZoneSeconds", 0, 3600, "in a staff-only zone this long", (o, v) => o with { Anomalies = o.Anomalies with { StaffZone = o.Anomalies.StaffZone with { MinDuration = v } } }),
        Seconds("anomalies.moreThanSeatsSeconds", 0, 3600, "more people than seats this long", (o, v) => o with { Anomalies = o.Anomalies with { MoreThanSeats = o.Anomalies.MoreThanSeats with { MinDuration = v } } }),

        Seconds("piracy.heldUpSeconds", 1, 3600, "held up this long within the window", (o, v) => o with { Piracy = o.Piracy with { HeldUpFor = v } }),
        Seconds("piracy.windowSeconds", 1, 7200, "sliding window of held-up time", (o, v) => o with { Piracy = o.Piracy with { Window = v } }),
        Seconds("piracy.endAfterSeconds", 1, 3600, "a suspicion ends after this long unseen", (o, v) => o with { Piracy = o.Piracy with { EndAfter = v } }),
        Number("piracy.heldAboveFraction", 0.05, 1, "held up: above this fraction of the holder's height", (o, v) => o with { Piracy = o.Piracy with { HeldAboveFraction = (float)v } }),

        Number("glow.maxSceneBrightness", 0, 255, "glow detection runs below this mean grey level", (o, v) => o with { Glow = o.Glow with { MaxSceneBrightness = v } }),
        Number("glow.aboveScene", 1, 255, "a glow pixel is this much brighter than the scene", (o, v) => o with { Glow = o.Glow with { AboveScene = v } }),
        Seconds("glow.persistSeconds", 1, 3600, "a glow persists this long at one seat", (o, v) => o with { Glow = o.Glow with { PersistFor = v } }),
        Number("glow.maxCorrelationWithScene", -1, 1, "glows following the film's light more than this are reflections", (o, v) => o with { Glow = o.Glow with { MaxCorrelationWithScene = v } }),

        Whole("health.enterAfter", 1, 100, "bad analyses in a row before a camera incident", (o, v) => o with { Health = o.Health with { EnterAfter = v } }),
        Whole("health.leaveAfter", 1, 100, "good analyses in a row before it ends", (o, v) => o with { Health = o.Health with { LeaveAfter = v } }),
        Number("health.tooDarkBelow", 0, 255, "too dark below this brightness (lights expected on)", (o, v) => o with { Health = o.Health with { TooDarkBelow = v } }),
        Number("health.lightsOnAbove", 0, 255, "lights on above this brightness during the feature", (o, v) => o with { Health = o.Health with { LightsOnAbove = v } }),
        Number("health.blurredBelow", 0, 1e6, "blurred below this sharpness (no reference frame)", (o, v) => o with { Health = o.Health with { BlurredBelow = v } }),
        Seconds("health.frozenAfterSeconds", 1, 3600, "identical frames this long: frozen", (o, v) => o with { Health = o.Health with { FrozenAfter = v } }),
        Number("health.coveredAboveUniformity", 0, 1, "covered above this share of textureless image", (o, v) => o with { Health = o.Health with { CoveredAboveUniformity = v } }),
        Number("health.movedAboveShift", 0, 1000, "moved when shifted more than this (probe pixels)", (o, v) => o with { Health = o.Health with { MovedAboveShift = v } }),
        Seconds("health.offlineAfterSeconds", 1, 3600, "no frame this long: offline", (o, v) => o with { Health = o.Health with { OfflineAfter = v } }),
    ];

    public static IReadOnlyList<string> Groups { get; } = [.. All.Where(s => s.Key.Contains('.', StringComparison.Ordinal)).Select(s => s.Key[..s.Key.IndexOf('.', StringComparison.Ordinal)]).Distinct()];

    public static PipelineSetting? Find(string key) => All.FirstOrDefault(s => string.Equals(s.Key, key, StringComparison.Ordinal));

    private static PipelineSetting Score(string key, string description, Func<CameraPipelineOptions, float, CameraPipelineOptions> apply) =>
        new(key, description + " (0..1)", 0, 1, SettingKind.Number, (o, v) => apply(o, (float)v));

    private static PipelineSetting Number(string key, double min, double max, string description, Func<CameraPipelineOptions, double, CameraPipelineOptions> apply) =>
        new(key, description, min, max, SettingKind.Number, apply);

    private static PipelineSetting Whole(string key, double min, double max, string description, Func<CameraPipelineOptions, int, CameraPipelineOptions> apply) =>
        new(key, description, min, max, SettingKind.Whole, (o, v) => apply(o, (int)v));

    private static PipelineSetting Seconds(string key, double min, double max, string description, Func<CameraPipelineOptions, TimeSpan, CameraPipelineOptions> apply) =>
        new(key, description + " (seconds)", min, max, SettingKind.Number, (o, v) => apply(o, TimeSpan.FromSeconds(v)));
}
