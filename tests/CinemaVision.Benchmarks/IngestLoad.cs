using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization;
using CinemaVision.Core.Events;

namespace CinemaVision.Benchmarks;

/// <summary>
/// Sustained ingest against the real central host on loopback: starts CinemaVision.Server as its own process on
/// 127.0.0.1, registers an agent, then 8 concurrent clients post batches of 100 events for a fixed time and the
/// tool prints events/s and latency percentiles. Bounded in time and count.
///   dotnet run -c Release --project tests/CinemaVision.Benchmarks -- ingest-load [--seconds 20] [--clients 8]
///     [--batch 100] [--influx http://127.0.0.1:8086]
/// </summary>
internal static class IngestLoad
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) } };

    public static async Task<int> RunAsync(string[] args)
    {
        string Arg(string name, string fallback) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? fallback;
        int seconds = int.Parse(Arg("--seconds", "20"), CultureInfo.InvariantCulture);
        int clients = int.Parse(Arg("--clients", "8"), CultureInfo.InvariantCulture);
        int batchSize = int.Parse(Arg("--batch", "100"), CultureInfo.InvariantCulture);
        string? influx = args.Contains("--influx") ? Arg("--influx", "") : null;

        var serverDll = Path.Combine(AppContext.BaseDirectory, "CinemaVision.Server.dll");
        var data = Directory.CreateTempSubdirectory("cv-load-").FullName;
        int port = FreePort();
        const string Password = "load-test-admin-password";
        var psi = new ProcessStartInfo("dotnet", [serverDll, "--urls", $"http://127.0.0.1:{port}"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["CinemaVision__DataDirectory"] = data;
        psi.Environment["CinemaVision__BootstrapAdmin__Password"] = Password;
        psi.Environment["CinemaVision__Ingest__MaxConcurrentBatches"] = "16";
        psi.Environment["Logging__LogLevel__Default"] = "Warning";
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        if (influx is not null)
        {
            psi.Environment["CinemaVision__TimeSeries__Provider"] = "Influx";
            psi.Environment["CinemaVision__TimeSeries__Influx__Url"] = influx;
            psi.Environment["CinemaVision__TimeSeries__Influx__Database"] = "cv_load_" + port;
        }

        using var server = Process.Start(psi)!;
        _ = server.StandardOutput.ReadToEndAsync();
        _ = server.StandardError.ReadToEndAsync();
        try
        {
            var baseUri = new Uri($"http://127.0.0.1:{port}");
            using var admin = new HttpClient(new HttpClientHandler { UseCookies = true, AllowAutoRedirect = false }) { BaseAddress = baseUri };
            await WaitUpAsync(admin);
            using (var login = await admin.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string> { ["username"] = "admin", ["password"] = Password, ["returnUrl"] = "/" }))) { }
            using var created = await admin.PostAsJsonAsync("/api/v1/admin/agents", new { agentId = "load-agent", siteId = "site-load", displayName = "load" });
            created.EnsureSuccessStatusCode();
            var key = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("apiKey").GetString()!;

            var latencies = new List<double>();
            long events = 0, rejected = 0;
            var stop = DateTimeOffset.UtcNow.AddSeconds(seconds);
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
            {
                using var http = new HttpClient { BaseAddress = baseUri };
                http.DefaultRequestHeaders.Add("X-Api-Key", key);
                var local = new List<double>();
                int n = 0;
                while (DateTimeOffset.UtcNow < stop)
                {
                    var batch = Batch(c, n++, batchSize);
                    var sw = Stopwatch.StartNew();
                    using var response = await http.PostAsJsonAsync("/api/v1/ingest/batches", batch, Json);
                    sw.Stop();
                    if (response.IsSuccessStatusCode)
                    {
                        local.Add(sw.Elapsed.TotalMilliseconds);
                        Interlocked.Add(ref events, batch.ItemCount);
                    }
                    else
                    {
                        Interlocked.Increment(ref rejected);
                        if (response.StatusCode != HttpStatusCode.TooManyRequests) throw new InvalidOperationException($"ingest answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                    }
                }

                lock (latencies) latencies.AddRange(local);
            }));
            var elapsed = clock.Elapsed.TotalSeconds;
            latencies.Sort();
            double P(double q) => latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(q * latencies.Count) - 1)];
            Console.WriteLine(FormattableString.Invariant(
                $"store {(influx is null ? "embedded SQLite" : "InfluxDB " + influx)}: {clients} clients, batches of {batchSize}, {elapsed:0.0} s: {events / elapsed:0} events/s, {latencies.Count} batches, latency p50 {P(0.5):0.0} ms, p99 {P(0.99):0.0} ms, max {latencies[^1]:0.0} ms, 429s {rejected}"));
            return 0;
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
            try { Directory.Delete(data, recursive: true); } catch (IOException) { }
        }
    }

    private static IngestBatch Batch(int client, int n, int size)
    {
        var now = DateTimeOffset.UtcNow;
        var occupancy = new List<EdgeEvent>(size);
        for (int i = 0; i < size; i++)
        {
            occupancy.Add(new OccupancySample($"c{client}-b{n}-i{i}", "site-load", $"aud-{i % 12}", null, now.AddMilliseconds(-i), 100 + i, 90, 200, 2, 0.95));
        }

        return new IngestBatch($"c{client}-b{n}", "load-agent", now, occupancy);
    }

    private static async Task WaitUpAsync(HttpClient http)
    {
        for (int i = 0; i < 100; i++)
        {
            try
            {
                using var r = await http.GetAsync("/healthz");
                if (r.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(200);
        }

        throw new TimeoutException("the server did not start");
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
