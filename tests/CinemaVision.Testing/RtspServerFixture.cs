using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using CinemaVision.Vision.Assets;

namespace CinemaVision.Testing;

/// <summary>
/// A real RTSP server on 127.0.0.1 (Debian GStreamer gst-rtsp-server through python3-gi) serving H.264 files, looped
/// and paced in real time, one mount per file. It can be stopped and started again to test reconnection.
/// </summary>
public sealed class RtspServer : IAsyncDisposable
{
    private readonly IReadOnlyDictionary<string, string> _mounts;
    private Process? _process;

    /// <param name="mounts">Mount path (e.g. <c>cam1/main</c>) → H.264 MP4 file.</param>
    public RtspServer(IReadOnlyDictionary<string, string> mounts, int? port = null)
    {
        _mounts = mounts;
        Port = port ?? FreePort();
    }

    public int Port { get; }

    public string Url(string mount) => $"rtsp://127.0.0.1:{Port}/{mount.Trim('/')}";

    public async Task StartAsync()
    {
        var script = Path.Combine(AppContext.BaseDirectory, "rtsp_server.py");
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add(Port.ToString(CultureInfo.InvariantCulture));
        foreach (var (mount, file) in _mounts) psi.ArgumentList.Add($"{mount.Trim('/')}={file}");
        _process = Process.Start(psi)!;
        var ready = await _process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        if (ready != "ready") throw new InvalidOperationException($"the RTSP server did not start ({ready}): {await _process.StandardError.ReadToEndAsync()} (needs gir1.2-gst-rtsp-server-1.0, python3-gi, gstreamer1.0-plugins-*)");
        _ = _process.StandardError.ReadToEndAsync();
    }

    public async Task StopAsync()
    {
        if (_process is null) return;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        _process = null;
    }

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public ValueTask DisposeAsync() => new(StopAsync());
}

/// <summary>Sample footage turned into what cameras send (H.264 MP4s at a camera's sizes and rates), with Debian's ffmpeg.</summary>
public static class TestFootage
{
    public static string PetsClip => AssetLocator.Resolve("data/pets09-s2l1/vtest_first100.avi");

    /// <summary>
    /// Transcodes <paramref name="input"/> to H.264 at the given size and rate with a keyframe every
    /// <paramref name="gop"/> frames (a camera's GOP: one keyframe a second is usual).
    /// </summary>
    public static async Task<string> H264Async(string input, string output, int? width = null, int? height = null, int? fps = null, int gop = 7, string preset = "veryfast", int crf = 18)
    {
        if (File.Exists(output)) return output;
        var args = new List<string> { "-y", "-loglevel", "error", "-i", input };
        var filters = new List<string>();
        if (fps is { } f) filters.Add($"fps={f}");
        if (width is { } w && height is { } h) filters.Add($"scale={w}:{h}");
        if (filters.Count > 0) args.AddRange(["-vf", string.Join(",", filters)]);
        args.AddRange(["-c:v", "libx264", "-preset", preset, "-pix_fmt", "yuv420p", "-g", gop.ToString(CultureInfo.InvariantCulture), "-crf", crf.ToString(CultureInfo.InvariantCulture), "-an", output + ".tmp.mp4"]);
        var psi = new ProcessStartInfo("ffmpeg", args) { RedirectStandardError = true };
        using var ffmpeg = Process.Start(psi)!;
        var error = ffmpeg.StandardError.ReadToEndAsync();
        await ffmpeg.WaitForExitAsync();
        if (ffmpeg.ExitCode != 0) throw new InvalidOperationException($"ffmpeg could not transcode {input}: {await error}");
        File.Move(output + ".tmp.mp4", output, overwrite: true);
        return output;
    }
}

/// <summary>The PETS clip as H.264 at /stream on a real RTSP server, for camera tests.</summary>
public sealed class RtspServerFixture : Xunit.IAsyncLifetime
{
    private RtspServer? _server;
    private string _dir = "";

    public int Port => _server!.Port;
    public string Url => _server!.Url("stream");
    public string TranscodedFile { get; private set; } = "";

    public async Task InitializeAsync()
    {
        foreach (var tool in new[] { "/usr/bin/ffmpeg", "/usr/bin/python3" })
        {
            if (!File.Exists(tool)) throw new InvalidOperationException($"{tool} is missing: install the test packages (./scripts/setup --with-test-deps).");
        }

        _dir = Directory.CreateTempSubdirectory("cv-rtsp-").FullName;
        // Keyframe every 7 frames so a client joining (or rejoining) starts decoding quickly.
        TranscodedFile = await TestFootage.H264Async(TestFootage.PetsClip, Path.Combine(_dir, "pets.mp4"));
        _server = new RtspServer(new Dictionary<string, string> { ["stream"] = TranscodedFile });
        await _server.StartAsync();
    }

    public Task StartAsync() => _server!.StartAsync();

    public Task StopAsync() => _server!.StopAsync();

    public static int FreePort() => RtspServer.FreePort();

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
