using System.Diagnostics;
using System.Text.Json.Nodes;
using CinemaVision.Testing;
using CinemaVision.Vision.Assets;
using Xunit.Abstractions;

namespace CinemaVision.Edge.Tests;

/// <summary>Real agent and centre processes share the machine: these tests run one at a time.</summary>
[CollectionDefinition("processes", DisableParallelization = true)]
public sealed class ProcessCollection;

/// <summary>
/// Faults with real processes on loopback: a real centre (its own process, embedded store), a real agent (its own
/// process, the PETS clip as a looping real-time camera), and for 429/500 and held answers a fault proxy between
/// them. Every test counts at both ends: what the agent's outbox committed against the centre's ledger and store.
/// </summary>
[Collection("processes")]
public sealed class FaultTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(150);
    private string _dir = "";

    public Task InitializeAsync()
    {
        _dir = Directory.CreateTempSubdirectory("cv-faults-").FullName;
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    private async Task<EdgeCounts> FinishAsync(EdgeSystem system)
    {
        await system.WaitForDrainAsync(Long);
        await system.Agent.StopAsync();
        var counts = system.Count();
        output.WriteLine(counts.ToString());
        return counts;
    }

    [Fact]
    public async Task CentreStoppedForAWhileThenStarted_EveryEventProducedMeanwhileArrivesOnce()
    {
        await using var system = await EdgeSystem.StartAsync(_dir);
        await system.WaitForProducedAsync(5, Long);
        await system.WaitForDrainAsync(Long);

        await system.Centre.StopAsync(kill: true);
        long before = system.Agent.ReadOutbox().Produced;
        await system.WaitForProducedAsync(before + 10, Long);
        var duringOutage = system.Agent.ReadOutbox();
        Assert.True(duringOutage.Pending > 0, "nothing waited in the outbox while the centre was down");
        Assert.NotNull((await system.Agent.HealthAsync()).GetProperty("upload").GetProperty("lastError").GetString());

        await system.Centre.StartAsync();
        var counts = await FinishAsync(system);

        Assert.Equal(0, counts.Lost);
        Assert.Equal(0, counts.Doubled);
        var ledger = system.Centre.LedgerOf(EdgeSystem.AgentId);
        Assert.All(duringOutage.Events.Where(e => e.Value.State == 0), e => Assert.Contains(e.Key, ledger.Keys));
    }

    [Fact]
    public async Task AgentKilledWithSigkillMidUploadAndRestarted_NothingLostNothingDoubled()
    {
        await using var system = await EdgeSystem.StartAsync(_dir, new EdgeSystemOptions { Proxy = true });
        var proxy = system.Proxy!;
        await system.WaitForProducedAsync(5, Long);

        // The centre stores the batch, its answer is held back, and the agent dies waiting for it.
        proxy.Hold = TimeSpan.FromSeconds(30);
        proxy.ResetHolding();
        proxy.Mode = FaultMode.HoldAnswers;
        await proxy.Holding.Task.WaitAsync(Long);
        await Task.Delay(500);
        await system.Agent.KillAsync();
        proxy.Mode = FaultMode.Forward;

        var afterKill = system.Agent.ReadOutbox();
        var ledger = system.Centre.LedgerOf(EdgeSystem.AgentId);
        var storedButPending = afterKill.Events.Where(e => e.Value.State == 0 && ledger.ContainsKey(e.Key)).Select(e => e.Key).ToList();
        output.WriteLine($"after SIGKILL: {afterKill.Pending} pending at the agent, {storedButPending.Count} of them already stored by the centre");
        Assert.NotEmpty(storedButPending);

        await system.Agent.StartAsync();
        long produced = afterKill.Produced;
        await system.WaitForProducedAsync(produced + 3, Long);
        var counts = await FinishAsync(system);

        Assert.Equal(0, counts.Lost);
        Assert.Equal(0, counts.Doubled);
        Assert.True(counts.Produced > produced);
    }

    [Fact]
    public async Task CentreAnswering429Then500ThenUnreachableBehindTheProxy_AgentBacksOffAndCatchesUp()
    {
        await using var system = await EdgeSystem.StartAsync(_dir, new EdgeSystemOptions { Proxy = true });
        var proxy = system.Proxy!;
        await system.WaitForProducedAsync(5, Long);

        var faultWindow = Stopwatch.StartNew();
        proxy.RetryAfterSeconds = 3;
        proxy.Mode = FaultMode.TooManyRequests;
        await Task.Delay(TimeSpan.FromSeconds(10));
        proxy.Mode = FaultMode.ServerError;
        await Task.Delay(TimeSpan.FromSeconds(10));
        long faulted = proxy.Faulted;
        proxy.Mode = FaultMode.Forward;
        faultWindow.Stop();

        // The centre dies behind the proxy (502s): nothing produced meanwhile may count as stored until the centre's
        // receipt says so (regression: an empty 200 from the proxy once marked events sent that were never stored).
        await system.Centre.StopAsync(kill: true);
        long beforeOutage = system.Agent.ReadOutbox().Produced;
        await system.WaitForProducedAsync(beforeOutage + 5, Long);
        Assert.True(system.Agent.ReadOutbox().Pending > 0, "events produced with the centre dead were marked sent");
        Assert.True(proxy.Unreachable > 0, "the agent did not try while the centre was down");
        await system.Centre.StartAsync();
        var counts = await FinishAsync(system);

        output.WriteLine($"{faulted} requests refused in {faultWindow.Elapsed.TotalSeconds:0} s");
        Assert.True(faulted >= 2, "the agent did not try during the faults");
        // Backing off: a handful of attempts in 20 s (Retry-After 3 s, then doubling delays), not a tight loop.
        Assert.InRange(faulted, 2, 20);
        Assert.True(system.Agent.Log.Contains("retrying in"), system.Agent.Log.Tail());
        Assert.Equal(0, counts.Lost);
        Assert.Equal(0, counts.Doubled);
    }

    [Fact]
    public async Task CorruptOutbox_SetAsideWithAClearLogLine_AndTheAgentCarriesOn()
    {
        await using var system = await EdgeSystem.StartAsync(_dir, startAgent: false);
        Directory.CreateDirectory(Path.GetDirectoryName(system.Agent.OutboxPath)!);
        await File.WriteAllBytesAsync(system.Agent.OutboxPath, [.. Enumerable.Range(0, 64 * 1024).Select(i => (byte)(i * 7))]);

        await system.Agent.StartAsync();
        await system.WaitForProducedAsync(5, Long);
        var counts = await FinishAsync(system);

        Assert.True(system.Agent.Log.Contains("set aside"), system.Agent.Log.Tail());
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(system.Agent.OutboxPath)!, "outbox.db.corrupt-*"));
        Assert.Equal(0, counts.Lost);
        Assert.Equal(0, counts.Doubled);
    }

    [Fact]
    public async Task ConfigurationChangedAtTheCentre_AppliedWithoutRestart_AndUsedFromCacheWhenTheCentreIsDown()
    {
        await using var system = await EdgeSystem.StartAsync(_dir);
        await system.WaitForProducedAsync(3, Long);
        int starts = system.Agent.Starts;

        var sample = JsonNode.Parse(File.ReadAllText(Path.Combine(AssetLocator.RepositoryRoot!, "samples", "pets-walkway.auditorium.json")))!.AsObject();
        sample["siteId"] = EdgeSystem.SiteId;
        sample["auditoriumId"] = "aud-1";
        sample["pipeline"] = new JsonObject { ["cadence"] = new JsonObject { ["occupancyPeriodSeconds"] = 2, ["watchFps"] = 2 } };
        await system.Centre.PutAuditoriumAsync(EdgeSystem.SiteId, sample);
        await Processes.WaitUntilAsync(() => Task.FromResult(system.Agent.Log.Tail(400).Split('\n').Count(l => l.Contains("configuration", StringComparison.Ordinal) && l.Contains("applied", StringComparison.Ordinal)) >= 2),
            Long, "the changed auditorium applied", () => system.Agent.Log.Tail());
        Assert.Equal(starts, system.Agent.Starts);
        Assert.True(system.Agent.Running);

        // The centre goes away; a restarted agent works from its cache.
        await system.Centre.StopAsync();
        await system.Agent.StopAsync();
        await system.Agent.StartAsync();
        var health = await system.Agent.HealthAsync();
        Assert.True(health.GetProperty("configuration").GetProperty("fromCache").GetBoolean());
        long produced = system.Agent.ReadOutbox().Produced;
        await system.WaitForProducedAsync(produced + 3, Long);
    }

    [Fact]
    public async Task BadConfigurationFile_AgentRefusesToStartNamingEveryProblem()
    {
        var config = Path.Combine(_dir, "agent.json");
        await File.WriteAllTextAsync(config, """{ "centralUrl": "not a url", "agentId": "", "cameras": [] }""");
        var log = new ProcessLog();
        using var agent = Processes.Start(AgentProcess.AgentDll, ["--config", config], new Dictionary<string, string>(), log);
        await agent.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, agent.ExitCode);
        foreach (var field in new[] { "centralUrl", "agentId", "keyFile", "dataDirectory", "cameras" }) Assert.True(log.Contains(field + ":"), log.Tail());
    }
}
