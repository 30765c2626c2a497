using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Localization;

namespace CinemaVision.Server.Auth;

/// <summary>
/// Sign-in sessions of people: the claims a session carries and whether it is still valid. A session ends when the
/// account is disabled, its role changes, or its password changes after the session began; cookies are checked on
/// every request and dashboard connections every minute (<see cref="Dashboard.Auth.UserRevalidatingAuthenticationStateProvider"/>).
/// </summary>
public static class UserSessions
{
    /// <summary>When the session began (Unix milliseconds); compared with <see cref="CinemaUser.SessionsValidAfter"/>.</summary>
    public const string SignedInAtClaim = "cv:signed-in-at";

    public static ClaimsPrincipal Principal(CinemaUser user, DateTimeOffset signedInAt) => new(new ClaimsIdentity(
        [
            new Claim(ClaimTypes.Name, user.UserName),
            new Claim(ClaimTypes.Role, user.Role),
            new Claim(SignedInAtClaim, signedInAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)),
        ],
        CookieAuthenticationDefaults.AuthenticationScheme));

    /// <summary>True while the account behind the session exists, is enabled, has the same role and kept its password.</summary>
    public static bool IsCurrent(ClaimsPrincipal principal, UserStore users)
    {
        if (principal.Identity is not { IsAuthenticated: true, Name: { } name }) return false;
        var user = users.Find(name);
        if (user is null || user.Disabled || !principal.IsInRole(user.Role)) return false;
        if (user.SessionsValidAfter is not { } validAfter) return true;
        var signedInAt = long.TryParse(principal.FindFirstValue(SignedInAtClaim), NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms) ? ms : 0;
        return signedInAt >= validAfter.ToUnixTimeMilliseconds();
    }

    /// <summary>Cookie validation: a session that is no longer current is signed out (the next page goes to /login).</summary>
    public static async Task ValidateCookieAsync(CookieValidatePrincipalContext context)
    {
        if (context.Principal is null) return;
        var users = context.HttpContext.RequestServices.GetRequiredService<UserStore>();
        if (!IsCurrent(context.Principal, users))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        }
    }

    /// <summary>Issues the session cookie and the language cookie from the person's stored preference.</summary>
    public static async Task SignInAsync(HttpContext http, CinemaUser user, DateTimeOffset signedInAt)
    {
        await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, Principal(user, signedInAt));
        if (user.Culture is { Length: > 0 } culture) SetCultureCookie(http, culture);
    }

    public static void SetCultureCookie(HttpContext http, string culture) => http.Response.Cookies.Append(
        CookieRequestCultureProvider.DefaultCookieName,
        CookieRequestCultureProvider.MakeCookieValue(new RequestCulture(culture)),
        new CookieOptions { Expires = DateTimeOffset.UtcNow.AddYears(1), IsEssential = true, SameSite = SameSiteMode.Lax, HttpOnly = false, Path = "/" });
}
