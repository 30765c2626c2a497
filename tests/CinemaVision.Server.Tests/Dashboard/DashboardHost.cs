using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CinemaVision.Core.Events;
using CinemaVision.Server.Ingest;
using CinemaVision.Server.Sites;
using CinemaVision.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace CinemaVision.Server.Tests.Dashboard;

/// <summary>
/// The real host on a real socket (Kestrel on 127.0.0.1) and a real headless Chromium (Debian's, driven by
/// Playwright). People sign in through the sign-in page; data arrives through the real ingest API.
/// </summary>
public sealed class DashboardHost : IAsyncLifetime
{
    public const string Site = "site-e2e";
    private ServerFactory _server = null!;
    private IPlaywright? _playwright;

    /// <summary>The real SMTP server (aiosmtpd) the host's e-mail channel sends to.</summary>
    public SmtpSink Smtp { get; private set; } = null!;

    public string BaseUrl { get; private set; } = "";

    public IBrowser Browser { get; private set; } = default!;

    public IServiceProvider Services => _server.Services;

    /// <summary>Where screenshots go: artifacts/screenshots at the repository root (CI keeps them as test artefacts).</summary>
    public static string ScreenshotFolder { get; } = Path.Combine(RepositoryRoot(), "artifacts", "screenshots");

    public async Task InitializeAsync()
    {
        Smtp = await SmtpSink.StartAsync();
        _server = new(new Dictionary<string, string?>
        {
            ["CinemaVision:DefaultTimeZone"] = "Asia/Shanghai",
            ["CinemaVision:Alerting:Email:Host"] = "127.0.0.1",
            ["CinemaVision:Alerting:Email:Port"] = Smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["CinemaVision:Alerting:Email:From"] = "cinemavision@e2e.test",
            ["CinemaVision:Alerting:Email:To:0"] = "security@e2e.test",
        });
        _server.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        _server.StartServer();
        var addresses = _server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        BaseUrl = addresses.First().Replace("[::1]", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/');
        Directory.CreateDirectory(ScreenshotFolder);
        _server.Services.GetRequiredService<SiteStore>().Save(Site, "E2E Cinema", "Asia/Shanghai", "test");

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required"],
        });
    }

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright?.Dispose();
        await _server.DisposeAsync();
        await Smtp.DisposeAsync();
    }

    /// <summary>A browser signed in through the sign-in page, on the dashboard once the live connection rendered it.</summary>
    public async Task<IPage> SignInAsync(string user, string password, string locale = "en-US")
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1440, Height = 900 }, Locale = locale, BaseURL = BaseUrl });
        await context.GrantPermissionsAsync(["notifications"]);
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/login");
        await page.FillAsync("input[name=username]", user);
        await page.FillAsync("input[name=password]", password);
        await page.ClickAsync("button[type=submit]");
        await WaitForDashboardAsync(page);
        return page;
    }

    /// <summary>Waits until the page is rendered by its live connection (before that, clicks would be lost).</summary>
    public static async Task WaitForDashboardAsync(IPage page) =>
        await page.WaitForSelectorAsync(".cv-app[data-interactive=true] h1, .cv-app[data-interactive=true] #access-denied");

    public static async Task ScreenshotAsync(IPage page, string name)
    {
        // Scrolled back to the top so the fixed app bar and menu are drawn where a person sees them.
        await page.EvaluateAsync("() => window.scrollTo(0, 0)");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotFolder, name + ".png"), FullPage = true });
    }

    /// <summary>An HTTP client signed in as the bootstrap admin (cookie), for the admin API.</summary>
    public async Task<HttpClient> AdminApiAsync()
    {
        var client = new HttpClient(new HttpClientHandler { UseCookies = true, CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = new Uri(BaseUrl) };
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["username"] = "admin", ["password"] = ServerFactory.AdminPassword, ["returnUrl"] = "/" });
        using var response = await client.PostAsync(new Uri("/login", UriKind.Relative), form);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return client;
    }

    public async Task CreateUserAsync(string user, string password, string role)
    {
        using var admin = await AdminApiAsync();
        using var response = await admin.PostAsJsonAsync("/api/v1/admin/users", new { userName = user, password, role });
        Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict, await response.Content.ReadAsStringAsync());
    }

    /// <summary>An edge agent of the test site, as the ingest API sees it (its own API key).</summary>
    public async Task<HttpClient> AgentAsync(string agentId)
    {
        using var admin = await AdminApiAsync();
        using var created = await admin.PostAsJsonAsync("/api/v1/admin/agents", new CreateAgentKeyRequest(agentId, Site, agentId));
        created.EnsureSuccessStatusCode();
        var key = (await created.Content.ReadFromJsonAsync<CreatedAgentKey>(IngestJson.Options))!.ApiKey;
        var client = new HttpClient { BaseAddress = new Uri(BaseUrl) };
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }

    public static async Task IngestAsync(HttpClient agent, IngestBatch batch)
    {
        using var response = await agent.PostAsJsonAsync("/api/v1/ingest/batches", batch, IngestJson.Options);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Uploads an auditorium file through the admin API.</summary>
    public async Task PutAuditoriumAsync(string json, string auditoriumId)
    {
        using var admin = await AdminApiAsync();
        using var response = await admin.PutAsync($"/api/v1/sites/{Site}/auditoriums/{auditoriumId}", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using var admin = await AdminApiAsync();
        return await admin.GetFromJsonAsync<JsonElement>(path);
    }

    /// <summary>A rectangular hall: rows A.. from the front (bottom of the frame) to the back, seats numbered from 1.</summary>
    public static string Hall(string auditoriumId, string name, int rows, int seatsPerRow, int width = 1280, int height = 720)
    {
        var seats = new List<object>();
        for (int r = 0; r < rows; r++)
        {
            float y = height - 60 - (r * (height - 120f) / rows);
            float h = (height - 120f) / rows * 0.8f;
            for (int n = 0; n < seatsPerRow; n++)
            {
                float x = 80 + (n * (width - 160f) / seatsPerRow);
                float w = (width - 160f) / seatsPerRow * 0.85f;
                seats.Add(new { id = $"{(char)('A' + r)}{n + 1}", row = ((char)('A' + r)).ToString(), number = n + 1, polygon = new[] { new[] { x, y - h }, new[] { x + w, y - h }, new[] { x + w, y }, new[] { x, y } } });
            }
        }

        return JsonSerializer.Serialize(new
        {
            siteId = Site,
            auditoriumId,
            name,
            cameras = new[] { new { id = "cam-1", reference = new { width, height }, seats, zones = new[] { new { id = "aisle-1", kind = "aisle", name = "Left aisle", polygon = new[] { new[] { 10f, 100f }, new[] { 70f, 100f }, new[] { 70f, height - 10f }, new[] { 10f, height - 10f } } } } } },
        });
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CinemaVision.sln"))) return dir.FullName;
        }

        return Directory.GetCurrentDirectory();
    }
}
