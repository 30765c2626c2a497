using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using CinemaVision.Core.Models;
using CinemaVision.Server.Ingest;
using CinemaVision.Server.Models;
using CinemaVision.Server.Tests.Infrastructure;

namespace CinemaVision.Server.Tests.Models;

/// <summary>Model versions through the real host: upload, list, assign per auditorium, agents pull hash-verified and report.</summary>
public sealed class ModelVersionApiTests : IDisposable
{
    private readonly ServerFactory _factory = new();

    private static readonly byte[] Weights = RandomNumberGenerator.GetBytes(50_000);

    private static MultipartFormDataContent Upload(string name, string version, byte[] file, string? sha = null) => new()
    {
        { new StringContent($$"""{"name":"{{name}}","version":"{{version}}","decoder":"lffd","file":"models/{{name}}.onnx","sha256":"{{sha ?? ""}}","input":{"name":"data","shape":[1,3,480,640]},"classNames":["head"]}"""), "manifest" },
        { new StringContent(JsonSerializer.Serialize(new ModelCard { Name = name, Version = version, BaseModel = "lffd_head", Data = "site frames", Epochs = 12, Results = new Dictionary<string, double> { ["ap50"] = 0.91 } }, IngestJson.Options)), "card" },
        { new ByteArrayContent(file), "file", name + ".onnx" },
    };

    [Fact]
    public async Task UploadAssignPull_AgentGetsItsAuditoriumsVersionWithAVerifiableHash_DashboardSeesAssignedAndRunning()
    {
        using var team = await _factory.UserClientAsync("dana", "DataTeam");
        using (var r = await team.PostAsync("/api/v1/models", Upload("hall_heads", "2026.11.30", Weights))) Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        using (var r = await team.PostAsync("/api/v1/models", Upload("hall_heads", "2026.11.30", Weights))) Assert.Equal(HttpStatusCode.OK, r.StatusCode); // same bytes again: fine
        using (var r = await team.PostAsync("/api/v1/models", Upload("hall_heads", "2026.11.30", Weights[..1000]))) Assert.Equal(HttpStatusCode.Conflict, r.StatusCode); // versions are immutable

        using var admin = await _factory.AdminClientAsync();
        using (var r = await admin.PutAsJsonAsync("/api/v1/sites/site-1/auditoriums/aud-1/model", new AssignModelRequest("hall_heads", "2026.11.30"))) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using (var r = await admin.PutAsJsonAsync("/api/v1/sites/site-1/auditoriums/aud-1/model", new AssignModelRequest("hall_heads", "9.9"))) Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);

        var (agent, _) = await _factory.AgentClientAsync("agent-1", "site-1");
        using var listing = await agent.GetAsync("/api/v1/agent/models");
        var assignments = (await listing.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("assignments");
        var a = Assert.Single(assignments.EnumerateArray());
        Assert.Equal("aud-1", a.GetProperty("auditoriumId").GetString());
        var sha = a.GetProperty("sha256").GetString();
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Weights)), sha);
        using var file = await agent.GetAsync(a.GetProperty("downloadUrl").GetString());
        var bytes = await file.Content.ReadAsByteArrayAsync();
        Assert.Equal(sha, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        Assert.Equal(sha, file.Headers.GetValues("X-Checksum-Sha256").Single());

        // Unchanged assignments answer 304 to the agent's ETag.
        using var again = new HttpRequestMessage(HttpMethod.Get, "/api/v1/agent/models");
        again.Headers.IfNoneMatch.Add(listing.Headers.ETag!);
        using (var r = await agent.SendAsync(again)) Assert.Equal(HttpStatusCode.NotModified, r.StatusCode);

        // An agent of another site cannot fetch it.
        var (other, _) = await _factory.AgentClientAsync("agent-2", "site-2");
        using (var r = await other.GetAsync(a.GetProperty("downloadUrl").GetString())) Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);

        using (var r = await agent.PostAsJsonAsync("/api/v1/agent/models/status", new ModelRunStatusRequest("aud-1", "hall_heads", "2026.11.30", "running", null))) Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        var site = await admin.GetFromJsonAsync<List<AuditoriumModel>>("/api/v1/sites/site-1/models", IngestJson.Options);
        var row = Assert.Single(site!);
        Assert.Equal(("hall_heads", "2026.11.30", "running"), (row.Assigned!.Name, row.Reported!.Version, row.Reported.State));
        Assert.Contains(("admin", "model.assign", "site-1/aud-1"), _factory.AuditEntries());
    }

    [Fact]
    public async Task Upload_DeclaredHashDiffers_IsRefusedAndNothingStored()
    {
        using var team = await _factory.UserClientAsync("dana", "DataTeam");
        using var r = await team.PostAsync("/api/v1/models", Upload("hall_heads", "1", Weights, sha: new string('0', 64)));
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Contains("sha256", await r.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var list = await team.GetFromJsonAsync<JsonElement>("/api/v1/models");
        Assert.Equal(0, list.GetArrayLength());
    }

    [Fact]
    public async Task Upload_ByAManager_IsForbidden()
    {
        using var manager = await _factory.UserClientAsync("max", "Manager");
        using var r = await manager.PostAsync("/api/v1/models", Upload("m", "1", Weights));
        Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
    }

    public void Dispose() => _factory.Dispose();
}
