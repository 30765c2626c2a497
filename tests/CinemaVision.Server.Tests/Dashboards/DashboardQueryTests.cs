using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CinemaVision.Core.Events;
using CinemaVision.Server.Storage.TimeSeries;
using CinemaVision.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CinemaVision.Server.Tests.Dashboards;

/// <summary>
/// The Grafana dashboards in <c>dashboards/**/*.json</c> are code, so they are tested like code: a realistic day of
/// events goes through the real ingest API into the real service configured for InfluxDB, the forwarder drains its
/// backlog into a real influxd and the rollup runs; then every InfluxQL query the dashboards hold (panel targets and
/// template variables), with Grafana's macros substituted, must run without error and return rows. A query against a
/// measurement, retention policy, tag or field the service does not write fails here, naming dashboard, panel and query.
/// </summary>
[Collection(InfluxCollection.Name)]
public sealed class DashboardQueryTests(InfluxServerFixture influx)
{
    private const string Database = "cv_dashboards";
    private static readonly SemaphoreSlim LoadGate = new(1, 1);
    private static InfluxServerFixture? _loadedInto;
    private static DateTimeOffset _from;
    private static DateTimeOffset _to;

    /// <summary>The values the template variables take: the ingested site, auditorium, camera and agent.</summary>
    private static readonly Dictionary<string, string> Variables = new(StringComparer.Ordinal)
    {
        ["site"] = "cinema-north",
        ["auditorium"] = "screen-1",
        ["camera"] = "cam-rear",
        ["agent"] = "edge-north-1",
    };

    public static TheoryData<string, string, string> Queries()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var q in DashboardQueries.FindAll(DashboardQueries.DashboardsFolder()))
        {
            data.Add(q.Dashboard, q.Where, q.Query);
        }

        return data;
    }

    [Fact]
    public void Dashboards_HoldQueries_EveryTargetIsARawInfluxQlQuery()
    {
        var found = DashboardQueries.FindAll(DashboardQueries.DashboardsFolder());
        Assert.True(found.Count >= 10, $"expected the dashboards' queries, found {found.Count} under {DashboardQueries.DashboardsFolder()}");
        Assert.Empty(DashboardQueries.TargetsWithoutRawQuery(DashboardQueries.DashboardsFolder()));
    }

    [Theory]
    [MemberData(nameof(Queries))]
    public async Task DashboardQuery_OnIngestedEvents_SucceedsAndReturnsRows(string dashboard, string where, string query)
    {
        await EnsureLoadedAsync();
        var influxQl = GrafanaMacros.Substitute(query, Variables, _from, _to);

        var answer = await influx.QueryAsync(Database, influxQl);

        var context = $"dashboard {dashboard}, {where}: {query}\n  ran as: {influxQl}\n  answer: {answer}";
        Assert.False(answer.TryGetProperty("error", out _), "InfluxDB refused the query. " + context);
        var result = answer.GetProperty("results")[0];
        Assert.False(result.TryGetProperty("error", out _), "InfluxDB refused the query. " + context);
        Assert.True(result.TryGetProperty("series", out var series) && series.EnumerateArray().Any(s => s.TryGetProperty("values", out var v) && v.GetArrayLength() > 0), "the query returned no rows. " + context);
    }

    /// <summary>Loads the events once per influxd (every theory case reads the same data).</summary>
    private async Task EnsureLoadedAsync()
    {
        await LoadGate.WaitAsync();
        try
        {
            if (ReferenceEquals(_loadedInto, influx))
            {
                return;
            }

            await LoadAsync();
            _loadedInto = influx;
        }
        finally
        {
            LoadGate.Release();
        }
    }

    private async Task LoadAsync()
    {
        using var server = new ServerFactory(new()
        {
            ["CinemaVision:TimeSeries:Provider"] = "Influx",
            ["CinemaVision:TimeSeries:Influx:Url"] = influx.Url.ToString(),
            ["CinemaVision:TimeSeries:Influx:Database"] = Database,
        });
        var site = Variables["site"];
        var agentId = Variables["agent"];
        var (agent, _) = await server.AgentClientAsync(agentId, site);
        using (agent)
        {
            var end = DateTimeOffset.UtcNow.AddMinutes(-2);
            end = new DateTimeOffset(end.Year, end.Month, end.Day, end.Hour, end.Minute, 0, TimeSpan.Zero);
            var start = end.AddMinutes(-90);
            _from = start.AddMinutes(-5);
            _to = DateTimeOffset.UtcNow.AddMinutes(1);

            var batches = ShowingDay.Events(site, agentId, start, end).Chunk(500).Select((events, i) => new IngestBatch($"dash-{i}", agentId, DateTimeOffset.UtcNow, events)).ToList();
            foreach (var batch in batches)
            {
                using var posted = await agent.PostAsJsonAsync("/api/v1/ingest/batches", batch, IngestJson.Options);
                Assert.True(posted.StatusCode == HttpStatusCode.OK, $"batch {batch.BatchId}: {(int)posted.StatusCode} {await posted.Content.ReadAsStringAsync()}");
            }

            // The forwarder writes in the background: wait until its backlog is empty, with nothing dead-lettered.
            var sw = Stopwatch.StartNew();
            JsonElement timeSeries;
            do
            {
                await Task.Delay(200);
                timeSeries = (await agent.GetFromJsonAsync<JsonElement>("/healthz")).GetProperty("timeSeries");
            }
            while (timeSeries.GetProperty("backlog").GetInt64() > 0 && sw.Elapsed < TimeSpan.FromSeconds(120));

            Assert.True(timeSeries.GetProperty("backlog").GetInt64() == 0, $"the InfluxDB backlog did not drain: {timeSeries}");
            Assert.True(timeSeries.GetProperty("deadLetters").GetInt64() == 0, $"InfluxDB refused events: {timeSeries}");

            // The 1-minute rollup is what the service's maintenance timer runs every few minutes; run it now.
            await server.Services.GetRequiredService<ITimeSeriesStore>().RunMaintenanceAsync(DateTimeOffset.UtcNow, default);
        }
    }
}

/// <summary>A realistic stretch of one site: two auditoriums in a showing, with every event type an agent sends.</summary>
internal static class ShowingDay
{
    public static IEnumerable<EdgeEvent> Events(string site, string agentId, DateTimeOffset start, DateTimeOffset end)
    {
        string[] auditoriums = ["screen-1", "screen-2"];
        string[] cameras = ["cam-front", "cam-rear"];
        var n = 0;
        string Id(string kind) => $"{kind}-{n++}";

        for (var t = start; t <= end; t = t.AddSeconds(30))
        {
            var minute = (t - start).TotalMinutes;
            foreach (var aud in auditoriums)
            {
                var people = (int)Math.Min(180, minute * 3);
                yield return new OccupancySample(Id("occ"), site, aud, null, t, people, people, 200, 4, 0.92);
                foreach (var cam in cameras)
                {
                    yield return new OccupancySample(Id("occ"), site, aud, cam, t, people / 2, people / 2, 100, 2, 0.9);
                }
            }

            yield return new AgentHealth(Id("hb"), agentId, site, t, "1.0.0",
                [.. auditoriums.SelectMany(a => cameras.Select(c => new CameraStatus(c, a, true, 2.5, (long)(minute * 600), (long)(minute * 540), 0, 180)))],
                OutboxPending: (long)(minute % 7), CpuPercent: 140, ManagedMemoryBytes: 200_000_000, OutboxBytes: 4096, UploadLagSeconds: 0.4, UptimeSeconds: minute * 60);
        }

        for (var row = 0; row < 10; row++)
        {
            var seat = $"{(char)('A' + row)}{row + 3}";
            yield return new SeatStateChange(Id("seat"), site, "screen-1", "cam-rear", seat, start.AddMinutes(5 + row), SeatState.Occupied, 0.93);
            yield return new SeatStateChange(Id("seat"), site, "screen-1", "cam-rear", seat, start.AddMinutes(80 + row % 3), row == 0 ? SeatState.ObjectOnSeat : SeatState.Empty, 0.88);
        }

        var at = start.AddMinutes(20);
        foreach (var kind in Enum.GetValues<AnomalyKind>())
        {
            var incident = Id("anomaly-incident");
            yield return new AnomalyEvent(Id("anomaly"), incident, IncidentPhase.Start, kind, site, "screen-1", "cam-front", at, at, "aisle-left", null, 2, 0.81, $"{kind} seen");
            yield return new AnomalyEvent(Id("anomaly"), incident, IncidentPhase.End, kind, site, "screen-1", "cam-front", at, at.AddMinutes(2), "aisle-left", null, 0, 0.81, $"{kind} over");
            at = at.AddMinutes(3);
        }

        foreach (var device in Enum.GetValues<RecordingDevice>())
        {
            var incident = Id("piracy-incident");
            yield return new PiracySuspicion(Id("piracy"), incident, IncidentPhase.Start, device, site, "screen-1", "cam-rear", "F12", at, at, 6.5, 0.77, "ev-" + incident, "held up toward the screen");
            yield return new PiracySuspicion(Id("piracy"), incident, IncidentPhase.Update, device, site, "screen-1", "cam-rear", "F12", at, at.AddSeconds(30), 36.5, 0.8, "ev-" + incident);
            yield return new PiracySuspicion(Id("piracy"), incident, IncidentPhase.End, device, site, "screen-1", "cam-rear", "F12", at, at.AddMinutes(1), 60, 0.8, "ev-" + incident);
            at = at.AddMinutes(2);
        }

        foreach (var kind in Enum.GetValues<CameraHealthKind>())
        {
            var incident = Id("camera-incident");
            yield return new CameraHealthEvent(Id("camera"), incident, IncidentPhase.Start, kind, site, "screen-2", "cam-front", at, at, 12.5, 10, $"{kind}");
            yield return new CameraHealthEvent(Id("camera"), incident, IncidentPhase.End, kind, site, "screen-2", "cam-front", at, at.AddMinutes(1), 2, 10, "recovered");
            at = at.AddMinutes(2);
        }
    }
}
