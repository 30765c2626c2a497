using System.Security.Claims;

namespace CinemaVision.Server.Auth;

public sealed record ChangePasswordRequest(string? CurrentPassword, string? NewPassword);

public sealed record ResetPasswordRequest(string? Password);

public sealed record PreferencesRequest(string? Culture, string? SiteId);

/// <summary>A person's own account (password, language, site) and the administrators' user management.</summary>
public static class AccountEndpoints
{
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        var me = app.MapGroup("/api/v1/me").WithTags("Auth").RequireAuthorization(Policies.SignedIn);

        // Other sessions of the account end; this one is signed in again so the person stays signed in here. Wrong
        // current passwords are throttled as sign-ins are (a stolen session must not become a password oracle).
        me.MapPost("/password", async (ChangePasswordRequest request, HttpContext http, AccountService accounts, UserStore users, SignInThrottle throttle) =>
        {
            var name = http.User.Identity!.Name!;
            var address = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
            if (throttle.Wait(name, address) is { } wait)
            {
                var seconds = (int)Math.Ceiling(wait.TotalSeconds);
                http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return Results.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many wrong passwords", detail: $"Try again in {seconds} s.");
            }

            if ((request.NewPassword?.Length ?? 0) > AuthEndpoints.MaxPasswordLength || (request.CurrentPassword?.Length ?? 0) > AuthEndpoints.MaxPasswordLength)
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["newPassword"] = [$"at most {AuthEndpoints.MaxPasswordLength} characters."] }, title: "Password not changed");
            }

            var result = accounts.ChangeOwnPassword(name, request.CurrentPassword ?? "", request.NewPassword ?? "");
            if (result == PasswordChangeResult.WrongCurrentPassword) throttle.Failed(name, address);
            if (result != PasswordChangeResult.Changed) return Results.ValidationProblem(AccountService.Errors(result), title: "Password not changed");
            throttle.Succeeded(name);
            var user = users.Find(name)!;
            await UserSessions.SignInAsync(http, user, user.SessionsValidAfter ?? accounts.Now);
            return Results.NoContent();
        });

        me.MapPut("/preferences", (PreferencesRequest request, HttpContext http, AccountService accounts) =>
        {
            if (request.Culture is { } c && !UserStore.Cultures.Contains(c, StringComparer.Ordinal))
            {
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["culture"] = [$"one of {string.Join(", ", UserStore.Cultures)}."] });
            }

            accounts.SetPreferences(http.User.Identity!.Name!, request.Culture, request.SiteId);
            if (request.Culture is { } culture) UserSessions.SetCultureCookie(http, culture);
            return Results.NoContent();
        });

        // The dashboard's language switch: remembered with the account (and in a cookie, also before sign-in), then back.
        app.MapGet("/account/culture", (string? culture, string? returnUrl, HttpContext http, AccountService accounts) =>
        {
            if (culture is null || !UserStore.Cultures.Contains(culture, StringComparer.Ordinal))
            {
                return Results.Problem(statusCode: 400, title: "Unsupported language", detail: $"culture: one of {string.Join(", ", UserStore.Cultures)}.");
            }

            UserSessions.SetCultureCookie(http, culture);
            if (http.User.Identity is { IsAuthenticated: true, Name: { } name }) accounts.SetPreferences(name, culture, null);
            return Results.LocalRedirect(IsLocal(returnUrl) ? returnUrl! : "/");
        }).AllowAnonymous().ExcludeFromDescription();

        var admin = app.MapGroup("/api/v1/admin").WithTags("Admin").RequireAuthorization(Policies.Admin);
        admin.MapGet("/users", (UserStore users) => Results.Ok(users.List()));
        admin.MapPost("/users/{userName}/disable", (string userName, AccountService accounts, ClaimsPrincipal user) => Change(accounts.SetDisabled(Actor(user), userName, true), userName));
        admin.MapPost("/users/{userName}/enable", (string userName, AccountService accounts, ClaimsPrincipal user) => Change(accounts.SetDisabled(Actor(user), userName, false), userName));
        admin.MapPost("/users/{userName}/password", (string userName, ResetPasswordRequest request, AccountService accounts, ClaimsPrincipal user) =>
            accounts.ResetPassword(Actor(user), userName, request.Password ?? "") switch
            {
                PasswordChangeResult.Changed => Results.NoContent(),
                PasswordChangeResult.UnknownUser => Results.Problem(statusCode: 404, title: "No such user", detail: $"No user '{userName}'."),
                var other => Results.ValidationProblem(new Dictionary<string, string[]> { ["password"] = AccountService.Errors(other).Values.First() }),
            });
        admin.MapGet("/audit", (int? limit, string? q, AuditLog audit) => Results.Ok(audit.Recent(Math.Clamp(limit ?? 200, 1, 5000), q)));
        return app;
    }

    private static IResult Change(AccountChangeResult result, string userName) => result switch
    {
        AccountChangeResult.Changed => Results.NoContent(),
        AccountChangeResult.UnknownUser => Results.Problem(statusCode: 404, title: "No such user", detail: $"No user '{userName}'."),
        _ => Results.Problem(statusCode: 409, title: "Last administrator", detail: $"'{userName}' is the last enabled administrator; enable or create another first."),
    };

    private static string Actor(ClaimsPrincipal user) => user.Identity?.Name ?? "?";

    internal static bool IsLocal(string? url) => url is { Length: > 0 } && url[0] == '/' && (url.Length == 1 || (url[1] != '/' && url[1] != '\\'));
}
