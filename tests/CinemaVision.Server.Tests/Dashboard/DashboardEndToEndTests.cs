using System.Net.Http.Json;
using System.Text.Json;
using CinemaVision.Core.Events;
using CinemaVision.Server.Auth;
using CinemaVision.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace CinemaVision.Server.Tests.Dashboard;

/// <summary>
/// The dashboard end to end: the real host on 127.0.0.1, real headless Chromium, data through the real ingest API.
/// Each test uses its own auditorium so they share one host. Screenshots of every main page go to
/// artifacts/screenshots.
/// </summary>
[Collection(nameof(DashboardCollection))]
public sealed class DashboardEndToEndTests(DashboardHost host)
{
    private static readonly LocatorAssertionsToHaveTextOptions Live = new() { Timeout = 20_000 };

    [Fact]
    public async Task SignedOut_RootRedirectsToSignIn()
    {
        var context = await host.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = host.BaseUrl });
        var page = await context.NewPageAsync();

        await page.GotoAsync("/");

        Assert.Contains("/login?returnUrl=%2F", page.Url, StringComparison.Ordinal);
        await Expect(page.Locator("h1")).ToHaveTextAsync("Sign in");
        await DashboardHost.ScreenshotAsync(page, "01-sign-in");
        await context.CloseAsync();
    }

    [Fact]
    public async Task Overview_OccupancyChangesOnScreenAfterIngest_WithoutReload()
    {
        await host.PutAuditoriumAsync(DashboardHost.Hall("hall-live", "Hall Live", 6, 12), "hall-live");
        using var agent = await host.AgentAsync("edge-live");
        var now = DateTimeOffset.UtcNow;
        await DashboardHost.IngestAsync(agent, Samples.Batch("edge-live", "b-live-1", occupancy: [Samples.Occupancy("o-live-1", DashboardHost.Site, "hall-live", now.AddSeconds(-20), 23, total: 72)]));

        var page = await host.SignInAsync("admin", ServerFactory.AdminPassword);
        var figure = page.Locator("[data-auditorium=hall-live] .cv-aud-figure .big");
        await Expect(figure).ToHaveTextAsync("23", Live);
        var navigations = 0;
        page.FrameNavigated += (_, _) => navigations++;

        await DashboardHost.IngestAsync(agent, Samples.Batch("edge-live", "b-live-2",
            occupancy: [Samples.Occupancy("o-live-2", DashboardHost.Site, "hall-live", now, 57, total: 72)],
            seats: [Samples.Seat("s-live-1", DashboardHost.Site, "hall-live", "C5", now, SeatState.Occupied), Samples.Seat("s-live-2", DashboardHost.Site, "hall-live", "C6", now, SeatState.Empty)]));

        await Expect(figure).ToHaveTextAsync("57", Live);
        Assert.Equal(0, navigations);
        await DashboardHost.ScreenshotAsync(page, "02-overview");

        await page.ClickAsync("[data-auditorium=hall-live]");
        await Expect(page.Locator("#kpi-people .cv-kpi-value")).ToContainTextAsync("57", new() { Timeout = 20_000 });
        await Expect(page.Locator("#seat-map [data-seat=C5]")).ToHaveAttributeAsync("data-state", "Occupied");
        await Expect(page.Locator("#seat-map [data-seat=C6]")).ToHaveAttributeAsync("data-state", "Empty");

        // And on the auditorium page, a new measurement also arrives without reloading.
        await DashboardHost.IngestAsync(agent, Samples.Batch("edge-live", "b-live-3",
            occupancy: [Samples.Occupancy("o-live-3", DashboardHost.Site, "hall-live", now.AddSeconds(5), 61, total: 72)],
            seats: [Samples.Seat("s-live-3", DashboardHost.Site, "hall-live", "C6", now.AddSeconds(5), SeatState.Occupied)]));
        await Expect(page.Locator("#kpi-people .cv-kpi-value")).ToContainTextAsync("61", new() { Timeout = 20_000 });
        await Expect(page.Locator("#seat-map [data-seat=C6]")).ToHaveAttributeAsync("data-state", "Occupied");
        await DashboardHost.ScreenshotAsync(page, "03-auditorium");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task PiracyAlert_AppearsLive_IsAcknowledged_AndShowsTheEvidence()
    {
        await host.PutAuditoriumAsync(DashboardHost.Hall("hall-piracy", "Hall Piracy", 8, 14), "hall-piracy");
        await host.CreateUserAsync("guard", "guard-password-1", Roles.Security);
        using var agent = await host.AgentAsync("edge-piracy");
        var page = await host.SignInAsync("guard", "guard-password-1");
        await page.GotoAsync("/alerts");
        await DashboardHost.WaitForDashboardAsync(page);

        // The evidence crop is a real photograph of a person holding a phone (fetched asset, never committed).
        var evidence = await File.ReadAllBytesAsync(TestAssetPath("data/coco-phones/000000001296.jpg"));
        using (var put = await agent.PutAsync("/api/v1/evidence/ev-e2e-1", new ByteArrayContent(evidence) { Headers = { ContentType = new("image/jpeg") } })) put.EnsureSuccessStatusCode();
        var at = DateTimeOffset.UtcNow;
        var suspicion = new PiracySuspicion("p-e2e-1", "inc-e2e-1", IncidentPhase.Start, RecordingDevice.Phone, DashboardHost.Site, "hall-piracy", "cam-1", "F7", at, at, 7.5, 0.83, "ev-e2e-1", "phone held up toward the screen");
        await DashboardHost.IngestAsync(agent, Samples.Batch("edge-piracy", "b-piracy-1", piracy: [suspicion]));

        var row = page.Locator("[data-alert='al-site-e2e-hall-piracy-inc-e2e-1']");
        await Expect(row).ToContainTextAsync("F7", new() { Timeout = 20_000 });
        // The sound and the desktop notification come from the alert bell's own subscription, just after the row.
        await page.WaitForFunctionAsync("() => (window.cvSoundsPlayed || 0) >= 1 && window.cvLastAlert && window.cvLastAlert.title.includes('F7')");

        await row.ClickAsync();
        var image = page.Locator("#evidence-image");
        await Expect(image).ToBeVisibleAsync();
        await page.WaitForFunctionAsync("() => { const i = document.querySelector('#evidence-image'); return i && i.complete && i.naturalWidth > 0; }");
        await Expect(page.Locator("#alert-seat-map [data-seat=F7]")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("highlight"));

        await page.ClickAsync("#ack-button");
        await Expect(page.Locator("#alert-detail [data-status]").First).ToHaveAttributeAsync("data-status", "Acknowledged");
        await Expect(page.Locator("#alert-history")).ToContainTextAsync("guard");
        await DashboardHost.ScreenshotAsync(page, "04-alerts");

        var stored = await host.GetJsonAsync("/api/v1/alerts/al-site-e2e-hall-piracy-inc-e2e-1");
        Assert.Equal("Acknowledged", stored.GetProperty("alert").GetProperty("status").GetString());
        Assert.Equal("guard", stored.GetProperty("alert").GetProperty("acknowledgedBy").GetString());
        var audit = await host.GetJsonAsync("/api/v1/admin/audit?q=evidence.view");
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("actor").GetString() == "guard" && e.GetProperty("subject").GetString() == "ev-e2e-1");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task SeatMap_RowsGeneratedFromClicks_CornerDragged_AndSavedAsANewVersion()
    {
        var empty = JsonSerializer.Serialize(new { siteId = DashboardHost.Site, auditoriumId = "hall-edit", name = "Hall Edit", cameras = new[] { new { id = "cam-1", reference = new { width = 1280, height = 720 } } } });
        await host.PutAuditoriumAsync(empty, "hall-edit");
        var page = await host.SignInAsync("admin", ServerFactory.AdminPassword);
        await page.GotoAsync($"/seat-maps/{DashboardHost.Site}/hall-edit");
        await DashboardHost.WaitForDashboardAsync(page);

        await page.ClickAsync("#tools >> text=Generate rows");
        await page.FillAsync("#row-labels", "A-E");
        await page.FillAsync("#seats-back", "10");
        await page.FillAsync("#seats-front", "12");
        var canvas = page.Locator("#editor-canvas");
        var box = (await canvas.BoundingBoxAsync())!;
        async Task Click(float fx, float fy) => await page.Mouse.ClickAsync(box.X + (box.Width * fx), box.Y + (box.Height * fy));
        await Click(0.30f, 0.30f);
        await Click(0.70f, 0.30f);
        await Click(0.20f, 0.80f);
        await Click(0.80f, 0.80f);
        var add = page.Locator("#add-seats");
        await Expect(add).ToBeEnabledAsync();
        await Expect(add).ToContainTextAsync("55");
        await add.ClickAsync();
        await Expect(canvas.Locator("[data-seat]")).ToHaveCountAsync(55);
        await Expect(page.Locator("#validation-ok")).ToBeVisibleAsync();
        const int seats = 55;

        // Select seat E1 (the back row) and drag one of its corners.
        await page.ClickAsync("#tools >> text=Select & drag");
        await canvas.Locator("[data-seat=E1]").ClickAsync();
        var corner = canvas.Locator("circle.handle").First;
        var cb = (await corner.BoundingBoxAsync())!;
        await page.Mouse.MoveAsync(cb.X + (cb.Width / 2), cb.Y + (cb.Height / 2));
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(cb.X + (cb.Width / 2) - 6f, cb.Y + (cb.Height / 2) - 6f, new() { Steps = 5 });
        await page.Mouse.UpAsync();
        await DashboardHost.ScreenshotAsync(page, "05-seat-map-editor");

        await page.ClickAsync("#save-seatmap");
        await Expect(page.Locator("#save-seatmap")).ToBeDisabledAsync();
        var list = await host.GetJsonAsync($"/api/v1/sites/{DashboardHost.Site}/auditoriums");
        Assert.Equal(2, list.EnumerateArray().Single(a => a.GetProperty("auditoriumId").GetString() == "hall-edit").GetProperty("version").GetInt32());

        // What the agents pull now has the seats, and the dragged corner moved off the generated grid.
        using var agent = await host.AgentAsync("edge-edit");
        var config = await agent.GetFromJsonAsync<JsonElement>("/api/v1/agent/config");
        var cameraJson = config.GetProperty("auditoriums").EnumerateArray().Single(a => a.GetProperty("auditoriumId").GetString() == "hall-edit").GetProperty("cameras")[0];
        var pulled = cameraJson.GetProperty("seats").EnumerateArray().ToList();
        Assert.Equal(seats, pulled.Count);
        var e1 = pulled.Single(s => s.GetProperty("id").GetString() == "E1").GetProperty("polygon");
        var e2 = pulled.Single(s => s.GetProperty("id").GetString() == "E2").GetProperty("polygon");
        Assert.NotEqual(e1[0][1].GetDouble(), e2[0][1].GetDouble(), 1);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Language_SwitchedToChinese_IsRememberedWithTheAccount()
    {
        await host.CreateUserAsync("lin", "lin-password-12", Roles.Manager);
        var page = await host.SignInAsync("lin", "lin-password-12");
        await Expect(page.Locator("h1")).ToHaveTextAsync("Overview");

        // The switch in the app bar's user menu.
        await page.ClickAsync("#user-menu-button");
        await page.GetByText("中文（简体）").ClickAsync();
        await Expect(page.Locator("h1")).ToHaveTextAsync("总览", new() { Timeout = 20_000 });
        await Expect(page.Locator(".cv-app")).ToHaveAttributeAsync("data-lang", "zh-CN");
        await DashboardHost.ScreenshotAsync(page, "06-overview-zh-CN");
        await page.Context.CloseAsync();

        // A new browser (no cookies, English preferred) still opens in Chinese: the choice is stored with the account.
        var again = await host.SignInAsync("lin", "lin-password-12", locale: "en-US");
        await Expect(again.Locator("h1")).ToHaveTextAsync("总览");
        Assert.Equal("zh-CN", host.Services.GetRequiredService<UserStore>().Find("lin")!.Culture);
        await again.GotoAsync("/reports");
        await DashboardHost.WaitForDashboardAsync(again);
        await Expect(again.Locator("h1")).ToHaveTextAsync("报表");
        await DashboardHost.ScreenshotAsync(again, "07-reports-zh-CN");
        await again.Context.CloseAsync();
    }

    [Fact]
    public async Task PageWithoutTheRole_IsRefused_AndTheAttemptIsAudited()
    {
        await host.CreateUserAsync("mia", "mia-password-123", Roles.Manager);
        var page = await host.SignInAsync("mia", "mia-password-123");
        await Expect(page.Locator("nav a[href='/alerts']")).ToHaveCountAsync(0);

        await page.GotoAsync("/alerts");
        await DashboardHost.WaitForDashboardAsync(page);

        Assert.Contains("/denied", page.Url, StringComparison.Ordinal);
        await Expect(page.Locator("#access-denied")).ToBeVisibleAsync();
        await DashboardHost.ScreenshotAsync(page, "08-access-denied");
        var audit = await host.GetJsonAsync("/api/v1/admin/audit?q=page.denied");
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("actor").GetString() == "mia" && e.GetProperty("subject").GetString() == "/alerts");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task EveryMainPage_RendersForAnAdministrator_Screenshots()
    {
        await host.PutAuditoriumAsync(DashboardHost.Hall("hall-tour", "Hall Tour", 7, 16), "hall-tour");
        using var agent = await host.AgentAsync("edge-tour");
        var now = DateTimeOffset.UtcNow;
        var start = now.AddMinutes(-50);
        using (var admin = await host.AdminApiAsync())
        {
            var csv = $"auditorium,film,start,end,feature_start,id\nhall-tour,The Tour,{start:O},{now.AddMinutes(90):O},{start.AddMinutes(15):O},tour-1\n";
            using var imported = await admin.PostAsync($"/api/v1/sites/{DashboardHost.Site}/showings/import", new StringContent(csv, System.Text.Encoding.UTF8, "text/csv"));
            imported.EnsureSuccessStatusCode();
            using var tickets = await admin.PutAsync($"/api/v1/sites/{DashboardHost.Site}/showings/tour-1/tickets", new StringContent("seat\nA1\nA2\nA3\nB4", System.Text.Encoding.UTF8, "text/csv"));
            tickets.EnsureSuccessStatusCode();
        }

        var samples = Enumerable.Range(0, 50).Select(i => Samples.Occupancy($"o-tour-{i}", DashboardHost.Site, "hall-tour", start.AddMinutes(i), Math.Min(90, i * 3), total: 112, showing: "tour-1")).ToList();
        var heartbeat = new AgentHealth("h-tour", "edge-tour", DashboardHost.Site, now, "1.0.0", [new CameraStatus("cam-1", "hall-tour", true, 2.5, 9000, 40, 0, 280)], 2, 55, 150_000_000);
        await DashboardHost.IngestAsync(agent, Samples.Batch("edge-tour", "b-tour-1", occupancy: samples, seats: [Samples.Seat("s-tour-1", DashboardHost.Site, "hall-tour", "A1", now.AddMinutes(-30), SeatState.Occupied, "tour-1")]));
        await DashboardHost.IngestAsync(agent, Samples.Batch("edge-tour", "b-tour-2") with { Events = [heartbeat] });

        // The agent's empty-hall reference picture (a real photograph) and an usher's spot count.
        var picture = await File.ReadAllBytesAsync(TestAssetPath("data/photos/person.jpg"));
        using (var put = await agent.PutAsync($"/api/v1/sites/{DashboardHost.Site}/auditoriums/hall-tour/cameras/cam-1/reference/lit", new ByteArrayContent(picture) { Headers = { ContentType = new("image/jpeg") } })) put.EnsureSuccessStatusCode();
        using (var admin = await host.AdminApiAsync())
        using (var spot = await admin.PostAsJsonAsync($"/api/v1/sites/{DashboardHost.Site}/auditoriums/hall-tour/spot-counts", new { at = start.AddMinutes(30), people = 95 }))
        {
            Assert.True(spot.IsSuccessStatusCode, await spot.Content.ReadAsStringAsync());
        }

        var page = await host.SignInAsync("admin", ServerFactory.AdminPassword);
        (string Path, string Ready, string Name)[] pages =
        [
            ("/", "#auditoriums", "10-overview-admin"),
            ($"/sites/{DashboardHost.Site}/auditoriums/hall-tour", "#camera-cam-1 image", "11-auditorium-showing"),
            ("/reports", "#showings-table", "12-reports"),
            ("/cameras", "#camera-table", "13-cameras-and-agents"),
            ("/seat-maps", "#seatmap-table", "14-seat-maps"),
            ("/settings/alerting", "#rules-table", "15-settings-alerting"),
            ("/settings/schedule", "#schedule-table", "16-settings-schedule"),
            ("/settings/sites", "#sites-table", "17-settings-sites"),
            ("/users", "#users-table", "18-users"),
            ("/account", "#change-password", "19-account"),
        ];
        foreach (var (path, ready, name) in pages)
        {
            await page.GotoAsync(path);
            await DashboardHost.WaitForDashboardAsync(page);
            await Expect(page.Locator(ready)).ToBeVisibleAsync();
            await DashboardHost.ScreenshotAsync(page, name);
        }

        // Reports: the auditorium's accuracy measured by the spot count (95 counted, 87 reported at that minute).
        await page.GotoAsync("/reports");
        await DashboardHost.WaitForDashboardAsync(page);
        await page.ClickAsync("#report-tabs >> text=Per auditorium");
        await Expect(page.Locator("#report-tabs")).ToContainTextAsync("(1)");

        await page.Context.CloseAsync();
    }

    internal static string TestAssetPath(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, ".cache", "assets", relative);
            if (File.Exists(candidate)) return candidate;
        }

        throw new FileNotFoundException($"Test asset {relative} is missing: run ./cvtools models fetch first.");
    }
}

[CollectionDefinition(nameof(DashboardCollection))]
public sealed class DashboardCollection : ICollectionFixture<DashboardHost>;
