namespace CinemaVision.Server.Auth;

/// <summary>The roles of signed-in people. Every dashboard page and every evidence download requires one.</summary>
public static class Roles
{
    public const string Admin = "Admin";
    public const string Manager = "Manager";
    public const string Security = "Security";
    public const string DataTeam = "DataTeam";

    public static readonly IReadOnlyList<string> All = [Admin, Manager, Security, DataTeam];
}

/// <summary>Authorization policy names used by endpoints and pages.</summary>
public static class Policies
{
    /// <summary>An edge agent authenticated by its API key (scheme <see cref="ApiKeyScheme"/>).</summary>
    public const string Agent = "Agent";
    public const string ApiKeyScheme = "AgentApiKey";

    /// <summary>Any signed-in person with a role.</summary>
    public const string SignedIn = "SignedIn";
    public const string Admin = "AdminOnly";

    /// <summary>Security staff (and admins): alerts, acknowledgements, evidence.</summary>
    public const string Security = "SecurityStaff";

    /// <summary>Managers, security and admins: occupancy, showings.</summary>
    public const string Viewer = "Viewer";

    /// <summary>The data team (and admins): collected frames, model versions.</summary>
    public const string DataTeam = "DataTeamOnly";
    /// <summary>Managers (and admins): reports, the schedule and ticket imports.</summary>
    public const string Managers = "Managers";

    /// <summary>Security staff, data teams (and admins): cameras and agents.</summary>
    public const string Operations = "Operations";
}
