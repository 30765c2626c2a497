using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CinemaVision.Edge.Configuration;
using CinemaVision.Edge.Upload;

namespace CinemaVision.Edge.Tests;

/// <summary>
/// The agent pins the centre's generated HTTPS certificate by the fingerprint the centre writes to
/// <c>DATA/tls/certificate.sha256</c>: against the real central service over real TLS on 127.0.0.1, the pinned
/// fingerprint is trusted (no certificate authority, no host name), another fingerprint is refused, and without a pin
/// the self-signed certificate is refused as the system's trust store says.
/// </summary>
public sealed class CertificatePinTests : IAsyncLifetime
{
    private const string AdminPassword = "pin-test-admin-password-1";
    private readonly string _data = Directory.CreateTempSubdirectory("cv-pin-").FullName;
    private readonly StringBuilder _log = new();
    private Process? _centre;
    private Uri _url = new("https://127.0.0.1:1");
    private string _fingerprint = "";

    public async Task InitializeAsync()
    {
        int port;
        using (var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        _url = new Uri($"https://127.0.0.1:{port}");
        var psi = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "CinemaVision.Server.dll"), "--urls", _url.ToString().TrimEnd('/')])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment["CINEMAVISION_DATA_DIR"] = _data;
        psi.Environment["CinemaVision__DataDirectory"] = _data;
        psi.Environment["CinemaVision__BootstrapAdmin__Password"] = AdminPassword;
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        _centre = Process.Start(psi)!;
        _centre.OutputDataReceived += (_, e) => { lock (_log) _log.AppendLine(e.Data); };
        _centre.ErrorDataReceived += (_, e) => { lock (_log) _log.AppendLine(e.Data); };
        _centre.BeginOutputReadLine();
        _centre.BeginErrorReadLine();

        var fingerprintFile = Path.Combine(_data, "tls", "certificate.sha256");
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(90))
        {
            if (_centre.HasExited) throw new InvalidOperationException($"the centre exited with {_centre.ExitCode}:\n{_log}");
            if (File.Exists(fingerprintFile) && (await File.ReadAllTextAsync(fingerprintFile)).Trim() is { Length: 64 } fp)
            {
                _fingerprint = fp;
                try
                {
                    using var probe = Admin(signIn: false);
                    using var health = await probe.GetAsync(new Uri("/healthz", UriKind.Relative));
                    if (health.StatusCode == HttpStatusCode.OK) return;
                }
                catch (HttpRequestException)
                {
                }
                catch (TaskCanceledException)
                {
                }
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"the centre did not serve HTTPS within 90 s:\n{_log}");
    }

    public async Task DisposeAsync()
    {
        if (_centre is { HasExited: false })
        {
            _centre.Kill(entireProcessTree: true);
            await _centre.WaitForExitAsync();
        }

        _centre?.Dispose();
        try { Directory.Delete(_data, recursive: true); } catch (IOException) { }
    }

    /// <summary>A client for set-up that trusts the centre's certificate by the same pin.</summary>
    private HttpClient Admin(bool signIn = true)
    {
        var fingerprint = _fingerprint;
        var handler = new HttpClientHandler { UseCookies = signIn, AllowAutoRedirect = false, ServerCertificateCustomValidationCallback = (_, cert, _, _) => CentreClient.IsPinned(cert, fingerprint) };
        return new HttpClient(handler) { BaseAddress = _url, Timeout = TimeSpan.FromSeconds(30) };
    }

    private async Task<string> AgentKeyAsync()
    {
        using var admin = Admin();
        using (var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["username"] = "admin", ["password"] = AdminPassword, ["returnUrl"] = "/" }))
        using (var signedIn = await admin.PostAsync(new Uri("/login", UriKind.Relative), form))
        {
            Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        }

        using var created = await admin.PostAsJsonAsync("/api/v1/admin/agents", new { agentId = "edge-pin", siteId = "site-a" });
        created.EnsureSuccessStatusCode();
        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("apiKey").GetString()!;
    }

    private AgentOptions Options(string key, string? pin) => new()
    {
        CentralUrl = _url,
        CentralCertificateSha256 = pin,
        AgentId = "edge-pin",
        KeyFile = "unused",
        ApiKey = key,
        DataDirectory = _data,
    };

    [Fact]
    public async Task PinnedFingerprint_TrustsTheCentresGeneratedCertificate_OtherPinOrNoPinRefused()
    {
        var key = await AgentKeyAsync();

        using (var pinned = new CentreClient(Options(key, _fingerprint)))
        {
            var answer = await pinned.GetWithETagAsync("/api/v1/agent/config", null, default);
            Assert.Equal(HttpStatusCode.OK, answer.Status);
        }

        var other = new string(_fingerprint.Select(c => c == 'A' ? 'B' : 'A').ToArray());
        using (var wrong = new CentreClient(Options(key, other)))
        {
            var refused = await Assert.ThrowsAsync<HttpRequestException>(() => wrong.GetWithETagAsync("/api/v1/agent/config", null, default));
            Assert.IsType<System.Security.Authentication.AuthenticationException>(refused.InnerException);
        }

        using (var unpinned = new CentreClient(Options(key, null)))
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => unpinned.GetWithETagAsync("/api/v1/agent/config", null, default));
        }
    }

    [Fact]
    public void ConfigFile_PinReadWithColonsAndLowerCase_BadOrOnPlainHttpNamed()
    {
        var dir = Directory.CreateTempSubdirectory("cv-pincfg-").FullName;
        try
        {
            var keyFile = Path.Combine(dir, "agent.key");
            File.WriteAllText(keyFile, "cvk_test");
            File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            const string Cameras = "\"cameras\": [ { \"id\": \"cam-1\", \"auditoriumId\": \"aud-1\", \"url\": \"rtsp://cam/main\" } ]";
            var colons = string.Join(':', Enumerable.Range(0, 32).Select(i => "ab"));

            var (options, problems) = AgentOptions.Parse($$"""{ "centralUrl": "https://10.0.0.2:8443", "centralCertificateSha256": "{{colons}}", "agentId": "edge-1", "keyFile": "agent.key", "dataDirectory": "data", {{Cameras}} }""", dir);
            Assert.Empty(problems);
            Assert.Equal(string.Concat(Enumerable.Repeat("ab", 32)), options!.CentralCertificateSha256);

            (_, problems) = AgentOptions.Parse($$"""{ "centralUrl": "https://10.0.0.2:8443", "centralCertificateSha256": "12ab", "agentId": "edge-1", "keyFile": "agent.key", "dataDirectory": "data", {{Cameras}} }""", dir);
            Assert.Contains(problems, p => p.Path == "centralCertificateSha256" && p.Message.Contains("64 hex digits", StringComparison.Ordinal));

            (_, problems) = AgentOptions.Parse($$"""{ "centralUrl": "http://10.0.0.2:8080", "centralCertificateSha256": "{{colons}}", "agentId": "edge-1", "keyFile": "agent.key", "dataDirectory": "data", {{Cameras}} }""", dir);
            Assert.Contains(problems, p => p.Path == "centralCertificateSha256" && p.Message.Contains("not https", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
