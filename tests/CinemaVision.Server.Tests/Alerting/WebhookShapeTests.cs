using System.Text.Json.Nodes;
using CinemaVision.Core.Alerting;
using CinemaVision.Core.Events;
using CinemaVision.Server.Alerting;

namespace CinemaVision.Server.Tests.Alerting;

/// <summary>The message shapes of the group robots staff use, pinned.</summary>
public class WebhookShapeTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 20, 0, 0, TimeSpan.Zero);

    private static AlertNotification Notification()
    {
        var signal = AlertSignal.From(new PiracySuspicion("p", "inc", IncidentPhase.Start, RecordingDevice.Phone, "site", "aud-3", "cam", "F12", T0, T0, 25, 0.8, null));
        var rule = new AlertRule { Name = "piracy", Category = EventCategory.Piracy, Severity = AlertSeverity.Critical };
        var alert = AlertPolicy.OnSignal(null, rule, signal, [], T0).Alert!;
        return new AlertNotification(alert, "webhook:x", "opened");
    }

    [Fact]
    public void WeCom_IsAMarkdownMessage()
    {
        var p = WebhookChannel.Payload(WebhookFormat.WeCom, Notification());
        Assert.Equal("markdown", p["msgtype"]!.GetValue<string>());
        Assert.Contains("seat F12", p["markdown"]!["content"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(2, p.Count);
    }

    [Fact]
    public void DingTalk_IsAMarkdownMessageWithTitle_AndSignsLikeTheRobotExpects()
    {
        var p = WebhookChannel.Payload(WebhookFormat.DingTalk, Notification());
        Assert.Equal("markdown", p["msgtype"]!.GetValue<string>());
        Assert.StartsWith("[Critical]", p["markdown"]!["title"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.NotNull(p["markdown"]!["text"]);
        // Reference value computed independently: base64(HMAC-SHA256("SECret", "1700000000000\nSECret")).
        Assert.Equal(Convert.ToBase64String(System.Security.Cryptography.HMACSHA256.HashData("SECret"u8.ToArray(), "1700000000000\nSECret"u8.ToArray())), WebhookChannel.DingTalkSign(1700000000000, "SECret"));
    }

    [Fact]
    public void Slack_HasFallbackTextAndASectionBlock()
    {
        var p = WebhookChannel.Payload(WebhookFormat.Slack, Notification());
        Assert.StartsWith("[Critical]", p["text"]!.GetValue<string>(), StringComparison.Ordinal);
        var block = p["blocks"]!.AsArray().Single()!;
        Assert.Equal("section", block["type"]!.GetValue<string>());
        Assert.Equal("mrkdwn", block["text"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public void Generic_CarriesTheFieldsBuildingSystemsKeyOn()
    {
        JsonObject p = WebhookChannel.Payload(WebhookFormat.Generic, Notification());
        foreach (var key in new[] { "alertId", "rule", "severity", "status", "summary", "category", "kind", "siteId", "auditoriumId", "cameraId", "seatId", "incidentId" })
        {
            Assert.True(p.ContainsKey(key), key);
        }
    }
}
