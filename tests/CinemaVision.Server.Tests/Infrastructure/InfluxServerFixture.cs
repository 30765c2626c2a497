using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace CinemaVision.Server.Tests.Infrastructure;

/// <summary>
/// Starts a real <c>influxd</c> (Debian package <c>influxdb</c>) on 127.0.0.1 with its data in a temp folder.
/// A missing binary fails the tests that need it: CI installs the package, so absence is an environment error.
/// </summary>
public sealed class InfluxServerFixture : IAsyncLifetime
{
    private Process? _process;
    private string _folder = string.Empty;

    /// <summary>A given port instead of a free one (a test that first shows the service with InfluxDB down, then starts it there).</summary>
    public int? Port { get; init; }

    public Uri Url { get; private set; } = new("http://127.0.0.1:1");

    public async Task InitializeAsync()
    {
        var binary = new[] { Environment.GetEnvironmentVariable("INFLUXD_PATH"), "/usr/bin/influxd", "/usr/local/bin/influxd" }
            .FirstOrDefault(p => !string.IsNullOrEmpty(p) && File.Exists(p))
            ?? throw new InvalidOperationException("influxd was not found (looked at $INFLUXD_PATH, /usr/bin/influxd, /usr/local/bin/influxd). Install the Debian package 'influxdb' (apt-get install influxdb).");

        _folder = Path.Combine(Path.GetTempPath(), "cv-influx-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
        var httpPort = Port ?? FreePort();
        var rpcPort = FreePort();
        var config = Path.Combine(_folder, "influxdb.conf");
        await File.WriteAllTextAsync(config, $"""
            reporting-disabled = true
            bind-address = "127.0.0.1:{rpcPort}"
            [meta]
              dir = "{_folder}/meta"
            [data]
              dir = "{_folder}/data"
              wal-dir = "{_folder}/wal"
              query-log-enabled = false
            [http]
              enabled = true
              bind-address = "127.0.0.1:{httpPort}"
              log-enabled = false
            [monitor]
              store-enabled = false
            [continuous_queries]
              enabled = false
            """);
        _process = Process.Start(new ProcessStartInfo(binary, ["run", "-config", config])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("influxd did not start.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        Url = new Uri($"http://127.0.0.1:{httpPort}/");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"influxd exited with code {_process.ExitCode} before serving (config {config}).");
            }

            try
            {
                using var ping = await http.GetAsync(new Uri(Url, "ping"));
                if (ping.StatusCode == HttpStatusCode.NoContent)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(200);
        }

        throw new InvalidOperationException($"influxd did not answer /ping on {Url} within 60 s.");
    }

    public async Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            await ResumeAsync();
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>SIGSTOP: influxd keeps its sockets open and accepts connections but answers nothing (a hung server).</summary>
    public Task PauseAsync() => SignalAsync("-STOP");

    /// <summary>SIGCONT: it answers again.</summary>
    public Task ResumeAsync() => SignalAsync("-CONT");

    /// <summary>Runs an InfluxQL query on <paramref name="database"/> and returns the JSON answer.</summary>
    public async Task<System.Text.Json.JsonElement> QueryAsync(string database, string influxQl)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var text = await http.GetStringAsync(new Uri(Url, $"query?db={Uri.EscapeDataString(database)}&epoch=ms&q={Uri.EscapeDataString(influxQl)}"));
        return System.Text.Json.JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>The single number a <c>SELECT count(x) ...</c> answers (0 when there is no series).</summary>
    public async Task<long> CountAsync(string database, string influxQl)
    {
        var result = (await QueryAsync(database, influxQl)).GetProperty("results")[0];
        return result.TryGetProperty("series", out var series) ? series[0].GetProperty("values")[0][1].GetInt64() : 0;
    }

    private async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", [signal, _process!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

[CollectionDefinition(Name)]
public sealed class InfluxCollection : ICollectionFixture<InfluxServerFixture>
{
    public const string Name = "influxd";
}
