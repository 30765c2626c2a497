using System.CommandLine;
using System.Globalization;
using System.Reflection;
using CinemaVision.Core.Audience;
using CinemaVision.Core.Detections;
using CinemaVision.Core.Geometry;
using CinemaVision.Vision.Audience;
using CinemaVision.Vision.Detectors;
using OpenCvSharp;

namespace CinemaVision.Tools.Commands;

/// <summary>The audience-pipeline options shared by eval, occupancy and calibrate.</summary>
internal sealed class AudienceArguments
{
    public Option<string?> HeadModel { get; } = new("--head-model") { Description = "Head model of the audience pipeline (default lffd_head; 'none' turns it off)." };
    public Option<string[]> Settings { get; } = new("--audience-option") { Description = "Override one audience setting, NAME=VALUE (repeatable), e.g. SeatHeadScore=0.3 or TargetHeadPixels=40 (see AudienceOptions).", AllowMultipleArgumentsPerToken = false };
    public Option<string?> Empty { get; } = new("--empty") { Description = "Picture of the empty hall: the empty-hall reference of an audience+empty configuration." };

    public void AddTo(Command command)
    {
        command.Options.Add(HeadModel);
        command.Options.Add(Settings);
        command.Options.Add(Empty);
    }

    /// <summary>The options: defaults, then --head-model, then each --audience-option, then the configuration's extras (+face, +person).</summary>
    public AudienceOptions Build(ParseResult parse, IEnumerable<string>? extras = null)
    {
        var options = new AudienceOptions();
        if (parse.GetValue(HeadModel) is { } head) options = options with { HeadModel = head };
        foreach (var setting in parse.GetValue(Settings) ?? []) options = Apply(options, setting);
        foreach (var extra in extras ?? [])
        {
            options = extra switch
            {
                "face" => options with { FaceModel = options.FaceModel ?? "ultraface_rfb_640" },
                "person" => options with { PersonModel = options.PersonModel ?? "yolox_nano_coco_416" },
                "empty" => options,
                _ => throw new ArgumentException($"Unknown audience configuration part '+{extra}' (known: +face, +person, +empty)."),
            };
        }

        return options;
    }

    /// <summary>Sets one <see cref="AudienceOptions"/> property by name (case-insensitive), naming the known ones when it is not one.</summary>
    public static AudienceOptions Apply(AudienceOptions options, string setting)
    {
        int eq = setting.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0) throw new ArgumentException($"--audience-option must be NAME=VALUE (was '{setting}').");
        var name = setting[..eq].Trim();
        var text = setting[(eq + 1)..].Trim();
        var properties = typeof(AudienceOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).ToList();
        var property = properties.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"--audience-option: unknown setting '{name}' (known: {string.Join(", ", properties.Select(p => p.Name))}).");
        var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        object? value;
        try
        {
            value = text.Length == 0 || text.Equals("null", StringComparison.OrdinalIgnoreCase) ? null
                : type == typeof(string) ? text
                : Convert.ChangeType(text, type, CultureInfo.InvariantCulture);
        }
        catch (FormatException)
        {
            throw new ArgumentException($"--audience-option {name}: '{text}' is not a {type.Name}.");
        }

        var copy = options with { };
        property.SetValue(copy, value);
        var problems = copy.Validate().ToList();
        return problems.Count == 0 ? copy : throw new ArgumentException($"--audience-option {name}: {string.Join(" ", problems)}");
    }
}

/// <summary>A detector configuration as eval runs it: a tiled model, or the audience pipeline.</summary>
internal sealed class EvalDetector : IDisposable
{
    private readonly TiledDetector? _tiled;
    private readonly AudienceDetector? _audience;

    private EvalDetector(TiledDetector? tiled, AudienceDetector? audience)
    {
        _tiled = tiled;
        _audience = audience;
    }

    /// <summary>Tiles (model runs) of the last frame.</summary>
    public int LastTiles { get; private set; }

    /// <summary>
    /// A configuration named <c>audience</c>, optionally with <c>+face</c>, <c>+person</c> and <c>+empty</c> (the
    /// empty-hall reference from --empty), is the audience pipeline; any other is <c>model@tiling</c>.
    /// </summary>
    public static bool IsAudience(string name) => name.Split('+')[0].Equals("audience", StringComparison.OrdinalIgnoreCase);

    public static EvalDetector Create(string name, DetectionOptions tiledOptions, ParseResult parse, AudienceArguments audience)
    {
        if (!IsAudience(name)) return new EvalDetector(DetectorFactory.Create(tiledOptions), null);
        var extras = name.Split('+').Skip(1).Select(e => e.Trim().ToLowerInvariant()).ToList();
        // Evaluation images are unrelated stills: each gets its own perspective (a camera keeps one).
        var detector = new AudienceDetector(audience.Build(parse, extras), keepPerspective: false);
        try
        {
            if (extras.Contains("empty"))
            {
                var path = parse.GetValue(audience.Empty) ?? throw new ArgumentException($"Configuration '{name}' needs --empty (a picture of the empty hall).");
                using var empty = Cv2.ImRead(path, ImreadModes.Color);
                if (empty.Empty()) throw new InvalidDataException($"Cannot decode the empty-hall picture {path}.");
                detector.SetEmptyReference(empty);
            }

            return new EvalDetector(null, detector);
        }
        catch
        {
            detector.Dispose();
            throw;
        }
    }

    public IReadOnlyList<Detection> Detect(Mat image)
    {
        if (_tiled is not null)
        {
            LastTiles = _tiled.PlanFor(new SizeI(image.Width, image.Height)).TileCount;
            return _tiled.Detect(image);
        }

        var result = _audience!.Analyse(image);
        LastTiles = result.Tiles;
        return result.HeadDetections;
    }

    public void Dispose()
    {
        _tiled?.Dispose();
        _audience?.Dispose();
    }
}
