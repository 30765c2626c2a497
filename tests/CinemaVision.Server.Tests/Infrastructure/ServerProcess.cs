using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CinemaVision.Core.Events;

namespace CinemaVision.Server.Tests.Infrastructure;

/// <summary>
/// The central service as its own process (<c>dotnet CinemaVision.Server.dll</c>) on 127.0.0.1 with a given data
/// folder, so tests can SIGKILL it at any moment and start it again on the same data, as a crash would.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    public const string AdminPassword = "process-admin-password-1";
    private readonly StringBuilder _log = new();
    private Process? _process;

    public ServerProcess(string dataDirectory, Dictionary<string, string>? settings = null, string scheme = "http")
    {
        DataDirectory = dataDirectory;
        Settings = settings ?? [];
        Port = InfluxServerFixture.FreePort();
        BaseUri = new Uri($"{scheme}://127.0.0.1:{Port}");
    }

    public string DataDirectory { get; }

    public Dictionary<string, string> Settings { get; }

    public int Port { get; }

    public Uri BaseUri { get; }

    /// <summary>What the process wrote to stdout and stderr so far.</summary>
    public string Log
    {
        get
        {
            lock (_log) return _log.ToString();
        }
    }

    public bool Running => _process is { HasExited: false };

    public async Task StartAsync(HttpMessageHandler? probe = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "CinemaVision.Server.dll");
        var psi = new ProcessStartInfo("dotnet", [dll, "--urls", BaseUri.ToString().TrimEnd('/')]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.Environment["CinemaVision__DataDirectory"] = DataDirectory;
        psi.Environment["CINEMAVISION_DATA_DIR"] = DataDirectory;
        psi.Environment["CinemaVision__BootstrapAdmin__Password"] = AdminPassword;
        psi.Environment["CinemaVision__TimeSeries__MaintenanceIntervalSeconds"] = "3600";
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        psi.Environment["Logging__LogLevel__Default"] = "Information";
        foreach (var (key, value) in Settings)
        {
            psi.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_log) _log.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_log) _log.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        using var http = new HttpClient(probe ?? new HttpClientHandler(), disposeHandler: probe is null) { BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(5) };
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(90))
        {
            if (_process.HasExited) throw new InvalidOperationException($"the service exited with {_process.ExitCode}:\n{Log}");
            try
            {
                using var r = await http.GetAsync(new Uri("/healthz", UriKind.Relative));
                if (r.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable) return;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"the service did not answer /healthz within 90 s:\n{Log}");
    }

    /// <summary>SIGKILL: no shutdown code runs, exactly like a crash or a power cut of the process.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
        }
    }

    public HttpClient Client(HttpMessageHandler? handler = null) => new(handler ?? new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(60) };

    public async Task<HttpClient> AdminAsync(HttpMessageHandler? handler = null)
    {
        var client = Client(handler ?? new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true });
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["username"] = "admin", ["password"] = AdminPassword, ["returnUrl"] = "/" });
        using var response = await client.PostAsync(new Uri("/login", UriKind.Relative), form);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return client;
    }

    public async Task<string> CreateAgentKeyAsync(HttpClient admin, string agentId, string siteId)
    {
        using var response = await admin.PostAsJsonAsync("/api/v1/admin/agents", new { agentId, siteId });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("apiKey").GetString()!;
    }

    public static StringContent Json(IngestBatch batch) => new(JsonSerializer.Serialize(batch, IngestJson.Options), Encoding.UTF8, "application/json");

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
    }
}

/// <summary>A temporary data folder removed at the end.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder(string prefix = "cv-test-") => Path = Directory.CreateTempSubdirectory(prefix).FullName;

    public string Path { get; }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
