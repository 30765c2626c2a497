using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CinemaVision.Testing;
using CinemaVision.Vision.Assets;
using CinemaVision.Vision.Models;
using OpenCvSharp;
using Xunit.Abstractions;

namespace CinemaVision.Edge.Tests;

/// <summary>
/// What the agent does with the centre beyond events, with real processes (a real centre, a real agent, the PETS clip
/// as the camera): frame collection per auditorium, model versions pulled and rolled out (and refused when they do not
/// load), empty-hall references pulled at start, tile time in the heartbeat, and the centre's certificate pinned.
/// </summary>
[Collection("processes")]
public sealed class CentreFeatureTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(150);
    private string _dir = "";

    public Task InitializeAsync()
    {
        _dir = Directory.CreateTempSubdirectory("cv-centre-").FullName;
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    private static async Task PutJsonAsync(HttpClient admin, string path, object body)
    {
        using var r = await admin.PutAsJsonAsync(new Uri(path, UriKind.Relative), body);
        Assert.True(r.IsSuccessStatusCode, $"PUT {path}: HTTP {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
    }

    [Fact]
    public async Task FrameCollection_OnForOneAuditorium_FramesArriveThere_AndNoneFromTheAuditoriumLeftOff()
    {
        await using var system = await EdgeSystem.StartAsync(_dir, new EdgeSystemOptions { Cameras = 2 }, startAgent: false);
        // A frame every 3 s on the schedule (a test's pace; a cinema keeps one every half hour).
        await PutJsonAsync(system.Centre.Admin, $"/api/v1/sites/{EdgeSystem.SiteId}/auditoriums/aud-1/collection", new { enabled = true, scheduleMinutes = 0.05, retentionDays = 1 });
        await system.Agent.StartAsync();

        JsonElement frames = default;
        await Processes.WaitUntilAsync(async () =>
        {
            frames = await system.Centre.GetJsonAsync("/api/v1/frames?auditoriumId=aud-1");
            return frames.GetArrayLength() >= 2;
        }, Long, "two kept frames of aud-1 at the centre", () => system.Agent.Log.Tail());

        var first = frames[0].GetProperty("meta");
        Assert.Equal("cam-1", first.GetProperty("cameraId").GetString());
        Assert.Contains("schedule", first.GetProperty("reasons").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal("yolox_nano_coco_416", first.GetProperty("modelName").GetString());
        Assert.Equal(EdgeSystem.AgentId, frames[0].GetProperty("agentId").GetString());

        // The image is a JPEG the data team can fetch.
        using (var image = await system.Centre.Admin.GetAsync(new Uri($"/api/v1/frames/{first.GetProperty("id").GetString()}", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, image.StatusCode);
            var bytes = await image.Content.ReadAsByteArrayAsync();
            Assert.True(bytes.Length > 1000 && bytes[0] == 0xFF && bytes[1] == 0xD8);
        }

        // The other auditorium's cameras ran all along, with collection off (the default): nothing of it.
        await system.WaitForProducedAsync(system.Agent.ReadOutbox().Produced + 5, Long);
        Assert.Equal(0, (await system.Centre.GetJsonAsync("/api/v1/frames?auditoriumId=aud-2")).GetArrayLength());
        Assert.False(Directory.Exists(Path.Combine(system.Agent.Directory, "data", "frames", "aud-2")));

        // Turned off: the agent keeps no more frames of aud-1.
        await PutJsonAsync(system.Centre.Admin, $"/api/v1/sites/{EdgeSystem.SiteId}/auditoriums/aud-1/collection", new { enabled = false });
        await Processes.WaitUntilAsync(() => Task.FromResult(system.Agent.Log.Contains("Frame collection for auditorium aud-1: off")), Long, "the agent seeing collection off", () => system.Agent.Log.Tail());
        await Task.Delay(TimeSpan.FromSeconds(2));
        int countOff = (await system.Centre.GetJsonAsync("/api/v1/frames?auditoriumId=aud-1")).GetArrayLength();
        await system.WaitForProducedAsync(system.Agent.ReadOutbox().Produced + 10, Long);
        Assert.Equal(countOff, (await system.Centre.GetJsonAsync("/api/v1/frames?auditoriumId=aud-1")).GetArrayLength());
        output.WriteLine($"{countOff} frames of aud-1 collected while on");

        // The heartbeat carries the detector's time per tile and its tile rate; the centre stored them.
        await Processes.WaitUntilAsync(() => Task.FromResult(system.Centre.AgentHealthPayloads().Any(h => h.GetProperty("cameras").EnumerateArray().Any(c => c.GetProperty("tileMs").GetDouble() > 0 && c.GetProperty("tilesPerSecond").GetDouble() > 0))),
            Long, "a stored heartbeat with tile time", () => system.Agent.Log.Tail());
    }

    private static async Task UploadModelAsync(CentreProcess centre, string version, byte[] onnx)
    {
        var manifest = JsonNode.Parse(File.ReadAllText(ModelCatalog.DefaultManifestPath))!["models"]!.AsArray()
            .First(m => (string?)m!["name"] == "yolox_nano_coco_416")!.DeepClone().AsObject();
        manifest["version"] = version;
        manifest.Remove("sha256");
        manifest.Remove("url");
        using var form = new MultipartFormDataContent
        {
            { new StringContent(manifest.ToJsonString(), Encoding.UTF8, "application/json"), "manifest" },
        };
        var file = new ByteArrayContent(onnx);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", "model.onnx");
        using var r = await centre.Admin.PostAsync(new Uri("/api/v1/models", UriKind.Relative), form);
        Assert.True(r.IsSuccessStatusCode, $"model upload: HTTP {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
    }

    private static async Task<JsonElement?> ReportedAsync(CentreProcess centre, string auditoriumId)
    {
        var models = await centre.GetJsonAsync($"/api/v1/sites/{EdgeSystem.SiteId}/models");
        var entry = models.EnumerateArray().FirstOrDefault(m => m.GetProperty("auditoriumId").GetString() == auditoriumId);
        return entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty("reported", out var reported) && reported.ValueKind == JsonValueKind.Object ? reported : null;
    }

    [Fact]
    public async Task ModelVersion_AssignedToTheAuditorium_RunsThere_AndACorruptOneIsReportedFailedWhileThePreviousKeepsRunning()
    {
        await using var system = await EdgeSystem.StartAsync(_dir, startAgent: false);
        var shipped = await File.ReadAllBytesAsync(ModelCatalog.ResolveFile(ModelCatalog.Default.Get("yolox_nano_coco_416")));
        await UploadModelAsync(system.Centre, "site-2", shipped);
        await PutJsonAsync(system.Centre.Admin, $"/api/v1/sites/{EdgeSystem.SiteId}/auditoriums/aud-1/model", new { name = "yolox_nano_coco_416", version = "site-2" });
        await system.Agent.StartAsync();

        await Processes.WaitUntilAsync(async () => await ReportedAsync(system.Centre, "aud-1") is { } r && r.GetProperty("version").GetString() == "site-2" && r.GetProperty("state").GetString() == "running",
            Long, "the agent reporting site-2 running", () => system.Agent.Log.Tail());
        Assert.True(File.Exists(Path.Combine(system.Agent.Directory, "data", "models", "yolox_nano_coco_416", "site-2.onnx")));
        // The cameras rebuilt their detectors on it and keep producing.
        await system.WaitForProducedAsync(system.Agent.ReadOutbox().Produced + 5, Long);

        // Bytes that are no model: they pass the hash (the centre hashed them) but do not load.
        var corrupt = new byte[64 * 1024];
        new Random(7).NextBytes(corrupt);
        await UploadModelAsync(system.Centre, "site-3-broken", corrupt);
        await PutJsonAsync(system.Centre.Admin, $"/api/v1/sites/{EdgeSystem.SiteId}/auditoriums/aud-1/model", new { name = "yolox_nano_coco_416", version = "site-3-broken" });
        JsonElement? failed = null;
        await Processes.WaitUntilAsync(async () => (failed = await ReportedAsync(system.Centre, "aud-1")) is { } r && r.GetProperty("version").GetString() == "site-3-broken" && r.GetProperty("state").GetString() == "failed",
            Long, "the agent reporting site-3-broken failed", () => system.Agent.Log.Tail());
        output.WriteLine(failed!.Value.GetProperty("message").GetString());
        Assert.Contains("still running site-2", failed.Value.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(system.Agent.Directory, "data", "models", "yolox_nano_coco_416", "site-3-broken.onnx")));

        // The previous version keeps running: passes go on, and after a restart it is still the one in use.
        await system.WaitForProducedAsync(system.Agent.ReadOutbox().Produced + 5, Long);
        var state = JsonNode.Parse(File.ReadAllText(Path.Combine(system.Agent.Directory, "data", "models", "rollout.json")))!;
        Assert.Equal("site-2", (string?)state["aud-1"]!["running"]!["version"]);
        await Task.Delay(TimeSpan.FromSeconds(12));
        Assert.Equal(1, system.Agent.Log.Count("Downloading model yolox_nano_coco_416 site-3-broken"));
    }

    [Fact]
    public async Task EmptyHallReference_StoredAtTheCentre_IsPulledAndAppliedAtStart()
    {
        await using var system = await EdgeSystem.StartAsync(_dir, startAgent: false);
        using (var capture = new VideoCapture(TestFootage.PetsClip))
        using (var frame = new Mat())
        {
            Assert.True(capture.Read(frame));
            Cv2.ImEncode(".jpg", frame, out var jpeg);
            using var content = new ByteArrayContent(jpeg);
            content.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
            using var r = await system.Centre.Admin.PutAsync(new Uri($"/api/v1/sites/{EdgeSystem.SiteId}/auditoriums/aud-1/cameras/cam-1/reference/lit", UriKind.Relative), content);
            Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
        }

        await system.Agent.StartAsync();
        await Processes.WaitUntilAsync(() => Task.FromResult(system.Agent.Log.Contains("empty-hall reference (lit) applied")), Long, "the reference applied", () => system.Agent.Log.Tail());
        Assert.True(File.Exists(Path.Combine(system.Agent.Directory, "data", "references", "aud-1", "cam-1", "lit.jpg")));
    }

    [Fact]
    public async Task PinnedCentreCertificate_TheAgentWorksOverHttps_AndAWrongPinIsRefusedWithAClearLog()
    {
        await using var system = await EdgeSystem.StartAsync(_dir, new EdgeSystemOptions { Https = true });
        Assert.Equal(64, system.Centre.CertificateSha256.Length);
        await system.WaitForProducedAsync(3, Long);
        await system.WaitForDrainAsync(Long);
        Assert.NotEmpty(system.Centre.LedgerOf(EdgeSystem.AgentId));
        await system.Agent.StopAsync();

        // Another agent process pinning a different certificate: nothing reaches the centre, and the log says why.
        var key = File.ReadAllText(Path.Combine(system.Agent.Directory, "agent.key"));
        var wrong = new string('0', 64);
        await using var stranger = new AgentProcess(Path.Combine(_dir, "stranger"), EdgeSystem.AgentId, key, system.Centre.BaseUrl,
            [new JsonObject { ["id"] = "cam-1", ["auditoriumId"] = "aud-1", ["url"] = TestFootage.PetsClip, ["loop"] = true, ["realTime"] = true }],
            extra: new JsonObject { ["centralCertificateSha256"] = wrong });
        await stranger.StartAsync(waitForConfiguration: false);
        await Processes.WaitUntilAsync(() => Task.FromResult(stranger.Log.Contains("TLS certificate was refused")), Long, "the pin refusal in the log", () => stranger.Log.Tail());
        Assert.True(stranger.Log.Contains(system.Centre.CertificateSha256.ToLowerInvariant()), "the log names the presented fingerprint");
    }
}
