using System.Text.Json.Nodes;
using CinemaVision.Core.Auditoriums;
using CinemaVision.Core.Detections;
using CinemaVision.Core.Pipeline;
using CinemaVision.Core.Tracking;

namespace CinemaVision.Core.Tests.Pipeline;

public class PipelineSettingsTests
{
    private static (PipelineSettings Settings, List<ConfigProblem> Problems) Read(string json)
    {
        var problems = new List<ConfigProblem>();
        return (PipelineSettings.Read(JsonNode.Parse(json), problems), problems);
    }

    [Fact]
    public void EveryProblemNamedWithItsPath()
    {
        var (_, problems) = Read("""{ "scores": { "persn": 0.5, "phone": 1.5 }, "cadence": { "watchFps": "fast" }, "smoothing": { "window": 2.5 }, "colour": { "x": 1 } }""");

        Assert.Contains(problems, p => p.Path == "pipeline.scores.persn" && p.Message.Contains("person", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Path == "pipeline.scores.phone" && p.Message.Contains("0..1", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Path == "pipeline.cadence.watchFps" && p.Message.Contains("number", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Path == "pipeline.smoothing.window" && p.Message.Contains("whole", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Path == "pipeline.colour" && p.Message.Contains("scores", StringComparison.Ordinal));
    }

    [Fact]
    public void ContradictorySettings_NamedAsAWhole()
    {
        var (_, problems) = Read("""{ "piracy": { "heldUpSeconds": 90, "windowSeconds": 60 } }""");
        Assert.Contains(problems, p => p.Path == "pipeline" && p.Message.Contains("piracy.heldUpSeconds", StringComparison.Ordinal));
    }

    [Fact]
    public void Choices_AndRoundTripThroughTheAuditoriumFile()
    {
        var json = """
            { "siteId": "s", "auditoriumId": "a", "pipeline": { "seatsFrom": "face", "scores": { "seatedPerson": 0.4 }, "cadence": { "occupancyPeriodSeconds": 20, "fullFrameEvery": 3 } },
              "cameras": [ { "id": "c", "reference": { "width": 400, "height": 300 }, "seats": [], "zones": [] } ] }
            """;
        var read = AuditoriumFile.Parse(json);
        Assert.True(read.IsValid, string.Join("; ", read.Problems));
        var options = read.Auditorium!.Pipeline.Apply();
        Assert.Equal(ObjectClass.Face, options.SeatsFrom);
        Assert.Equal(0.4f, options.Scores.SeatedPerson);
        Assert.Equal(TimeSpan.FromSeconds(20), options.Cadence.OccupancyPeriod);
        Assert.Equal(3, options.Cadence.FullFrameEvery);

        var again = AuditoriumFile.Parse(AuditoriumFile.Serialize(read.Auditorium));
        Assert.True(again.IsValid, string.Join("; ", again.Problems));
        Assert.Equal(read.Auditorium.Pipeline, again.Auditorium!.Pipeline);
    }

    [Fact]
    public void NoSection_TheDefaults()
    {
        var (settings, problems) = Read("{}");
        Assert.Empty(problems);
        Assert.Equal(CameraPipelineOptions.Default, settings.Apply());
    }

    [Fact]
    public void PersonScore_OneValueForToolsTrackerAndPipeline()
    {
        Assert.Equal(DetectionThresholds.DefaultPerson, new TrackerOptions().HighScore);
        Assert.Equal(DetectionThresholds.DefaultPerson, CameraPipelineOptions.Default.EffectiveTracker.HighScore);
        Assert.Equal(DetectionThresholds.DefaultPerson, DetectionThresholds.Default.Counting()[ObjectClass.Person]);
    }

    [Fact]
    public void Schema_ListsExactlyTheCatalogsKeysWithTheirRanges()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "CinemaVision.sln"))) dir = dir.Parent;
        var schema = JsonNode.Parse(File.ReadAllText(Path.Combine(dir!.FullName, "schemas", "auditorium.schema.json")))!;
        var section = schema["properties"]!["pipeline"]!["properties"]!.AsObject();
        var keys = new List<string>();
        foreach (var (name, node) in section)
        {
            if (node!["properties"] is JsonObject group) keys.AddRange(group.Select(kv => $"{name}.{kv.Key}"));
            else keys.Add(name);
        }

        Assert.Equal(PipelineSettingCatalog.All.Select(s => s.Key).Order(StringComparer.Ordinal), keys.Order(StringComparer.Ordinal));
        foreach (var setting in PipelineSettingCatalog.All.Where(s => s.Kind is SettingKind.Number or SettingKind.Whole))
        {
            var parts = setting.Key.Split('.');
            var node = section[parts[0]]!["properties"]![parts[1]]!;
            Assert.Equal(setting.Min, node["minimum"]!.GetValue<double>());
            Assert.Equal(setting.Max, node["maximum"]!.GetValue<double>());
        }
    }
}
