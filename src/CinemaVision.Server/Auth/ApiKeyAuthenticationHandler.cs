using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace CinemaVision.Server.Auth;

/// <summary>Claim types carried by an authenticated agent.</summary>
public static class AgentClaims
{
    public const string AgentId = "cv:agent";
    public const string SiteId = "cv:site";
}

/// <summary>
/// Authenticates edge agents by <c>X-Api-Key: KEY</c> or <c>Authorization: ApiKey KEY</c>. A revoked key fails with
/// a message the challenge turns into 403 (the agent is known but no longer allowed), an unknown key into 401.
/// </summary>
public sealed class ApiKeyAuthenticationHandler : AuthenticationHandler<AuthenticationSchemeOptions>
{
    public const string HeaderName = "X-Api-Key";
    private const string RevokedItem = "cv:revoked";
    private readonly AgentKeyStore _keys;

    public ApiKeyAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, AgentKeyStore keys)
        : base(options, logger, encoder)
    {
        _keys = keys;
    }

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? key = null;
        if (Request.Headers.TryGetValue(HeaderName, out var header) && !string.IsNullOrWhiteSpace(header))
        {
            key = header.ToString().Trim();
        }
        else if (Request.Headers.Authorization.ToString() is { Length: > 7 } auth && auth.StartsWith("ApiKey ", StringComparison.OrdinalIgnoreCase))
        {
            key = auth[7..].Trim();
        }

        if (key is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var (status, agent) = _keys.Authenticate(key);
        switch (status)
        {
            case AgentKeyStatus.Valid:
                var identity = new ClaimsIdentity(
                    [
                        new Claim(ClaimTypes.NameIdentifier, agent!.AgentId),
                        new Claim(ClaimTypes.Name, agent.DisplayName),
                        new Claim(AgentClaims.AgentId, agent.AgentId),
                        new Claim(AgentClaims.SiteId, agent.SiteId),
                    ],
                    Scheme.Name);
                return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
            case AgentKeyStatus.Revoked:
                Context.Items[RevokedItem] = true;
                AuthLog.RevokedKeyUsed(Logger, agent!.AgentId, agent.SiteId);
                return Task.FromResult(AuthenticateResult.Fail("The API key has been revoked."));
            default:
                return Task.FromResult(AuthenticateResult.Fail("The API key is not valid."));
        }
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (Context.Items.ContainsKey(RevokedItem))
        {
            return WriteProblem(StatusCodes.Status403Forbidden, "API key revoked", "The API key has been revoked by an administrator; ask for a new one.");
        }

        Response.Headers.WWWAuthenticate = "ApiKey";
        var hasKey = Request.Headers.ContainsKey(HeaderName) || Request.Headers.Authorization.ToString().StartsWith("ApiKey ", StringComparison.OrdinalIgnoreCase);
        return WriteProblem(
            StatusCodes.Status401Unauthorized,
            hasKey ? "API key not valid" : "API key missing",
            hasKey ? "The API key is not known." : $"Send the agent's API key in the {HeaderName} header or as 'Authorization: ApiKey KEY'.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblem(StatusCodes.Status403Forbidden, "Forbidden", "This API key may not do this.");

    private Task WriteProblem(int status, string title, string detail) =>
        Results.Problem(title: title, detail: detail, statusCode: status).ExecuteAsync(Context);
}

internal static partial class AuthLog
{
    [LoggerMessage(EventId = 1001, EventName = "RevokedKeyUsed", Level = LogLevel.Warning, Message = "Revoked API key used by agent {AgentId} of site {SiteId}")]
    public static partial void RevokedKeyUsed(ILogger logger, string agentId, string siteId);

    [LoggerMessage(EventId = 1002, EventName = "AdminBootstrapped", Level = LogLevel.Warning, Message = "Created the first administrator '{UserName}' with a generated password, written to {PasswordFile} (readable by this service's user only): sign in, change it, delete the file")]
    public static partial void AdminBootstrappedGenerated(ILogger logger, string userName, string passwordFile);

    [LoggerMessage(EventId = 1003, EventName = "AdminBootstrappedConfigured", Level = LogLevel.Information, Message = "Created the first administrator '{UserName}' from configuration")]
    public static partial void AdminBootstrappedConfigured(ILogger logger, string userName);

    [LoggerMessage(EventId = 1004, EventName = "SignInFailed", Level = LogLevel.Warning, Message = "Sign-in failed for '{UserName}' from {Address}")]
    public static partial void SignInFailed(ILogger logger, string userName, string address);

    [LoggerMessage(EventId = 1005, EventName = "SignInThrottled", Level = LogLevel.Warning, Message = "Sign-in for '{UserName}' from {Address} throttled for {Seconds} s after repeated wrong passwords")]
    public static partial void SignInThrottled(ILogger logger, string userName, string address, int seconds);

    [LoggerMessage(EventId = 1006, EventName = "CrossOriginRefused", Level = LogLevel.Warning, Message = "Refused {Method} {Path} from origin {Origin}: state changes with the sign-in cookie must come from this service's own pages")]
    public static partial void CrossOriginRefused(ILogger logger, string method, string path, string origin);
}
