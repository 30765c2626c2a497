using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CinemaVision.Core.Alerting;
using CinemaVision.Core.Events;
using CinemaVision.Server.Alerting;
using CinemaVision.Server.Auth;
using CinemaVision.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace CinemaVision.Server.Tests.Alerting;

/// <summary>Alert rules changed at runtime by an administrator: validated per field, audit-logged, in force for the next event.</summary>
public sealed class AlertRuleSettingsTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    [Fact]
    public async Task PutRule_BadFields_AreEachNamed_AndNothingChanges()
    {
        await using var server = new ServerFactory();
        using var admin = await server.AdminClientAsync();
        var bad = new
        {
            name = "anomaly",
            category = "Anomaly",
            kinds = new[] { "AisleStanding", "Dancing" },
            severity = "Warning",
            channels = new[] { "live", "pager" },
            roles = new[] { "Janitor" },
            cooldownMinutes = -1.0,
            escalateAfterMinutes = 0.0,
            enabled = true,
        };

        using var response = await admin.PutAsJsonAsync("/api/v1/alerts/rules/anomaly", bad);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        foreach (var field in new[] { "kinds", "channels", "roles", "cooldownMinutes", "escalateAfterMinutes" })
        {
            Assert.True(errors.TryGetProperty(field, out _), $"{field} missing in {errors}");
        }

        Assert.Contains("Dancing", errors.GetProperty("kinds")[0].GetString(), StringComparison.Ordinal);
        Assert.Contains("pager", errors.GetProperty("channels")[0].GetString(), StringComparison.Ordinal);
        var settings = server.Services.GetRequiredService<AlertRuleSettings>();
        Assert.All(settings.Entries, e => Assert.False(e.Changed));
    }

    [Fact]
    public async Task PutRule_ByAdmin_AppliesAtOnce_IsAudited_AndRevertsToTheConfiguration()
    {
        await using var server = new ServerFactory();
        using var admin = await server.AdminClientAsync();
        var engine = server.Services.GetRequiredService<AlertEngine>();
        Assert.Contains(engine.Rules, r => r.Name == "anomaly");

        var off = new AlertRuleEdit { Name = "anomaly", Category = EventCategory.Anomaly, Kinds = ["ExitCrowding"], Channels = ["live"], Roles = [Roles.Security, Roles.Manager], CooldownMinutes = 2, EscalateAfterMinutes = 1, Enabled = false };
        using (var r = await admin.PutAsJsonAsync("/api/v1/alerts/rules/anomaly", off, Json)) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.DoesNotContain(engine.Rules, r => r.Name == "anomaly");

        var added = off with { Name = "crowding", Enabled = true };
        using (var r = await admin.PutAsJsonAsync("/api/v1/alerts/rules/crowding", added, Json)) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var rule = Assert.Single(engine.Rules, r => r.Name == "crowding");
        Assert.Equal(["ExitCrowding"], rule.Kinds);
        Assert.Equal(TimeSpan.FromMinutes(2), rule.Cooldown);
        Assert.Contains(server.AuditEntries(), e => e is { Actor: "admin", Action: "alert.rule-set", Subject: "crowding" });

        using (var r = await admin.DeleteAsync("/api/v1/alerts/rules/anomaly")) Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        using (var r = await admin.DeleteAsync("/api/v1/alerts/rules/crowding")) Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        Assert.Contains(engine.Rules, r => r.Name == "anomaly" && r.Kinds.Count == 0);
        Assert.DoesNotContain(engine.Rules, r => r.Name == "crowding");
        Assert.Contains(server.AuditEntries(), e => e is { Actor: "admin", Action: "alert.rule-revert", Subject: "anomaly" });
    }

    [Fact]
    public async Task PutRule_BySecurityStaff_IsForbidden()
    {
        await using var server = new ServerFactory();
        using var guard = await server.UserClientAsync("guard", Roles.Security);
        using var response = await guard.PutAsJsonAsync("/api/v1/alerts/rules/anomaly", new { name = "anomaly", category = "Anomaly" });
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }
}
