using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;

namespace CinemaVision.Testing;

/// <summary>Output lines of a child process, kept for diagnosis when a test fails.</summary>
public sealed class ProcessLog
{
    private readonly List<string> _lines = [];

    public void Add(string? line)
    {
        if (line is null) return;
        lock (_lines)
        {
            _lines.Add(line);
            if (_lines.Count > 2000) _lines.RemoveAt(0);
        }
    }

    public string Tail(int n = 40)
    {
        lock (_lines) return string.Join(Environment.NewLine, _lines.TakeLast(n));
    }

    public bool Contains(string text)
    {
        lock (_lines) return _lines.Any(l => l.Contains(text, StringComparison.Ordinal));
    }

    /// <summary>Lines that contain <paramref name="text"/>.</summary>
    public int Count(string text)
    {
        lock (_lines) return _lines.Count(l => l.Contains(text, StringComparison.Ordinal));
    }
}

/// <summary>Starting and stopping real processes.</summary>
public static class Processes
{
    public static Process Start(string dll, IEnumerable<string> args, IReadOnlyDictionary<string, string> environment, ProcessLog log)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in environment) psi.Environment[k] = v;
        var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start dotnet {dll}");
        p.OutputDataReceived += (_, e) => log.Add(e.Data);
        p.ErrorDataReceived += (_, e) => log.Add(e.Data);
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    /// <summary>SIGTERM (a graceful stop), then SIGKILL if it has not exited within <paramref name="grace"/>.</summary>
    public static async Task TerminateAsync(Process p, TimeSpan grace)
    {
        if (p.HasExited) return;
        using (var kill = Process.Start("kill", ["-TERM", p.Id.ToString(CultureInfo.InvariantCulture)])) await kill!.WaitForExitAsync();
        using var cts = new CancellationTokenSource(grace);
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
        }
    }

    /// <summary>SIGKILL: the process dies at once, mid-whatever (its ffmpeg children end through their closed pipes).</summary>
    public static async Task KillAsync(Process p)
    {
        if (p.HasExited) return;
        p.Kill(entireProcessTree: false);
        await p.WaitForExitAsync();
    }

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, Func<string>? diagnosis = null)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < timeout)
        {
            try
            {
                if (await condition()) return;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
                // A slow answer (a loaded machine) is no answer yet.
            }
            catch (SqliteException)
            {
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"{what} did not happen within {timeout.TotalSeconds:0} s. {diagnosis?.Invoke()}");
    }
}

/// <summary>
/// The real central service as its own process on 127.0.0.1 (embedded SQLite store), with an admin session for set-up
/// and direct reads of its databases to count what it stored.
/// </summary>
public sealed class CentreProcess : IAsyncDisposable
{
    public const string AdminPassword = "test-admin-password-1234";
    private readonly HttpClient _admin;
    private Process? _process;

    /// <param name="https">Listen on https with the certificate the centre generates (its fingerprint in <see cref="CertificateSha256"/>).</param>
    public CentreProcess(string dataDirectory, int? port = null, bool https = false)
    {
        DataDirectory = dataDirectory;
        Port = port ?? RtspServer.FreePort();
        Https = https;
        var handler = new HttpClientHandler { UseCookies = true, AllowAutoRedirect = false };
        // The set-up client trusts the centre's generated certificate (the tests of the agent's pinning do not use it).
        if (https) handler.ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator;
        _admin = new HttpClient(handler) { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(60) };
    }

    public bool Https { get; }

    /// <summary>The admin's signed-in client (for set-up calls the helpers here do not cover).</summary>
    public HttpClient Admin => _admin;

    /// <summary>The SHA-256 of the certificate the centre generated (https only), as it writes it for agents to pin.</summary>
    public string CertificateSha256 => File.ReadAllText(Path.Combine(DataDirectory, "tls", "certificate.sha256")).Trim();

    /// <summary>The heartbeats the centre stored (their JSON payloads), oldest first.</summary>
    public IReadOnlyList<JsonElement> AgentHealthPayloads()
    {
        using var c = Open("timeseries.db");
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT payload FROM agent_health ORDER BY ts";
        using var r = cmd.ExecuteReader();
        var list = new List<JsonElement>();
        while (r.Read()) list.Add(JsonDocument.Parse(r.GetString(0)).RootElement.Clone());
        return list;
    }

    public static string ServerDll => Path.Combine(AppContext.BaseDirectory, "CinemaVision.Server.dll");

    public string DataDirectory { get; }
    public int Port { get; }
    public Uri BaseUrl => new($"{(Https ? "https" : "http")}://127.0.0.1:{Port}");
    public ProcessLog Log { get; } = new();
    public bool Running => _process is { HasExited: false };

    public async Task StartAsync()
    {
        var env = new Dictionary<string, string>
        {
            ["CinemaVision__DataDirectory"] = DataDirectory,
            ["CinemaVision__BootstrapAdmin__Password"] = AdminPassword,
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Logging__LogLevel__Default"] = "Warning",
        };
        _process = Processes.Start(ServerDll, ["--urls", BaseUrl.ToString().TrimEnd('/')], env, Log);
        await Processes.WaitUntilAsync(async () =>
        {
            if (_process.HasExited) throw new InvalidOperationException("the central service exited: " + Log.Tail());
            using var r = await _admin.GetAsync(new Uri("/healthz", UriKind.Relative));
            return r.IsSuccessStatusCode;
        }, TimeSpan.FromSeconds(90), "the central service answering /healthz", () => Log.Tail());
        await LoginAsync();
    }

    private async Task LoginAsync()
    {
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["username"] = "admin", ["password"] = AdminPassword, ["returnUrl"] = "/" });
        using var r = await _admin.PostAsync(new Uri("/login", UriKind.Relative), form);
    }

    /// <summary>Stops the service: gracefully, or killed at once.</summary>
    public async Task StopAsync(bool kill = false)
    {
        if (_process is null) return;
        if (kill) await Processes.KillAsync(_process);
        else await Processes.TerminateAsync(_process, TimeSpan.FromSeconds(20));
        _process.Dispose();
        _process = null;
        SqliteConnection.ClearAllPools();
    }

    public async Task<string> CreateAgentAsync(string agentId, string siteId)
    {
        using var r = await _admin.PostAsJsonAsync(new Uri("/api/v1/admin/agents", UriKind.Relative), new { agentId, siteId, displayName = agentId });
        r.EnsureSuccessStatusCode();
        return (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("apiKey").GetString()!;
    }

    public async Task PutAuditoriumAsync(string siteId, JsonObject auditorium)
    {
        var id = auditorium["auditoriumId"]!.GetValue<string>();
        using var content = new StringContent(auditorium.ToJsonString(), Encoding.UTF8, "application/json");
        using var r = await _admin.PutAsync(new Uri($"/api/v1/sites/{siteId}/auditoriums/{id}", UriKind.Relative), content);
        if (!r.IsSuccessStatusCode) throw new InvalidOperationException($"auditorium {id}: HTTP {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
    }

    /// <summary>One showing of the auditorium: trailers from <paramref name="start"/>, the feature from <paramref name="featureStart"/> to <paramref name="end"/>.</summary>
    public async Task ImportShowingAsync(string siteId, string showingId, string auditoriumId, DateTimeOffset start, DateTimeOffset featureStart, DateTimeOffset end)
    {
        var json = new JsonArray(new JsonObject
        {
            ["id"] = showingId,
            ["auditorium"] = auditoriumId,
            ["film"] = "Test film",
            ["start"] = start.ToString("O", CultureInfo.InvariantCulture),
            ["featureStart"] = featureStart.ToString("O", CultureInfo.InvariantCulture),
            ["end"] = end.ToString("O", CultureInfo.InvariantCulture),
        }).ToJsonString();
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var r = await _admin.PostAsync(new Uri($"/api/v1/sites/{siteId}/showings/import", UriKind.Relative), content);
        if (!r.IsSuccessStatusCode) throw new InvalidOperationException($"schedule: HTTP {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
    }

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using var r = await _admin.GetAsync(new Uri(path, UriKind.Relative));
        if (r.StatusCode == HttpStatusCode.Unauthorized || r.StatusCode == HttpStatusCode.Redirect)
        {
            await LoginAsync();
            return await GetJsonAsync(path);
        }

        r.EnsureSuccessStatusCode();
        return await r.Content.ReadFromJsonAsync<JsonElement>();
    }

    private SqliteConnection Open(string file)
    {
        var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(DataDirectory, file), Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        c.Open();
        return c;
    }

    /// <summary>What the centre's idempotency ledger holds for the agent: event id → when it was stored.</summary>
    public Dictionary<string, DateTimeOffset> LedgerOf(string agentId)
    {
        using var c = Open("timeseries.db");
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT item_id, stored_at FROM ingested_items WHERE agent_id = $a";
        cmd.Parameters.AddWithValue("$a", agentId);
        using var r = cmd.ExecuteReader();
        var ids = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        while (r.Read()) ids[r.GetString(0)] = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1));
        return ids;
    }

    /// <summary>Rows per event id in the time-series store (every table), with each event's own timestamp.</summary>
    public Dictionary<string, (int Rows, DateTimeOffset At, string Table, string? Camera)> StoredRows()
    {
        using var c = Open("timeseries.db");
        var rows = new Dictionary<string, (int, DateTimeOffset, string, string?)>(StringComparer.Ordinal);
        foreach (var (table, camera) in new[] { ("occupancy", "camera"), ("seat_state", "camera"), ("incident", "camera"), ("agent_health", "NULL") })
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = $"SELECT id, ts, {camera} FROM {table}";
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                var id = r.GetString(0);
                var at = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1));
                rows[id] = rows.TryGetValue(id, out var seen) ? (seen.Item1 + 1, seen.Item2, table, seen.Item4) : (1, at, table, r.IsDBNull(2) ? null : r.GetString(2));
            }
        }

        return rows;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _admin.Dispose();
    }
}

/// <summary>
/// A real edge agent as its own process: its configuration file, key file (mode 600) and data folder in a test folder;
/// started, stopped gracefully or killed with SIGKILL, its outbox read directly to count what it produced.
/// </summary>
public sealed class AgentProcess : IAsyncDisposable
{
    private Process? _process;

    /// <param name="extra">More keys of the agent's configuration file (e.g. centralCertificateSha256).</param>
    public AgentProcess(string directory, string agentId, string apiKey, Uri centralUrl, JsonArray cameras, double cpuBudget = 1.5, int heartbeatSeconds = 5, int configPollSeconds = 5, JsonObject? extra = null)
    {
        Directory = directory;
        AgentId = agentId;
        Port = RtspServer.FreePort();
        System.IO.Directory.CreateDirectory(directory);
        var key = Path.Combine(directory, "agent.key");
        File.WriteAllText(key, apiKey);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        ConfigFile = Path.Combine(directory, "agent.json");
        var config = new JsonObject
        {
            ["centralUrl"] = centralUrl.ToString(),
            ["agentId"] = agentId,
            ["keyFile"] = "agent.key",
            ["dataDirectory"] = "data",
            ["cpuBudget"] = cpuBudget,
            ["listen"] = $"127.0.0.1:{Port}",
            ["heartbeatSeconds"] = heartbeatSeconds,
            ["configPollSeconds"] = configPollSeconds,
            ["drainSeconds"] = 10,
            ["cameras"] = cameras,
        };
        foreach (var (k, v) in extra ?? []) config[k] = v?.DeepClone();
        File.WriteAllText(ConfigFile, config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    public static string AgentDll => Path.Combine(AppContext.BaseDirectory, "CinemaVision.Edge.dll");

    public string Directory { get; }
    public string AgentId { get; }
    public int Port { get; }
    public string ConfigFile { get; }
    public string OutboxPath => Path.Combine(Directory, "data", "outbox.db");
    public ProcessLog Log { get; } = new();
    public int Starts { get; private set; }
    public bool Running => _process is { HasExited: false };

    /// <summary>The running agent's process id (CPU and memory figures).</summary>
    public int? Pid => _process is { HasExited: false } p ? p.Id : null;

    public async Task StartAsync(bool waitForConfiguration = true)
    {
        _process = Processes.Start(AgentDll, ["--config", ConfigFile], new Dictionary<string, string> { ["CINEMAVISION_LOG_FORMAT"] = "text", ["Logging__LogLevel__CinemaVision.Edge.Upload"] = "Debug" }, Log);
        Starts++;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await Processes.WaitUntilAsync(async () =>
        {
            if (_process.HasExited) throw new InvalidOperationException($"the agent exited ({_process.ExitCode}): " + Log.Tail());
            using var r = await http.GetAsync(new Uri($"http://127.0.0.1:{Port}/healthz"));
            return r.IsSuccessStatusCode || (!waitForConfiguration && r.StatusCode == HttpStatusCode.ServiceUnavailable);
        }, TimeSpan.FromSeconds(90), "the agent answering /healthz", () => Log.Tail());
    }

    public async Task KillAsync()
    {
        if (_process is null) return;
        await Processes.KillAsync(_process);
        _process.Dispose();
        _process = null;
        SqliteConnection.ClearAllPools();
    }

    public async Task StopAsync()
    {
        if (_process is null) return;
        await Processes.TerminateAsync(_process, TimeSpan.FromSeconds(60));
        _process.Dispose();
        _process = null;
        SqliteConnection.ClearAllPools();
    }

    public async Task<JsonElement> HealthAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        return await http.GetFromJsonAsync<JsonElement>(new Uri($"http://127.0.0.1:{Port}/healthz"));
    }

    /// <summary>The agent's Prometheus metrics as name{labels} → value.</summary>
    public async Task<Dictionary<string, double>> MetricsAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var text = await http.GetStringAsync(new Uri($"http://127.0.0.1:{Port}/metrics"));
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            int space = line.LastIndexOf(' ');
            if (space > 0 && double.TryParse(line[(space + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var v)) metrics[line[..space]] = v;
        }

        return metrics;
    }

    /// <summary>Every event the outbox holds (pending, sent, rejected), by id, with its state, and the produced/dropped counters.</summary>
    public OutboxContents ReadOutbox() => OutboxContents.Read(OutboxPath);

    public async ValueTask DisposeAsync() => await StopAsync();
}

/// <summary>What an agent's outbox file holds.</summary>
public sealed record OutboxContents(IReadOnlyDictionary<string, (int State, DateTimeOffset At, string Type)> Events, long Produced, long Dropped, long Rejected)
{
    public int Pending => Events.Values.Count(e => e.State == 0);

    public static OutboxContents Read(string path)
    {
        if (!File.Exists(path)) return new OutboxContents(new Dictionary<string, (int, DateTimeOffset, string)>(), 0, 0, 0);
        using var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        c.Open();
        var events = new Dictionary<string, (int, DateTimeOffset, string)>(StringComparer.Ordinal);
        using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = "SELECT id, state, at, type FROM events";
            using var r = cmd.ExecuteReader();
            while (r.Read()) events[r.GetString(0)] = (r.GetInt32(1), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(2)), r.GetString(3));
        }

        long Meta(string name)
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT value FROM meta WHERE name = $n";
            cmd.Parameters.AddWithValue("$n", name);
            return cmd.ExecuteScalar() is long v ? v : 0;
        }

        return new OutboxContents(events, Meta("produced"), Meta("dropped"), Meta("rejected"));
    }
}
