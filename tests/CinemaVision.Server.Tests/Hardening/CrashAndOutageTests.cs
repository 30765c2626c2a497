using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CinemaVision.Core.Events;
using CinemaVision.Server.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace CinemaVision.Server.Tests.Hardening;

/// <summary>
/// Nothing accepted is lost, nothing is alerted twice: the service as its own process, SIGKILLed while it works;
/// a real influxd that hangs (SIGSTOP) and one that is down.
/// </summary>
public sealed class CrashAndOutageTests(ITestOutputHelper output)
{
    private const string Site = "site-a";

    /// <summary>One piracy incident per item, each at its own seat (so each is its own alert group).</summary>
    private static List<IngestBatch> PiracyBatches(string agent, int incidents, int perBatch)
    {
        var t = DateTimeOffset.UtcNow.AddMinutes(-5);
        return Enumerable.Range(0, incidents / perBatch).Select(b => new IngestBatch($"b{b}", agent, t, [.. Enumerable.Range(b * perBatch, perBatch).Select(i =>
            (EdgeEvent)new PiracySuspicion($"p{i}", $"inc-{i}", IncidentPhase.Start, RecordingDevice.Phone, Site, $"aud-{i % 12}", "cam-1", $"S{i}", t, t.AddMilliseconds(i), 6, 0.8))])).ToList();
    }

    private static async Task<HttpStatusCode> PostAsync(HttpClient agent, IngestBatch batch)
    {
        using var r = await agent.PostAsync(new Uri("/api/v1/ingest/batches", UriKind.Relative), ServerProcess.Json(batch));
        return r.StatusCode;
    }

    private static async Task<JsonElement> HealthAsync(HttpClient client) =>
        JsonDocument.Parse(await (await client.GetAsync(new Uri("/healthz", UriKind.Relative))).Content.ReadAsStringAsync()).RootElement.Clone();

    private static async Task WaitAsync(Func<Task<bool>> done, TimeSpan timeout, string what)
    {
        var sw = Stopwatch.StartNew();
        while (!await done())
        {
            if (sw.Elapsed > timeout) throw new TimeoutException($"{what} did not happen within {timeout.TotalSeconds} s");
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task AcknowledgedPiracyItems_ServiceSigkilledThreeTimes_EveryIncidentGetsExactlyOneAlert()
    {
        const int Incidents = 3000;
        using var data = new TempFolder("cv-sigkill-");
        var batches = PiracyBatches("edge-1", Incidents, 100);
        string key;
        await using (var first = new ServerProcess(data.Path))
        {
            await first.StartAsync();
            using var admin = await first.AdminAsync();
            key = await first.CreateAgentKeyAsync(admin, "edge-1", Site);
        }

        var acknowledged = new HashSet<string>();
        var kills = new[] { TimeSpan.Zero, TimeSpan.FromMilliseconds(40), TimeSpan.FromMilliseconds(250) };
        var round = 0;
        foreach (var delay in kills)
        {
            await using var server = new ServerProcess(data.Path);
            await server.StartAsync();
            using var agent = server.Client();
            agent.DefaultRequestHeaders.Add("X-Api-Key", key);

            // Four agents' worth of uploads at once; the service is killed while answering them and deciding alerts.
            var slice = batches.Skip(round * 10).Take(10).ToList();
            var posts = slice.Select(async b =>
            {
                try
                {
                    if (await PostAsync(agent, b) == HttpStatusCode.OK) lock (acknowledged) acknowledged.Add(b.BatchId);
                }
                catch (HttpRequestException)
                {
                }
                catch (TaskCanceledException)
                {
                }
            }).ToList();
            await Task.WhenAny(Task.WhenAll(posts), Task.Delay(TimeSpan.FromSeconds(60)));
            await Task.Delay(delay);
            await server.KillAsync();
            await Task.WhenAll(posts);
            round++;
        }

        output.WriteLine($"acknowledged before the kills: {acknowledged.Count} of 30 batches");

        // The agent re-sends everything (what it saw acknowledged and what it did not) until every batch is answered 200.
        await using (var last = new ServerProcess(data.Path))
        {
            await last.StartAsync();
            using var agent = last.Client();
            agent.DefaultRequestHeaders.Add("X-Api-Key", key);
            foreach (var b in batches)
            {
                Assert.Equal(HttpStatusCode.OK, await PostAsync(agent, b));
            }

            await WaitAsync(async () => (await HealthAsync(agent)).GetProperty("alerting").GetProperty("pendingSignals").GetInt64() == 0, TimeSpan.FromMinutes(3), "draining the alert signals");
        }

        SqliteConnection.ClearAllPools();
        using var db = new SqliteConnection($"Data Source={Path.Combine(data.Path, "state.db")};Pooling=False");
        db.Open();
        long Scalar(string sql)
        {
            using var cmd = db.CreateCommand();
            cmd.CommandText = sql;
            return Convert.ToInt64(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }

        var alerts = Scalar("SELECT COUNT(*) FROM alerts");
        var opened = Scalar("SELECT COUNT(*) FROM alert_history WHERE action = 'opened'");
        var joined = Scalar("SELECT COUNT(*) FROM alert_history WHERE action LIKE 'event %'");
        var multi = Scalar("SELECT COUNT(*) FROM alerts WHERE json_extract(body, '$.eventCount') <> 1");
        output.WriteLine($"alerts {alerts}, opened {opened}, joined {joined}, alerts with more than one event {multi}");
        Assert.Equal(Incidents, alerts);
        Assert.Equal(Incidents, opened);
        Assert.Equal(0, joined);
        Assert.Equal(0, multi);
    }

    [Fact]
    public async Task InfluxHangs_IngestAlertsSignInAndEvidenceCarryOn_BacklogShownThenDrained()
    {
        await using var influx = new InfluxServerFixture();
        await influx.InitializeAsync();
        using var data = new TempFolder("cv-hang-");
        await using var server = new ServerProcess(data.Path, new()
        {
            ["CinemaVision:TimeSeries:Provider"] = "Influx",
            ["CinemaVision:TimeSeries:Influx:Url"] = influx.Url.ToString(),
            ["CinemaVision:TimeSeries:Influx:Database"] = "cv_hang",
            ["CinemaVision:TimeSeries:Influx:TimeoutSeconds"] = "3",
        });
        await server.StartAsync();
        using var admin = await server.AdminAsync();
        var key = await server.CreateAgentKeyAsync(admin, "edge-1", Site);
        using var agent = server.Client();
        agent.DefaultRequestHeaders.Add("X-Api-Key", key);

        await influx.PauseAsync();
        var t0 = DateTimeOffset.UtcNow.AddMinutes(-10);
        var latencies = new List<double>();
        for (var b = 0; b < 20; b++)
        {
            var events = Enumerable.Range(0, 99).Select(i => (EdgeEvent)Samples.Occupancy($"o{b}-{i}", Site, "aud-1", t0.AddMilliseconds((b * 100) + i), i)).ToList();
            events.Add(new PiracySuspicion($"p{b}", $"inc-{b}", IncidentPhase.Start, RecordingDevice.Phone, Site, "aud-1", "cam-1", $"S{b}", t0, t0.AddSeconds(b), 6, 0.9));
            var sw = Stopwatch.StartNew();
            Assert.Equal(HttpStatusCode.OK, await PostAsync(agent, new IngestBatch($"b{b}", "edge-1", t0, events)));
            latencies.Add(sw.Elapsed.TotalMilliseconds);
        }

        latencies.Sort();
        output.WriteLine(FormattableString.Invariant($"influxd stopped (SIGSTOP): 20 batches of 100 acknowledged, p50 {latencies[10]:0} ms, max {latencies[^1]:0} ms"));
        Assert.True(latencies[^1] < 20_000, "a batch waited on the hung InfluxDB");

        // Alerts are raised although InfluxDB does not answer; people can sign in; evidence is stored.
        await WaitAsync(async () => (await admin.GetFromJsonAsync<JsonElement>("/api/v1/alerts")).GetArrayLength() == 20, TimeSpan.FromSeconds(60), "20 piracy alerts");
        using (var again = await server.AdminAsync()) Assert.NotNull(again);
        using (var jpeg = new ByteArrayContent(TestImages.Jpeg(64, 48)))
        {
            jpeg.Headers.ContentType = new("image/jpeg");
            using var put = await agent.PutAsync(new Uri("/api/v1/evidence/ev-hang-1.jpg", UriKind.Relative), jpeg);
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        await WaitAsync(async () => (await HealthAsync(agent)).GetProperty("timeSeries").GetProperty("state").GetString() == "Retrying", TimeSpan.FromSeconds(60), "the forwarder reporting retries");
        var health = await HealthAsync(agent);
        output.WriteLine("health while influxd hangs: " + health);
        Assert.Equal("Degraded", health.GetProperty("status").GetString());
        Assert.Equal(2000, health.GetProperty("timeSeries").GetProperty("backlog").GetInt64());
        var metrics = await agent.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Contains("cinemavision_timeseries_backlog_events 2000", metrics, StringComparison.Ordinal);

        await influx.ResumeAsync();
        var drain = Stopwatch.StartNew();
        await WaitAsync(async () => (await HealthAsync(agent)).GetProperty("timeSeries").GetProperty("backlog").GetInt64() == 0, TimeSpan.FromMinutes(2), "the backlog draining");
        output.WriteLine(FormattableString.Invariant($"influxd resumed (SIGCONT): backlog of 2000 drained in {drain.Elapsed.TotalSeconds:0.0} s"));
        Assert.Equal(1980, await influx.CountAsync("cv_hang", "SELECT count(people) FROM \"raw\".occupancy"));
        Assert.Equal(20, await influx.CountAsync("cv_hang", "SELECT count(confidence) FROM \"rollup\".incident"));
        Assert.Equal("Healthy", (await HealthAsync(agent)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task InfluxDown_EventsAcceptedUpToTheBound_Then429_AllWrittenOnceItStarts()
    {
        var port = InfluxServerFixture.FreePort();
        using var data = new TempFolder("cv-down-");
        await using var server = new ServerProcess(data.Path, new()
        {
            ["CinemaVision:TimeSeries:Provider"] = "Influx",
            ["CinemaVision:TimeSeries:Influx:Url"] = $"http://127.0.0.1:{port}",
            ["CinemaVision:TimeSeries:Influx:Database"] = "cv_down",
            ["CinemaVision:TimeSeries:Influx:TimeoutSeconds"] = "2",
            ["CinemaVision:Ingest:MaxForwardBacklog"] = "1000",
            ["CinemaVision:Ingest:BacklogRetryAfterSeconds"] = "7",
        });
        await server.StartAsync();
        using var admin = await server.AdminAsync();
        var key = await server.CreateAgentKeyAsync(admin, "edge-1", Site);
        using var agent = server.Client();
        agent.DefaultRequestHeaders.Add("X-Api-Key", key);
        var t0 = DateTimeOffset.UtcNow.AddMinutes(-10);
        IngestBatch Batch(int b) => new($"b{b}", "edge-1", t0, [.. Enumerable.Range(0, 100).Select(i => (EdgeEvent)Samples.Occupancy($"o{b}-{i}", Site, "aud-1", t0.AddMilliseconds((b * 100) + i), i))]);

        for (var b = 0; b < 10; b++)
        {
            Assert.Equal(HttpStatusCode.OK, await PostAsync(agent, Batch(b)));
        }

        // The bound: the next batch is refused whole with a reason and Retry-After; nothing of it is stored.
        using (var refused = await agent.PostAsync(new Uri("/api/v1/ingest/batches", UriKind.Relative), ServerProcess.Json(Batch(10))))
        {
            Assert.Equal((HttpStatusCode)429, refused.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(7), refused.Headers.RetryAfter?.Delta);
            Assert.Contains("backlog", await refused.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        }

        using (var unhealthy = await agent.GetAsync(new Uri("/healthz", UriKind.Relative))) Assert.Equal(HttpStatusCode.ServiceUnavailable, unhealthy.StatusCode);

        await using var influx = new InfluxServerFixture { Port = port };
        await influx.InitializeAsync();
        await WaitAsync(async () => (await HealthAsync(agent)).GetProperty("timeSeries").GetProperty("backlog").GetInt64() == 0, TimeSpan.FromMinutes(2), "the backlog draining");
        Assert.Equal(HttpStatusCode.OK, await PostAsync(agent, Batch(10)));
        await WaitAsync(async () => (await HealthAsync(agent)).GetProperty("timeSeries").GetProperty("backlog").GetInt64() == 0, TimeSpan.FromMinutes(1), "the last batch written");
        Assert.Equal(1100, await influx.CountAsync("cv_down", "SELECT count(people) FROM \"raw\".occupancy"));
    }

    [Fact]
    public async Task InfluxForwarderSigkilled_ReplayedChunksStoredOnce()
    {
        await using var influx = new InfluxServerFixture();
        await influx.InitializeAsync();
        using var data = new TempFolder("cv-fwd-kill-");
        var settings = new Dictionary<string, string>
        {
            ["CinemaVision:TimeSeries:Provider"] = "Influx",
            ["CinemaVision:TimeSeries:Influx:Url"] = influx.Url.ToString(),
            ["CinemaVision:TimeSeries:Influx:Database"] = "cv_fwd_kill",
            ["CinemaVision:TimeSeries:Influx:MaxPointsPerWrite"] = "200",
        };
        var t0 = DateTimeOffset.UtcNow.AddMinutes(-10);
        string key;
        await using (var server = new ServerProcess(data.Path, settings))
        {
            await server.StartAsync();
            using var admin = await server.AdminAsync();
            key = await server.CreateAgentKeyAsync(admin, "edge-1", Site);
            using var agent = server.Client();
            agent.DefaultRequestHeaders.Add("X-Api-Key", key);
            for (var b = 0; b < 30; b++)
            {
                Assert.Equal(HttpStatusCode.OK, await PostAsync(agent, new IngestBatch($"b{b}", "edge-1", t0, [.. Enumerable.Range(0, 200).Select(i => (EdgeEvent)Samples.Occupancy($"o{b}-{i}", Site, "aud-1", t0.AddMilliseconds((b * 200) + i), i))])));
            }

            await server.KillAsync(); // mid-forwarding: some chunks written, some not, maybe one written but not yet deleted
        }

        await using (var again = new ServerProcess(data.Path, settings))
        {
            await again.StartAsync();
            using var client = again.Client();
            await WaitAsync(async () => (await HealthAsync(client)).GetProperty("timeSeries").GetProperty("backlog").GetInt64() == 0, TimeSpan.FromMinutes(2), "the backlog draining");
        }

        // 6000 samples: every one written once, none lost, none twice.
        Assert.Equal(6000, await influx.CountAsync("cv_fwd_kill", "SELECT count(people) FROM \"raw\".occupancy"));
    }
}
