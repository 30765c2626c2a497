using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CinemaVision.Core.Auditoriums;
using CinemaVision.Core.Events;
using CinemaVision.Core.Pipeline;
using CinemaVision.Core.Showings;
using CinemaVision.Edge.Upload;

namespace CinemaVision.Edge.Configuration;

/// <summary>One auditorium as pulled: the validated model and a hash of its file (a change of the hash is a change to apply).</summary>
public sealed record AuditoriumEntry(Auditorium Auditorium, string Hash);

/// <summary>What the centre told this agent: its site, the site's auditoriums (seat maps, zones, pipeline settings) and the schedule.</summary>
public sealed record SiteConfig(string SiteId, IReadOnlyDictionary<string, AuditoriumEntry> Auditoriums, IReadOnlyList<Showing> Showings, string? ConfigETag, string? ShowingsETag, DateTimeOffset FetchedAt, bool FromCache)
{
    /// <summary>The auditorium's state now (armed rules, showing id) from the pulled schedule.</summary>
    public ShowingContext StateOf(string auditoriumId, DateTimeOffset now)
    {
        var (state, showing) = ShowingSchedule.StateAt(Showings.Where(s => string.Equals(s.AuditoriumId, auditoriumId, StringComparison.Ordinal)), now);
        return new ShowingContext(state, showing?.Id);
    }
}

/// <summary>
/// The agent's copy of the centre's configuration: pulled with ETags (304 when unchanged), written atomically to a
/// disk cache after every change, read from that cache at start so the agent works while the centre is down, and
/// applied without a restart (the camera workers read <see cref="Current"/> on every pass and rebuild a camera's
/// pipeline when its auditorium's file changed). A pulled auditorium that does not validate is not applied: the
/// previous version stays and the problems are logged.
/// </summary>
public sealed partial class SiteConfigService : BackgroundService
{
    private const string CacheFile = "site-config.json";
    private readonly AgentOptions _options;
    private readonly CentreClient _centre;
    private readonly TimeProvider _time;
    private readonly ILogger<SiteConfigService> _logger;
    private readonly TaskCompletionSource _firstConfig = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile SiteConfig? _current;
    private string? _configBody;
    private string? _showingsBody;

    public SiteConfigService(AgentOptions options, CentreClient centre, TimeProvider time, ILogger<SiteConfigService> logger)
    {
        _options = options;
        _centre = centre;
        _time = time;
        _logger = logger;
        LoadCache();
    }

    /// <summary>The configuration in force, or null before the first pull when there is no cache.</summary>
    public SiteConfig? Current => _current;

    /// <summary>Completes when a configuration is available (from the cache or the centre).</summary>
    public Task Ready => _firstConfig.Task;

    /// <summary>Counts applied configurations (cache or centre).</summary>
    public long Version { get; private set; }

    private string CachePath => Path.Combine(_options.DataDirectory, CacheFile);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await PullAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or TimeoutException or TaskCanceledException or CentreException)
            {
                LogPullFailed(_logger, ex.Message, _current is null ? "no configuration yet" : _current.FromCache ? "using the cached configuration" : "keeping the configuration in force");
            }

            try
            {
                await Task.Delay(_options.ConfigPollEvery, _time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One poll: config and schedule, each with its ETag.</summary>
    public async Task PullAsync(CancellationToken cancellationToken)
    {
        var config = await _centre.GetWithETagAsync("/api/v1/agent/config", _current?.ConfigETag, cancellationToken);
        var showings = await _centre.GetWithETagAsync("/api/v1/agent/showings", _current?.ShowingsETag, cancellationToken);
        if (config.Status == HttpStatusCode.NotModified && showings.Status == HttpStatusCode.NotModified && _current is not null)
        {
            if (_current.FromCache) _current = _current with { FromCache = false, FetchedAt = _time.GetUtcNow() };
            return;
        }

        var configBody = config.Status == HttpStatusCode.NotModified ? _configBody : config.Body;
        var showingsBody = showings.Status == HttpStatusCode.NotModified ? _showingsBody : showings.Body;
        if (configBody is null || showingsBody is null)
        {
            // 304 without a body of our own (cache lost): ask again for everything.
            config = await _centre.GetWithETagAsync("/api/v1/agent/config", null, cancellationToken);
            showings = await _centre.GetWithETagAsync("/api/v1/agent/showings", null, cancellationToken);
            configBody = config.Body;
            showingsBody = showings.Body;
        }

        var next = Build(configBody!, showingsBody!, config.ETag, showings.ETag, fromCache: false);
        if (next is null) return;
        Apply(next, configBody!, showingsBody!);
        await WriteCacheAsync(cancellationToken);
    }

    private void Apply(SiteConfig next, string configBody, string showingsBody)
    {
        var before = _current;
        _current = next;
        _configBody = configBody;
        _showingsBody = showingsBody;
        Version++;
        foreach (var (id, entry) in next.Auditoriums)
        {
            if (before?.Auditoriums.TryGetValue(id, out var old) != true || old!.Hash != entry.Hash) LogAuditoriumApplied(_logger, id, entry.Auditorium.Cameras.Count, next.FromCache ? "cache" : "centre");
        }

        _firstConfig.TrySetResult();
    }

    /// <summary>Parses the centre's answers; auditoriums that do not validate keep their previous version.</summary>
    private SiteConfig? Build(string configBody, string showingsBody, string? configETag, string? showingsETag, bool fromCache)
    {
        JsonObject? root;
        try
        {
            root = JsonNode.Parse(configBody) as JsonObject;
        }
        catch (JsonException ex)
        {
            LogBadConfig(_logger, "the configuration is not valid JSON: " + ex.Message);
            return null;
        }

        if (root?["siteId"]?.GetValue<string>() is not { Length: > 0 } siteId || root["auditoriums"] is not JsonArray list)
        {
            LogBadConfig(_logger, "the configuration lacks siteId or auditoriums");
            return null;
        }

        var auditoriums = new Dictionary<string, AuditoriumEntry>(StringComparer.Ordinal);
        foreach (var node in list)
        {
            var text = node?.ToJsonString() ?? "null";
            var read = AuditoriumFile.Parse(text);
            var id = read.Auditorium?.AuditoriumId ?? node?["auditoriumId"]?.ToString() ?? "?";
            if (!read.IsValid)
            {
                LogBadConfig(_logger, $"auditorium '{id}' is not applied ({read.Problems.Count} problem(s)): {string.Join("; ", read.Problems.Take(5))}");
                if (_current?.Auditoriums.TryGetValue(id, out var previous) == true) auditoriums[id] = previous!;
                continue;
            }

            auditoriums[id] = new AuditoriumEntry(read.Auditorium!, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16]);
        }

        List<Showing> showings;
        try
        {
            showings = JsonSerializer.Deserialize<List<Showing>>(showingsBody, IngestJson.Options) ?? [];
        }
        catch (JsonException ex)
        {
            LogBadConfig(_logger, "the schedule is not valid: " + ex.Message);
            showings = [.. _current?.Showings ?? []];
        }

        return new SiteConfig(siteId, auditoriums, showings, configETag, showingsETag, _time.GetUtcNow(), fromCache);
    }

    private void LoadCache()
    {
        if (!File.Exists(CachePath)) return;
        try
        {
            var cache = JsonNode.Parse(File.ReadAllText(CachePath))!.AsObject();
            var configBody = cache["config"]!.GetValue<string>();
            var showingsBody = cache["showings"]!.GetValue<string>();
            var built = Build(configBody, showingsBody, cache["configETag"]?.GetValue<string>(), cache["showingsETag"]?.GetValue<string>(), fromCache: true);
            if (built is not null)
            {
                Apply(built, configBody, showingsBody);
                LogCacheLoaded(_logger, CachePath, built.Auditoriums.Count, built.Showings.Count);
            }
        }
        catch (Exception ex) when (ex is JsonException or IOException or InvalidOperationException or NullReferenceException)
        {
            LogBadConfig(_logger, $"the configuration cache {CachePath} cannot be read ({ex.Message}); waiting for the centre");
        }
    }

    private async Task WriteCacheAsync(CancellationToken cancellationToken)
    {
        var current = _current!;
        var json = new JsonObject
        {
            ["siteId"] = current.SiteId,
            ["configETag"] = current.ConfigETag,
            ["showingsETag"] = current.ShowingsETag,
            ["fetchedAt"] = current.FetchedAt,
            ["config"] = _configBody,
            ["showings"] = _showingsBody,
        }.ToJsonString();
        // Atomic: a crash while writing leaves the previous cache, never half a file.
        var temp = CachePath + ".tmp";
        await File.WriteAllTextAsync(temp, json, cancellationToken);
        using (var handle = File.OpenHandle(temp, FileMode.Open, FileAccess.ReadWrite)) RandomAccess.FlushToDisk(handle);
        File.Move(temp, CachePath, overwrite: true);
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "Cannot pull the configuration from the centre: {Reason}; {Fallback}")]
    private static partial void LogPullFailed(ILogger logger, string reason, string fallback);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Auditorium {AuditoriumId} applied ({Cameras} cameras) from the {Source}")]
    private static partial void LogAuditoriumApplied(ILogger logger, string auditoriumId, int cameras, string source);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Error, Message = "Configuration from the centre not applied: {Problem}")]
    private static partial void LogBadConfig(ILogger logger, string problem);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Information, Message = "Configuration loaded from the cache {Path}: {Auditoriums} auditoriums, {Showings} showings")]
    private static partial void LogCacheLoaded(ILogger logger, string path, int auditoriums, int showings);
}
