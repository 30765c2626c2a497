using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using CinemaVision.Core.Events;
using CinemaVision.Server.Ingest;
using CinemaVision.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CinemaVision.Server.Tests.Hardening;

/// <summary>HTTPS with a generated certificate pinned by fingerprint, ledger pruning, and webhook URLs kept out of the logs.</summary>
public sealed class OperationsTests
{
    [Fact]
    public async Task Https_GeneratedCertificatePinnedByFingerprint_HstsAndSecureCookie_UnpinnedClientsRefused()
    {
        using var data = new TempFolder("cv-https-");
        await using var server = new ServerProcess(data.Path, scheme: "https");
        await server.StartAsync(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true });
        var pin = File.ReadAllText(Path.Combine(data.Path, "tls", "certificate.sha256")).Trim();
        Assert.Contains(pin, server.Log, StringComparison.Ordinal);

        HttpClientHandler Pinned(string fingerprint) => new()
        {
            AllowAutoRedirect = false,
            UseCookies = true,
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) => certificate is not null && certificate.GetCertHashString(HashAlgorithmName.SHA256).Equals(fingerprint, StringComparison.OrdinalIgnoreCase),
        };

        using var pinned = server.Client(Pinned(pin));
        using var page = await pinned.GetAsync(new Uri("/login", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.StartsWith("max-age=", page.Headers.GetValues("Strict-Transport-Security").Single(), StringComparison.Ordinal);
        using var signIn = await pinned.PostAsync(new Uri("/login", UriKind.Relative), new FormUrlEncodedContent(new Dictionary<string, string> { ["username"] = "admin", ["password"] = ServerProcess.AdminPassword }));
        Assert.Contains("secure", signIn.Headers.GetValues("Set-Cookie").Single(), StringComparison.OrdinalIgnoreCase);

        using var wrongPin = server.Client(Pinned(new string('0', 64)));
        await Assert.ThrowsAsync<HttpRequestException>(() => wrongPin.GetAsync(new Uri("/healthz", UriKind.Relative)));
        using var trustsNothing = server.Client(new HttpClientHandler());
        await Assert.ThrowsAsync<HttpRequestException>(() => trustsNothing.GetAsync(new Uri("/healthz", UriKind.Relative)));

        // The same identity after a restart (agents keep their pin).
        await server.KillAsync();
        await using var again = new ServerProcess(data.Path, scheme: "https");
        await again.StartAsync(Pinned(pin));
    }

    [Fact]
    public async Task Ledger_EntriesPastTheRetryHorizon_Pruned_NewerKept()
    {
        using var server = new ServerFactory(new() { ["CinemaVision:Ingest:LedgerRetentionDays"] = "2" });
        var (agent, _) = await server.AgentClientAsync("edge-1", "site-a");
        var t = Samples.RecentMinute();
        using (var r = await agent.PostAsJsonAsync("/api/v1/ingest/batches", Samples.Batch("edge-1", "b1", occupancy: [Samples.Occupancy("o1", "site-a", "aud-1", t, 1), Samples.Occupancy("o2", "site-a", "aud-1", t.AddSeconds(1), 1)]), IngestJson.Options)) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var db = server.Services.GetRequiredService<IngestDatabase>();
        db.Write(tx =>
        {
            using var cmd = tx.Connection!.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = "UPDATE ingested_items SET stored_at = $old WHERE item_id = 'o1'";
            cmd.Parameters.AddWithValue("$old", DateTimeOffset.UtcNow.AddDays(-3).ToUnixTimeMilliseconds());
            return cmd.ExecuteNonQuery();
        });

        var removed = await server.Services.GetRequiredService<LedgerPruner>().PruneAsync(default);

        Assert.Equal(1, removed);
        Assert.Equal(1, db.Count("ingested_items"));
    }

    [Fact]
    public async Task WebhookUrl_IsASecret_NeverInTheLogs()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var logs = new StringBuilder();
        const string Secret = "robot-key-0123456789abcdef";
        using var server = new ServerFactory(
            new()
            {
                ["CinemaVision:Alerting:Webhooks:0:Name"] = "duty",
                ["CinemaVision:Alerting:Webhooks:0:Url"] = receiver.BaseUrl + "/hook?key=" + Secret,
                ["CinemaVision:Alerting:Webhooks:0:Format"] = "WeCom",
                ["CinemaVision:Alerting:RetryDelaySeconds"] = "0.2",
                ["CinemaVision:Alerting:Rules:0:Name"] = "camera",
                ["CinemaVision:Alerting:Rules:0:Category"] = "CameraHealth",
                ["CinemaVision:Alerting:Rules:0:Channels:0"] = "webhook:duty",
            },
            logs);
        var (agent, _) = await server.AgentClientAsync("edge-1", "site-a");
        receiver.FailNext(1);
        using (var r = await agent.PostAsJsonAsync("/api/v1/ingest/batches", Samples.Batch("edge-1", "b1", cameraHealth: [Samples.CameraHealth("h1", "site-a", "aud-1", DateTimeOffset.UtcNow)]), IngestJson.Options)) Assert.Equal(HttpStatusCode.OK, r.StatusCode);

        var received = await receiver.WaitForAsync(1, TimeSpan.FromSeconds(60));

        Assert.Contains(Secret, Assert.Single(received).Path, StringComparison.Ordinal);
        string text;
        lock (logs) text = logs.ToString();
        Assert.Contains("webhook:duty", text, StringComparison.Ordinal); // the failed first attempt was logged...
        Assert.DoesNotContain(Secret, text, StringComparison.Ordinal); // ...without the URL's key
    }
}
