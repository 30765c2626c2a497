using System.Security.Claims;
using CinemaVision.Server.Components.Account;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CinemaVision.Server.Auth;

/// <summary>Cookie sign-in for people: the sign-in page at /login (a statically rendered dashboard component posting a plain form) and /logout.</summary>
public static class AuthEndpoints
{
    public static IEndpointRouteBuilder MapCinemaVisionAuth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/login", (string? returnUrl, bool? failed) => new RazorComponentResult<LoginPage>(new { ReturnUrl = IsLocal(returnUrl ?? "") ? returnUrl : "/", Failed = failed == true }))
            .AllowAnonymous().ExcludeFromDescription();

        app.MapPost("/login", async (HttpContext http, UserStore users, AuditLog audit, ILoggerFactory loggers) =>
        {
            var form = await http.Request.ReadFormAsync(http.RequestAborted);
            var userName = form["username"].ToString();
            var password = form["password"].ToString();
            var returnUrl = form["returnUrl"].ToString();
            var user = string.IsNullOrEmpty(userName) ? null : users.Verify(userName, password);
            if (user is null)
            {
                AuthLog.SignInFailed(loggers.CreateLogger("CinemaVision.Server.Auth"), userName);
                return Results.Redirect($"/login?failed=true&returnUrl={Uri.EscapeDataString(returnUrl)}");
            }

            await UserSessions.SignInAsync(http, user, DateTimeOffset.UtcNow);
            audit.Write(user.UserName, "sign-in", user.UserName);
            return Results.LocalRedirect(IsLocal(returnUrl) ? returnUrl : "/");
        }).AllowAnonymous().DisableAntiforgery().ExcludeFromDescription();

        app.MapPost("/logout", async (HttpContext http) =>
        {
            await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return Results.LocalRedirect("/login");
        }).DisableAntiforgery().ExcludeFromDescription();

        // People and their roles: created by an admin; each change is in the audit log.
        var users = app.MapGroup("/api/v1/admin/users").WithTags("Admin").RequireAuthorization(Policies.Admin);
        users.MapPost("/", (CreateUserRequest request, AccountService accounts, ClaimsPrincipal user) =>
        {
            var (created, errors) = accounts.Create(user.Identity?.Name ?? "?", request.UserName, request.Password, request.Role);
            if (created is not null) return Results.Created($"/api/v1/admin/users/{created.UserName}", created);
            return errors.TryGetValue("userName", out var taken) && taken[0].EndsWith("is taken.", StringComparison.Ordinal)
                ? Results.Problem(statusCode: 409, title: "User exists", detail: $"userName: {taken[0]}")
                : Results.ValidationProblem(errors);
        });

        app.MapGet("/api/v1/me", (ClaimsPrincipal user) => Results.Ok(new { name = user.Identity?.Name, role = user.FindFirstValue(ClaimTypes.Role) }))
            .RequireAuthorization(Policies.SignedIn).WithTags("Auth");
        return app;
    }

    private static bool IsLocal(string url) => url.Length > 0 && url[0] == '/' && (url.Length == 1 || (url[1] != '/' && url[1] != '\\'));
}

public sealed record CreateUserRequest(string UserName, string? Password, string Role);
