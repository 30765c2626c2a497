using System.Globalization;
using System.Security.Claims;
using CinemaVision.Server.Auth;
using CinemaVision.Server.Dashboard.Localization;
using CinemaVision.Server.Sites;
using Microsoft.AspNetCore.Components.Authorization;

namespace CinemaVision.Server.Dashboard;

/// <summary>
/// One person's dashboard connection: who they are, the site they look at (remembered with their account) and how
/// dates, times and numbers are shown (their culture, the site's time zone).
/// </summary>
public sealed class DashboardSession(AuthenticationStateProvider auth, SiteStore sites, UserStore users, AccountService accounts, DashboardText text, TimeProvider time)
{
    private Task? _initialized;

    public string UserName { get; private set; } = "";

    public string Role { get; private set; } = "";

    public ClaimsPrincipal User { get; private set; } = new();

    public Site Site { get; private set; } = new("", "", "UTC", false);

    public IReadOnlyList<Site> Sites { get; private set; } = [];

    public TimeZoneInfo Zone => Site.TimeZone;

    public CultureInfo Culture => CultureInfo.CurrentCulture;

    public string Language => DashboardText.Language(CultureInfo.CurrentUICulture);

    public DateTimeOffset Now => time.GetUtcNow();

    /// <summary>Raised after the person switched site; pages reload.</summary>
    public event Action? SiteChanged;

    public Task InitializeAsync() => _initialized ??= LoadAsync();

    public bool IsIn(params string[] roles) => roles.Any(User.IsInRole);

    public void SwitchSite(string siteId)
    {
        if (siteId == Site.SiteId) return;
        Sites = sites.List();
        Site = Sites.FirstOrDefault(s => s.SiteId == siteId) ?? sites.Get(siteId);
        if (UserName.Length > 0) accounts.SetPreferences(UserName, null, siteId);
        SiteChanged?.Invoke();
    }

    /// <summary>Re-reads the site list (after an administrator registered or renamed one).</summary>
    public void RefreshSites()
    {
        Sites = sites.List();
        Site = Sites.FirstOrDefault(s => s.SiteId == Site.SiteId) ?? Site;
    }

    public DateTimeOffset ToSite(DateTimeOffset t) => TimeZoneInfo.ConvertTime(t, Zone);

    /// <summary>Midnight at the site, today.</summary>
    public DateTimeOffset StartOfSiteDay(DateTimeOffset at)
    {
        var local = ToSite(at);
        var midnight = new DateTime(local.Year, local.Month, local.Day, 0, 0, 0, DateTimeKind.Unspecified);
        return new DateTimeOffset(midnight, Zone.GetUtcOffset(midnight));
    }

    public string Time(DateTimeOffset t) => ToSite(t).ToString("t", Culture);

    public string TimeWithSeconds(DateTimeOffset t) => ToSite(t).ToString("T", Culture);

    public string Date(DateTimeOffset t) => ToSite(t).ToString("d", Culture);

    public string DayAndMonth(DateTimeOffset t) => ToSite(t).ToString(Language == DashboardText.Chinese ? "M月d日 ddd" : "ddd d MMM", Culture);

    public string DateTime(DateTimeOffset t) => ToSite(t).ToString("g", Culture);

    public string Number(double value, int decimals = 0) => value.ToString("N" + decimals.ToString(CultureInfo.InvariantCulture), Culture);

    public string Percent(double fraction, int decimals = 0) => fraction.ToString("P" + decimals.ToString(CultureInfo.InvariantCulture), Culture);

    /// <summary>"just now", "3 min ago", "2 h ago", or the date for older instants.</summary>
    public string Ago(DateTimeOffset t)
    {
        var age = Now - t;
        if (age < TimeSpan.FromSeconds(45)) return text["time.justNow"];
        if (age < TimeSpan.FromHours(1)) return text["time.minutesAgo", Math.Max(1, (int)Math.Round(age.TotalMinutes))];
        if (age < TimeSpan.FromHours(24)) return text["time.hoursAgo", (int)age.TotalHours];
        return DateTime(t);
    }

    /// <summary>A duration as "1 h 05 min", "4 min", "12 s".</summary>
    public string Duration(TimeSpan d) => d.TotalHours >= 1
        ? text["time.hoursMinutes", (int)d.TotalHours, d.Minutes.ToString("00", CultureInfo.InvariantCulture)]
        : d.TotalMinutes >= 1 ? text["time.minutes", (int)d.TotalMinutes] : text["time.seconds", Math.Max(0, (int)d.TotalSeconds)];

    private async Task LoadAsync()
    {
        var state = await auth.GetAuthenticationStateAsync();
        User = state.User;
        UserName = User.Identity?.Name ?? "";
        Role = User.FindFirstValue(ClaimTypes.Role) ?? "";
        Sites = sites.List();
        var preferred = UserName.Length > 0 ? users.Find(UserName)?.SiteId : null;
        Site = Sites.FirstOrDefault(s => s.SiteId == preferred) ?? (Sites.Count > 0 ? Sites[0] : null) ?? new Site("", "", sites.DefaultTimeZoneId, false);
    }
}
