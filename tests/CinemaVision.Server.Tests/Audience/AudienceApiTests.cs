using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using CinemaVision.Core.Events;
using CinemaVision.Server.Ingest;
using CinemaVision.Server.Storage;
using CinemaVision.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CinemaVision.Server.Tests.Audience;

public sealed class AudienceApiTests : IAsyncLifetime
{
    private const string Site = "site-a";
    private const string Reference = "/api/v1/sites/site-a/auditoriums/aud-1/cameras/cam-1/reference";
    private const string SpotCounts = "/api/v1/sites/site-a/auditoriums/aud-1/spot-counts";
    private readonly ServerFactory _server = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>A complete JPEG as the service checks it (start-of-image, frame header with its size, end-of-image); sizes differ in their bytes.</summary>
    private static byte[] Jpeg(int size = 600) => TestImages.Jpeg(size, size / 2);

    private static ByteArrayContent JpegContent(byte[] data)
    {
        var content = new ByteArrayContent(data);
        content.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        return content;
    }

    private async Task<HttpClient> SignInAsync(string user, string password, string role)
    {
        using (var admin = await _server.AdminClientAsync())
        using (var created = await admin.PostAsJsonAsync("/api/v1/admin/users", new { userName = user, password, role }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        var client = _server.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["username"] = user, ["password"] = password, ["returnUrl"] = "/" });
        using var response = await client.PostAsync(new Uri("/login", UriKind.Relative), form);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return client;
    }

    private List<(string Actor, string Action, string Subject)> Audit()
    {
        using var c = _server.Services.GetRequiredService<StateDatabase>().Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT actor, action, subject FROM audit_log ORDER BY rowid";
        using var r = cmd.ExecuteReader();
        var list = new List<(string, string, string)>();
        while (r.Read()) list.Add((r.GetString(0), r.GetString(1), r.GetString(2)));
        return list;
    }

    [Fact]
    public async Task Reference_AgentStoresPerLightingMode_SignedInReadsTheSameBytes_EveryAccessAudited()
    {
        var (agent, _) = await _server.AgentClientAsync("edge-1", Site);
        var lit = Jpeg(700);
        var infrared = Jpeg(500);

        using (var put = await agent.PutAsync($"{Reference}/lit", JpegContent(lit))) Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        using (var put = await agent.PutAsync($"{Reference}/infrared", JpegContent(infrared))) Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        using var manager = await SignInAsync("manager", "manager-password-1", "Manager");
        Assert.Equal(lit, await manager.GetByteArrayAsync($"{Reference}/lit"));
        Assert.Equal(infrared, await manager.GetByteArrayAsync($"{Reference}/infrared"));
        var list = await manager.GetFromJsonAsync<JsonElement>(Reference);
        Assert.Equal(["infrared", "lit"], list.EnumerateArray().Select(e => e.GetProperty("mode").GetString()!).ToArray());
        using (var none = await manager.GetAsync($"{Reference}/dim")) Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);

        var audit = Audit();
        Assert.Contains(("agent:edge-1", "reference.put", "site-a/aud-1/cam-1/lit"), audit);
        Assert.Contains(("manager", "reference.get", "site-a/aud-1/cam-1/infrared"), audit);
    }

    [Fact]
    public async Task Reference_BadInput_ClearProblemsAndNothingStored()
    {
        var (agent, _) = await _server.AgentClientAsync("edge-1", Site);
        var truncated = Jpeg()[..300];

        using (var r = await agent.PutAsync($"{Reference}/lit", JpegContent(truncated)))
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Contains("body", await r.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var r = await agent.PutAsync($"{Reference}/sunset", JpegContent(Jpeg())))
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Contains("mode", await r.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var png = new ByteArrayContent(Jpeg()))
        {
            png.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            using var r = await agent.PutAsync($"{Reference}/lit", png);
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, r.StatusCode);
        }

        // An agent writes for its own site only.
        using (var r = await agent.PutAsync("/api/v1/sites/site-b/auditoriums/aud-1/cameras/cam-1/reference/lit", JpegContent(Jpeg())))
        {
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
            Assert.Contains("siteId", await r.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using var admin = await _server.AdminClientAsync();
        Assert.Equal("[]", await admin.GetStringAsync(Reference));
    }

    [Fact]
    public async Task Reference_OnlyAgentsAndAdminsWrite()
    {
        using var manager = await SignInAsync("manager", "manager-password-1", "Manager");
        using (var r = await manager.PutAsync($"{Reference}/lit", JpegContent(Jpeg()))) Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        using var anonymous = _server.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        using (var r = await anonymous.PutAsync($"{Reference}/lit", JpegContent(Jpeg()))) Assert.NotEqual(HttpStatusCode.OK, r.StatusCode);
        using var admin = await _server.AdminClientAsync();
        using (var r = await admin.PutAsync($"{Reference}/lit", JpegContent(Jpeg()))) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
    }

    [Fact]
    public async Task SpotCounts_ComparedWithTheAgentsFigure_AccuracyPerAuditorium_SeatPriorAdjustedWithinBoundsAndAudited()
    {
        // The agent reported 30 people every minute; ushers counted 40 three times (the system counts too few).
        var (agent, _) = await _server.AgentClientAsync("edge-1", Site);
        var t0 = Samples.RecentMinute();
        var batch = Samples.Batch("edge-1", "b1", occupancy: Enumerable.Range(0, 10).Select(i => Samples.Occupancy($"o{i}", Site, "aud-1", t0.AddMinutes(i), 30)));
        using (var ingest = await agent.PostAsJsonAsync("/api/v1/ingest/batches", batch, IngestJson.Options)) Assert.Equal(HttpStatusCode.OK, ingest.StatusCode);

        using var manager = await SignInAsync("usher", "usher-password-1", "Manager");
        JsonElement last = default;
        for (int i = 0; i < 3; i++)
        {
            using var r = await manager.PostAsJsonAsync(SpotCounts, new { at = t0.AddMinutes(2 + (3 * i)).AddSeconds(20), people = 40 });
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
            last = await r.Content.ReadFromJsonAsync<JsonElement>();
            var spot = last.GetProperty("spotCount");
            Assert.Equal(30, spot.GetProperty("reportedPeople").GetInt32());
            Assert.Equal(-10, spot.GetProperty("error").GetInt32());
        }

        var adjustment = last.GetProperty("seatPriorAdjustment");
        float from = adjustment.GetProperty("from").GetSingle(), to = adjustment.GetProperty("to").GetSingle();
        Assert.True(to < from, $"threshold {from} -> {to}: counting too few lowers the seat prior");
        Assert.True(from - to <= 0.031f, "one bounded step");

        var accuracy = await manager.GetFromJsonAsync<JsonElement>($"{SpotCounts}/accuracy");
        Assert.Equal(3, accuracy.GetProperty("compared").GetInt32());
        Assert.Equal(10, accuracy.GetProperty("meanAbsoluteError").GetDouble(), 3);
        Assert.Equal(-10, accuracy.GetProperty("meanError").GetDouble(), 3);
        Assert.True(accuracy.GetProperty("seatPriorAdjusted").GetBoolean());
        Assert.Equal(to, accuracy.GetProperty("seatPriorThreshold").GetSingle(), 3);
        Assert.Single(accuracy.GetProperty("days").EnumerateArray());

        Assert.Equal(3, (await manager.GetFromJsonAsync<JsonElement>(SpotCounts)).GetArrayLength());

        // The agents get the adjusted threshold inside the auditorium file's pipeline section.
        using (var admin = await _server.AdminClientAsync())
        using (var saved = await admin.PutAsync("/api/v1/sites/site-a/auditoriums/aud-1", new StringContent("""{ "siteId": "site-a", "auditoriumId": "aud-1", "cameras": [ { "id": "cam-1", "reference": { "width": 640, "height": 480 }, "seats": [] } ] }""", System.Text.Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        }

        var config = await agent.GetFromJsonAsync<JsonElement>("/api/v1/agent/config");
        Assert.Equal(to, config.GetProperty("auditoriums")[0].GetProperty("pipeline").GetProperty("scores").GetProperty("seatedHead").GetSingle(), 3);
        Assert.Contains(Audit(), a => a.Action == "seat-prior.adjusted" && a.Subject == "site-a/aud-1");
        Assert.Equal(3, Audit().Count(a => a.Action == "spot-count.add" && a.Actor == "usher"));
    }

    [Fact]
    public async Task SpotCounts_NoAgentFigureNearThatTime_StoredWithoutComparison()
    {
        using var admin = await _server.AdminClientAsync();
        using var r = await admin.PostAsJsonAsync(SpotCounts, new { at = DateTimeOffset.UtcNow.AddMinutes(-1), people = 12, seats = new[] { "A1", "A2" } });
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        var spot = (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("spotCount");
        Assert.Equal(JsonValueKind.Null, spot.GetProperty("error").ValueKind);
        Assert.Equal(2, spot.GetProperty("seats").GetArrayLength());
    }

    [Fact]
    public async Task SpotCounts_BadInput_EachFieldNamed()
    {
        using var admin = await _server.AdminClientAsync();
        using var r = await admin.PostAsJsonAsync(SpotCounts, new { at = DateTimeOffset.UtcNow.AddDays(1), people = -3, seats = new[] { "A1", "not a seat" } });
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        var text = await r.Content.ReadAsStringAsync();
        Assert.Contains("at:", text, StringComparison.Ordinal);
        Assert.Contains("people:", text, StringComparison.Ordinal);
        Assert.Contains("seats:", text, StringComparison.Ordinal);

        using var missing = await admin.PostAsJsonAsync(SpotCounts, new { note = "forgot" });
        var missingText = await missing.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("people: is required", missingText, StringComparison.Ordinal);
        Assert.Contains("at: is required", missingText, StringComparison.Ordinal);
    }
}
