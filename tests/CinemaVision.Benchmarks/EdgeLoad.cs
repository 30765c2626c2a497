using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using CinemaVision.Testing;
using CinemaVision.Vision.Assets;

namespace CinemaVision.Benchmarks;

/// <summary>
/// N cameras on this machine through a real agent and a real centre (separate processes, loopback), each camera as a
/// real camera would send: a main stream 1920x1080 H.264 25 fps (a keyframe a second) and a substream 704x480 10 fps,
/// both made from the PETS clip, read as looping real-time files or from the GStreamer RTSP test server. The pipeline
/// runs with its product defaults (an occupancy pass per camera every 30 s, watching at 1 frame/s during the feature).
/// After a warm-up, over the measured window:
///   max_occupancy_period_s   the longest gap between two occupancy samples of any camera stored at the centre
///   min_watch_fps            the lowest watching rate of any camera (the agent's per-camera counters)
///   cpu_percent              CPU of the agent and its ffmpeg decoders, percent of one core (200 = both cores here)
///   frame_to_stored_p50_ms / _p99_ms   from the frame's capture to the event stored at the centre
///   rss_mb                   the agent's peak resident memory
///   dotnet run -c Release --project tests/CinemaVision.Benchmarks -- edge-load --cameras 8 [--source file|rtsp]
///     [--seconds 120] [--warmup 40] [--cpu-budget 2] [--json FILE]
/// </summary>
internal static class EdgeLoad
{
    public static async Task<int> RunAsync(string[] args)
    {
        string Arg(string name, string fallback) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? fallback;
        int cameras = int.Parse(Arg("--cameras", "1"), CultureInfo.InvariantCulture);
        string source = Arg("--source", "file");
        if (source is not ("file" or "rtsp")) throw new ArgumentException($"--source must be file or rtsp (was '{source}').");
        double seconds = double.Parse(Arg("--seconds", "120"), CultureInfo.InvariantCulture);
        double warmup = double.Parse(Arg("--warmup", "40"), CultureInfo.InvariantCulture);
        double budget = double.Parse(Arg("--cpu-budget", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        string? json = args.Contains("--json") ? Arg("--json", "") : null;

        // Camera-like footage, made once and kept.
        var footage = Path.Combine(AssetLocator.RepositoryRoot ?? Directory.GetCurrentDirectory(), ".cache", "edge-load");
        Directory.CreateDirectory(footage);
        Console.WriteLine("edge-load: preparing camera footage from the PETS clip (main 1920x1080 25 fps, substream 704x480 10 fps)");
        var main = await TestFootage.H264Async(TestFootage.PetsClip, Path.Combine(footage, "main-1080p25.mp4"), 1920, 1080, fps: 25, gop: 25, crf: 23);
        var sub = await TestFootage.H264Async(TestFootage.PetsClip, Path.Combine(footage, "sub-704x480-10.mp4"), 704, 480, fps: 10, gop: 10, crf: 23);

        RtspServer? rtsp = null;
        EdgeSystem? system = null;
        var dir = Directory.CreateTempSubdirectory("cv-edge-load-").FullName;
        try
        {
            if (source == "rtsp")
            {
                var mounts = new Dictionary<string, string>();
                for (int i = 1; i <= cameras; i++)
                {
                    mounts[$"cam{i}/main"] = main;
                    mounts[$"cam{i}/sub"] = sub;
                }

                rtsp = new RtspServer(mounts);
                await rtsp.StartAsync();
            }

            var options = new EdgeSystemOptions
            {
                Cameras = cameras,
                CpuBudget = budget,
                HeartbeatSeconds = 30,
                Pipeline = new JsonObject(), // the product's defaults: occupancy every 30 s, watching at 1 frame/s
                Sources = i => rtsp is null ? (main, sub) : (rtsp.Url($"cam{i}/main"), rtsp.Url($"cam{i}/sub")),
            };
            system = await EdgeSystem.StartAsync(dir, options);
            Console.WriteLine(FormattableString.Invariant($"edge-load: {cameras} camera(s) from {source}, CPU budget {budget} cores; warm-up {warmup:0} s, then {seconds:0} s measured"));
            await MeasureAsync(system, cameras, source, warmup, seconds, json);
            return 0;
        }
        finally
        {
            if (system is not null) await system.DisposeAsync();
            if (rtsp is not null) await rtsp.DisposeAsync();
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    private static async Task MeasureAsync(EdgeSystem system, int cameras, string source, double warmup, double seconds, string? json)
    {
        await Task.Delay(TimeSpan.FromSeconds(warmup));
        int pid = system.Agent.Pid ?? throw new InvalidOperationException("the agent is not running: " + system.Agent.Log.Tail());
        var windowStart = DateTimeOffset.UtcNow;
        var cpu0 = ProcessTree.CpuTime(pid);
        var wall = Stopwatch.StartNew();
        var metrics0 = await system.Agent.MetricsAsync();
        long peakChildren = 0;
        while (wall.Elapsed.TotalSeconds < seconds)
        {
            await Task.Delay(TimeSpan.FromSeconds(5));
            peakChildren = Math.Max(peakChildren, ProcessTree.ChildrenResident(pid));
        }

        var cpu1 = ProcessTree.CpuTime(pid);
        var elapsed = wall.Elapsed;
        var metrics1 = await system.Agent.MetricsAsync();
        var windowEnd = DateTimeOffset.UtcNow;
        var (_, peakRss) = ProcessTree.Resident(pid);

        // Watching rates come from the heartbeats the centre stored (each camera is cam-1 of its own auditorium).
        await system.WaitForDrainAsync(TimeSpan.FromMinutes(2));
        var rows = system.Centre.StoredRows();
        var ledger = system.Centre.LedgerOf(EdgeSystem.AgentId);
        var heartbeats = await HeartbeatsAsync(system, windowStart, windowEnd);

        // Occupancy gaps per camera from the per-camera samples the centre stored.
        var occupancy = await OccupancyTimesAsync(system, cameras);
        double maxGap = 0;
        foreach (var (_, times) in occupancy)
        {
            var inWindow = times.Where(t => t >= windowStart.AddSeconds(-35) && t <= windowEnd).Order().ToList();
            for (int k = 1; k < inWindow.Count; k++) maxGap = Math.Max(maxGap, (inWindow[k] - inWindow[k - 1]).TotalSeconds);
            if (inWindow.Count < 2) maxGap = double.PositiveInfinity;
        }

        double minWatch = heartbeats.Count == 0 ? 0 : heartbeats.GroupBy(h => h.Auditorium).Select(g => g.Average(h => h.WatchFps)).Min();

        // Frame to stored: every stored event of the window except heartbeats (whose time is not a frame's).
        var latencies = rows.Where(r => r.Value.Table != "agent_health" && r.Value.At >= windowStart && r.Value.At <= windowEnd && ledger.ContainsKey(r.Key))
            .Select(r => (ledger[r.Key] - r.Value.At).TotalMilliseconds).Order().ToList();
        double P(double q) => latencies.Count == 0 ? double.NaN : latencies[Math.Min(latencies.Count - 1, (int)Math.Floor(q * latencies.Count))];
        double cpuPercent = (cpu1 - cpu0).TotalSeconds / elapsed.TotalSeconds * 100;
        var tilesRun = metrics1.Where(m => m.Key.StartsWith("cinemavision_tiles_total", StringComparison.Ordinal)).Sum(m => m.Value) - metrics0.Where(m => m.Key.StartsWith("cinemavision_tiles_total", StringComparison.Ordinal)).Sum(m => m.Value);
        var tilesReused = metrics1.Where(m => m.Key.StartsWith("cinemavision_tiles_reused_total", StringComparison.Ordinal)).Sum(m => m.Value) - metrics0.Where(m => m.Key.StartsWith("cinemavision_tiles_reused_total", StringComparison.Ordinal)).Sum(m => m.Value);
        var skipped = metrics1.Where(m => m.Key.StartsWith("cinemavision_passes_skipped_total", StringComparison.Ordinal)).Sum(m => m.Value) - metrics0.Where(m => m.Key.StartsWith("cinemavision_passes_skipped_total", StringComparison.Ordinal)).Sum(m => m.Value);

        Console.WriteLine(FormattableString.Invariant($"edge-load: cameras {cameras}, source {source}: max occupancy period {maxGap:0.0} s, min watch {minWatch:0.00} frames/s, CPU {cpuPercent:0} % of one core (agent and decoders), frame to stored p50 {P(0.5):0} ms p99 {P(0.99):0} ms ({latencies.Count} events), agent RSS peak {peakRss / 1048576.0:0} MB (+ decoders {peakChildren / 1048576.0:0} MB)"));
        Console.WriteLine(FormattableString.Invariant($"edge-load: tiles run {tilesRun:0} ({tilesRun / elapsed.TotalSeconds:0.0}/s), reused {tilesReused:0}, watching passes skipped for the budget {skipped:0}; per camera (heartbeats):"));
        foreach (var g in heartbeats.GroupBy(h => h.Auditorium).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            Console.WriteLine(FormattableString.Invariant($"  {g.Key}: watch {g.Average(h => h.WatchFps):0.00}/s, {g.Average(h => h.MsPerFrame):0} ms per analysed frame, {g.Average(h => h.TileMs):0.0} ms per tile, skipped {g.Sum(h => h.Skipped)}, frames decoded {g.Max(h => h.FramesRead)}"));
        }

        if (json is not null)
        {
            await File.WriteAllTextAsync(json, new JsonObject
            {
                ["cameras"] = cameras,
                ["source"] = source,
                ["max_occupancy_period_s"] = double.IsFinite(maxGap) ? Math.Round(maxGap, 1) : null,
                ["min_watch_fps"] = Math.Round(minWatch, 2),
                ["cpu_percent"] = Math.Round(cpuPercent, 1),
                ["frame_to_stored_p50_ms"] = double.IsFinite(P(0.5)) ? Math.Round(P(0.5)) : null,
                ["frame_to_stored_p99_ms"] = double.IsFinite(P(0.99)) ? Math.Round(P(0.99)) : null,
                ["rss_mb"] = Math.Round(peakRss / 1048576.0, 1),
            }.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        }
    }

    private sealed record Beat(string Auditorium, double WatchFps, double MsPerFrame, double TileMs, long Skipped, long FramesRead);

    /// <summary>The per-camera figures of the heartbeats the centre stored for the window.</summary>
    private static async Task<List<Beat>> HeartbeatsAsync(EdgeSystem system, DateTimeOffset from, DateTimeOffset to)
    {
        await Task.CompletedTask;
        var beats = new List<Beat>();
        using var c = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(system.Centre.DataDirectory, "timeseries.db")};Mode=ReadOnly;Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT payload FROM agent_health WHERE ts > $from AND ts <= $to";
        // A heartbeat reports the period before it: the first one after the window starts covers part of the warm-up, so skip it.
        cmd.Parameters.AddWithValue("$from", from.AddSeconds(25).ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$to", to.AddSeconds(5).ToUnixTimeMilliseconds());
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            var node = JsonNode.Parse(r.GetString(0))!;
            foreach (var cam in node["cameras"]!.AsArray())
            {
                beats.Add(new Beat(cam!["auditoriumId"]!.GetValue<string>(), cam["watchFps"]!.GetValue<double>(), cam["msPerFrame"]!.GetValue<double>(), cam["tileMs"]!.GetValue<double>(), cam["passesSkipped"]!.GetValue<long>(), cam["framesRead"]!.GetValue<long>()));
            }
        }

        return beats;
    }

    private static async Task<Dictionary<string, List<DateTimeOffset>>> OccupancyTimesAsync(EdgeSystem system, int cameras)
    {
        await Task.CompletedTask;
        var times = Enumerable.Range(1, cameras).ToDictionary(i => $"aud-{i}", _ => new List<DateTimeOffset>());
        using var c = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(system.Centre.DataDirectory, "timeseries.db")};Mode=ReadOnly;Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT auditorium, ts FROM occupancy WHERE camera <> ''";
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            if (times.TryGetValue(r.GetString(0), out var list)) list.Add(DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1)));
        }

        return times;
    }
}
