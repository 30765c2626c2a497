using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CinemaVision.Core.Collection;
using CinemaVision.Core.Events;
using CinemaVision.Core.Models;
using CinemaVision.Server.Alerting;
using CinemaVision.Server.Auth;
using CinemaVision.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace CinemaVision.Server.Tests.Dashboard;

/// <summary>
/// The data team's pages (models, collected frames) and the runtime alert settings, end to end: the real host, real
/// headless Chromium, data through the real APIs, test messages through the real SMTP server the host sends to.
/// </summary>
[Collection(nameof(DashboardCollection))]
public sealed class DashboardDataAndSettingsTests(DashboardHost host)
{
    private static readonly LocatorAssertionsToHaveTextOptions Live = new() { Timeout = 20_000 };

    [Fact]
    public async Task ModelsPage_ShowsAssignedAgainstReported_AndAnAdminAssignsAVersion()
    {
        await host.PutAuditoriumAsync(DashboardHost.Hall("hall-models", "Hall Models", 5, 10), "hall-models");
        // A real ONNX file as the uploaded version (the centre stores and hashes it; agents load it).
        var onnx = await File.ReadAllBytesAsync(DashboardEndToEndTests.TestAssetPath("models/person_yolox_192.onnx"));
        using (var admin = await host.AdminApiAsync())
        {
            await UploadModelAsync(admin, "audience_heads", "2026.11.20", onnx, new ModelCard
            {
                Name = "audience_heads", Version = "2026.11.20", BaseModel = "lffd_head_v1_brainwash", Data = "site-e2e frames, 1,240 labelled heads", Epochs = 40, Licence = "own data",
                Results = new Dictionary<string, double> { ["ap50"] = 0.912, ["count_mae"] = 1.4 }, EvaluatedOn = "hall-a holdout (120 frames)",
                Gate = new GateDecision(true, [new GateCheck("ap50", 0.912, 0.884, 0.005, true)], "better than the current model on ap50", new GateMargins().ToString()),
            });
            await UploadModelAsync(admin, "audience_heads", "2026.12.01", await File.ReadAllBytesAsync(DashboardEndToEndTests.TestAssetPath("models/ultraface_rfb_320.onnx")), new ModelCard
            {
                Name = "audience_heads", Version = "2026.12.01", BaseModel = "audience_heads 2026.11.20", Data = "plus 300 dim-light frames", Epochs = 25,
                Results = new Dictionary<string, double> { ["ap50"] = 0.921 },
                Gate = new GateDecision(true, [new GateCheck("ap50", 0.921, 0.912, 0.005, true)], "not worse beyond the margins", new GateMargins().ToString()),
            });
            using var assigned = await admin.PutAsJsonAsync($"/api/v1/sites/{DashboardHost.Site}/auditoriums/hall-models/model", new { name = "audience_heads", version = "2026.11.20" });
            assigned.EnsureSuccessStatusCode();
        }

        // The agent reports it runs the first version.
        using var agent = await host.AgentAsync("edge-models");
        using (var r = await agent.PostAsJsonAsync("/api/v1/agent/models/status", new { auditoriumId = "hall-models", name = "audience_heads", version = "2026.11.20", state = "running", message = (string?)null })) r.EnsureSuccessStatusCode();

        var page = await host.SignInAsync("admin", ServerFactory.AdminPassword);
        await page.ClickAsync("nav a[href='/models']");
        await DashboardHost.WaitForDashboardAsync(page);
        await Expect(page.Locator("[data-assigned=hall-models]")).ToContainTextAsync("audience_heads 2026.11.20");
        await Expect(page.Locator("[data-reported=hall-models]")).ToContainTextAsync("audience_heads 2026.11.20");
        await Expect(page.Locator("[data-agreement=hall-models]")).ToHaveAttributeAsync("data-value", "running");

        // The admin assigns the newer version on the page; the agent still runs the old one until it pulls.
        await page.Locator("[data-assign-select=hall-models]").ClickAsync();
        await page.Locator(".mud-popover-open .mud-list-item", new() { HasText = "2026.12.01" }).ClickAsync();
        await page.ClickAsync("[data-assign=hall-models]");
        await Expect(page.Locator("[data-assigned=hall-models]")).ToContainTextAsync("audience_heads 2026.12.01", new() { Timeout = 20_000 });
        await Expect(page.Locator("[data-reported=hall-models]")).ToContainTextAsync("2026.11.20");
        await Expect(page.Locator("[data-agreement=hall-models]")).ToHaveAttributeAsync("data-value", "differs");

        // The model card of the chosen version.
        await page.Locator("#versions-table [data-version='audience_heads 2026.12.01']").ClickAsync();
        await Expect(page.Locator("#model-card")).ToContainTextAsync("plus 300 dim-light frames");
        await Expect(page.Locator("#model-gate")).ToContainTextAsync("promoted");
        await DashboardHost.ScreenshotAsync(page, "20-models");

        // The same service path as PUT .../model: what agents pull and what the audit log says.
        var pulled = await agent.GetFromJsonAsync<JsonElement>("/api/v1/agent/models");
        Assert.Contains(pulled.GetProperty("assignments").EnumerateArray(), a => a.GetProperty("auditoriumId").GetString() == "hall-models" && a.GetProperty("version").GetString() == "2026.12.01");
        var audit = await host.GetJsonAsync("/api/v1/admin/audit?q=model.assign");
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("actor").GetString() == "admin" && e.GetProperty("detail").GetString() == "audience_heads 2026.12.01");

        // Once the agent reports the new version running, the page says so.
        using (var r = await agent.PostAsJsonAsync("/api/v1/agent/models/status", new { auditoriumId = "hall-models", name = "audience_heads", version = "2026.12.01", state = "running", message = (string?)null })) r.EnsureSuccessStatusCode();
        await page.ReloadAsync();
        await DashboardHost.WaitForDashboardAsync(page);
        await Expect(page.Locator("[data-agreement=hall-models]")).ToHaveAttributeAsync("data-value", "running");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task FramesPage_DataTeamSeesAndDeletesFrames_AManagerIsRefused()
    {
        await host.PutAuditoriumAsync(DashboardHost.Hall("hall-frames", "Hall Frames", 5, 10), "hall-frames");
        await host.CreateUserAsync("dana", "dana-password-12", Roles.DataTeam);
        await host.CreateUserAsync("max", "max-password-123", Roles.Manager);
        using (var admin = await host.AdminApiAsync())
        using (var on = await admin.PutAsJsonAsync($"/api/v1/sites/{DashboardHost.Site}/auditoriums/hall-frames/collection", new { enabled = true, retentionDays = 14 }))
        {
            Assert.True(on.IsSuccessStatusCode, await on.Content.ReadAsStringAsync());
        }

        // Two frames kept by the agent: real photographs.
        using var agent = await host.AgentAsync("edge-frames");
        var now = DateTimeOffset.UtcNow;
        await UploadFrameAsync(agent, "fr-e2e-1", "hall-frames", "data/photos/person.jpg", now.AddMinutes(-30), CollectionReasons.NearThreshold);
        await UploadFrameAsync(agent, "fr-e2e-2", "hall-frames", "data/coco-phones/000000006771.jpg", now.AddMinutes(-10), CollectionReasons.Event);

        // A manager has no entry in the menu and is refused the page.
        var manager = await host.SignInAsync("max", "max-password-123");
        await Expect(manager.Locator("nav a[href='/frames']")).ToHaveCountAsync(0);
        await manager.GotoAsync("/frames");
        await DashboardHost.WaitForDashboardAsync(manager);
        Assert.Contains("/denied", manager.Url, StringComparison.Ordinal);
        await Expect(manager.Locator("#access-denied")).ToBeVisibleAsync();
        await manager.Context.CloseAsync();

        var page = await host.SignInAsync("dana", "dana-password-12");
        await page.ClickAsync("nav a[href='/frames']");
        await DashboardHost.WaitForDashboardAsync(page);
        await Expect(page.Locator("#frames-table [data-frame]")).ToHaveCountAsync(2);

        // Filtered by reason.
        await page.Locator("#filter-reason").ClickAsync();
        await page.Locator(".mud-popover-open .mud-list-item", new() { HasText = "near the threshold" }).ClickAsync();
        // The choice is applied on the server once the list has closed; only then does the search use it.
        await Expect(page.Locator(".mud-popover-open .mud-list-item")).ToHaveCountAsync(0);
        await page.ClickAsync("#frames-search");
        await Expect(page.Locator("#frames-table [data-frame]")).ToHaveCountAsync(1);
        await Expect(page.Locator("#frames-table [data-frame=fr-e2e-1]")).ToHaveCountAsync(1);

        // The preview comes through the audited frame route.
        await page.Locator("#frames-table [data-frame=fr-e2e-1]").ClickAsync();
        await page.WaitForFunctionAsync("() => { const i = document.querySelector('#frame-image'); return i && i.complete && i.naturalWidth > 0; }");
        await Expect(page.Locator("[data-collection=hall-frames]")).ToHaveAttributeAsync("data-enabled", "on");
        await DashboardHost.ScreenshotAsync(page, "21-collected-frames");
        var audit = await host.GetJsonAsync("/api/v1/admin/audit?q=frames.");
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("actor").GetString() == "dana" && e.GetProperty("action").GetString() == "frames.fetch" && e.GetProperty("subject").GetString() == "fr-e2e-1");
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("actor").GetString() == "dana" && e.GetProperty("action").GetString() == "frames.list");

        await page.ClickAsync("#frame-delete");
        await Expect(page.Locator("#frames-table [data-frame=fr-e2e-1]")).ToHaveCountAsync(0);
        using (var admin = await host.AdminApiAsync())
        using (var gone = await admin.GetAsync("/api/v1/frames/fr-e2e-1"))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        audit = await host.GetJsonAsync("/api/v1/admin/audit?q=frames.delete");
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("actor").GetString() == "dana" && e.GetProperty("subject").GetString() == "fr-e2e-1");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task FramesPage_AdminSwitchesCollection_WithTheSameValidationAsTheApi()
    {
        await host.PutAuditoriumAsync(DashboardHost.Hall("hall-policy", "Hall Policy", 4, 8), "hall-policy");
        var page = await host.SignInAsync("admin", ServerFactory.AdminPassword);
        await page.GotoAsync("/frames");
        await DashboardHost.WaitForDashboardAsync(page);
        await Expect(page.Locator("[data-collection=hall-policy]")).ToHaveAttributeAsync("data-enabled", "off");

        await page.ClickAsync("[data-edit-collection=hall-policy]");
        await page.Locator("#collection-enabled input").CheckAsync();
        await page.FillAsync("#collection-retention", "400");
        await page.ClickAsync("#collection-save");
        await Expect(page.Locator("#collection-editor")).ToContainTextAsync("within (0, 365]");
        await Expect(page.Locator("[data-collection=hall-policy]")).ToHaveAttributeAsync("data-enabled", "off");

        await page.FillAsync("#collection-retention", "21");
        await page.ClickAsync("#collection-save");
        await Expect(page.Locator("[data-collection=hall-policy]")).ToHaveAttributeAsync("data-enabled", "on");
        var policies = await host.GetJsonAsync($"/api/v1/sites/{DashboardHost.Site}/collection");
        Assert.True(policies.GetProperty("hall-policy").GetProperty("enabled").GetBoolean());
        Assert.Equal(21, policies.GetProperty("hall-policy").GetProperty("retentionDays").GetDouble());
        var audit = await host.GetJsonAsync("/api/v1/admin/audit?q=collection.set");
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("actor").GetString() == "admin" && e.GetProperty("subject").GetString() == $"{DashboardHost.Site}/hall-policy");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task AlertRule_SwitchedOffAndOnByAnAdmin_DecidesWhetherAnIngestedEventRaisesAnAlert()
    {
        await host.PutAuditoriumAsync(DashboardHost.Hall("hall-rules", "Hall Rules", 5, 10), "hall-rules");
        using var agent = await host.AgentAsync("edge-rules");
        var page = await host.SignInAsync("admin", ServerFactory.AdminPassword);
        await page.GotoAsync("/settings/alerting");
        await DashboardHost.WaitForDashboardAsync(page);
        await Expect(page.Locator("[data-rule-state=anomaly]")).ToHaveAttributeAsync("data-enabled", "on");

        try
        {
            // A bad value is named under its field and nothing changes.
            await page.ClickAsync("[data-edit-rule=anomaly]");
            await page.FillAsync("#rule-escalate", "0");
            await page.ClickAsync("#rule-save");
            await Expect(page.Locator("#rule-editor")).ToContainTextAsync("more than 0");
            await DashboardHost.ScreenshotAsync(page, "22-settings-alert-rule-editor");

            await page.FillAsync("#rule-escalate", "5");
            await page.Locator("#rule-enabled input").UncheckAsync();
            await page.ClickAsync("#rule-save");
            await Expect(page.Locator("[data-rule-state=anomaly]")).ToHaveAttributeAsync("data-enabled", "off");
            await DashboardHost.ScreenshotAsync(page, "22-settings-alert-rule-off-saved");

            var at = DateTimeOffset.UtcNow;
            await DashboardHost.IngestAsync(agent, Samples.Batch("edge-rules", "b-rules-1", anomalies: [Samples.Anomaly("an-rules-off", DashboardHost.Site, "hall-rules", at)]));

            await page.ClickAsync("[data-edit-rule=anomaly]");
            await page.Locator("#rule-enabled input").CheckAsync();
            await page.ClickAsync("#rule-save");
            await Expect(page.Locator("[data-rule-state=anomaly]")).ToHaveAttributeAsync("data-enabled", "on");
            await DashboardHost.IngestAsync(agent, Samples.Batch("edge-rules", "b-rules-2", anomalies: [Samples.Anomaly("an-rules-on", DashboardHost.Site, "hall-rules", at.AddSeconds(5))]));

            // Signals are decided in order: once the second event's alert exists, the first was decided too (without one).
            using var admin = await host.AdminApiAsync();
            var opened = await PollAsync(async () =>
            {
                using var response = await admin.GetAsync($"/api/v1/alerts/al-{DashboardHost.Site}-hall-rules-inc-an-rules-on");
                return response.StatusCode == HttpStatusCode.OK;
            });
            Assert.True(opened, "the event after the rule was switched on raised an alert");
            using var none = await admin.GetAsync($"/api/v1/alerts/al-{DashboardHost.Site}-hall-rules-inc-an-rules-off");
            Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);

            var audit = await host.GetJsonAsync("/api/v1/admin/audit?q=alert.rule-set");
            Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("actor").GetString() == "admin" && e.GetProperty("subject").GetString() == "anomaly" && e.GetProperty("detail").GetString()!.StartsWith("off;", StringComparison.Ordinal));
        }
        finally
        {
            // Back to the configured rule for the other tests of this host.
            using var admin = await host.AdminApiAsync();
            using var reverted = await admin.DeleteAsync("/api/v1/alerts/rules/anomaly");
        }

        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task TestMessage_ThroughTheEmailChannel_ReachesTheSmtpServer()
    {
        var page = await host.SignInAsync("admin", ServerFactory.AdminPassword);
        await page.GotoAsync("/settings/alerting");
        await DashboardHost.WaitForDashboardAsync(page);

        await page.ClickAsync("[data-test-channel=email]");
        await Expect(page.Locator("[data-test-result=email]")).ToHaveTextAsync("delivered", Live);
        var received = await PollAsync(() => Task.FromResult(host.Smtp.Messages().Any(m => m.Contains("Test message from CinemaVision, sent by admin", StringComparison.Ordinal))));
        Assert.True(received, "the test message reached the SMTP server");
        var mail = host.Smtp.Messages().First(m => m.Contains("Test message from CinemaVision", StringComparison.Ordinal));
        Assert.Contains("To: security@e2e.test", mail, StringComparison.Ordinal);
        await DashboardHost.ScreenshotAsync(page, "23-settings-alerting-test-message");
        var audit = await host.GetJsonAsync("/api/v1/admin/audit?q=alert.channel-test");
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("subject").GetString() == "email" && e.GetProperty("detail").GetString() == "ok");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Channels_EditedByAnAdmin_AreUsedByTheNextMessage_AndSecretsAreNeverShownBack()
    {
        var page = await host.SignInAsync("admin", ServerFactory.AdminPassword);
        await page.GotoAsync("/settings/alerting");
        await DashboardHost.WaitForDashboardAsync(page);
        try
        {
            // A bad sender is named under its field; nothing changes.
            await page.ClickAsync("[data-edit-channel=email]");
            await Expect(page.Locator("#channel-to")).ToHaveValueAsync("security@e2e.test");
            await page.FillAsync("#channel-from", "not-an-address");
            await page.ClickAsync("#channel-save");
            await Expect(page.Locator("#channel-editor")).ToContainTextAsync("must be an e-mail address");

            // New recipients, saved: the next test message goes to them, without a restart.
            await page.FillAsync("#channel-from", "cinemavision@e2e.test");
            await page.FillAsync("#channel-to", "night-desk@e2e.test");
            await page.ClickAsync("#channel-save");
            await Expect(page.Locator("#channel-editor")).ToHaveCountAsync(0);
            await page.ClickAsync("[data-test-channel=email]");
            await Expect(page.Locator("[data-test-result=email]")).ToHaveTextAsync("delivered", Live);
            Assert.True(await PollAsync(() => Task.FromResult(host.Smtp.Messages().Any(m => m.Contains("To: night-desk@e2e.test", StringComparison.Ordinal)))), "the message went to the new recipient");

            // A webhook added with a robot key in its URL and a signing secret: neither is ever rendered or logged.
            await page.ClickAsync("#channel-add-webhook");
            await page.FillAsync("#channel-name", "ops-robot");
            await page.FillAsync("#channel-url", "https://robots.example.test/send?key=robot-key-4711");
            await page.FillAsync("#channel-secret", "SEC-signing-0815");
            await page.ClickAsync("#channel-save");
            await Expect(page.Locator("[data-test-channel='webhook:ops-robot']")).ToHaveCountAsync(1);
            await page.ClickAsync("[data-edit-channel='webhook:ops-robot']");
            await Expect(page.Locator("#channel-url")).ToHaveValueAsync("");
            await Expect(page.Locator("#channel-secret")).ToHaveValueAsync("");
            await DashboardHost.ScreenshotAsync(page, "24-settings-alerting-channel-editor");
            var html = await page.ContentAsync();
            Assert.DoesNotContain("robot-key-4711", html, StringComparison.Ordinal);
            Assert.DoesNotContain("SEC-signing-0815", html, StringComparison.Ordinal);
            var audit = await host.GetJsonAsync("/api/v1/admin/audit?q=alert.channel-set");
            Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("subject").GetString() == "webhook:ops-robot");
            Assert.DoesNotContain("robot-key-4711", audit.ToString(), StringComparison.Ordinal);

            // Saved again without a URL: the stored one is kept (the channel still has its URL).
            await page.ClickAsync("#channel-save");
            await Expect(page.Locator("#channel-editor")).ToHaveCountAsync(0);
            var channels = host.Services.GetRequiredService<NotificationChannels>();
            Assert.Equal("https://robots.example.test/send?key=robot-key-4711", channels.Webhooks.Single(w => w.Name == "ops-robot").Url);
        }
        finally
        {
            var channels = host.Services.GetRequiredService<NotificationChannels>();
            channels.Revert("email", "test");
            channels.Revert("webhook:ops-robot", "test");
        }

        await page.Context.CloseAsync();
    }

    private static async Task<bool> PollAsync(Func<Task<bool>> condition)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < until)
        {
            if (await condition()) return true;
            await Task.Delay(100);
        }

        return await condition();
    }

    private static async Task UploadModelAsync(HttpClient admin, string name, string version, byte[] file, ModelCard card)
    {
        using var form = new MultipartFormDataContent
        {
            { new StringContent($$"""{"name":"{{name}}","version":"{{version}}","decoder":"yolox","input":{"name":"images","shape":[1,3,192,192]},"classNames":["person"]}"""), "manifest" },
            { new StringContent(JsonSerializer.Serialize(card, IngestJson.Options)), "card" },
            { new ByteArrayContent(file), "file", name + ".onnx" },
        };
        using var response = await admin.PostAsync("/api/v1/models", form);
        Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    private static async Task UploadFrameAsync(HttpClient agent, string id, string auditorium, string asset, DateTimeOffset at, params string[] reasons)
    {
        var jpeg = await File.ReadAllBytesAsync(DashboardEndToEndTests.TestAssetPath(asset));
        var meta = new CollectedFrameMeta { Id = id, AuditoriumId = auditorium, CameraId = "cam-1", CapturedAt = at, Reasons = reasons, EventKind = reasons.Contains(CollectionReasons.Event) ? "AisleStanding" : null, Uncertainty = 0.42, ModelName = "audience_heads", ModelVersion = "2026.11.20", Width = 640, Height = 480 };
        var image = new ByteArrayContent(jpeg);
        image.Headers.ContentType = new("image/jpeg");
        using var form = new MultipartFormDataContent { { new StringContent(JsonSerializer.Serialize(meta, IngestJson.Options)), "meta" }, { image, "image", id + ".jpg" } };
        using var response = await agent.PostAsync("/api/v1/agent/frames", form);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }
}
