using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CinemaVision.Core.Cameras;
using CinemaVision.Core.Events;
using CinemaVision.Core.Frames;
using CinemaVision.Core.Showings;
using CinemaVision.Vision.Cameras;
using CinemaVision.Vision.Frames;
using OpenCvSharp;

namespace CinemaVision.Tools.Commands;

/// <summary>
/// <c>cvtools probe URL_OR_FILE</c>: the installer's camera check. Opens any source the agent can read, reads N
/// frames, and prints the stream size, the frame rate achieved, frames skipped, reconnects, the camera-health
/// verdicts, CPU per frame (including the ffmpeg child) and memory; one clear line when it cannot connect.
/// </summary>
internal static class ProbeCommand
{
    private static readonly JsonSerializerOptions WebJson = new(JsonSerializerDefaults.Web);
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Create()
    {
        var source = new Argument<string>("source") { Description = "rtsp://, http(s)://, a JPEG snapshot URL, /dev/videoN or a video file." };
        var frames = new Option<int>("--frames") { Description = "Frames to read.", DefaultValueFactory = _ => 50 };
        var json = new Option<string?>("--json") { Description = "Write the result as JSON (keys: width, height, frames_read, fps, reconnects, health, ...)." };
        var fps = new Option<double>("--fps") { Description = "Analysis rate: frames taken per second (the source skips the rest).", DefaultValueFactory = _ => 120 };
        var reference = new Option<string?>("--reference") { Description = "Reference frame the seat map was drawn on (detects a moved camera)." };
        var state = new Option<string>("--state") { Description = "Showing state the brightness is judged against.", DefaultValueFactory = _ => "trailers" };
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for the first frame.", DefaultValueFactory = _ => 15 };
        var loop = new Option<bool>("--loop") { Description = "Files: loop (for long runs such as --frames 10000)." };
        var kind = new Option<string?>("--kind") { Description = "file | stream | snapshot | device (default: from the URL). 'stream' reads a file through ffmpeg too." };
        var command = new Command("probe", "Check a camera: stream size, achieved frame rate, skipped frames, reconnects, health, CPU and memory.\n\nExamples:\n  cvtools probe rtsp://10.0.0.21/stream1 --frames 100\n  cvtools probe hall.mp4 --reference hall-reference.jpg --json probe.json") { source, frames, json, fps, reference, state, timeout, loop, kind };
        command.SetAction(async (parse, ct) =>
        {
            var url = parse.GetValue(source)!;
            var showing = Enum.TryParse<ShowingState>(parse.GetValue(state), true, out var s) ? s : throw new ArgumentException($"--state: unknown showing state '{parse.GetValue(state)}'.");
            var config = new CameraSource { CameraId = "probe", Url = url, AnalysisFps = parse.GetValue(fps), Loop = parse.GetValue(loop), StallTimeout = TimeSpan.FromSeconds(Math.Max(1, parse.GetValue(timeout))),
                Kind = parse.GetValue(kind) is { } k ? (Enum.TryParse<CameraSourceKind>(k, true, out var parsed) ? parsed : throw new ArgumentException($"--kind: unknown source kind '{k}'.")) : null };
            var health = new CameraHealthRules(new CameraRef("probe", "probe", "probe"));
            using var probe = new FrameProbe();
            if (parse.GetValue(reference) is { } refPath)
            {
                using var refImage = Cv2.ImRead(refPath);
                if (refImage.Empty()) throw new InvalidDataException($"--reference: cannot read image {refPath}.");
                probe.SetReference(refImage);
            }

            var cpuBefore = CpuTime();
            long managedBefore = GC.GetTotalMemory(forceFullCollection: true);
            long rssBefore = Environment.WorkingSet;
            var events = new List<CameraHealthEvent>();
            var measurements = new List<FrameMeasurements>();
            var clock = Stopwatch.StartNew();
            TimeSpan? firstFrame = null;
            int taken = 0;
            long managedWarm = 0, rssWarm = 0;
            var source1 = FrameSources.Create(config);
            FrameSourceStatus status;
            try
            {
                int n = parse.GetValue(frames);
                while (taken < n)
                {
                    using var frame = await source1.NextFrameAsync(firstFrame is null ? config.StallTimeout + TimeSpan.FromSeconds(5) : config.StallTimeout * 3, ct).ConfigureAwait(false);
                    if (frame is null) break;
                    firstFrame ??= clock.Elapsed;
                    taken++;
                    if (taken == Math.Max(1, Math.Min(500, parse.GetValue(frames) / 10)))
                    {
                        // After warm-up (native libraries loaded, pools filled): growth from here on would be a leak.
                        managedWarm = GC.GetTotalMemory(forceFullCollection: true);
                        rssWarm = Environment.WorkingSet;
                    }
                    var m = probe.Measure(MatFrame.MatOf(frame));
                    if (taken <= 200 || taken % 50 == 0)
                    {
                        measurements.Add(m);
                        events.AddRange(health.Observe(frame.Timestamp, m, showing));
                    }
                }

                status = source1.Status;
            }
            finally
            {
                await source1.DisposeAsync().ConfigureAwait(false);
            }

            var elapsed = clock.Elapsed - (firstFrame ?? TimeSpan.Zero);
            var cpu = CpuTime() - cpuBefore;
            long managedAfter = GC.GetTotalMemory(forceFullCollection: true);
            long rssAfter = Environment.WorkingSet;
            if (taken == 0)
            {
                Console.Error.WriteLine($"cvtools probe: cannot read {FfmpegSource.Redact(url)}: {status.LastError ?? "no frame arrived"}");
                if (parse.GetValue(json) is { } failPath)
                {
                    File.WriteAllText(failPath, new JsonObject { ["width"] = 0, ["height"] = 0, ["frames_read"] = 0, ["fps"] = 0, ["reconnects"] = status.Reconnects, ["health"] = new JsonArray("offline"), ["error"] = status.LastError }.ToJsonString());
                }

                return 1;
            }

            double achieved = elapsed.TotalSeconds > 0 ? status.FramesRead / elapsed.TotalSeconds : 0;
            var active = health.Active.Select(k => k.ToString().ToLowerInvariant()).ToList();
            var last = measurements[^1];
            Console.WriteLine(FormattableString.Invariant($"{FfmpegSource.Redact(url)}: {status.FrameSize.Width}x{status.FrameSize.Height}, {status.FramesRead} frames read ({achieved:0.0} fps), {taken} analysed, {status.FramesSkipped} skipped, {status.Reconnects} reconnects"));
            Console.WriteLine(FormattableString.Invariant($"health: {(active.Count == 0 ? "ok" : string.Join(", ", active))} (brightness {last.Brightness:0}, sharpness {last.Sharpness:0}, difference {last.Difference:0.00}, uniformity {last.Uniformity:0.00}{(last.ReferenceShift is { } sh ? $", shift {sh:0.0} px, match {last.ReferenceMatch:0.00}" : "")})"));
            Console.WriteLine(FormattableString.Invariant($"cpu {cpu.TotalMilliseconds / Math.Max(1, status.FramesRead):0.00} ms per decoded frame (this process and its ffmpeg child); managed memory after warm-up {managedWarm / 1048576.0:0.00} -> end {managedAfter / 1048576.0:0.00} MiB, resident {rssBefore / 1048576.0:0} -> warm-up {rssWarm / 1048576.0:0} -> end {rssAfter / 1048576.0:0} MiB"));
            if (parse.GetValue(json) is { } path)
            {
                File.WriteAllText(path, new JsonObject
                {
                    ["width"] = status.FrameSize.Width,
                    ["height"] = status.FrameSize.Height,
                    ["frames_read"] = status.FramesRead,
                    ["frames_analysed"] = taken,
                    ["frames_skipped"] = status.FramesSkipped,
                    ["fps"] = Math.Round(achieved, 2),
                    ["reconnects"] = status.Reconnects,
                    ["health"] = new JsonArray([.. active.Select(a => (JsonNode)a)]),
                    ["health_events"] = JsonSerializer.SerializeToNode(events, WebJson),
                    ["cpu_ms_per_frame"] = Math.Round(cpu.TotalMilliseconds / Math.Max(1, status.FramesRead), 3),
                    ["managed_bytes_before"] = managedBefore,
                    ["managed_bytes_warm"] = managedWarm,
                    ["rss_bytes_warm"] = rssWarm,
                    ["managed_bytes_after"] = managedAfter,
                    ["rss_bytes_before"] = rssBefore,
                    ["rss_bytes_after"] = rssAfter,
                    ["last_error"] = status.LastError,
                }.ToJsonString(Indented));
            }

            return 0;
        });
        return command;
    }

    /// <summary>CPU time of this process plus its reaped children (ffmpeg), from /proc/self/stat.</summary>
    private static TimeSpan CpuTime()
    {
        try
        {
            var stat = File.ReadAllText("/proc/self/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // utime, stime, cutime, cstime are fields 14-17 (1-based), i.e. 11-14 after the command name.
            long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)
                + long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds(ticks / 100.0);
        }
        catch (IOException)
        {
            return Process.GetCurrentProcess().TotalProcessorTime;
        }
    }
}
