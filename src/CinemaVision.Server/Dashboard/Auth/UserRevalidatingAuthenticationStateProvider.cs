using CinemaVision.Server.Auth;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;

namespace CinemaVision.Server.Dashboard.Auth;

/// <summary>
/// Re-checks an open dashboard connection's sign-in every minute: a disabled account, a changed role or a changed
/// password ends the session there too, not only at the next page load.
/// </summary>
public sealed class UserRevalidatingAuthenticationStateProvider(ILoggerFactory loggerFactory, UserStore users)
    : RevalidatingServerAuthenticationStateProvider(loggerFactory)
{
    protected override TimeSpan RevalidationInterval => TimeSpan.FromMinutes(1);

    protected override Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken) =>
        Task.FromResult(UserSessions.IsCurrent(authenticationState.User, users));
}
