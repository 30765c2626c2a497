using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CinemaVision.Server.Tests.Infrastructure;

/// <summary>A real SMTP server on 127.0.0.1 (Debian python3-aiosmtpd) writing what it receives into a maildir.</summary>
public sealed class SmtpSink : IAsyncDisposable
{
    private readonly Process _process;

    private SmtpSink(Process process, int port, string maildir)
    {
        _process = process;
        Port = port;
        Maildir = maildir;
    }

    public int Port { get; }
    public string Maildir { get; }

    public static async Task<SmtpSink> StartAsync()
    {
        var maildir = Directory.CreateTempSubdirectory("cv-mail-").FullName;
        foreach (var d in new[] { "tmp", "new", "cur" }) Directory.CreateDirectory(Path.Combine(maildir, d));
        int port = InfluxServerFixture.FreePort();
        if (!File.Exists("/usr/bin/python3")) throw new InvalidOperationException("/usr/bin/python3 with python3-aiosmtpd is needed (./scripts/setup --with-test-deps).");
        var process = Process.Start(new ProcessStartInfo("/usr/bin/python3", ["-m", "aiosmtpd", "-n", "-l", $"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Mailbox", maildir])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        await WaitForPortAsync(port, process, "aiosmtpd (python3-aiosmtpd)");
        return new SmtpSink(process, port, maildir);
    }

    /// <summary>Raw RFC 822 messages received so far.</summary>
    public IReadOnlyList<string> Messages() => [.. Directory.GetFiles(Path.Combine(Maildir, "new")).Order(StringComparer.Ordinal).Select(File.ReadAllText)];

    public async Task<IReadOnlyList<string>> WaitForAsync(int count, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < timeout && Messages().Count < count) await Task.Delay(50);
        return Messages();
    }

    internal static async Task WaitForPortAsync(int port, Process process, string what)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (process.HasExited) throw new InvalidOperationException($"{what} exited: {await process.StandardError.ReadToEndAsync()}");
            try
            {
                using var c = new TcpClient();
                await c.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }

        throw new TimeoutException($"{what} did not listen on 127.0.0.1:{port}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        try { Directory.Delete(Maildir, recursive: true); } catch (IOException) { }
    }
}

/// <summary>A real MQTT broker on 127.0.0.1 (Debian mosquitto).</summary>
public sealed class MosquittoBroker : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _folder;

    private MosquittoBroker(Process process, int port, string folder)
    {
        _process = process;
        Port = port;
        _folder = folder;
    }

    public int Port { get; }

    public static async Task<MosquittoBroker> StartAsync()
    {
        var folder = Directory.CreateTempSubdirectory("cv-mqtt-").FullName;
        int port = InfluxServerFixture.FreePort();
        var conf = Path.Combine(folder, "mosquitto.conf");
        await File.WriteAllTextAsync(conf, $"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n");
        var exe = File.Exists("/usr/sbin/mosquitto") ? "/usr/sbin/mosquitto" : "mosquitto";
        var process = Process.Start(new ProcessStartInfo(exe, ["-c", conf]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        await SmtpSink.WaitForPortAsync(port, process, "mosquitto");
        return new MosquittoBroker(process, port, folder);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) _process.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }
}

/// <summary>A real HTTP webhook receiver on 127.0.0.1 that records bodies and can be told to fail.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<(string Path, string Body)> _received = [];
    private int _failNext;

    private WebhookReceiver(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    public int Calls { get; private set; }

    public IReadOnlyList<(string Path, string Body)> Received
    {
        get
        {
            lock (_received) return [.. _received];
        }
    }

    /// <summary>The next N calls answer 500.</summary>
    public void FailNext(int n) => Interlocked.Exchange(ref _failNext, n);

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/{**path}", async (HttpContext http) =>
        {
            using var reader = new StreamReader(http.Request.Body);
            var body = await reader.ReadToEndAsync();
            receiver.Calls++;
            if (Interlocked.Decrement(ref receiver._failNext) >= 0) return Results.StatusCode(500);
            lock (receiver._received) receiver._received.Add((http.Request.Path + http.Request.QueryString, body));
            return Results.Json(new { errcode = 0, errmsg = "ok" });
        });
        await app.StartAsync();
        receiver.BaseUrl = app.Urls.First();
        return receiver;
    }

    public async Task<IReadOnlyList<(string Path, string Body)>> WaitForAsync(int count, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < timeout && Received.Count < count) await Task.Delay(50);
        return Received;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
