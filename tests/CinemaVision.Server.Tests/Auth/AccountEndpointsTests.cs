using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CinemaVision.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;

namespace CinemaVision.Server.Tests.Auth;

public sealed class AccountEndpointsTests : IAsyncLifetime
{
    private readonly ServerFactory _server = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<HttpClient> SignInAsync(string user, string password)
    {
        var client = _server.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["username"] = user, ["password"] = password, ["returnUrl"] = "/" });
        using var response = await client.PostAsync(new Uri("/login", UriKind.Relative), form);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/", response.Headers.Location?.OriginalString);
        return client;
    }

    [Fact]
    public async Task OwnPasswordChange_KeepsThisSession_EndsTheOthers()
    {
        using var admin = await _server.AdminClientAsync();
        using (var created = await admin.PostAsJsonAsync("/api/v1/admin/users", new { userName = "zoe", password = "zoe-password-123", role = "Manager" })) Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var here = await SignInAsync("zoe", "zoe-password-123");
        using var elsewhere = await SignInAsync("zoe", "zoe-password-123");
        await Task.Delay(5);

        using (var wrong = await here.PostAsJsonAsync("/api/v1/me/password", new { currentPassword = "nope", newPassword = "zoe-password-456" }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
            Assert.Contains("currentPassword", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var changed = await here.PostAsJsonAsync("/api/v1/me/password", new { currentPassword = "zoe-password-123", newPassword = "zoe-password-456" })) Assert.Equal(HttpStatusCode.NoContent, changed.StatusCode);

        using (var me = await here.GetAsync("/api/v1/me")) Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        using (var other = await elsewhere.GetAsync("/api/v1/me")) Assert.Equal(HttpStatusCode.Unauthorized, other.StatusCode);
        using var again = await SignInAsync("zoe", "zoe-password-456");
    }

    [Fact]
    public async Task AdminDisablesAndReenables_ThePersonIsSignedOutAndBack()
    {
        using var admin = await _server.AdminClientAsync();
        using (var created = await admin.PostAsJsonAsync("/api/v1/admin/users", new { userName = "max", password = "max-password-123", role = "Security" })) Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var max = await SignInAsync("max", "max-password-123");

        using (var disabled = await admin.PostAsync("/api/v1/admin/users/max/disable", null)) Assert.Equal(HttpStatusCode.NoContent, disabled.StatusCode);
        using (var me = await max.GetAsync("/api/v1/me")) Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
        using (var lastAdmin = await admin.PostAsync("/api/v1/admin/users/admin/disable", null)) Assert.Equal(HttpStatusCode.Conflict, lastAdmin.StatusCode);
        using (var enabled = await admin.PostAsync("/api/v1/admin/users/max/enable", null)) Assert.Equal(HttpStatusCode.NoContent, enabled.StatusCode);
        using var back = await SignInAsync("max", "max-password-123");

        var audit = await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/audit?q=user.");
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("action").GetString() == "user.disable" && e.GetProperty("subject").GetString() == "max");
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("action").GetString() == "user.enable");
    }

    [Fact]
    public async Task Preferences_UnsupportedLanguage_IsRefused()
    {
        using var admin = await _server.AdminClientAsync();

        using var bad = await admin.PutAsJsonAsync("/api/v1/me/preferences", new { culture = "fr-FR" });
        using var good = await admin.PutAsJsonAsync("/api/v1/me/preferences", new { culture = "zh-CN", siteId = "site-9" });
        var users = await admin.GetFromJsonAsync<JsonElement>("/api/v1/admin/users");

        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, good.StatusCode);
        var me = users.EnumerateArray().Single(u => u.GetProperty("userName").GetString() == "admin");
        Assert.Equal("zh-CN", me.GetProperty("culture").GetString());
        Assert.Equal("site-9", me.GetProperty("siteId").GetString());
    }
}
