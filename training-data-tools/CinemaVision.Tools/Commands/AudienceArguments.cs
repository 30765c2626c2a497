using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using CinemaVision.Core.Pipeline;
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
    public Option<string[]> Settings { get; } = new("--setting") { Description = "Override one pipeline setting, KEY=VALUE, as in an auditorium file's pipeline section (repeatable), e.g. scores.seatedHead=0.3 or audience.targetHeadPixels=48.", AllowMultipleArgumentsPerToken = false };
    public Option<string?> Empty { get; } = new("--empty") { Description = "Picture of the empty hall: the empty-hall reference of an audience+empty configuration." };

    public void AddTo(Command command)
    {
        command.Options.Add(HeadModel);
        command.Options.Add(Settings);
        command.Options.Add(Empty);
    }

    /// <summary>The models (defaults, --head-model, then the configuration's extras: +face, +person).</summary>
    public AudienceModels Models(ParseResult parse, IEnumerable<string>? extras = null)
    {
        var models = AudienceModels.Default;
        if (parse.GetValue(HeadModel) is { } head) models = models with { HeadModel = head };
        foreach (var extra in extras ?? [])
        {
            models = extra switch
            {
                "face" => models with { FaceModel = models.FaceModel ?? "ultraface_rfb_640" },
                "person" => models with { PersonModel = models.PersonModel ?? "yolox_nano_coco_416" },
                "empty" => models,
                _ => throw new ArgumentException($"Unknown audience configuration part '+{extra}' (known: +face, +person, +empty)."),
            };
        }

        return models;
    }

    /// <summary>The pipeline options: the product defaults with each --setting applied (validated as in an auditorium file).</summary>
    public CameraPipelineOptions Pipeline(ParseResult parse, CameraPipelineOptions? defaults = null)
    {
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var setting in parse.GetValue(Settings) ?? [])
        {
            int eq = setting.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                problems.Add($"--setting must be KEY=VALUE (was '{setting}')");
                continue;
            }

            var key = setting[..eq].Trim();
            var text = setting[(eq + 1)..].Trim();
            if (PipelineSettingCatalog.Find(key) is not { } known)
            {
                problems.Add($"--setting: unknown key '{key}' (known: {string.Join(", ", PipelineSettingCatalog.All.Select(k => k.Key))})");
                continue;
            }

            JsonNode node = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? JsonValue.Create(d)
                : bool.TryParse(text, out var b) ? JsonValue.Create(b)
                : JsonValue.Create(text);
            if (known.Read(node, out var value, out var error)) values[key] = value;
            else problems.Add($"--setting {key}: {error}");
        }

        if (problems.Count > 0) throw new ArgumentException(string.Join("; ", problems));
        var options = new PipelineSettings(values).Apply(defaults);
        var invalid = options.Validate().ToList();
        return invalid.Count == 0 ? options : throw new ArgumentException("--setting: " + string.Join(" ", invalid));
    }
}
