using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using CinemaVision.Vision.Assets;

namespace CinemaVision.Vision.Tests.Cameras;

/// <summary>
/// A real RTSP server on 127.0.0.1 (Debian GStreamer gst-rtsp-server through python3-gi) serving the PETS clip
/// transcoded to H.264, looped. It can be stopped and started again to test reconnection.
/// </summary>
public sealed class RtspServerFixture : IAsyncLifetime
{
    private Process? _server;
    private string _dir = "";

    public int Port { get; private set; }
    public string Url => $"rtsp://127.0.0.1:{Port}/stream";
    public string TranscodedFile { get; private set; } = "";

    public async Task InitializeAsync()
    {
        foreach (var tool in new[] { "/usr/bin/ffmpeg", "/usr/bin/python3" })
        {
            if (!File.Exists(tool)) throw new InvalidOperationException($"{tool} is missing: install the test packages (./scripts/setup --with-test-deps).");
        }

        _dir = Directory.CreateTempSubdirectory("cv-rtsp-").FullName;
        TranscodedFile = Path.Combine(_dir, "pets.mp4");
        // Keyframe every 7 frames so a client joining (or rejoining) starts decoding quickly.
        var transcode = Process.Start(new ProcessStartInfo("ffmpeg", ["-y", "-loglevel", "error", "-i", AssetLocator.Resolve("data/pets09-s2l1/vtest_first100.avi"),
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", "7", "-crf", "18", TranscodedFile]) { RedirectStandardError = true })!;
        await transcode.WaitForExitAsync();
        if (transcode.ExitCode != 0) throw new InvalidOperationException("ffmpeg could not transcode the PETS clip: " + await transcode.StandardError.ReadToEndAsync());
        Port = FreePort();
        await StartAsync();
    }

    public async Task StartAsync()
    {
        var script = Path.Combine(AppContext.BaseDirectory, "Cameras", "rtsp_server.py");
        _server = Process.Start(new ProcessStartInfo("/usr/bin/python3", [script, Port.ToString(System.Globalization.CultureInfo.InvariantCulture), TranscodedFile])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var ready = await _server.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        if (ready != "ready") throw new InvalidOperationException($"the RTSP server did not start ({ready}): {await _server.StandardError.ReadToEndAsync()} (needs gir1.2-gst-rtsp-server-1.0, python3-gi, gstreamer1.0-plugins-*)");
    }

    public async Task StopAsync()
    {
        if (_server is null) return;
        _server.Kill(entireProcessTree: true);
        await _server.WaitForExitAsync();
        _server.Dispose();
        _server = null;
    }

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public async Task DisposeAsync()
    {
        await StopAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}

[CollectionDefinition("rtsp")]
public sealed class RtspCollection : ICollectionFixture<RtspServerFixture>;
