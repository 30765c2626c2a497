using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using CinemaVision.Core.Cameras;
using CinemaVision.Core.Frames;
using CinemaVision.Vision.Assets;
using CinemaVision.Vision.Cameras;
using CinemaVision.Vision.Frames;
using OpenCvSharp;

namespace CinemaVision.Vision.Tests.Cameras;

[Collection("rtsp")]
public sealed class StreamSourceTests(RtspServerFixture rtsp, Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static CameraSource Camera(string url, double fps = 30) => new()
    {
        CameraId = "cam-test",
        Url = url,
        AnalysisFps = fps,
        StallTimeout = TimeSpan.FromSeconds(3),
        BackoffInitial = TimeSpan.FromMilliseconds(200),
        BackoffMax = TimeSpan.FromSeconds(1),
    };

    private static async Task<FrameSourceStatus> WaitForAsync(IFrameSource source, Func<FrameSourceStatus, bool> condition, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < timeout)
        {
            if (condition(source.Status)) return source.Status;
            await Task.Delay(100);
        }

        return source.Status;
    }

    [Fact]
    public async Task Rtsp_FramesMatchTheFilesFrames_PsnrAbove30dB()
    {
        var original = new List<Mat>();
        using (var capture = new VideoCapture(AssetLocator.Resolve("data/pets09-s2l1/vtest_first100.avi")))
        {
            for (int i = 0; i < 100; i++)
            {
                var m = new Mat();
                if (!capture.Read(m)) break;
                original.Add(m);
            }
        }

        await using var source = FrameSources.Create(Camera(rtsp.Url));
        var psnrs = new List<double>();
        for (int i = 0; i < 10; i++)
        {
            using var frame = await source.NextFrameAsync(Wait);
            Assert.NotNull(frame);
            var mat = MatFrame.MatOf(frame);
            Assert.Equal(new Size(768, 576), mat.Size());
            // The stream joins the loop anywhere: align each frame with the clip frame it matches best.
            psnrs.Add(original.Max(o => Cv2.PSNR(o, mat)));
        }

        foreach (var m in original) m.Dispose();
        output.WriteLine(FormattableString.Invariant($"PSNR min {psnrs.Min():0.0} dB, mean {psnrs.Average():0.0} dB"));
        Assert.True(psnrs.Min() > 30, $"PSNR {string.Join(", ", psnrs.Select(p => p.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)))}");
    }

    [Fact]
    public async Task Rtsp_ServerKilledAndRestarted_ReconnectsAndFramesFlowAgain()
    {
        // A stall timeout a loaded CI machine can meet (ffmpeg start, RTSP set-up and the first keyframe); the server's
        // death is seen at once (the connection closes), not through the stall timeout.
        await using var source = FrameSources.Create(Camera(rtsp.Url) with { StallTimeout = TimeSpan.FromSeconds(8) });
        using (var first = await source.NextFrameAsync(Wait)) Assert.NotNull(first);

        await rtsp.StopAsync();
        var down = await WaitForAsync(source, s => s.Reconnects > 0, TimeSpan.FromSeconds(20));
        Assert.True(down.Reconnects > 0, $"no reconnect after the server went away (state {down.State}, error {down.LastError})");
        Assert.NotNull(down.LastError);

        await rtsp.StartAsync();
        var restartedAt = Stopwatch.StartNew(); // the camera is back (the server listens) from here
        long readBefore = down.FramesRead;
        var up = await WaitForAsync(source, s => s.FramesRead > readBefore + 1, TimeSpan.FromSeconds(30));
        Assert.True(up.FramesRead > readBefore + 1, $"frames did not flow again (state {up.State}, error {up.LastError})");
        Assert.Equal(FrameSourceState.Streaming, up.State);
        output.WriteLine(FormattableString.Invariant($"frames flowing again {restartedAt.Elapsed.TotalSeconds:0.00} s after the server restarted; reconnects {up.Reconnects}"));
        // Resumed within the backoff maximum plus connection set-up; generous for a loaded CI machine.
        Assert.True(restartedAt.Elapsed < TimeSpan.FromSeconds(15), $"resumed after {restartedAt.Elapsed.TotalSeconds:0.0} s");
    }

    [Fact]
    public async Task Rtsp_WrongPath_ClearReason()
    {
        await using var source = FrameSources.Create(Camera($"rtsp://127.0.0.1:{rtsp.Port}/no-such-stream"));
        source.Start();
        var status = await WaitForAsync(source, s => s.LastError is not null, Wait);
        Assert.Contains("404", status.LastError, StringComparison.Ordinal);
        Assert.Equal(0, status.FramesRead);
    }

    [Fact]
    public async Task Rtsp_ConnectionRefused_ClearReason()
    {
        await using var source = FrameSources.Create(Camera($"rtsp://127.0.0.1:{RtspServerFixture.FreePort()}/stream"));
        source.Start();
        var status = await WaitForAsync(source, s => s.LastError is not null, Wait);
        Assert.Contains("refused", status.LastError, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Stream_ServerSendingGarbage_ClearReasonAndNoFrames()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var cts = new CancellationTokenSource();
        var garbage = Task.Run(async () =>
        {
            var random = new Random(7);
            while (!cts.IsCancellationRequested)
            {
                using var client = await listener.AcceptTcpClientAsync(cts.Token);
                var bytes = new byte[4096];
                random.NextBytes(bytes);
                try { await client.GetStream().WriteAsync(bytes, cts.Token); } catch (IOException) { }
                client.Close();
            }
        });

        await using (var source = FrameSources.Create(Camera($"http://127.0.0.1:{port}/video.mjpg")))
        {
            source.Start();
            var status = await WaitForAsync(source, s => s.LastError is not null, Wait);
            Assert.False(string.IsNullOrWhiteSpace(status.LastError));
            Assert.Contains($"127.0.0.1:{port}", status.LastError, StringComparison.Ordinal);
            Assert.Equal(0, status.FramesRead);
        }

        await cts.CancelAsync();
        try { await garbage; } catch (OperationCanceledException) { }
    }

    [Fact]
    public async Task Dispose_WhileStreaming_LeavesNoFfmpegProcess()
    {
        var source = (FfmpegSource)FrameSources.Create(Camera(rtsp.Url));
        using (var frame = await source.NextFrameAsync(Wait)) Assert.NotNull(frame);
        int pid = source.ProcessId ?? throw new InvalidOperationException("no ffmpeg process while streaming");

        await source.DisposeAsync();

        Assert.False(File.Exists($"/proc/{pid}/stat") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal), $"ffmpeg {pid} still running");
        Assert.False(File.Exists($"/proc/{pid}/stat"), $"ffmpeg {pid} left as a zombie");
    }

    [Fact]
    public async Task AgentKilled_ItsFfmpegChildDoesNotSurvive()
    {
        // The agent is a separate process (cvtools probe) killed with SIGKILL: no cleanup code of ours runs.
        var agent = Process.Start(new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "cvtools.dll"), "probe", rtsp.Url, "--frames", "100000", "--fps", "2"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        int? ffmpeg = null;
        var sw = Stopwatch.StartNew();
        while (ffmpeg is null && sw.Elapsed < TimeSpan.FromSeconds(40))
        {
            await Task.Delay(200);
            ffmpeg = ChildrenOf(agent.Id).FirstOrDefault(pid => File.ReadAllText($"/proc/{pid}/comm").Trim() == "ffmpeg") is var p and > 0 ? p : null;
        }

        try
        {
            Assert.True(ffmpeg is not null, "the agent never started ffmpeg");
            agent.Kill(entireProcessTree: false);
            await agent.WaitForExitAsync();
            var gone = Stopwatch.StartNew();
            while (Alive(ffmpeg!.Value) && gone.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(100);
            output.WriteLine(FormattableString.Invariant($"orphaned ffmpeg ended {gone.Elapsed.TotalSeconds:0.0} s after the agent was killed"));
            Assert.False(Alive(ffmpeg.Value), $"ffmpeg {ffmpeg} survived its agent");
        }
        finally
        {
            if (!agent.HasExited) agent.Kill(entireProcessTree: true);
            if (ffmpeg is { } f && Alive(f)) Process.GetProcessById(f).Kill();
        }
    }

    private static IEnumerable<int> ChildrenOf(int parent)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            string stat;
            try { stat = File.ReadAllText(Path.Combine(dir, "stat")); } catch (IOException) { continue; } catch (UnauthorizedAccessException) { continue; }
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (int.TryParse(fields[1], out var ppid) && ppid == parent) yield return pid;
        }
    }

    /// <summary>Running, not a zombie waiting to be reaped by init.</summary>
    private static bool Alive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }
}
