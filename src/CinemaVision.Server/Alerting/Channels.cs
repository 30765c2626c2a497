using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using CinemaVision.Core.Alerting;
using CinemaVision.Server.Evidence;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using MQTTnet;

namespace CinemaVision.Server.Alerting;

/// <summary>A way to tell people (or building systems) about an alert. Throws when delivery failed: the dispatcher retries and records it.</summary>
public interface INotificationChannel
{
    string Name { get; }

    Task SendAsync(AlertNotification notification, CancellationToken cancellationToken);
}

/// <summary>What an alert says, the same in every channel.</summary>
public static class AlertText
{
    public static string Title(Alert a) => string.Create(CultureInfo.InvariantCulture, $"[{a.Severity}] {a.Latest.Summary}");

    public static string Body(Alert a, string reason) => string.Create(CultureInfo.InvariantCulture, $"""
        {a.Latest.Summary}

        Site {a.Latest.SiteId}, auditorium {a.Latest.AuditoriumId}, camera {a.Latest.CameraId}{(a.Latest.SeatId is null ? "" : $", seat {a.Latest.SeatId}")}
        Rule {a.RuleName}, severity {a.Severity}, status {a.Status}, {a.EventCount} event(s) since {a.OpenedAt:u}
        Why you get this: {reason}
        Alert id {a.Id}
        """);

    /// <summary>
    /// The same for every attempt of one notification (alert, channel, reason): sent as the e-mail Message-Id and the
    /// webhook Idempotency-Key, so a receiver can recognise a repeat after a crash between its answer and our record.
    /// </summary>
    public static string NotificationKey(AlertNotification n) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{n.Alert.Id}\n{n.Channel}\n{n.Reason}\n{n.Alert.EscalationLevel}")))[..32];

    /// <summary>The generic JSON shape for webhooks and MQTT.</summary>
    public static JsonObject Json(Alert a, string reason) => new()
    {
        ["alertId"] = a.Id,
        ["rule"] = a.RuleName,
        ["severity"] = a.Severity.ToString(),
        ["status"] = a.Status.ToString(),
        ["reason"] = reason,
        ["summary"] = a.Latest.Summary,
        ["category"] = a.Latest.Category.ToString(),
        ["kind"] = a.Latest.Kind,
        ["siteId"] = a.Latest.SiteId,
        ["auditoriumId"] = a.Latest.AuditoriumId,
        ["cameraId"] = a.Latest.CameraId,
        ["seatId"] = a.Latest.SeatId,
        ["incidentId"] = a.Latest.IncidentId,
        ["evidenceId"] = a.Latest.EvidenceId,
        ["openedAt"] = a.OpenedAt.ToString("O", CultureInfo.InvariantCulture),
        ["events"] = a.EventCount,
    };
}

/// <summary>Live push to dashboards in this process: subscribers get a bounded channel; a slow one loses its oldest, never blocks the engine.</summary>
public interface IAlertFeed
{
    IDisposable Subscribe(out ChannelReader<Alert> reader);

    void Publish(Alert alert);
}

public sealed class AlertFeed : IAlertFeed
{
    private readonly List<Channel<Alert>> _subscribers = [];

    public IDisposable Subscribe(out ChannelReader<Alert> reader)
    {
        var channel = Channel.CreateBounded<Alert>(new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.DropOldest });
        lock (_subscribers) _subscribers.Add(channel);
        reader = channel.Reader;
        return new Subscription(this, channel);
    }

    public void Publish(Alert alert)
    {
        lock (_subscribers)
        {
            foreach (var s in _subscribers) s.Writer.TryWrite(alert);
        }
    }

    private sealed class Subscription(AlertFeed feed, Channel<Alert> channel) : IDisposable
    {
        public void Dispose()
        {
            lock (feed._subscribers) feed._subscribers.Remove(channel);
            channel.Writer.TryComplete();
        }
    }
}

public sealed class LiveChannel(IAlertFeed feed) : INotificationChannel
{
    public string Name => "live";

    public Task SendAsync(AlertNotification notification, CancellationToken cancellationToken)
    {
        feed.Publish(notification.Alert);
        return Task.CompletedTask;
    }
}

/// <summary>E-mail through SMTP (MailKit), with the evidence thumbnail attached when the alert has one.</summary>
public sealed class EmailChannel(EmailChannelOptions options, EvidenceStore evidence) : INotificationChannel
{
    public string Name => "email";

    public async Task SendAsync(AlertNotification notification, CancellationToken cancellationToken)
    {
        var n = notification;
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(options.From));
        foreach (var to in options.To) message.To.Add(MailboxAddress.Parse(to));
        message.Subject = AlertText.Title(n.Alert);
        message.MessageId = $"{AlertText.NotificationKey(n)}@cinemavision";
        var body = new BodyBuilder { TextBody = AlertText.Body(n.Alert, n.Reason) };
        if (n.Alert.Latest.EvidenceId is { } id && evidence.TryOpen(id) is { } file)
        {
            body.Attachments.Add($"evidence-{id}.jpg", await File.ReadAllBytesAsync(file.Path, cancellationToken), ContentType.Parse(file.ContentType));
        }

        message.Body = body.ToMessageBody();
        using var smtp = new SmtpClient();
        await smtp.ConnectAsync(options.Host, options.Port, options.UseStartTls ? SecureSocketOptions.StartTls : SecureSocketOptions.None, cancellationToken);
        if (options.UserName is { Length: > 0 }) await smtp.AuthenticateAsync(options.UserName, options.Password ?? "", cancellationToken);
        await smtp.SendAsync(message, cancellationToken);
        await smtp.DisconnectAsync(true, cancellationToken);
    }
}

/// <summary>Webhooks: generic JSON, and the message shapes of WeCom and DingTalk group robots and Slack incoming webhooks.</summary>
public sealed class WebhookChannel(WebhookChannelOptions options, HttpClient http, TimeProvider time) : INotificationChannel
{
    public string Name => "webhook:" + options.Name;

    public async Task SendAsync(AlertNotification notification, CancellationToken cancellationToken)
    {
        var n = notification;
        var url = options.Url;
        if (options.Format == WebhookFormat.DingTalk && options.Secret is { Length: > 0 } secret)
        {
            long ts = time.GetUtcNow().ToUnixTimeMilliseconds();
            url += (url.Contains('?', StringComparison.Ordinal) ? "&" : "?") + $"timestamp={ts}&sign={Uri.EscapeDataString(DingTalkSign(ts, secret))}";
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = JsonContent.Create(Payload(options.Format, n)) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", AlertText.NotificationKey(n));
        using var response = await http.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode) throw new HttpRequestException($"{Name}: HTTP {(int)response.StatusCode} {Truncate(text)}");
        // The robots answer 200 with an error code in the body.
        if (options.Format is WebhookFormat.WeCom or WebhookFormat.DingTalk && JsonNode.Parse(text) is JsonObject o && o["errcode"]?.GetValue<int>() is int code && code != 0)
        {
            throw new HttpRequestException($"{Name}: robot error {code} {o["errmsg"]}");
        }
    }

    public static JsonObject Payload(WebhookFormat format, AlertNotification n)
    {
        var a = n.Alert;
        var markdown = $"**{AlertText.Title(a)}**\n\n{AlertText.Body(a, n.Reason)}";
        return format switch
        {
            WebhookFormat.WeCom => new JsonObject { ["msgtype"] = "markdown", ["markdown"] = new JsonObject { ["content"] = markdown } },
            WebhookFormat.DingTalk => new JsonObject { ["msgtype"] = "markdown", ["markdown"] = new JsonObject { ["title"] = AlertText.Title(a), ["text"] = markdown } },
            WebhookFormat.Slack => new JsonObject
            {
                ["text"] = AlertText.Title(a),
                ["blocks"] = new JsonArray(new JsonObject { ["type"] = "section", ["text"] = new JsonObject { ["type"] = "mrkdwn", ["text"] = $"*{AlertText.Title(a)}*\n{AlertText.Body(a, n.Reason)}" } }),
            },
            _ => AlertText.Json(a, n.Reason),
        };
    }

    /// <summary>DingTalk: Base64(HMAC-SHA256(secret, timestamp + "\n" + secret)).</summary>
    public static string DingTalkSign(long timestamp, string secret)
    {
        var data = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{timestamp}\n{secret}"));
        return Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), data));
    }

    private static string Truncate(string s) => s.Length > 200 ? s[..200] : s;
}

/// <summary>MQTT publish for building systems (lighting, access control), QoS 1.</summary>
public sealed class MqttChannel(MqttChannelOptions options) : INotificationChannel
{
    public string Name => "mqtt";

    public async Task SendAsync(AlertNotification notification, CancellationToken cancellationToken)
    {
        var n = notification;
        using var client = new MqttClientFactory().CreateMqttClient();
        var connect = new MqttClientOptionsBuilder().WithTcpServer(options.Host, options.Port).WithClientId("cinemavision-" + Guid.NewGuid().ToString("N")[..8]);
        if (options.UserName is { Length: > 0 }) connect = connect.WithCredentials(options.UserName, options.Password);
        await client.ConnectAsync(connect.Build(), cancellationToken);
        var topic = $"{options.Topic}/{n.Alert.Latest.SiteId}/{n.Alert.Latest.AuditoriumId}";
        var message = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(AlertText.Json(n.Alert, n.Reason).ToJsonString())
            .WithQualityOfServiceLevel(MQTTnet.Protocol.MqttQualityOfServiceLevel.AtLeastOnce).Build();
        var result = await client.PublishAsync(message, cancellationToken);
        if (!result.IsSuccess) throw new InvalidOperationException($"mqtt: publish to {topic} failed: {result.ReasonCode} {result.ReasonString}");
        await client.DisconnectAsync(cancellationToken: cancellationToken);
    }
}
