using System.Net;
using System.Net.Http.Json;
using CinemaVision.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;

namespace CinemaVision.Server.Tests.Auth;

public sealed class UserRolesTests : IAsyncLifetime
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
        return client;
    }

    [Fact]
    public async Task AdminCreatesUsers_RolesDecideWhatEachMaySee()
    {
        using var admin = await _server.AdminClientAsync();
        using (var bad = await admin.PostAsJsonAsync("/api/v1/admin/users", new { userName = "x", password = "short", role = "Janitor" }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            var text = await bad.Content.ReadAsStringAsync();
            Assert.Contains("password", text, StringComparison.Ordinal);
            Assert.Contains("role", text, StringComparison.Ordinal);
        }

        using (var guard = await admin.PostAsJsonAsync("/api/v1/admin/users", new { userName = "guard", password = "guard-password-1", role = "Security" })) Assert.Equal(HttpStatusCode.Created, guard.StatusCode);
        using (var manager = await admin.PostAsJsonAsync("/api/v1/admin/users", new { userName = "manager", password = "manager-password-1", role = "Manager" })) Assert.Equal(HttpStatusCode.Created, manager.StatusCode);
        using (var again = await admin.PostAsJsonAsync("/api/v1/admin/users", new { userName = "guard", password = "guard-password-2", role = "Security" })) Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);

        using var securityClient = await SignInAsync("guard", "guard-password-1");
        using var managerClient = await SignInAsync("manager", "manager-password-1");
        using (var m = await managerClient.GetAsync("/api/v1/alerts")) Assert.Equal(HttpStatusCode.OK, m.StatusCode);
        using (var m = await managerClient.GetAsync("/api/v1/evidence/anything.jpg")) Assert.Equal(HttpStatusCode.Forbidden, m.StatusCode);
        using (var m = await managerClient.PostAsJsonAsync("/api/v1/admin/users", new { userName = "y", password = "y-password-123", role = "Admin" })) Assert.Equal(HttpStatusCode.Forbidden, m.StatusCode);
        using (var s = await securityClient.GetAsync("/api/v1/evidence/anything.jpg")) Assert.Equal(HttpStatusCode.NotFound, s.StatusCode);
    }
}
