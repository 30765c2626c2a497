using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using CinemaVision.Testing;

namespace CinemaVision.Benchmarks;

/// <summary>
/// Nothing lost, nothing doubled, through crashes and an outage, counted at both ends. A real centre and a real agent
/// (the PETS clip as a looping real-time camera) run as separate processes on loopback with a fault proxy between them;
/// the agent is killed with SIGKILL at least three times (the first while a batch's answer is held back, so the
/// centre has stored what the agent does not know it sent) and the centre is down for at least 60 s, all within
/// 7 minutes. Then the agent drains, and every event id its outbox committed is looked up in the centre's ledger and
/// time-series store.
///   dotnet run -c Release --project tests/CinemaVision.Benchmarks -- edge-faults [--kills 3] [--outage 65] [--json FILE]
/// JSON keys: produced, stored, lost, doubled, agent_kills, centre_outage_s.
/// </summary>
internal static class EdgeFaults
{
    public static async Task<int> RunAsync(string[] args)
    {
        string Arg(string name, string fallback) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? fallback;
        int kills = int.Parse(Arg("--kills", "3"), CultureInfo.InvariantCulture);
        double outageSeconds = double.Parse(Arg("--outage", "65"), CultureInfo.InvariantCulture);
        string? json = args.Contains("--json") ? Arg("--json", "") : null;
        var dir = Directory.CreateTempSubdirectory("cv-edge-faults-").FullName;
        var clock = Stopwatch.StartNew();
        void Say(string what) => Console.WriteLine(FormattableString.Invariant($"[{clock.Elapsed.TotalSeconds,6:0.0} s {DateTime.UtcNow:HH:mm:ss}] {what}"));

        var options = new EdgeSystemOptions
        {
            Proxy = true,
            Pipeline = new JsonObject
            {
                ["cadence"] = new JsonObject { ["occupancyPeriodSeconds"] = 5, ["watchFps"] = 1 },
                ["anomalies"] = new JsonObject { ["aisleSeconds"] = 3 },
            },
        };
        var system = await EdgeSystem.StartAsync(dir, options);
        try
        {
            return await RunAsync(system, kills, outageSeconds, json, clock, Say);
        }
        finally
        {
            await system.DisposeAsync();
            if (Environment.GetEnvironmentVariable("CINEMAVISION_KEEP_RUN") is null) { try { Directory.Delete(dir, recursive: true); } catch (IOException) { } }
            else Console.WriteLine($"kept the run's folder: {dir}");
        }
    }

    private static async Task<int> RunAsync(EdgeSystem system, int kills, double outageSeconds, string? json, Stopwatch clock, Action<string> Say)
    {
        var proxy = system.Proxy!;
        var random = new Random(11);
        int killed = 0;
        var outage = TimeSpan.Zero;
        Say("centre and agent running; waiting for the first events");
        await system.WaitForProducedAsync(10, TimeSpan.FromMinutes(2));

        async Task KillAsync(string how)
        {
            await system.Agent.KillAsync();
            killed++;
            var o = system.Agent.ReadOutbox();
            Say($"agent killed with SIGKILL ({how}); its outbox: {o.Produced} produced, {o.Pending} pending");
            await system.Agent.StartAsync();
            Say("agent restarted");
        }

        // 1: mid-upload. The centre stores the batch; its answer is held back; the agent dies waiting.
        proxy.Hold = TimeSpan.FromSeconds(30);
        proxy.ResetHolding();
        proxy.Mode = FaultMode.HoldAnswers;
        await proxy.Holding.Task.WaitAsync(TimeSpan.FromMinutes(2));
        await Task.Delay(300);
        await KillAsync("mid-upload: the centre had stored the batch, its answer was held back");
        proxy.Mode = FaultMode.Forward;
        await Task.Delay(TimeSpan.FromSeconds(15));

        // 2: the centre down for a while, and the agent killed during the outage (it restarts from its cached configuration).
        await system.Centre.StopAsync(kill: true);
        var down = Stopwatch.StartNew();
        Say("centre killed");
        await Task.Delay(TimeSpan.FromSeconds(outageSeconds / 2));
        if (killed < kills) await KillAsync("during the outage");
        var left = TimeSpan.FromSeconds(outageSeconds) - down.Elapsed;
        if (left > TimeSpan.Zero) await Task.Delay(left);
        await system.Centre.StartAsync();
        outage = down.Elapsed;
        Say(FormattableString.Invariant($"centre back after {outage.TotalSeconds:0.0} s"));

        // 3..: at random moments while the backlog drains and new events flow.
        while (killed < kills)
        {
            await Task.Delay(TimeSpan.FromSeconds(5 + (random.NextDouble() * 15)));
            await KillAsync("at a random moment");
        }

        await Task.Delay(TimeSpan.FromSeconds(15));
        Say("stopping the agent (graceful: it drains what it can)");
        await system.WaitForDrainAsync(TimeSpan.FromMinutes(3));
        await system.Agent.StopAsync();
        var counts = system.Count();
        Say(counts.ToString());
        if (counts.Lost > 0)
        {
            // Where the missing events stand in the agent's outbox (0 pending, 1 sent, 2 set aside as rejected), by type.
            var outbox = system.Agent.ReadOutbox();
            var ledger = system.Centre.LedgerOf(EdgeSystem.AgentId);
            foreach (var g in outbox.Events.Where(e => !ledger.ContainsKey(e.Key)).GroupBy(e => (e.Value.State, e.Value.Type)))
            {
                Say($"  not stored: {g.Count()} {g.Key.Type} in outbox state {g.Key.State}, at {g.Min(e => e.Value.At):HH:mm:ss.fff}..{g.Max(e => e.Value.At):HH:mm:ss.fff}");
            }

            var stored = outbox.Events.Where(e => ledger.ContainsKey(e.Key)).ToList();
            if (stored.Count > 0) Say($"  stored: {stored.Count}, at {stored.Min(e => e.Value.At):HH:mm:ss.fff}..{stored.Max(e => e.Value.At):HH:mm:ss.fff}; ledger stored_at {ledger.Values.Min():HH:mm:ss.fff}..{ledger.Values.Max():HH:mm:ss.fff}");
        }
        if (Environment.GetEnvironmentVariable("CINEMAVISION_KEEP_RUN") is not null)
        {
            await File.WriteAllTextAsync(Path.Combine(system.Directory, "agent.log"), system.Agent.Log.Tail(2000));
            await File.WriteAllTextAsync(Path.Combine(system.Directory, "centre.log"), system.Centre.Log.Tail(2000));
            await File.WriteAllLinesAsync(Path.Combine(system.Directory, "proxy.log"), proxy.Trace);
        }

        Console.WriteLine(FormattableString.Invariant($"edge-faults: {counts.Produced} produced, {counts.Stored} stored, {counts.Lost} lost, {counts.Doubled} doubled; {killed} SIGKILLs, centre down {outage.TotalSeconds:0.0} s; {clock.Elapsed.TotalMinutes:0.0} min in all"));
        if (json is not null)
        {
            await File.WriteAllTextAsync(json, new JsonObject
            {
                ["produced"] = counts.Produced,
                ["stored"] = counts.Stored,
                ["lost"] = counts.Lost,
                ["doubled"] = counts.Doubled,
                ["agent_kills"] = killed,
                ["centre_outage_s"] = Math.Round(outage.TotalSeconds, 1),
            }.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        }

        return counts.Lost == 0 && counts.Doubled == 0 ? 0 : 1;
    }
}
