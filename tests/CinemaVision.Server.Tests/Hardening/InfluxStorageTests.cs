using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CinemaVision.Core.Events;
using CinemaVision.Server.Ingest;
using CinemaVision.Server.Storage.TimeSeries;
using CinemaVision.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CinemaVision.Server.Tests.Hardening;

/// <summary>InfluxDB storage against a real influxd: permanent refusals are dead letters, not endless retries; same-instant items are kept apart; tags are safe.</summary>
[Collection(InfluxCollection.Name)]
public sealed class InfluxStorageTests(InfluxServerFixture influx)
{
    private ServerFactory Server(string database, StringBuilder? logs = null) => new(
        new()
        {
            ["CinemaVision:TimeSeries:Provider"] = "Influx",
            ["CinemaVision:TimeSeries:Influx:Url"] = influx.Url.ToString(),
            ["CinemaVision:TimeSeries:Influx:Database"] = database,
        },
        logs);

    private static async Task<JsonElement> HealthAsync(HttpClient client) => await client.GetFromJsonAsync<JsonElement>("/healthz");

    [Fact]
    public async Task PointBeyondRetention_DeadLetteredAndReported_RestWritten_TwoIncidentsAtOneInstantBothKept()
    {
        using var server = Server("cv_dead");
        var (agent, _) = await server.AgentClientAsync("edge-1", "site-a");
        var t = Samples.RecentMinute();
        var occupancy = Enumerable.Range(0, 50).Select(i => Samples.Occupancy($"o{i}", "site-a", "aud-1", t.AddSeconds(i), i)).ToList();
        var old = new SeatStateChange("s-old", "site-a", "aud-1", "cam-1", "A1", t.AddDays(-20), SeatState.Occupied, 0.9);
        var phone1 = Samples.Piracy("p1", "site-a", "aud-1", t) with { SeatId = "F12" };
        var phone2 = Samples.Piracy("p2", "site-a", "aud-1", t) with { SeatId = "F14" };
        using (var posted = await agent.PostAsJsonAsync("/api/v1/ingest/batches", Samples.Batch("edge-1", "b1", occupancy: occupancy, seats: [old], piracy: [phone1, phone2]), IngestJson.Options))
        {
            Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        }

        var sw = Stopwatch.StartNew();
        JsonElement health;
        do
        {
            await Task.Delay(200);
            health = await HealthAsync(agent);
        }
        while ((health.GetProperty("timeSeries").GetProperty("backlog").GetInt64() > 0 || health.GetProperty("timeSeries").GetProperty("deadLetters").GetInt64() == 0) && sw.Elapsed < TimeSpan.FromSeconds(60));

        Assert.Equal(0, health.GetProperty("timeSeries").GetProperty("backlog").GetInt64());
        Assert.Equal(1, health.GetProperty("timeSeries").GetProperty("deadLetters").GetInt64());
        Assert.Equal("Degraded", health.GetProperty("status").GetString());
        using var admin = await server.AdminClientAsync();
        var dead = Assert.Single((await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/timeseries/dead-letters")).EnumerateArray());
        Assert.Equal("s-old", dead.GetProperty("eventId").GetString());
        Assert.Equal(400, dead.GetProperty("status").GetInt32());
        Assert.Contains("retention", dead.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("cinemavision_timeseries_dead_lettered_events_total 1", await agent.GetStringAsync(new Uri("/metrics", UriKind.Relative)), StringComparison.Ordinal);

        Assert.Equal(50, await influx.CountAsync("cv_dead", "SELECT count(people) FROM \"raw\".occupancy"));
        var store = server.Services.GetRequiredService<ITimeSeriesStore>();
        var incidents = await store.GetEventsAsync(new EventQuery("site-a", t.AddMinutes(-1), t.AddMinutes(1)), default);
        Assert.Equal(["F12", "F14"], incidents.Select(e => e.SeatId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void TagValueWithABackslash_RefusedBeforeItReachesInfluxDb()
    {
        var t = Samples.RecentMinute();
        var ex = Assert.Throws<LineProtocolException>(() => InfluxTimeSeriesStore.ToLine(Samples.Occupancy("o1", "site-a\\", "aud-1", t, 1)));
        Assert.Contains("backslash", ex.Message, StringComparison.Ordinal);
        var (_, line) = InfluxTimeSeriesStore.ToLine(Samples.Occupancy("o1", "site a,b=c", "aud-1", t, 1));
        Assert.StartsWith("occupancy,auditorium=aud-1,camera=_all,site=site\\ a\\,b\\=c ", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AgentGetsNoInfluxDetails_EvenWhenInfluxRefusesEverything()
    {
        var logs = new StringBuilder();
        using var server = new ServerFactory(
            new()
            {
                ["CinemaVision:TimeSeries:Provider"] = "Influx",
                ["CinemaVision:TimeSeries:Influx:Url"] = influx.Url + "nothing-here/",
                ["CinemaVision:TimeSeries:Influx:Database"] = "cv_refused",
                ["CinemaVision:TimeSeries:Influx:CreateDatabase"] = "false",
            },
            logs);
        var (agent, _) = await server.AgentClientAsync("edge-1", "site-a");

        using var posted = await agent.PostAsJsonAsync("/api/v1/ingest/batches", Samples.Batch("edge-1", "b1", occupancy: [Samples.Occupancy("o1", "site-a", "aud-1", Samples.RecentMinute(), 1)]), IngestJson.Options);

        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        Assert.DoesNotContain(influx.Url.Authority, await posted.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var sw = Stopwatch.StartNew();
        while ((await HealthAsync(agent)).GetProperty("timeSeries").GetProperty("state").GetString() != "Misconfigured" && sw.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(200);
        Assert.Equal("Misconfigured", (await HealthAsync(agent)).GetProperty("timeSeries").GetProperty("state").GetString());
        Assert.Equal(1, (await HealthAsync(agent)).GetProperty("timeSeries").GetProperty("backlog").GetInt64()); // kept, not dead-lettered: the point is not to blame
    }
}
