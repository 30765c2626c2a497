using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CinemaVision.Core.Events;
using CinemaVision.Server.Ingest;
using CinemaVision.Server.Tests.Infrastructure;

namespace CinemaVision.Server.Tests.Sites;

public sealed class SitesAndShowingsTests : IAsyncLifetime
{
    private readonly ServerFactory _server = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static StringContent Csv(string text) => new(text, Encoding.UTF8, "text/csv");

    private static string AuditoriumJson(string site, string aud, string seats) => $$"""
        { "siteId": "{{site}}", "auditoriumId": "{{aud}}", "cameras": [ { "id": "cam-1", "reference": { "width": 1920, "height": 1080 }, "seats": [{{seats}}] } ] }
        """;

    [Fact]
    public async Task AuditoriumConfig_ValidatedVersionedAndPulledByAgentsWithETag()
    {
        using var admin = await _server.AdminClientAsync();
        var bad = AuditoriumJson("site-a", "aud-1", """{ "id": "A1", "polygon": [[0,0],[10,0]] }, { "id": "A1", "polygon": [[20,0],[30,0],[30,10],[20,10]] }""");
        using (var rejected = await admin.PutAsync("/api/v1/sites/site-a/auditoriums/aud-1", new StringContent(bad, Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, rejected.StatusCode);
            var text = await rejected.Content.ReadAsStringAsync();
            Assert.Contains("cameras[0].seats[0].polygon", text, StringComparison.Ordinal);
            Assert.Contains("duplicate seat id", text, StringComparison.Ordinal);
        }

        var good = AuditoriumJson("site-a", "aud-1", """{ "id": "A1", "polygon": [[0,0],[10,0],[10,10],[0,10]] }""");
        using (var saved = await admin.PutAsync("/api/v1/sites/site-a/auditoriums/aud-1", new StringContent(good, Encoding.UTF8, "application/json"))) Assert.Equal(HttpStatusCode.OK, saved.StatusCode);

        var (agent, _) = await _server.AgentClientAsync("agent-1", "site-a");
        using var first = await agent.GetAsync("/api/v1/agent/config");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var etag = first.Headers.ETag!;
        Assert.Equal("aud-1", JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement.GetProperty("auditoriums")[0].GetProperty("auditoriumId").GetString());

        using var again = new HttpRequestMessage(HttpMethod.Get, "/api/v1/agent/config");
        again.Headers.IfNoneMatch.Add(etag);
        using (var notModified = await agent.SendAsync(again)) Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);

        var changed = AuditoriumJson("site-a", "aud-1", """{ "id": "A1", "polygon": [[0,0],[12,0],[12,10],[0,10]] }""");
        using (var saved2 = await admin.PutAsync("/api/v1/sites/site-a/auditoriums/aud-1", new StringContent(changed, Encoding.UTF8, "application/json")))
        {
            Assert.Equal(2, (await saved2.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt32());
        }

        using var third = new HttpRequestMessage(HttpMethod.Get, "/api/v1/agent/config");
        third.Headers.IfNoneMatch.Add(etag);
        using (var modified = await agent.SendAsync(third)) Assert.Equal(HttpStatusCode.OK, modified.StatusCode);
    }

    [Fact]
    public async Task ScheduleImport_BadRowsNamedByLineAndColumn_NothingImported()
    {
        using var admin = await _server.AdminClientAsync();
        const string Csv1 = "auditorium,film,start,end,feature_start\naud-1,Film A,2026-11-24T18:00:00Z,2026-11-24T20:15:00Z,2026-11-24T18:15:00Z\naud-2,Film B,yesterday,2026-11-24T21:00:00Z,2026-11-24T19:15:00Z\naud-3,Film C,2026-11-24T18:00:00Z,2026-11-24T17:00:00Z,2026-11-24T18:15:00Z\n";
        using var rejected = await admin.PostAsync("/api/v1/sites/site-a/showings/import", Csv(Csv1));
        Assert.Equal(HttpStatusCode.BadRequest, rejected.StatusCode);
        var text = await rejected.Content.ReadAsStringAsync();
        Assert.Contains("line 3, start", text, StringComparison.Ordinal);
        Assert.Contains("line 4, feature_start", text, StringComparison.Ordinal);
        var listed = await admin.GetFromJsonAsync<JsonElement>("/api/v1/sites/site-a/showings?from=2026-11-24T00:00:00Z&to=2026-11-25T00:00:00Z");
        Assert.Equal(0, listed.GetArrayLength());
    }

    [Fact]
    public async Task Reconciliation_PeopleVsTicketsAndSeatBySeat()
    {
        using var admin = await _server.AdminClientAsync();
        var doors = DateTimeOffset.UtcNow.AddHours(-3);
        doors = new DateTimeOffset(doors.Year, doors.Month, doors.Day, doors.Hour, 0, 0, TimeSpan.Zero);
        var feature = doors.AddMinutes(15);
        var json = JsonSerializer.Serialize(new[] { new { id = "show-1", auditorium = "aud-1", film = "Film A", start = doors, end = doors.AddHours(2), featureStart = feature } });
        using (var imported = await admin.PostAsync("/api/v1/sites/site-a/showings/import", new StringContent(json, Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.OK, imported.StatusCode);
        }

        using (var tickets = await admin.PutAsync("/api/v1/sites/site-a/showings/show-1/tickets", Csv("seat\nA1\nA2\nA3\n"))) Assert.Equal(HttpStatusCode.OK, tickets.StatusCode);

        // The edge saw A1 and A2 occupied, A3 empty, and someone in the unsold A4; three people at the checkpoint.
        var (agent, _) = await _server.AgentClientAsync("agent-1", "site-a");
        var seatTime = feature.AddMinutes(5);
        var batch = Samples.Batch("agent-1", "b-1",
            occupancy: [Samples.Occupancy("o-1", "site-a", "aud-1", feature.AddMinutes(20), 3, total: 4, showing: "show-1"), Samples.Occupancy("o-2", "site-a", "aud-1", feature.AddMinutes(40), 4, total: 4, showing: "show-1")],
            seats: [Samples.Seat("s-1", "site-a", "aud-1", "A1", seatTime, SeatState.Occupied), Samples.Seat("s-2", "site-a", "aud-1", "A2", seatTime, SeatState.Occupied),
                    Samples.Seat("s-3", "site-a", "aud-1", "A3", seatTime, SeatState.Empty), Samples.Seat("s-4", "site-a", "aud-1", "A4", seatTime, SeatState.Occupied)]);
        using (var posted = await agent.PostAsJsonAsync("/api/v1/ingest/batches", batch, IngestJson.Options)) Assert.True(posted.IsSuccessStatusCode, await posted.Content.ReadAsStringAsync());

        var r = await admin.GetFromJsonAsync<JsonElement>("/api/v1/sites/site-a/showings/show-1/reconciliation");
        Assert.Equal(3, r.GetProperty("ticketsSold").GetInt32());
        Assert.Equal(3, r.GetProperty("peopleAtCheckpoint").GetInt32());
        Assert.Equal(4, r.GetProperty("peakPeople").GetInt32());
        Assert.Equal(["A4"], r.GetProperty("occupiedButUnsold").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["A3"], r.GetProperty("soldButEmpty").EnumerateArray().Select(e => e.GetString()));

        var agentShowings = await agent.GetFromJsonAsync<JsonElement>("/api/v1/agent/showings");
        Assert.Contains(agentShowings.EnumerateArray(), s => s.GetProperty("id").GetString() == "show-1");

        // Agents poll the schedule cheaply: unchanged, it is a 304.
        using var first = await agent.GetAsync("/api/v1/agent/showings");
        var etag = first.Headers.ETag!;
        using var again = new HttpRequestMessage(HttpMethod.Get, "/api/v1/agent/showings");
        again.Headers.IfNoneMatch.Add(etag);
        using var unchanged = await agent.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, unchanged.StatusCode);
    }

    [Fact]
    public async Task Tickets_ForAnUnknownShowingOrBadSeatIds_Rejected()
    {
        using var admin = await _server.AdminClientAsync();
        using (var unknown = await admin.PutAsync("/api/v1/sites/site-a/showings/nope/tickets", Csv("A1"))) Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        using var anonymous = _server.CreateClient();
        using (var denied = await anonymous.GetAsync("/api/v1/sites/site-a/showings")) Assert.Equal(HttpStatusCode.Unauthorized, denied.StatusCode);
        var (agent, _) = await _server.AgentClientAsync("agent-9", "site-b");
        using (var otherSite = await agent.GetAsync("/api/v1/agent/config"))
        {
            Assert.Equal(HttpStatusCode.OK, otherSite.StatusCode);
            Assert.Equal(0, JsonDocument.Parse(await otherSite.Content.ReadAsStringAsync()).RootElement.GetProperty("auditoriums").GetArrayLength());
        }
    }
}
