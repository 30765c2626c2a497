using CinemaVision.Server.Auth;
using CinemaVision.Server.Dashboard;
using CinemaVision.Server.Dashboard.Localization;
using Microsoft.AspNetCore.Components;

namespace CinemaVision.Server.Components;

/// <summary>
/// Base of every dashboard page: the person's session (site, culture, time zone), the texts, and the audit-log line
/// for each page a person opens (privacy: who looked at what). Pages load their data in <see cref="LoadAsync"/> and
/// load again when the person switches site.
/// </summary>
public abstract class DashboardPage : ComponentBase, IDisposable
{
    [Inject] protected DashboardSession Session { get; set; } = default!;

    [Inject] protected DashboardText L { get; set; } = default!;

    [Inject] protected NavigationManager Navigation { get; set; } = default!;

    [Inject] private AuditLog Audit { get; set; } = default!;

    /// <summary>True until the first load finished (pages show their loading state).</summary>
    protected bool Loading { get; private set; } = true;

    protected sealed override async Task OnInitializedAsync()
    {
        await Session.InitializeAsync();
        Audit.Write(Session.UserName, "page.view", "/" + Navigation.ToBaseRelativePath(Navigation.Uri), Session.Site.SiteId);
        Session.SiteChanged += OnSiteChanged;
        await LoadAsync();
        Loading = false;
    }

    /// <summary>Loads the page's data for <see cref="DashboardSession.Site"/>.</summary>
    protected virtual Task LoadAsync() => Task.CompletedTask;

    private void OnSiteChanged() => _ = InvokeAsync(async () =>
    {
        Loading = true;
        StateHasChanged();
        await LoadAsync();
        Loading = false;
        StateHasChanged();
    });

    public void Dispose()
    {
        Session.SiteChanged -= OnSiteChanged;
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }
}
