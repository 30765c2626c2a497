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

    public Uri Url { get; private set; } = new("http://127.0.0.1:1");

    public async Task InitializeAsync()
    {
        var binary = new[] { Environment.GetEnvironmentVariable("INFLUXD_PATH"), "/usr/bin/influxd", "/usr/local/bin/influxd" }
            .FirstOrDefault(p => !string.IsNullOrEmpty(p) && File.Exists(p))
            ?? throw new InvalidOperationException("influxd was not found (looked at $INFLUXD_PATH, /usr/bin/influxd, /usr/local/bin/influxd). Install the Debian package 'influxdb' (apt-get install influxdb).");

        _folder = Path.Combine(Path.GetTempPath(), "cv-influx-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
        var httpPort = FreePort();
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
