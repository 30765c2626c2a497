using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using CinemaVision.Core.Cameras;
using CinemaVision.Core.Frames;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OpenCvSharp;

namespace CinemaVision.Vision.Cameras;

/// <summary>Creates the right source for a camera's configuration.</summary>
public static class FrameSources
{
    public static IFrameSource Create(CameraSource config, ILoggerFactory? loggers = null)
    {
        var problems = config.Validate().ToList();
        if (problems.Count > 0) throw new ArgumentException($"Camera '{config.CameraId}': " + string.Join(" ", problems), nameof(config));
        var logger = (loggers ?? NullLoggerFactory.Instance).CreateLogger("CinemaVision.Camera");
        return config.ResolvedKind switch
        {
            CameraSourceKind.File or CameraSourceKind.Device => new VideoCaptureSource(config, logger),
            CameraSourceKind.Stream => new FfmpegSource(config, logger),
            CameraSourceKind.Snapshot => new SnapshotSource(config, logger, new HttpClient()),
            _ => throw new ArgumentException($"Camera '{config.CameraId}': unknown source kind.", nameof(config)),
        };
    }
}

/// <summary>Video files (optionally looped and paced in real time) and V4L2 devices, through OpenCV.</summary>
public sealed class VideoCaptureSource(CameraSource config, ILogger logger) : FrameSourceBase(config, logger)
{
    protected override async Task<bool> RunOnceAsync(CancellationToken cancellationToken)
    {
        bool device = Config.ResolvedKind == CameraSourceKind.Device;
        if (!device && !File.Exists(Config.Url)) throw new FileNotFoundException($"video file {Config.Url} does not exist");
        using var capture = device
            ? new VideoCapture(int.Parse(Config.Url["/dev/video".Length..], CultureInfo.InvariantCulture), VideoCaptureAPIs.V4L2)
            : new VideoCapture(Config.Url);
        if (!capture.IsOpened()) throw new IOException($"cannot open {(device ? "device" : "video")} {Config.Url}");
        double fps = capture.Fps is > 0 and < 240 ? capture.Fps : 10;
        var period = TimeSpan.FromSeconds(1 / fps);
        var next = Stopwatch.GetTimestamp();
        while (!cancellationToken.IsCancellationRequested)
        {
            int w = capture.FrameWidth, h = capture.FrameHeight;
            var mat = RentFrame(w, h);
            if (!capture.Read(mat) || mat.Empty())
            {
                Pool.Return(mat);
                if (device) throw new IOException($"device {Config.Url} stopped delivering frames");
                if (!Config.Loop) return true;
                capture.Set(VideoCaptureProperties.PosFrames, 0);
                continue;
            }

            Deliver(mat);
            if (Config.RealTime)
            {
                next += (long)(period.TotalSeconds * Stopwatch.Frequency);
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), next);
                if (wait > TimeSpan.Zero) await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
            }
        }

        return false;
    }
}

/// <summary>HTTP JPEG snapshot URLs polled at the analysis rate (cheap for occupancy counts every 30 s).</summary>
public sealed class SnapshotSource(CameraSource config, ILogger logger, HttpClient http) : FrameSourceBase(config, logger)
{
    protected override async Task<bool> RunOnceAsync(CancellationToken cancellationToken)
    {
        var period = TimeSpan.FromSeconds(1 / Config.AnalysisFps);
        while (!cancellationToken.IsCancellationRequested)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Config.StallTimeout);
            byte[] body;
            try
            {
                using var response = await http.GetAsync(Config.Url, timeout.Token).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode) throw new IOException($"snapshot {Config.Url} answered HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
                body = await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"snapshot {Config.Url} did not answer within {Config.StallTimeout.TotalSeconds:0} s");
            }
            catch (HttpRequestException ex)
            {
                throw new IOException($"snapshot {Config.Url}: {ex.Message}", ex);
            }

            var mat = Cv2.ImDecode(body, ImreadModes.Color);
            if (mat.Empty())
            {
                mat.Dispose();
                throw new InvalidDataException($"snapshot {Config.Url} is not a decodable image ({body.Length} bytes)");
            }

            Deliver(mat);
            await Task.Delay(period, cancellationToken).ConfigureAwait(false);
        }

        return false;
    }
}

/// <summary>
/// Any URL ffmpeg can read (RTSP over TCP, HTTP MJPEG, RTMP...) through a Debian ffmpeg child process writing raw
/// BGR frames to a pipe, read straight into pooled frame buffers. OpenCV's bundled FFmpeg cannot open network
/// streams, hence the child process. The process is killed (whole tree) and reaped whenever a run ends; if the
/// agent itself dies, ffmpeg's next write to the closed pipe ends it (SIGPIPE), so no orphan keeps streaming.
/// </summary>
public sealed partial class FfmpegSource(CameraSource config, ILogger logger) : FrameSourceBase(config, logger)
{
    private Process? _process;
    private (int Width, int Height)? _probed;

    /// <summary>The running ffmpeg, if any (tests check it is reaped).</summary>
    public int? ProcessId => _process is { HasExited: false } p ? p.Id : null;

    public static string FfmpegPath { get; set; } = "ffmpeg";
    public static string FfprobePath { get; set; } = "ffprobe";

    protected override async Task<bool> RunOnceAsync(CancellationToken cancellationToken)
    {
        // Probe once: on a reconnect the known size saves a round trip (ffmpeg scales to it should the camera change).
        var (width, height) = Config.Width is { } w && Config.Height is { } h ? (w, h) : _probed ??= await ProbeAsync(cancellationToken).ConfigureAwait(false);
        var psi = new ProcessStartInfo(FfmpegPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
        };
        foreach (var a in InputArguments(decoding: true)) psi.ArgumentList.Add(a);
        // Fewer frames out of the decoder when fewer are wanted (not with keyframes only: the fps filter would repeat them).
        var filter = Config.DecodeFps is { } fps && !Config.KeyframesOnly ? string.Create(CultureInfo.InvariantCulture, $"fps={fps:0.###},scale={width}:{height}") : $"scale={width}:{height}";
        foreach (var a in new[] { "-an", "-vf", filter, "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "bgr24", "pipe:1" }) psi.ArgumentList.Add(a);

        using var process = Process.Start(psi) ?? throw new IOException($"cannot start {FfmpegPath}");
        _process = process;
        string? lastStderr = null;
        var stderrTask = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync(CancellationToken.None).ConfigureAwait(false) is { } line)
            {
                if (line.Length == 0) continue;
                lastStderr = line;
                LogFfmpeg(Logger, CameraId, line);
            }
        }, CancellationToken.None);

        try
        {
            var stdout = process.StandardOutput.BaseStream;
            int frameBytes = width * height * 3;
            while (!cancellationToken.IsCancellationRequested)
            {
                var mat = RentFrame(width, height);
                bool delivered = false;
                try
                {
                    using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    stall.CancelAfter(Config.StallTimeout);
                    int read;
                    using (var native = new NativeMemory(mat.Data, frameBytes))
                    {
                        try
                        {
                            read = await stdout.ReadAtLeastAsync(native.Memory, frameBytes, throwOnEndOfStream: false, stall.Token).ConfigureAwait(false);
                        }
                        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                        {
                            throw new TimeoutException($"no frame from {Redact(Config.Url)} for {Config.StallTimeout.TotalSeconds:0} s (stalled)");
                        }
                    }

                    if (read < frameBytes)
                    {
                        await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
                        await stderrTask.WaitAsync(TimeSpan.FromSeconds(2), CancellationToken.None).ConfigureAwait(false);
                        throw new IOException($"ffmpeg ended (exit {(process.HasExited ? process.ExitCode : -1)}): {lastStderr ?? "the stream closed"}");
                    }

                    Deliver(mat);
                    delivered = true;
                }
                finally
                {
                    if (!delivered) Pool.Return(mat);
                }
            }

            return false;
        }
        finally
        {
            Reap(process);
            _process = null;
        }
    }

    private IEnumerable<string> InputArguments(bool decoding = false)
    {
        yield return "-nostdin";
        yield return "-hide_banner";
        yield return "-loglevel";
        yield return "error";
        if (decoding && Config.DecoderThreads is { } threads)
        {
            yield return "-threads";
            yield return threads.ToString(CultureInfo.InvariantCulture);
        }

        if (decoding && Config.KeyframesOnly)
        {
            // The decoder skips every frame that is not a keyframe: most of the decoding cost is never paid.
            yield return "-skip_frame";
            yield return "nokey";
        }

        if (decoding && !Config.Url.Contains("://", StringComparison.Ordinal))
        {
            // A file read as a stream (demos, load tests): looped and paced like a live camera when asked.
            if (Config.Loop)
            {
                yield return "-stream_loop";
                yield return "-1";
            }

            if (Config.RealTime) yield return "-re";
        }

        if (Config.Url.StartsWith("rtsp", StringComparison.OrdinalIgnoreCase))
        {
            yield return "-rtsp_transport";
            yield return "tcp";
            yield return "-timeout";
            yield return ((long)Config.StallTimeout.TotalMicroseconds).ToString(CultureInfo.InvariantCulture);
        }
        else if (Config.Url.StartsWith("http", StringComparison.OrdinalIgnoreCase))
        {
            yield return "-rw_timeout";
            yield return ((long)Config.StallTimeout.TotalMicroseconds).ToString(CultureInfo.InvariantCulture);
        }

        yield return "-i";
        yield return Config.Url;
    }

    private async Task<(int Width, int Height)> ProbeAsync(CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo(FfprobePath) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in InputArguments(decoding: false).Where(a => a != "-nostdin")) psi.ArgumentList.Add(a);
        foreach (var a in new[] { "-select_streams", "v:0", "-show_entries", "stream=width,height", "-of", "csv=p=0" }) psi.ArgumentList.Add(a);
        using var probe = Process.Start(psi) ?? throw new IOException($"cannot start {FfprobePath}");
        try
        {
            var output = probe.StandardOutput.ReadToEndAsync(cancellationToken);
            var error = probe.StandardError.ReadToEndAsync(cancellationToken);
            await probe.WaitForExitAsync(cancellationToken).WaitAsync(Config.StallTimeout + TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
            var parts = (await output.ConfigureAwait(false)).Trim().Split(',', '\n');
            if (probe.ExitCode == 0 && parts.Length >= 2 && int.TryParse(parts[0], CultureInfo.InvariantCulture, out var w) && int.TryParse(parts[1], CultureInfo.InvariantCulture, out var h) && w > 0 && h > 0)
            {
                return (w, h);
            }

            var reason = (await error.ConfigureAwait(false)).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
            throw new IOException($"cannot open {Redact(Config.Url)}: {reason ?? "no video stream found"}");
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"cannot open {Redact(Config.Url)}: no answer within {Config.StallTimeout.TotalSeconds:0} s");
        }
        finally
        {
            Reap(probe);
        }
    }

    private static void Reap(Process process)
    {
        try
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
            // Already exited and reaped.
        }
    }

    /// <summary>Camera URLs carry passwords: never log them.</summary>
    public static string Redact(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var u) && !string.IsNullOrEmpty(u.UserInfo) ? url.Replace(u.UserInfo + "@", "***@", StringComparison.Ordinal) : url;

    [LoggerMessage(EventId = 3002, Level = Microsoft.Extensions.Logging.LogLevel.Information, Message = "Camera {CameraId} ffmpeg: {Line}")]
    private static partial void LogFfmpeg(ILogger logger, string cameraId, string line);

    /// <summary>A <see cref="Memory{T}"/> over a frame buffer's native pixels, so the pipe is read straight into the Mat.</summary>
    private sealed unsafe class NativeMemory(IntPtr pointer, int length) : MemoryManager<byte>
    {
        public override Span<byte> GetSpan() => new((void*)pointer, length);

        public override MemoryHandle Pin(int elementIndex = 0) => new((byte*)pointer + elementIndex);

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}
