using System.Text.Json.Nodes;
using CinemaVision.Vision.Assets;

namespace CinemaVision.Testing;

/// <summary>What a run produced at the agent and what the centre stored, counted at both ends.</summary>
/// <param name="Produced">Events the agent committed to its outbox (dropped samples excluded: none are dropped with disk to spare).</param>
/// <param name="Stored">Of those, the events the centre's ledger holds.</param>
/// <param name="Lost">Produced but not stored.</param>
/// <param name="Doubled">Events stored more than once (extra rows in the time-series store, or ids the agent never produced).</param>
/// <param name="Pending">Still waiting in the outbox (counted as lost).</param>
public sealed record EdgeCounts(long Produced, long Stored, long Lost, long Doubled, long Pending, long Dropped)
{
    public override string ToString() => $"produced {Produced}, stored {Stored}, lost {Lost}, doubled {Doubled}, pending {Pending}, dropped {Dropped}";
}

/// <summary>How to set up a centre and an agent for a run.</summary>
public sealed record EdgeSystemOptions
{
    public int Cameras { get; init; } = 1;

    /// <summary>Camera sources per camera index: (main URL, substream URL or null). Default: the PETS clip as a looping real-time file.</summary>
    public Func<int, (string Main, string? Sub)>? Sources { get; init; }

    /// <summary>Overrides for the auditoriums' pipeline section (fast cadences for tests).</summary>
    public JsonObject Pipeline { get; init; } = new()
    {
        ["cadence"] = new JsonObject { ["occupancyPeriodSeconds"] = 3, ["watchFps"] = 1 },
        ["anomalies"] = new JsonObject { ["aisleSeconds"] = 3 },
    };

    /// <summary>Put a fault-injecting proxy between agent and centre.</summary>
    public bool Proxy { get; init; }

    public double CpuBudget { get; init; } = 1.5;
    public int HeartbeatSeconds { get; init; } = 5;

    /// <summary>The centre listens on https with its generated certificate; the agent pins it (centralCertificateSha256).</summary>
    public bool Https { get; init; }

    /// <summary>More keys of the agent's configuration file.</summary>
    public JsonObject? AgentConfig { get; init; }
}

/// <summary>
/// A real centre and a real edge agent as separate processes on loopback (optionally with a fault proxy between), with
/// the PETS clip as cameras of the PETS walkway auditorium and a showing whose feature is running: what the fault tests
/// and the edge benchmarks run.
/// </summary>
public sealed class EdgeSystem : IAsyncDisposable
{
    public const string SiteId = "test-site";
    public const string AgentId = "test-agent";

    private EdgeSystem(string directory, CentreProcess centre, AgentProcess agent, FaultProxy? proxy)
    {
        Directory = directory;
        Centre = centre;
        Agent = agent;
        Proxy = proxy;
    }

    public string Directory { get; }
    public CentreProcess Centre { get; }
    public AgentProcess Agent { get; }
    public FaultProxy? Proxy { get; }

    public static async Task<EdgeSystem> StartAsync(string directory, EdgeSystemOptions? options = null, bool startAgent = true)
    {
        options ??= new EdgeSystemOptions();
        var centre = new CentreProcess(Path.Combine(directory, "centre"), https: options.Https);
        FaultProxy? proxy = null;
        AgentProcess? agent = null;
        try
        {
            await centre.StartAsync();
            var key = await centre.CreateAgentAsync(AgentId, SiteId);
            var sample = JsonNode.Parse(File.ReadAllText(Path.Combine(AssetLocator.RepositoryRoot!, "samples", "pets-walkway.auditorium.json")))!.AsObject();
            var cameras = new JsonArray();
            var now = DateTimeOffset.UtcNow;
            for (int i = 1; i <= options.Cameras; i++)
            {
                var auditorium = sample.DeepClone().AsObject();
                auditorium["siteId"] = SiteId;
                auditorium["auditoriumId"] = $"aud-{i}";
                auditorium["pipeline"] = options.Pipeline.DeepClone();
                await centre.PutAuditoriumAsync(SiteId, auditorium);
                await centre.ImportShowingAsync(SiteId, $"show-{i}", $"aud-{i}", now.AddMinutes(-10), now.AddMinutes(-5), now.AddHours(3));
                var (main, sub) = options.Sources?.Invoke(i) ?? (TestFootage.PetsClip, null);
                var camera = new JsonObject { ["id"] = "cam-1", ["auditoriumId"] = $"aud-{i}", ["url"] = main };
                if (sub is not null) camera["substreamUrl"] = sub;
                if (!main.Contains("://", StringComparison.Ordinal))
                {
                    camera["loop"] = true;
                    camera["realTime"] = true;
                }

                cameras.Add(camera);
            }

            if (options.Proxy)
            {
                proxy = new FaultProxy(centre.BaseUrl);
                await proxy.StartAsync();
            }

            var extra = options.AgentConfig?.DeepClone().AsObject() ?? [];
            if (options.Https && !extra.ContainsKey("centralCertificateSha256")) extra["centralCertificateSha256"] = centre.CertificateSha256;
            agent = new AgentProcess(Path.Combine(directory, "agent"), AgentId, key, proxy?.Url ?? centre.BaseUrl, cameras, options.CpuBudget, options.HeartbeatSeconds, extra: extra);
            if (startAgent) await agent.StartAsync();
            return new EdgeSystem(directory, centre, agent, proxy);
        }
        catch
        {
            // Nothing is left running when the set-up fails.
            if (agent is not null) await agent.KillAsync();
            if (proxy is not null) await proxy.DisposeAsync();
            await centre.StopAsync(kill: true);
            throw;
        }
    }

    /// <summary>Waits until the agent's outbox has produced at least <paramref name="count"/> events in total.</summary>
    public Task WaitForProducedAsync(long count, TimeSpan timeout) =>
        Processes.WaitUntilAsync(() => Task.FromResult(Agent.ReadOutbox().Produced >= count), timeout, $"the agent producing {count} events", () => Agent.Log.Tail());

    /// <summary>Waits until every event the agent produced is out of its outbox (sent).</summary>
    public Task WaitForDrainAsync(TimeSpan timeout) =>
        Processes.WaitUntilAsync(() => Task.FromResult(Agent.ReadOutbox() is { Produced: > 0 } o && o.Pending == 0), timeout, "the outbox emptying", () => Agent.Log.Tail());

    /// <summary>Counts at both ends: the agent's outbox (every event it committed) against the centre's ledger and store.</summary>
    public EdgeCounts Count()
    {
        var outbox = Agent.ReadOutbox();
        var ledger = Centre.LedgerOf(AgentId);
        var rows = Centre.StoredRows();
        long stored = outbox.Events.Keys.Count(ledger.ContainsKey);
        long doubled = outbox.Events.Keys.Sum(id => rows.TryGetValue(id, out var r) && r.Rows > 1 ? r.Rows - 1 : 0) + ledger.Keys.Count(id => !outbox.Events.ContainsKey(id));
        return new EdgeCounts(outbox.Events.Count, stored, outbox.Events.Count - stored, doubled, outbox.Pending, outbox.Dropped);
    }

    public async ValueTask DisposeAsync()
    {
        await Agent.DisposeAsync();
        if (Proxy is not null) await Proxy.DisposeAsync();
        await Centre.DisposeAsync();
    }
}
