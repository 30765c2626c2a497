using System.Security.Cryptography;
using System.Text.Json.Nodes;
using CinemaVision.Edge.Analysis;
using CinemaVision.Edge.Configuration;
using CinemaVision.Edge.Upload;
using CinemaVision.Testing;
using CinemaVision.Vision.Detectors;
using CinemaVision.Vision.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace CinemaVision.Edge.Tests;

/// <summary>The roll-out's local side: which weights a camera gets, and the roll-back when a switched-to model fails in a pass.</summary>
public sealed class ModelRolloutServiceTests : IDisposable
{
    private const string Model = "yolox_nano_coco_416";
    private readonly string _dir = Directory.CreateTempSubdirectory("cv-rollout-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>An agent data folder whose aud-1 runs a pulled copy of the shipped model as version "site-2".</summary>
    private (AgentOptions Options, string Pulled) PulledVersion()
    {
        var data = Path.Combine(_dir, "data");
        var pulled = Path.Combine(data, "models", Model, "site-2.onnx");
        Directory.CreateDirectory(Path.GetDirectoryName(pulled)!);
        File.Copy(ModelCatalog.ResolveFile(ModelCatalog.Default.Get(Model)), pulled);
        var sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(pulled)));
        var manifest = JsonNode.Parse(File.ReadAllText(ModelCatalog.DefaultManifestPath))!["models"]!.AsArray().First(m => (string?)m!["name"] == Model)!.DeepClone().AsObject();
        manifest["version"] = "site-2";
        File.WriteAllText(Path.Combine(data, "models", "rollout.json"), new JsonObject
        {
            ["aud-1"] = new JsonObject
            {
                ["running"] = new JsonObject { ["name"] = Model, ["version"] = "site-2", ["sha256"] = sha },
                ["previous"] = null,
                ["failed"] = new JsonArray(),
                ["runningManifest"] = manifest,
            },
        }.ToJsonString());
        var options = new AgentOptions
        {
            CentralUrl = new Uri("http://127.0.0.1:9"),
            AgentId = "a",
            KeyFile = "unused",
            DataDirectory = data,
            Cameras = [new AgentCamera { Id = "cam-1", AuditoriumId = "aud-1", Url = TestFootage.PetsClip }, new AgentCamera { Id = "cam-1", AuditoriumId = "aud-2", Url = TestFootage.PetsClip }],
        };
        return (options, pulled);
    }

    [Fact]
    public void PulledVersion_ServesItsAuditoriumOnly_WithItsOwnSession_AndRollsBackWhenItFailsInAPass()
    {
        var (options, pulled) = PulledVersion();
        using var centre = new CentreClient(options);
        using var rollout = new ModelRolloutService(options, centre, new ManifestModelResolver(options.Models), TimeProvider.System, NullLogger<ModelRolloutService>.Instance);

        Assert.Equal(pulled, rollout.Resolve(Model, "aud-1").Path);
        Assert.Equal("site-2", rollout.Resolve(Model, "aud-1").Manifest.Version);
        Assert.NotEqual(pulled, rollout.Resolve(Model, "aud-2").Path);
        Assert.NotEqual(pulled, rollout.Resolve(Model).Path);

        using (var models = new SharedModels((name, auditoriumId) => rollout.Resolve(name, auditoriumId)))
        {
            using var one = models.Detector(new DetectionOptions { Model = Model }, "aud-1");
            using var two = models.Detector(new DetectionOptions { Model = Model }, "aud-2");
            using var three = models.Detector(new DetectionOptions { Model = Model }, "aud-2");
            Assert.Equal([Model], models.Loaded);
            Assert.Equal("site-2", one.Info.ModelVersion);
            Assert.NotEqual("site-2", two.Info.ModelVersion);
        }

        long before = rollout.Generation("aud-1");
        Assert.True(rollout.FailedAtRunTime("aud-1", "inference failed"));
        Assert.NotEqual(before, rollout.Generation("aud-1"));
        Assert.Null(rollout.Running("aud-1"));
        Assert.NotEqual(pulled, rollout.Resolve(Model, "aud-1").Path);
        // Nothing more to roll back to: a second failure changes nothing.
        Assert.False(rollout.FailedAtRunTime("aud-1", "again"));

        // The roll-back is remembered: the failed bytes are blocked, the shipped model runs after a restart too.
        var state = JsonNode.Parse(File.ReadAllText(Path.Combine(options.DataDirectory, "models", "rollout.json")))!["aud-1"]!;
        Assert.Null(state["running"]);
        Assert.Single(state["failed"]!.AsArray());
        using var restarted = new ModelRolloutService(options, centre, new ManifestModelResolver(options.Models), TimeProvider.System, NullLogger<ModelRolloutService>.Instance);
        Assert.Null(restarted.Running("aud-1"));
    }
}
