using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using CinemaVision.Core.Events;
using CinemaVision.Server.Evidence;
using CinemaVision.Server.Ingest;
using CinemaVision.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using Xunit.Abstractions;

namespace CinemaVision.Server.Tests.Alerting;

/// <summary>Alerting end to end with real parts: an SMTP server, an HTTP webhook receiver and an MQTT broker on 127.0.0.1.</summary>
public sealed class AlertingTests(ITestOutputHelper output) : IAsyncLifetime
{
    private SmtpSink _smtp = null!;
    private WebhookReceiver _webhook = null!;
    private MosquittoBroker _mqtt = null!;

    public async Task InitializeAsync()
    {
        _smtp = await SmtpSink.StartAsync();
        _webhook = await WebhookReceiver.StartAsync();
        _mqtt = await MosquittoBroker.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _smtp.DisposeAsync();
        await _webhook.DisposeAsync();
        await _mqtt.DisposeAsync();
    }

    private ServerFactory Server(double escalateAfterMinutes = 60, Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["CinemaVision:Alerting:Email:Host"] = "127.0.0.1",
            ["CinemaVision:Alerting:Email:Port"] = _smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["CinemaVision:Alerting:Email:From"] = "alerts@cinema.test",
            ["CinemaVision:Alerting:Email:To:0"] = "security@cinema.test",
            ["CinemaVision:Alerting:Webhooks:0:Name"] = "duty",
            ["CinemaVision:Alerting:Webhooks:0:Url"] = _webhook.BaseUrl + "/duty",
            ["CinemaVision:Alerting:Webhooks:1:Name"] = "wecom",
            ["CinemaVision:Alerting:Webhooks:1:Url"] = _webhook.BaseUrl + "/cgi-bin/webhook/send?key=test",
            ["CinemaVision:Alerting:Webhooks:1:Format"] = "WeCom",
            ["CinemaVision:Alerting:Mqtt:Host"] = "127.0.0.1",
            ["CinemaVision:Alerting:Mqtt:Port"] = _mqtt.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["CinemaVision:Alerting:RetryDelaySeconds"] = "0.2",
            ["CinemaVision:Alerting:EscalationCheckSeconds"] = "0.2",
            ["CinemaVision:Alerting:Rules:0:Name"] = "piracy",
            ["CinemaVision:Alerting:Rules:0:Category"] = "Piracy",
            ["CinemaVision:Alerting:Rules:0:Severity"] = "Critical",
            ["CinemaVision:Alerting:Rules:0:Channels:0"] = "email",
            ["CinemaVision:Alerting:Rules:0:Channels:1"] = "webhook:duty",
            ["CinemaVision:Alerting:Rules:0:EscalateAfterMinutes"] = escalateAfterMinutes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["CinemaVision:Alerting:Rules:1:Name"] = "anomaly",
            ["CinemaVision:Alerting:Rules:1:Category"] = "Anomaly",
            ["CinemaVision:Alerting:Rules:1:Channels:0"] = "mqtt",
            ["CinemaVision:Alerting:Rules:2:Name"] = "camera",
            ["CinemaVision:Alerting:Rules:2:Category"] = "CameraHealth",
            ["CinemaVision:Alerting:Rules:2:Channels:0"] = "webhook:wecom",
            ["CinemaVision:Alerting:Rules:2:ResolveOnEnd"] = "true",
        };
        foreach (var (k, v) in extra ?? []) settings[k] = v;
        return new ServerFactory(settings);
    }

    /// <summary>A real (small) JPEG snapshot, as an agent's evidence crop would be.</summary>
    private static byte[] Jpeg() => Convert.FromBase64String("/9j/4AAQSkZJRgABAgAAAQABAAD//gAQTGF2YzU5LjM3LjEwMAD/2wBDAAgGBgcGBwgICAgICAkJCQoKCgkJCQkKCgoKCgoMDAwKCgoKCgoKDAwMDA0ODQ0NDA0ODg8PDxISEREVFRUZGR//xAC0AAACAgMBAQAAAAAAAAAAAAAABwYIBAUDAgEBAAIDAQEBAAAAAAAAAAAAAAAGBwQIBQIBEAACAQIEAwIICA8BAAAAAAACAQMABAYFEhETITEIB0HBUrIjgRUWFCRjUSIyw9Sxs7TEhYQ2dUUzg0ZkYeRyEQACAQMCBAIECgYLAQEAAAABAgMABBESBSETBgcxFMRkFVLDwWOxQeQlFyIk1GUjhGFCRMIW03JFk4MmMuOShf/AABEIADAAQAMBEgACEgADEgD/2gAMAwEAAhEDEQA/AK/1uMK4euMV57l+T2z0HeToHJsD4UIpyTz6TkiR8GETk0a0R6dI82qKKKKa2G8NlmhK4uEwtBf+0U5J8xF9UCfIzX/kee7TAt7eG0hCGEFHHGthEeiX4W2+bb5t83zqhsOwtuLCecFbZT/EGYj+VT4hAeDMP8K8ckO0EEVtEkUSBI0GFUfR8ZJPEk8SeJpr7s92YejYX2ranjm3yZBk4V49tjdcrNMpyrXDKdUEDAgAiWUaNKvmDdd1vt7vrjcNwuJLq7uX5k00hGpmxgAAAKqKoCoiAIiAKoCgCl5JIUpMzbIi5tuvNMtjY22220VpaRJBBCumONPADx8TklicszMSzMSWJJqxW1du26z2izgsbGBLa2t00RRJnCjxJJOWZmJLO7Es7EsxJJNWqWdFNdFZ/oq4tFYAopqopZNIk00mnyafRr5nX2m+KWSCRJYneOSNldHRiro6nKsrDBDA8QRxBrxUBQzS28sc0MjxSxOskckbFHjdDqV0dSGVlIBBByDxFeKwcN4pd4StL8lxyfopthEZW3/LJCkIn4AaSRdPrdYKBlGQmBMCFohIW0QknummuaafNNVLew9Rm6YW14w5rH9nLgKJM/yMAAof3cABvD/t4pysyMGUlWUgqykggjiCCOIIPgalfuz2YXYYX3vpuGQ7dEgN7Ya5ZpLNUXjdwvIzyyW+BqnVmZ4TmTJizy9HzwQ3UMsE8Uc0MyNHLFKivHJG6lXjkRgVZGUkMrAgg4NWxqH92WLvfTC9lmEharyLe0v+W3xyAR1ScooY/TxlHcaYhYR8Xhpti6aqKgSikZ2dYIZsZXRyRRyFBk1zJCRgJFFI7q0ickbabA3HIcbIdnoMh6N107OP7X3/AO47j8usaKKKKadFNdFZ/opa0U00VuuilnRTXRWf6KuLRWAKKaqKWdFNlFZ/opa0U00Vuqipv2Z55ihxLA5ZHDGeWyBEzJxhJKN2MkghvpE5BijRkluSAU/qqvHZl/uj9E/n9NdFQBRUa7ucMTZHn+XZ1DexyFambcElqWmSOaI4ZRRjciwNxyFoPYkJ7NiSWzieX942b5btwrfLy28uOd+bcDS5edV+Uz+U14+Xx8EasXPTFldZ1yXIz7rR/HEabr/ojyOfz/Mx6tp+Gaql31nuN7nmRWgz7qSj55jVkvZ3oVLxOvg0ePVULyjvEmuJBtcwjtYYy2QTRjIKAvldcp/RflLZC+vJ7qr98H4ynsbw+nz/ANUrl7X0jsU1zpvZ76IPgLIksCqrfKardvwn3sjT9PDiIh3HtZ5AH7W5mPUtPpTVM3cfovdotqa96cUXs8Gp7ixuEaSaeHA42ZhMOZY8EmFlZpQf2Z1qEfjcYb4BbfCtX9Hb7R1wnxBeSk9ccAtPmtEi2fzNOSna37088gexNOf1hn0MV07TtH03ojmgvtzlR1V0dbizdHVhlWVltMMrDiCDgiuDf98vItj2DzP/ANLT6C1dSXs50vuqRzrf7pJHKqyRyQXNk0ciONSujizZWVgQVIJBHEVoY+6zifxbb9S/6q1wd5udB0t8u9cVx95pr23un7Qx9k8vPrur0Va6Nj2z2awxy7jcWx78tufmtlqGH670f0DP7z/4VcbojbW8Zrz/AO4f7mnDmuOvZmr4hxdv8nR9gVZmYYJy3Mt+LNeDv5BwrzoSqF7PsP5vH/INGf1Zn04Vxrbvf1La40WezHHvQXnxXorrWHcTz2Ps3l59b1ejrV+06A2qyxy574496SA/NAKUnv76Zxez+nh+E+LgVm+42WcRyca93fykO34ipF+4b8Af+0Hj9Hsz69XG+/DqXSF8ns2B8hefptLW3dCefI/P8vPq2r4dap2XW25WOOXDZnHvpMfmmWtFb2/HHfVp9W/jVSjDuF5pYikvVLbg/oxx7aZm0+ZmjF6R8CTHUXXktt2C47X8gE+1dWPU8ekmunt3UW97jG8l/b2luh4JGkU6Sk54s2udtK/QARk+PAYzq+w3vzy55HL/ANzV/UWod657u7d0pPFYdKva7vMuHuryZ/MWKKy5WCBrV4edKchndZOXGBo/E5bR1wBiyHu8yUssjsZL8pbqW7mnO7GAXJIEcaUcStpWADHECaKQ2z1Fuk0KYJ90WQH1us19U1r90pa3KH2fnjzMfw0/G1fL6Vr/ADzMLn3OHzlqdU7b6/8AM8fun1iqC9wt2XwgsP8ATn/SK//Z");

    private static async Task PostAsync(HttpClient agent, IngestBatch batch)
    {
        using var response = await agent.PostAsJsonAsync("/api/v1/ingest/batches", batch, IngestJson.Options);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<JsonElement> WaitForAlertAsync(HttpClient admin, Func<JsonElement, bool> condition, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        JsonElement last = default;
        while (sw.Elapsed < timeout)
        {
            last = await admin.GetFromJsonAsync<JsonElement>("/api/v1/alerts");
            if (last.EnumerateArray().Any(condition)) return last.EnumerateArray().First(condition);
            await Task.Delay(100);
        }

        throw new TimeoutException($"no matching alert; alerts: {last}");
    }

    [Fact]
    public async Task PiracySuspicion_OneAlert_EmailWithEvidenceThumbnail_ThenEscalatesToTheWebhook()
    {
        await using var server = Server(escalateAfterMinutes: 0.005);
        var (agent, _) = await server.AgentClientAsync("agent-1", "site-a");
        using var evidence = new ByteArrayContent(Jpeg());
        evidence.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        using (var up = await agent.PutAsync("/api/v1/evidence/ev-1.jpg", evidence)) Assert.Equal(HttpStatusCode.Created, up.StatusCode);

        var t = DateTimeOffset.UtcNow;
        var start = new PiracySuspicion("p-1", "inc-1", IncidentPhase.Start, RecordingDevice.Phone, "site-a", "aud-3", "cam-1", "F12", t, t, 21, 0.82, "ev-1.jpg");
        await PostAsync(agent, Samples.Batch("agent-1", "b-1", piracy: [start]));
        await PostAsync(agent, Samples.Batch("agent-1", "b-2", piracy: [start with { Id = "p-2", Phase = IncidentPhase.Update, Timestamp = t.AddSeconds(30), HeldUpSeconds = 51 }]));

        var mail = Assert.Single(await _smtp.WaitForAsync(1, TimeSpan.FromSeconds(20)));
        Assert.Contains("Subject: [Critical] Possible recording", mail, StringComparison.Ordinal);
        Assert.Contains("seat F12", mail, StringComparison.Ordinal);
        Assert.Contains("filename=evidence-ev-1.jpg", mail, StringComparison.Ordinal);

        // Nobody acknowledged: the next channel of the rule is told.
        var hooks = await _webhook.WaitForAsync(1, TimeSpan.FromSeconds(20));
        var hook = JsonDocument.Parse(hooks.Single(h => h.Path.StartsWith("/duty", StringComparison.Ordinal)).Body).RootElement;
        Assert.Equal("F12", hook.GetProperty("seatId").GetString());
        Assert.Equal("Critical", hook.GetProperty("severity").GetString());

        using var admin = await server.AdminClientAsync();
        var alert = await WaitForAlertAsync(admin, a => a.GetProperty("ruleName").GetString() == "piracy", TimeSpan.FromSeconds(5));
        Assert.Equal(2, alert.GetProperty("eventCount").GetInt32());
        var detail = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/alerts/{alert.GetProperty("id").GetString()}");
        var attempts = detail.GetProperty("attempts").EnumerateArray().ToList();
        Assert.Contains(attempts, a => a.GetProperty("channel").GetString() == "email" && a.GetProperty("succeeded").GetBoolean());
        Assert.Contains(attempts, a => a.GetProperty("channel").GetString() == "webhook:duty" && a.GetProperty("succeeded").GetBoolean());
        Assert.Contains(detail.GetProperty("history").EnumerateArray(), h => h.GetProperty("action").GetString()!.StartsWith("escalated", StringComparison.Ordinal));
        // Exactly one e-mail for the incident: the update joined the alert.
        Assert.Single(_smtp.Messages());
    }

    [Fact]
    public async Task FailingWebhook_RetriedEveryAttemptRecorded_ThenDelivered()
    {
        await using var server = Server();
        var (agent, _) = await server.AgentClientAsync("agent-1", "site-a");
        _webhook.FailNext(2);
        var t = DateTimeOffset.UtcNow;
        await PostAsync(agent, Samples.Batch("agent-1", "b-1", cameraHealth: [Samples.CameraHealth("h-1", "site-a", "aud-3", t)]));

        var received = await _webhook.WaitForAsync(1, TimeSpan.FromSeconds(20));
        var wecom = JsonDocument.Parse(received.Single().Body).RootElement;
        Assert.Equal("markdown", wecom.GetProperty("msgtype").GetString());
        Assert.Contains("frozen", wecom.GetProperty("markdown").GetProperty("content").GetString(), StringComparison.Ordinal);

        using var admin = await server.AdminClientAsync();
        var alert = await WaitForAlertAsync(admin, a => a.GetProperty("ruleName").GetString() == "camera", TimeSpan.FromSeconds(5));
        JsonElement detail = default;
        for (int i = 0; i < 50; i++)
        {
            detail = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/alerts/{alert.GetProperty("id").GetString()}");
            if (detail.GetProperty("attempts").GetArrayLength() >= 3) break;
            await Task.Delay(100);
        }

        var attempts = detail.GetProperty("attempts").EnumerateArray().Select(a => (Ok: a.GetProperty("succeeded").GetBoolean(), Error: a.GetProperty("error").ToString())).ToList();
        Assert.Equal([false, false, true], attempts.Select(a => a.Ok));
        Assert.Contains("HTTP 500", attempts[0].Error, StringComparison.Ordinal);

        // The camera recovers: the incident end resolves the alert on its own.
        await PostAsync(agent, Samples.Batch("agent-1", "b-2", cameraHealth: [Samples.CameraHealth("h-2", "site-a", "aud-3", t.AddMinutes(1), phase: IncidentPhase.End) with { IncidentId = "inc-h-1" }]));
        await WaitForAlertAsync(admin, a => a.GetProperty("ruleName").GetString() == "camera" && a.GetProperty("status").GetString() == "Resolved", TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task AnomalyEvent_PublishedOnMqttForBuildingSystems()
    {
        await using var server = Server();
        var (agent, _) = await server.AgentClientAsync("agent-1", "site-a");
        using var subscriber = new MqttClientFactory().CreateMqttClient();
        var got = new TaskCompletionSource<(string Topic, string Payload)>(TaskCreationOptions.RunContinuationsAsynchronously);
        subscriber.ApplicationMessageReceivedAsync += e =>
        {
            got.TrySetResult((e.ApplicationMessage.Topic, e.ApplicationMessage.ConvertPayloadToString()));
            return Task.CompletedTask;
        };
        await subscriber.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", _mqtt.Port).Build());
        await subscriber.SubscribeAsync("cinemavision/alerts/#");

        await PostAsync(agent, Samples.Batch("agent-1", "b-1", anomalies: [Samples.Anomaly("a-1", "site-a", "aud-3", DateTimeOffset.UtcNow)]));

        var (topic, payload) = await got.Task.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal("cinemavision/alerts/site-a/aud-3", topic);
        Assert.Equal("AisleStanding", JsonDocument.Parse(payload).RootElement.GetProperty("kind").GetString());
    }

    [Fact]
    public async Task ReplayedBatch_NoSecondAlertOrEmail()
    {
        await using var server = Server();
        var (agent, _) = await server.AgentClientAsync("agent-1", "site-a");
        var batch = Samples.Batch("agent-1", "b-1", piracy: [Samples.Piracy("p-9", "site-a", "aud-1", DateTimeOffset.UtcNow)]);
        await PostAsync(agent, batch);
        await PostAsync(agent, batch);
        await _smtp.WaitForAsync(1, TimeSpan.FromSeconds(20));
        await Task.Delay(1000);
        using var admin = await server.AdminClientAsync();
        var dump = await admin.GetStringAsync("/api/v1/alerts");
        output.WriteLine(dump);
        foreach (var a in System.Text.Json.JsonDocument.Parse(dump).RootElement.EnumerateArray()) output.WriteLine(await admin.GetStringAsync($"/api/v1/alerts/{a.GetProperty("id").GetString()}"));
        Assert.Single(_smtp.Messages());
        var alerts = await admin.GetFromJsonAsync<JsonElement>("/api/v1/alerts");
        Assert.Equal(1, alerts.GetArrayLength());
        Assert.Equal(1, alerts[0].GetProperty("eventCount").GetInt32());
    }

    [Fact]
    public async Task MutedAuditorium_AlertRecordedWithoutEmail_AckAndResolveLifecycle()
    {
        await using var server = Server();
        var (agent, _) = await server.AgentClientAsync("agent-1", "site-a");
        using var admin = await server.AdminClientAsync();
        var now = DateTimeOffset.UtcNow;
        using (var mute = await admin.PostAsJsonAsync("/api/v1/mutes", new { siteId = "site-a", auditoriumId = "aud-7", from = now.AddMinutes(-1), until = now.AddHours(2), reason = "private screening" }))
        {
            Assert.Equal(HttpStatusCode.Created, mute.StatusCode);
        }

        await PostAsync(agent, Samples.Batch("agent-1", "b-1", piracy: [Samples.Piracy("p-1", "site-a", "aud-7", now)]));
        var alert = await WaitForAlertAsync(admin, a => a.GetProperty("muted").GetBoolean(), TimeSpan.FromSeconds(10));
        await Task.Delay(500);
        Assert.Empty(_smtp.Messages());

        var id = alert.GetProperty("id").GetString();
        using (var noNote = await admin.PostAsJsonAsync($"/api/v1/alerts/{id}/resolve", new { note = "" })) Assert.Equal(HttpStatusCode.BadRequest, noNote.StatusCode);
        using (var ack = await admin.PostAsync($"/api/v1/alerts/{id}/ack", null))
        {
            Assert.Equal(HttpStatusCode.OK, ack.StatusCode);
            Assert.Equal("admin", (await ack.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("acknowledgedBy").GetString());
        }

        using (var resolve = await admin.PostAsJsonAsync($"/api/v1/alerts/{id}/resolve", new { note = "staff checked: guest was reading a ticket" })) Assert.Equal(HttpStatusCode.OK, resolve.StatusCode);
        using (var again = await admin.PostAsync($"/api/v1/alerts/{id}/ack", null)) Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        using var anonymous = server.CreateClient();
        using (var denied = await anonymous.PostAsync($"/api/v1/alerts/{id}/ack", null)) Assert.Equal(HttpStatusCode.Unauthorized, denied.StatusCode);
    }

    [Fact]
    public async Task EventToEmailLatency_MeasuredOver20Alerts()
    {
        await using var server = Server();
        var (agent, _) = await server.AgentClientAsync("agent-1", "site-a");
        var latencies = new List<double>();
        for (int i = 0; i < 20; i++)
        {
            var sw = Stopwatch.StartNew();
            await PostAsync(agent, Samples.Batch("agent-1", $"b-{i}", piracy: [Samples.Piracy($"p-{i}", "site-a", $"aud-{i}", DateTimeOffset.UtcNow)]));
            await _smtp.WaitForAsync(i + 1, TimeSpan.FromSeconds(20));
            latencies.Add(sw.Elapsed.TotalMilliseconds);
        }

        latencies.Sort();
        output.WriteLine(FormattableString.Invariant($"event -> e-mail received: p50 {latencies[latencies.Count / 2]:0} ms, max {latencies[^1]:0} ms over {latencies.Count} alerts"));
        Assert.Equal(20, _smtp.Messages().Count);
    }

    [Fact]
    public async Task Evidence_BadUploadsRejectedWithAReason_DownloadOnlyForSecurity_RetentionDeletes()
    {
        await using var server = Server(extra: new() { ["CinemaVision:Evidence:MaxBytes"] = "300000" });
        var (agent, key) = await server.AgentClientAsync("agent-1", "site-a");
        var jpeg = Jpeg();

        async Task<HttpResponseMessage> Put(HttpClient client, string id, byte[] data, string type)
        {
            using var content = new ByteArrayContent(data);
            content.Headers.ContentType = new MediaTypeHeaderValue(type);
            return await client.PutAsync($"/api/v1/evidence/{id}", content);
        }

        using (var wrongType = await Put(agent, "e1.jpg", jpeg, "video/mp4")) Assert.Equal(HttpStatusCode.UnsupportedMediaType, wrongType.StatusCode);
        using (var truncated = await Put(agent, "e1.jpg", jpeg[..(jpeg.Length / 2)], "image/jpeg"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, truncated.StatusCode);
            Assert.Contains("truncated", await truncated.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var notImage = await Put(agent, "e1.jpg", "GIF89a not really"u8.ToArray(), "image/jpeg")) Assert.Equal(HttpStatusCode.BadRequest, notImage.StatusCode);
        using (var huge = await Put(agent, "e1.jpg", new byte[400_000], "image/jpeg")) Assert.Equal(HttpStatusCode.RequestEntityTooLarge, huge.StatusCode);
        using var noKey = server.CreateClient();
        using (var anonymousUpload = await Put(noKey, "e1.jpg", jpeg, "image/jpeg")) Assert.Equal(HttpStatusCode.Unauthorized, anonymousUpload.StatusCode);
        using (var ok = await Put(agent, "e1.jpg", jpeg, "image/jpeg")) Assert.Equal(HttpStatusCode.Created, ok.StatusCode);

        using (var anonymousDownload = await noKey.GetAsync("/api/v1/evidence/e1.jpg")) Assert.Equal(HttpStatusCode.Unauthorized, anonymousDownload.StatusCode);
        using (var agentDownload = await agent.GetAsync("/api/v1/evidence/e1.jpg")) Assert.True(agentDownload.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden);
        using var admin = await server.AdminClientAsync();
        Assert.Equal(jpeg, await admin.GetByteArrayAsync("/api/v1/evidence/e1.jpg"));

        var store = server.Services.GetRequiredService<EvidenceStore>();
        store.Options.RetentionDays = 0;
        Assert.Equal(["e1.jpg"], store.DeleteExpired());
        using (var gone = await admin.GetAsync("/api/v1/evidence/e1.jpg")) Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.NotEmpty(key);
    }

    [Fact]
    public void BadAlertingConfiguration_HostRefusesToStartNamingEveryKey()
    {
        using var server = new ServerFactory(new()
        {
            ["CinemaVision:Alerting:Email:Host"] = "",
            ["CinemaVision:Alerting:Email:From"] = "nobody",
            ["CinemaVision:Alerting:Webhooks:0:Name"] = "x",
            ["CinemaVision:Alerting:Webhooks:0:Url"] = "ftp://nope",
            ["CinemaVision:Alerting:Rules:0:Name"] = "r",
            ["CinemaVision:Alerting:Rules:0:Channels:0"] = "pager",
        });
        var ex = Assert.ThrowsAny<Exception>(() => server.CreateClient());
        var text = ex.ToString();
        Assert.Contains("CinemaVision:Alerting:Email:Host", text, StringComparison.Ordinal);
        Assert.Contains("CinemaVision:Alerting:Email:From", text, StringComparison.Ordinal);
        Assert.Contains("CinemaVision:Alerting:Webhooks:0:Url", text, StringComparison.Ordinal);
        Assert.Contains("'pager' is not a configured channel", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NotificationPendingWhenTheServiceStops_DeliveredAfterRestart()
    {
        var folder = Directory.CreateTempSubdirectory("cv-restart-").FullName;
        try
        {
            var settings = new Dictionary<string, string?> { ["CinemaVision:DataDirectory"] = folder, ["CinemaVision:Alerting:RetryDelaySeconds"] = "2" };
            _webhook.FailNext(1000);
            await using (var first = Server(extra: settings))
            {
                var (agent, _) = await first.AgentClientAsync("agent-1", "site-a");
                await PostAsync(agent, Samples.Batch("agent-1", "b-1", cameraHealth: [Samples.CameraHealth("h-1", "site-a", "aud-3", DateTimeOffset.UtcNow)]));
                var sw = Stopwatch.StartNew();
                while (_webhook.Calls == 0 && sw.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(50);
                Assert.True(_webhook.Calls > 0, "the webhook was never tried");
            }

            // The receiver recovers while the service is down; the restarted service finishes the job.
            _webhook.FailNext(0);
            await using var second = Server(extra: settings);
            using var admin = await second.AdminClientAsync();
            var received = await _webhook.WaitForAsync(1, TimeSpan.FromSeconds(30));
            Assert.Single(received);
            var alert = await WaitForAlertAsync(admin, a => a.GetProperty("ruleName").GetString() == "camera", TimeSpan.FromSeconds(5));
            var detail = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/alerts/{alert.GetProperty("id").GetString()}");
            var attempts = detail.GetProperty("attempts").EnumerateArray().Select(a => a.GetProperty("succeeded").GetBoolean()).ToList();
            Assert.False(attempts[0]);
            Assert.True(attempts[^1]);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
    }
}
