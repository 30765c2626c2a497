using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CinemaVision.Core.Events;
using CinemaVision.Server.Tests.Infrastructure;

namespace CinemaVision.Server.Tests.Hardening;

/// <summary>Every bad input found when the service was tried as an attacker: each a 4xx problem naming the problem, never a 500, nothing stored.</summary>
public sealed class InputGapTests : IDisposable
{
    private const string Url = "/api/v1/ingest/batches";
    private readonly ServerFactory _server = new();

    public void Dispose() => _server.Dispose();

    private static string Valid(string extraEventJson = "")
    {
        var t = Samples.RecentMinute().ToString("O");
        return $$"""
            {"batchId":"b1","agentId":"edge-1","sentAt":"{{t}}","events":[
            {"type":"occupancy","id":"o1","siteId":"site-a","auditoriumId":"aud-1","cameraId":null,"timestamp":"{{t}}","people":10,"seatsOccupied":10,"seatsTotal":200,"seatsUnknown":0,"confidence":0.9}{{extraEventJson}}]}
            """;
    }

    private static string Heartbeat(string cpu = "12.5", string outbox = "3") => $$""",{"type":"agentHealth","id":"h1","agentId":"edge-1","siteId":"site-a","timestamp":"{{Samples.RecentMinute():O}}","version":"1.0","cameras":[],"outboxPending":{{outbox}},"cpuPercent":{{cpu}},"managedMemoryBytes":1000}""";

    private async Task<(HttpStatusCode Status, string Body)> PostAsync(string json)
    {
        var (agent, _) = await _server.AgentClientAsync("edge-1", "site-a");
        using var response = await agent.PostAsync(new Uri(Url, UriKind.Relative), new StringContent(json, Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(_server.Observer.Batches);
        return (response.StatusCode, body);
    }

    [Theory]
    [InlineData("\"confidence\":0.9", "\"confidence\":1e400", "confidence")]
    [InlineData("\"confidence\":0.9", "\"confidence\":\"Infinity\"", "confidence")]
    [InlineData("\"confidence\":0.9", "\"confidence\":NaN", "")]
    [InlineData("\"seatsTotal\":200", "\"seatsTotal\":\"200\"", "seatsTotal")]
    [InlineData("\"people\":10,", "\"people\":10,\"people\":99999,", "people")]
    [InlineData("\"auditoriumId\":\"aud-1\"", "\"auditoriumId\":\"aud\\\\1\"", "auditoriumId")]
    [InlineData("\"auditoriumId\":\"aud-1\"", "\"auditoriumId\":\"aud-1\\\\\"", "auditoriumId")]
    [InlineData("\"auditoriumId\":\"aud-1\"", "\"auditoriumId\":\"aud\\u202E1-dua\"", "auditoriumId")]
    [InlineData("\"auditoriumId\":\"aud-1\"", "\"auditoriumId\":\"aud\\u200B1\"", "auditoriumId")]
    [InlineData("\"auditoriumId\":\"aud-1\"", "\"auditoriumId\":\"aud\\n1\"", "auditoriumId")]
    [InlineData("\"id\":\"o1\"", "\"id\":\" o1\"", "id")]
    public async Task IngestBatch_BadValue_400NamingTheField(string from, string to, string field)
    {
        var (status, body) = await PostAsync(Valid().Replace(from, to, StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(field, body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-5", "3", "cpuPercent")]
    [InlineData("12.5", "-1", "outboxPending")]
    [InlineData("1e308", "3", "cpuPercent")]
    public async Task Heartbeat_NegativeOrAbsurdFigures_400NamingTheField(string cpu, string outbox, string field)
    {
        var (status, body) = await PostAsync(Valid(Heartbeat(cpu, outbox)));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("events[1]." + field, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IngestBatch_DetailOverTheCap_400()
    {
        var t = Samples.RecentMinute();
        var batch = Samples.Batch("edge-1", "b1", anomalies: [Samples.Anomaly("a1", "site-a", "aud-1", t) with { Detail = new string('x', 2001) }]);

        var (status, body) = await PostAsync(JsonSerializer.Serialize(batch, IngestJson.Options));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("events[0].detail", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tickets_NullInTheList_400NamingTheIndex()
    {
        using var admin = await _server.AdminClientAsync();
        var start = DateTimeOffset.UtcNow.AddHours(1);
        var schedule = JsonSerializer.Serialize(new[] { new { id = "show-1", auditorium = "aud-1", film = "Film", start, end = start.AddHours(2), featureStart = start.AddMinutes(15) } });
        using (var imported = await admin.PostAsync(new Uri("/api/v1/sites/site-a/showings/import", UriKind.Relative), new StringContent(schedule, Encoding.UTF8, "application/json"))) Assert.Equal(HttpStatusCode.OK, imported.StatusCode);

        using var response = await admin.PutAsync(new Uri("/api/v1/sites/site-a/showings/show-1/tickets", UriKind.Relative), new StringContent("[null]", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("[0]", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("1e300")]
    [InlineData("-1e300")]
    [InlineData("Infinity")]
    public async Task Reconciliation_CheckpointNotAFiniteSpan_400(string minutes)
    {
        using var admin = await _server.AdminClientAsync();
        var start = DateTimeOffset.UtcNow.AddHours(-3);
        var schedule = JsonSerializer.Serialize(new[] { new { id = "show-1", auditorium = "aud-1", film = "Film", start, end = start.AddHours(2), featureStart = start.AddMinutes(15) } });
        using (var imported = await admin.PostAsync(new Uri("/api/v1/sites/site-a/showings/import", UriKind.Relative), new StringContent(schedule, Encoding.UTF8, "application/json"))) Assert.Equal(HttpStatusCode.OK, imported.StatusCode);

        using var response = await admin.GetAsync(new Uri($"/api/v1/sites/site-a/showings/show-1/reconciliation?checkpointMinutes={minutes}", UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("checkpointMinutes", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(3, 72, "end")]
    [InlineData(5 * 365 * 24, 2, "start")]
    public async Task Schedule_ShowingTooLongOrYearsAway_400ByLineAndColumn(int hoursAhead, int lengthHours, string column)
    {
        using var admin = await _server.AdminClientAsync();
        var start = DateTimeOffset.UtcNow.AddHours(hoursAhead);
        var csv = $"auditorium,film,start,end,feature_start\naud-1,Film,{start:O},{start.AddHours(lengthHours):O},{start.AddMinutes(10):O}\n";

        using var response = await admin.PostAsync(new Uri("/api/v1/sites/site-a/showings/import", UriKind.Relative), new StringContent(csv, Encoding.UTF8, "text/csv"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains($"line 1, {column}", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mute_CoveringYears_400()
    {
        using var admin = await _server.AdminClientAsync();
        var now = DateTimeOffset.UtcNow;

        using var response = await admin.PostAsJsonAsync("/api/v1/mutes", new { siteId = "site-a", auditoriumId = "aud-1", from = now, until = now.AddYears(3), reason = "forever" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("at most 14 days", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task JsonBody_NumberAsStringOrDuplicateProperty_400ProblemNamingIt()
    {
        using var admin = await _server.AdminClientAsync();
        var now = DateTimeOffset.UtcNow;
        using var bad = await admin.PostAsync(new Uri("/api/v1/mutes", UriKind.Relative), new StringContent($$"""{"reason":"a","reason":"b","from":"{{now:O}}","until":"{{now.AddHours(1):O}}"}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
        Assert.Contains("reason", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/api/v1/sites/site%E2%80%AEa/showings")]
    [InlineData("/api/v1/sites/site%5Ca/showings")]
    [InlineData("/api/v1/sites/site%0Aa/showings")]
    public async Task RouteIdentifier_WithFormatControlOrBackslash_400NamingTheParameter(string path)
    {
        using var admin = await _server.AdminClientAsync();

        using var response = await admin.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("siteId", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
