namespace CinemaVision.Server.Auth;

/// <summary>
/// Account changes as people make them (API and dashboard alike): checks, the change itself and its audit-log line,
/// so both doors behave the same. Errors are keyed by the field they are about.
/// </summary>
public sealed class AccountService(UserStore users, AuditLog audit, TimeProvider time)
{
    /// <summary>Creates a person; returns the account or the problems by field (<c>userName</c>, <c>password</c>, <c>role</c>).</summary>
    public (CinemaUser? User, Dictionary<string, string[]> Errors) Create(string actor, string? userName, string? password, string? role)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (Http.InputRules.IdProblem(userName, AuthEndpoints.MaxUserNameLength) is { } nameProblem) errors["userName"] = [nameProblem];
        if (password is not { Length: >= UserStore.MinPasswordLength and <= AuthEndpoints.MaxPasswordLength }) errors["password"] = [$"at least {UserStore.MinPasswordLength} and at most {AuthEndpoints.MaxPasswordLength} characters."];
        if (role is null || !Roles.All.Contains(role)) errors["role"] = [$"one of {string.Join(", ", Roles.All)}."];
        if (errors.Count == 0 && users.Find(userName!) is not null) errors["userName"] = [$"'{userName}' is taken."];
        if (errors.Count > 0) return (null, errors);
        try
        {
            var created = users.Create(userName!.Trim(), password!, role!);
            audit.Write(actor, "user.create", created.UserName, created.Role);
            return (created, errors);
        }
        catch (Microsoft.Data.Sqlite.SqliteException ex) when (ex.SqliteErrorCode == 19)
        {
            errors["userName"] = [$"'{userName}' is taken."];
            return (null, errors);
        }
    }

    public AccountChangeResult SetDisabled(string actor, string userName, bool disabled)
    {
        var result = users.SetDisabled(userName, disabled);
        if (result == AccountChangeResult.Changed) audit.Write(actor, disabled ? "user.disable" : "user.enable", userName);
        return result;
    }

    public PasswordChangeResult ResetPassword(string actor, string userName, string newPassword)
    {
        var result = users.ResetPassword(userName, newPassword);
        if (result == PasswordChangeResult.Changed) audit.Write(actor, "user.password-reset", userName);
        return result;
    }

    /// <summary>A person changes their own password. On success the caller signs the current session in again.</summary>
    public PasswordChangeResult ChangeOwnPassword(string userName, string currentPassword, string newPassword)
    {
        var result = users.ChangePassword(userName, currentPassword, newPassword);
        audit.Write(userName, result == PasswordChangeResult.Changed ? "password.change" : "password.change-refused", userName, result == PasswordChangeResult.Changed ? null : result.ToString());
        return result;
    }

    /// <summary>The problems of a refused password change, keyed by the request field.</summary>
    public static Dictionary<string, string[]> Errors(PasswordChangeResult result) => result switch
    {
        PasswordChangeResult.WrongCurrentPassword => new() { ["currentPassword"] = ["is not right."] },
        PasswordChangeResult.TooShort => new() { ["newPassword"] = [$"at least {UserStore.MinPasswordLength} characters."] },
        PasswordChangeResult.SameAsCurrent => new() { ["newPassword"] = ["must differ from the current password."] },
        PasswordChangeResult.UnknownUser => new() { ["userName"] = ["no such enabled account."] },
        _ => [],
    };

    public void SetPreferences(string userName, string? culture, string? siteId)
    {
        users.SetPreferences(userName, culture, siteId);
        audit.Write(userName, "preferences", userName, $"culture={culture ?? "-"} site={siteId ?? "-"}");
    }

    public DateTimeOffset Now => time.GetUtcNow();
}
