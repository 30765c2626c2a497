using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using CinemaVision.Core.Collection;
using CinemaVision.Server.Ingest;
using CinemaVision.Server.Tests.Infrastructure;

namespace CinemaVision.Server.Tests.Collection;

/// <summary>Frame collection through the real host: off by default, agents upload, the data team lists and fetches, every access audit-logged.</summary>
public sealed class FrameCollectionApiTests : IDisposable
{
    private readonly ServerFactory _factory = new();

    /// <summary>A real JPEG (the smallest complete one OpenCV-free code can make: a 1x1 baseline JPEG).</summary>
    internal static readonly byte[] TinyJpeg = Convert.FromBase64String(
        "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAAMCAgICAgMCAgIDAwMDBAYEBAQEBAgGBgUGCQgKCgkICQkKDA8MCgsOCwkJDRENDg8QEBEQCgwSExIQEw8QEBD/yQALCAABAAEBAREA/8wABgAQEAX/2gAIAQEAAD8A0s8g/9k=");

    private static MultipartFormDataContent Upload(string id, string auditorium, byte[] jpeg, params string[] reasons)
    {
        var meta = new CollectedFrameMeta { Id = id, AuditoriumId = auditorium, CameraId = "front", CapturedAt = new DateTimeOffset(2026, 11, 30, 20, 0, 0, TimeSpan.Zero), Reasons = reasons, Uncertainty = 0.6, ModelName = "yolox_nano_coco_416", ModelVersion = "0.1.1rc0" };
        var image = new ByteArrayContent(jpeg);
        image.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        return new MultipartFormDataContent { { new StringContent(JsonSerializer.Serialize(meta, IngestJson.Options)), "meta" }, { image, "image", id + ".jpg" } };
    }

    [Fact]
    public async Task Upload_CollectionOffByDefault_IsRefusedAndNothingStored()
    {
        var (agent, _) = await _factory.AgentClientAsync("agent-1", "site-1");
        using var response = await agent.PostAsync("/api/v1/agent/frames", Upload("f1", "aud-1", TinyJpeg, CollectionReasons.Schedule));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("off", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var team = await _factory.UserClientAsync("dana", "DataTeam");
        var list = await team.GetFromJsonAsync<List<CollectedFrameInfo>>("/api/v1/frames", IngestJson.Options);
        Assert.Empty(list!);
    }

    [Fact]
    public async Task Upload_WhenOn_DataTeamListsFiltersAndFetches_EveryAccessAudited_OthersRefused()
    {
        using var admin = await _factory.AdminClientAsync();
        using (var set = await admin.PutAsJsonAsync("/api/v1/sites/site-1/auditoriums/aud-1/collection", new FrameCollectionPolicy { Enabled = true, RetentionDays = 7 }, IngestJson.Options))
        {
            Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        }

        var (agent, _) = await _factory.AgentClientAsync("agent-1", "site-1");
        var policies = await agent.GetFromJsonAsync<JsonElement>("/api/v1/agent/collection");
        Assert.True(policies.GetProperty("auditoriums").GetProperty("aud-1").GetProperty("enabled").GetBoolean());

        using (var r = await agent.PostAsync("/api/v1/agent/frames", Upload("f1", "aud-1", TinyJpeg, CollectionReasons.NearThreshold))) Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        using (var r = await agent.PostAsync("/api/v1/agent/frames", Upload("f1", "aud-1", TinyJpeg, CollectionReasons.NearThreshold))) Assert.Equal(HttpStatusCode.OK, r.StatusCode); // a retry is one frame
        using (var r = await agent.PostAsync("/api/v1/agent/frames", Upload("f2", "aud-1", TinyJpeg, CollectionReasons.Schedule))) Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        using (var r = await agent.PostAsync("/api/v1/agent/frames", Upload("f3", "aud-1", TinyJpeg[..^2], CollectionReasons.Schedule))) Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode); // truncated
        using (var r = await agent.PostAsync("/api/v1/agent/frames", Upload("f4", "aud-1", TinyJpeg, "because"))) Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);

        using var team = await _factory.UserClientAsync("dana", "DataTeam");
        var all = await team.GetFromJsonAsync<List<CollectedFrameInfo>>("/api/v1/frames?siteId=site-1&auditoriumId=aud-1", IngestJson.Options);
        Assert.Equal(["f1", "f2"], all!.Select(f => f.Meta.Id));
        var unsure = await team.GetFromJsonAsync<List<CollectedFrameInfo>>($"/api/v1/frames?reason={CollectionReasons.NearThreshold}&minUncertainty=0.5", IngestJson.Options);
        Assert.Equal("f1", Assert.Single(unsure!).Meta.Id);
        Assert.Equal(TinyJpeg, await team.GetByteArrayAsync("/api/v1/frames/f1"));

        using var manager = await _factory.UserClientAsync("max", "Manager");
        using (var r = await manager.GetAsync("/api/v1/frames")) Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        using (var r = await manager.GetAsync("/api/v1/frames/f1")) Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        using (var r = await _factory.CreateClient().GetAsync("/api/v1/frames/f1")) Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);

        var audit = _factory.AuditEntries();
        Assert.Contains(("admin", "collection.set", "site-1/aud-1"), audit);
        Assert.Equal(2, audit.Count(a => a is ("dana", "frames.list", _)));
        Assert.Contains(("dana", "frames.fetch", "f1"), audit);
    }

    [Fact]
    public async Task Policy_Invalid_IsRefusedNamingTheField()
    {
        using var admin = await _factory.AdminClientAsync();
        using var r = await admin.PutAsJsonAsync("/api/v1/sites/site-1/auditoriums/aud-1/collection", new FrameCollectionPolicy { Enabled = true, RetentionDays = 0 }, IngestJson.Options);
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Contains("retentionDays", await r.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    public void Dispose() => _factory.Dispose();
}
