using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CinemaVision.Core.Events;
using CinemaVision.Server.Ingest;
using CinemaVision.Server.Storage.TimeSeries;
using CinemaVision.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CinemaVision.Server.Tests.Ingest;

public sealed class IngestApiTests : IDisposable
{
    private const string Site = "site-a";
    private const string Url = "/api/v1/ingest/batches";
    private readonly ServerFactory _factory = new(new() { ["CinemaVision:Ingest:MaxItemsPerBatch"] = "500", ["CinemaVision:Ingest:MaxBodyBytes"] = "262144" });

    public void Dispose() => _factory.Dispose();

    private static IngestBatch Batch(string batchId, int count, string agent = "edge-1", string site = Site)
    {
        var t0 = Samples.RecentMinute();
        return Samples.Batch(agent, batchId, occupancy: Enumerable.Range(0, count).Select(i => Samples.Occupancy($"{batchId}-o{i}", site, "aud-1", t0.AddSeconds(i), 10 + i)));
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> Problem(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return (await response.Content.ReadFromJsonAsync<JsonElement>())!;
    }

    [Fact]
    public async Task PostBatch_ValidBatch_StoredAndObserved()
    {
        var (agent, _) = await _factory.AgentClientAsync("edge-1", Site);

        using var response = await agent.PostAsJsonAsync(Url, Batch("b1", 3), IngestJson.Options);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = await response.Content.ReadFromJsonAsync<IngestResult>();
        Assert.Equal(new IngestResult("b1", 3, 0), result);
        var store = _factory.Services.GetRequiredService<ITimeSeriesStore>();
        var t0 = Samples.RecentMinute();
        Assert.Equal(3, (await store.GetOccupancyAsync(Site, "aud-1", t0, t0.AddMinutes(1), OccupancyResolution.Raw, default)).Count);
        Assert.Equal(3, Assert.Single(_factory.Observer.Batches).Of<OccupancySample>().Count);
    }

    [Fact]
    public async Task PostBatch_ReplayedBatch_StoredOnceAndObserversSeeOnlyNewItems()
    {
        var (agent, _) = await _factory.AgentClientAsync("edge-1", Site);
        var first = Batch("b1", 3);
        var retried = first with { Events = [.. first.Events, Samples.Occupancy("b1-extra", Site, "aud-1", Samples.RecentMinute().AddSeconds(30), 5)] };

        using var r1 = await agent.PostAsJsonAsync(Url, first, IngestJson.Options);
        using var r2 = await agent.PostAsJsonAsync(Url, retried, IngestJson.Options);
        using var r3 = await agent.PostAsJsonAsync(Url, retried, IngestJson.Options);

        Assert.Equal(new IngestResult("b1", 1, 3), await r2.Content.ReadFromJsonAsync<IngestResult>());
        Assert.Equal(new IngestResult("b1", 0, 4), await r3.Content.ReadFromJsonAsync<IngestResult>());
        Assert.Equal([3, 1], _factory.Observer.Batches.Select(b => b.ItemCount));
        Assert.Equal("b1-extra", _factory.Observer.Batches[1].Events[0].Id);
    }

    [Fact]
    public async Task PostBatch_NoKey_401WithProblem()
    {
        using var client = _factory.CreateClient();

        using var response = await client.PostAsJsonAsync(Url, Batch("b1", 1), IngestJson.Options);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("X-Api-Key", (await Problem(response)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task PostBatch_WrongKey_401()
    {
        await _factory.AgentClientAsync("edge-1", Site);
        using var client = _factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("ApiKey", "cvk_not-a-real-key");

        using var response = await client.PostAsJsonAsync(Url, Batch("b1", 1), IngestJson.Options);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task PostBatch_RevokedKey_403AndNothingStored()
    {
        var (agent, _) = await _factory.AgentClientAsync("edge-1", Site);
        using var admin = await _factory.AdminClientAsync();
        using var revoke = await admin.PostAsync(new Uri("/api/v1/admin/agents/edge-1/revoke", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);

        using var response = await agent.PostAsJsonAsync(Url, Batch("b1", 1), IngestJson.Options);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("revoked", (await Problem(response)).GetProperty("detail").GetString());
        Assert.Empty(_factory.Observer.Batches);
    }

    [Fact]
    public async Task PostBatch_OtherSite_403NamingTheField()
    {
        var (agent, _) = await _factory.AgentClientAsync("edge-1", Site);
        var batch = Batch("b1", 2);
        batch = batch with { Events = [batch.Events[0], batch.Events[1] with { SiteId = "site-b" }] };

        using var response = await agent.PostAsJsonAsync(Url, batch, IngestJson.Options);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("events[1].siteId", (await Problem(response)).GetProperty("field").GetString());
    }

    [Fact]
    public async Task PostBatch_OtherAgentId_403()
    {
        var (agent, _) = await _factory.AgentClientAsync("edge-1", Site);

        using var response = await agent.PostAsJsonAsync(Url, Batch("b1", 1, agent: "edge-2"), IngestJson.Options);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task PostBatch_TruncatedJson_400NamingPositionAndNothingStored()
    {
        var (agent, _) = await _factory.AgentClientAsync("edge-1", Site);
        var json = JsonSerializer.Serialize(Batch("b1", 5), IngestJson.Options);

        using var response = await agent.PostAsync(Url, Json(json[..(json.Length / 2)]));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var detail = (await Problem(response)).GetProperty("detail").GetString()!;
        Assert.Contains("line 1, byte", detail);
        Assert.Empty(_factory.Observer.Batches);
    }

    [Fact]
    public async Task PostBatch_WrongType_400NamingTheField()
    {
        var (agent, _) = await _factory.AgentClientAsync("edge-1", Site);
        var json = JsonSerializer.Serialize(Batch("b1", 3), IngestJson.Options).Replace("\"seatsTotal\":200", "\"seatsTotal\":\"lots\"");

        using var response = await agent.PostAsync(Url, Json(json));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await Problem(response)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("events[0].seatsTotal", out _), errors.ToString());
    }

    [Fact]
    public async Task PostBatch_EventWithoutType_400NamingTheDiscriminator()
    {
        var (agent, _) = await _factory.AgentClientAsync("edge-1", Site);
        var json = JsonSerializer.Serialize(Batch("b1", 2), IngestJson.Options).Replace("\"type\":\"occupancy\",", "");

        using var response = await agent.PostAsync(Url, Json(json));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("\"type\"", (await Problem(response)).GetProperty("detail").GetString());
        Assert.Empty(_factory.Observer.Batches);
    }

    [Fact]
    public async Task PostBatch_UnknownEventType_400NamingTheEvent()
    {
        var (agent, _) = await _factory.AgentClientAsync("edge-1", Site);
        var json = JsonSerializer.Serialize(Batch("b1", 2), IngestJson.Options);
        var at = json.LastIndexOf("\"type\":\"occupancy\"", StringComparison.Ordinal);
        json = json[..at] + "\"type\":\"weather\"" + json[(at + "\"type\":\"occupancy\"".Length)..];

        using var response = await agent.PostAsync(Url, Json(json));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await Problem(response)).GetProperty("errors").TryGetProperty("events[1]", out _));
    }

    [Fact]
    public async Task PostBatch_OneInvalidItem_400NamingFieldAndNoItemStored()
    {
        var (agent, _) = await _factory.AgentClientAsync("edge-1", Site);
        var batch = Batch("b1", 5);
        var items = batch.Of<OccupancySample>().ToList();
        items[3] = items[3] with { SeatsTotal = 0 };

        using var response = await agent.PostAsJsonAsync(Url, batch with { Events = items }, IngestJson.Options);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await Problem(response)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("events[3].seatsTotal", out _), errors.ToString());
        var store = _factory.Services.GetRequiredService<ITimeSeriesStore>();
        var t0 = Samples.RecentMinute();
        Assert.Empty(await store.GetOccupancyAsync(Site, "aud-1", t0, t0.AddMinutes(1), OccupancyResolution.Raw, default));
    }

    [Fact]
    public async Task PostBatch_TooManyItems_413()
    {
        var (agent, _) = await _factory.AgentClientAsync("edge-1", Site);
        var t0 = Samples.RecentMinute();
        var batch = Samples.Batch("edge-1", "big", seats: Enumerable.Range(0, 501).Select(i => Samples.Seat($"s{i}", Site, "aud-1", "A" + (i % 50), t0.AddMilliseconds(i), SeatState.Occupied)));

        using var response = await agent.PostAsJsonAsync(Url, batch, IngestJson.Options);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("501", (await Problem(response)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task PostBatch_BodyOverLimit_413()
    {
        var (agent, _) = await _factory.AgentClientAsync("edge-1", Site);
        var json = "{\"batchId\":\"x\",\"padding\":\"" + new string('x', 300_000) + "\"}";

        using var response = await agent.PostAsync(Url, Json(json));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task PostBatch_DuplicateIdInsideBatch_400()
    {
        var (agent, _) = await _factory.AgentClientAsync("edge-1", Site);
        var batch = Batch("b1", 2);
        batch = batch with { Events = [batch.Events[0], batch.Events[1] with { Id = batch.Events[0].Id }] };

        using var response = await agent.PostAsJsonAsync(Url, batch, IngestJson.Options);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await Problem(response)).GetProperty("errors").TryGetProperty("events[1].id", out _));
    }

    [Fact]
    public async Task OpenApi_Document_DescribesIngestEndpoint()
    {
        using var client = _factory.CreateClient();

        var document = await client.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative));

        Assert.Contains("/api/v1/ingest/batches", document);
    }

    [Fact]
    public async Task AdminAgents_NotSignedIn_401()
    {
        using var client = _factory.CreateClient();

        using var response = await client.GetAsync(new Uri("/api/v1/admin/agents", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Login_WrongPassword_RedirectsBackWithFailure()
    {
        using var client = _factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["username"] = "admin", ["password"] = "wrong-password" });

        using var response = await client.PostAsync(new Uri("/login", UriKind.Relative), form);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/login?failed=true", response.Headers.Location!.ToString());
    }
}

public sealed class IngestOverloadTests : IDisposable
{
    private readonly ServerFactory _factory = new(new() { ["CinemaVision:Ingest:MaxConcurrentBatches"] = "1", ["CinemaVision:Ingest:QueueLimit"] = "0", ["CinemaVision:Ingest:RetryAfterSeconds"] = "3" });

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task PostBatch_AllSlotsBusy_429WithRetryAfter()
    {
        var (agent, _) = await _factory.AgentClientAsync("edge-1", "site-a");
        var t0 = Samples.RecentMinute();
        _factory.Observer.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var slow = agent.PostAsJsonAsync("/api/v1/ingest/batches", Samples.Batch("edge-1", "b1", occupancy: [Samples.Occupancy("o1", "site-a", "aud-1", t0, 1)]), IngestJson.Options);
        await _factory.Observer.Entered.Task.WaitAsync(TimeSpan.FromSeconds(60));

        using var refused = await agent.PostAsJsonAsync("/api/v1/ingest/batches", Samples.Batch("edge-1", "b2", occupancy: [Samples.Occupancy("o2", "site-a", "aud-1", t0, 2)]), IngestJson.Options);
        _factory.Observer.Gate.SetResult();
        using var accepted = await slow;

        Assert.Equal((HttpStatusCode)429, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(3), refused.Headers.RetryAfter?.Delta);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }
}
