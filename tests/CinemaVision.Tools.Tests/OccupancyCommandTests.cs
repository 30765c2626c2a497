using System.CommandLine;
using System.Text.Json;
using CinemaVision.Core.Auditoriums;
using CinemaVision.Core.Events;
using CinemaVision.Core.Pipeline;
using CinemaVision.Core.Showings;
using CinemaVision.Tools.Commands;
using CinemaVision.Vision.Assets;
using CinemaVision.Vision.Auditoriums;
using CinemaVision.Vision.Cameras;
using CinemaVision.Vision.Detectors;
using OpenCvSharp;

namespace CinemaVision.Tools.Tests;

/// <summary>`cvtools occupancy` makes no decision of its own: on the PETS clip it gives what the Core pipeline gives.</summary>
[Collection("Console")]
public sealed class OccupancyCommandTests : IDisposable
{
    private const int Frames = 40;
    private const double Fps = 7;
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 20, 0, 0, TimeSpan.Zero);
    private readonly string _dir = Directory.CreateTempSubdirectory("cv-occ-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        var root = new RootCommand { OccupancyCommand.Create() };
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try
        {
            return (await root.Parse(args).InvokeAsync(), stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }

    [Fact]
    public async Task Occupancy_OnPets_SameAnswerAsThePipelineFedDirectly()
    {
        var auditoriumFile = Path.Combine(AssetLocator.RepositoryRoot!, "samples", "pets-walkway.auditorium.json");
        var clip = AssetLocator.Resolve("data/pets09-s2l1/vtest_first100.avi");
        var json = Path.Combine(_dir, "pets.json");

        var (exit, _, error) = await RunAsync("occupancy", "--input", clip, "--auditorium", auditoriumFile, "--aisle-seconds", "2", "--frames", Frames.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--fps", "7", "--start", "2026-11-24T20:00:00Z", "--json", json);
        Assert.True(exit == 0, error);

        // The same frames through the pixel primitives and Core's pipeline, wired here by hand.
        var auditorium = AuditoriumFile.Parse(File.ReadAllText(auditoriumFile)).GetOrThrow();
        var camera = auditorium.Cameras[0];
        var options = auditorium.Pipeline.Apply(CameraPipelineOptions.Default with
        {
            Anomalies = CameraPipelineOptions.Default.Anomalies with { Aisle = CameraPipelineOptions.Default.Anomalies.Aisle with { MinDuration = TimeSpan.FromSeconds(2), EndGrace = TimeSpan.FromSeconds(2) } },
        });
        var pipeline = new CameraPipeline(auditorium.SiteId, auditorium.AuditoriumId, camera, options);
        using var detector = DetectorFactory.Create(CameraAnalyzer.DetectionOptionsFor(camera, new AnalyzerOptions(), options, "yolox_nano_coco_416"));
        using var probe = new FrameProbe();
        var incidents = new List<EdgeEvent>();
        PipelineResult? last = null;
        using (var capture = new VideoCapture(clip))
        using (var frame = new Mat())
        {
            for (int i = 0; i < Frames && capture.Read(frame) && !frame.Empty(); i++)
            {
                var (scene, glow) = GlowDetector.Find(frame, camera.Seats, options.Glow);
                var observation = new FrameObservation(Start + (TimeSpan.FromSeconds(1 / Fps) * i), PassKind.Occupancy, detector.Detect(frame), probe.Measure(frame), scene, glow);
                last = pipeline.Observe(observation, new ShowingContext(ShowingState.Feature));
                incidents.AddRange(last.Events.Where(e => e is IIncidentEvent));
            }
        }

        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var tool = doc.RootElement;
        Assert.Equal(last!.People, tool.GetProperty("people").GetInt32());
        Assert.Equal(last.Occupancy!.SeatsTotal, tool.GetProperty("seats_total").GetInt32());
        var toolEvents = tool.GetProperty("events").EnumerateArray().Select(e => IngestJson.Deserialize(e.GetRawText())).ToList();
        Assert.NotEmpty(incidents);
        Assert.Equal(incidents, toolEvents);
    }
}
