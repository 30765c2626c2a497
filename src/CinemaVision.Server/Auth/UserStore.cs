using System.Globalization;
using System.Security.Cryptography;
using CinemaVision.Server.Configuration;
using CinemaVision.Server.Storage;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace CinemaVision.Server.Auth;

/// <summary>A person who signs in to the dashboard, with the preferences kept with the account.</summary>
/// <param name="Culture">The language and formats the person chose (<c>en</c>, <c>zh-CN</c>); null follows the browser.</param>
/// <param name="SiteId">The site the dashboard opens on.</param>
/// <param name="SessionsValidAfter">Sign-ins before this instant are no longer valid (set when the password changes).</param>
public sealed record CinemaUser(string UserName, string Role, DateTimeOffset CreatedAt, bool Disabled, string? Culture = null, string? SiteId = null, DateTimeOffset? SessionsValidAfter = null);

/// <summary>The outcome of a password change.</summary>
public enum PasswordChangeResult
{
    Changed = 0,
    UnknownUser = 1,
    WrongCurrentPassword = 2,
    TooShort = 3,
    SameAsCurrent = 4,
}

/// <summary>The outcome of disabling or re-enabling an account.</summary>
public enum AccountChangeResult
{
    Changed = 0,
    UnknownUser = 1,

    /// <summary>Refused: the change would leave no enabled administrator.</summary>
    LastAdministrator = 2,
}

public sealed class UserSchema : IStateSchema
{
    public string Name => "users";

    public string CreateSql => """
        CREATE TABLE IF NOT EXISTS users (
            user_name TEXT PRIMARY KEY COLLATE NOCASE,
            password_hash TEXT NOT NULL,
            role TEXT NOT NULL,
            created_at TEXT NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0,
            culture TEXT NULL,
            site_id TEXT NULL,
            sessions_valid_after INTEGER NULL
        );
        CREATE TABLE IF NOT EXISTS audit_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            subject TEXT NOT NULL,
            detail TEXT NULL
        );
        """;
}

/// <summary>Users with ASP.NET Core's PBKDF2 <see cref="PasswordHasher{TUser}"/>; the first admin comes from configuration.</summary>
public sealed class UserStore
{
    /// <summary>The shortest password accepted anywhere (creation, change, reset).</summary>
    public const int MinPasswordLength = 12;

    /// <summary>The languages the dashboard is translated into.</summary>
    public static readonly IReadOnlyList<string> Cultures = ["en", "zh-CN"];

    private const string Columns = "user_name, role, created_at, disabled, culture, site_id, sessions_valid_after";
    private readonly StateDatabase _db;
    private readonly TimeProvider _time;
    private readonly PasswordHasher<CinemaUser> _hasher = new();

    // Checked when the user name is unknown, so an unknown name costs the same PBKDF2 work as a known one.
    private readonly string _dummyHash;

    public UserStore(StateDatabase db, TimeProvider time)
    {
        _db = db;
        _time = time;
        _dummyHash = _hasher.HashPassword(new CinemaUser("-", Roles.Manager, default, true), Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)));
    }

    public CinemaUser Create(string userName, string password, string role)
    {
        if (!Roles.All.Contains(role))
        {
            throw new ArgumentException($"Unknown role '{role}'; expected one of {string.Join(", ", Roles.All)}.", nameof(role));
        }

        var user = new CinemaUser(userName, role, _time.GetUtcNow(), false);
        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO users(user_name, password_hash, role, created_at) VALUES ($u, $h, $r, $c);";
        command.Parameters.AddWithValue("$u", userName);
        command.Parameters.AddWithValue("$h", _hasher.HashPassword(user, password));
        command.Parameters.AddWithValue("$r", role);
        command.Parameters.AddWithValue("$c", user.CreatedAt.ToString("O"));
        command.ExecuteNonQuery();
        return user;
    }

    public int Count()
    {
        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM users;";
        return Convert.ToInt32(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    public CinemaUser? Find(string userName)
    {
        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM users WHERE user_name = $u;";
        command.Parameters.AddWithValue("$u", userName);
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadUser(reader) : null;
    }

    public IReadOnlyList<CinemaUser> List()
    {
        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM users ORDER BY user_name COLLATE NOCASE;";
        using var reader = command.ExecuteReader();
        var users = new List<CinemaUser>();
        while (reader.Read()) users.Add(ReadUser(reader));
        return users;
    }

    /// <summary>The user when the password matches and the account is enabled; null otherwise.</summary>
    public CinemaUser? Verify(string userName, string password)
    {
        var (user, hash) = FindWithHash(userName);
        if (user is null)
        {
            _hasher.VerifyHashedPassword(new CinemaUser(userName, Roles.Manager, default, true), _dummyHash, password);
            return null;
        }

        var result = _hasher.VerifyHashedPassword(user, hash!, password);
        return result == PasswordVerificationResult.Failed || user.Disabled ? null : user;
    }

    /// <summary>
    /// Changes a person's own password after checking the current one. Every other sign-in of the account ends
    /// (<see cref="CinemaUser.SessionsValidAfter"/>); the caller signs the current session in again.
    /// </summary>
    public PasswordChangeResult ChangePassword(string userName, string currentPassword, string newPassword)
    {
        var (user, hash) = FindWithHash(userName);
        if (user is null || user.Disabled) return PasswordChangeResult.UnknownUser;
        if (_hasher.VerifyHashedPassword(user, hash!, currentPassword) == PasswordVerificationResult.Failed) return PasswordChangeResult.WrongCurrentPassword;
        if (newPassword.Length < MinPasswordLength) return PasswordChangeResult.TooShort;
        if (string.Equals(currentPassword, newPassword, StringComparison.Ordinal)) return PasswordChangeResult.SameAsCurrent;
        SetPasswordHash(user, newPassword);
        return PasswordChangeResult.Changed;
    }

    /// <summary>An administrator sets a new password (a person who forgot theirs); the person's sign-ins end.</summary>
    public PasswordChangeResult ResetPassword(string userName, string newPassword)
    {
        var user = Find(userName);
        if (user is null) return PasswordChangeResult.UnknownUser;
        if (newPassword.Length < MinPasswordLength) return PasswordChangeResult.TooShort;
        SetPasswordHash(user, newPassword);
        return PasswordChangeResult.Changed;
    }

    /// <summary>Disables or re-enables an account. A disabled person cannot sign in and their open sessions end.</summary>
    public AccountChangeResult SetDisabled(string userName, bool disabled)
    {
        using var connection = _db.Open();
        using var tx = connection.BeginTransaction();
        using (var find = connection.CreateCommand())
        {
            find.Transaction = tx;
            find.CommandText = "SELECT role, disabled FROM users WHERE user_name = $u;";
            find.Parameters.AddWithValue("$u", userName);
            using var reader = find.ExecuteReader();
            if (!reader.Read()) return AccountChangeResult.UnknownUser;
            if (disabled && reader.GetString(0) == Roles.Admin && reader.GetInt64(1) == 0)
            {
                reader.Close();
                using var admins = connection.CreateCommand();
                admins.Transaction = tx;
                admins.CommandText = "SELECT COUNT(*) FROM users WHERE role = $r AND disabled = 0;";
                admins.Parameters.AddWithValue("$r", Roles.Admin);
                if (Convert.ToInt64(admins.ExecuteScalar(), CultureInfo.InvariantCulture) <= 1) return AccountChangeResult.LastAdministrator;
            }
        }

        using (var update = connection.CreateCommand())
        {
            update.Transaction = tx;
            update.CommandText = "UPDATE users SET disabled = $d WHERE user_name = $u;";
            update.Parameters.AddWithValue("$u", userName);
            update.Parameters.AddWithValue("$d", disabled ? 1 : 0);
            update.ExecuteNonQuery();
        }

        tx.Commit();
        return AccountChangeResult.Changed;
    }

    /// <summary>Remembers the person's language and site with the account (used on every device they sign in from).</summary>
    public void SetPreferences(string userName, string? culture, string? siteId)
    {
        if (culture is not null && !Cultures.Contains(culture, StringComparer.Ordinal))
        {
            throw new ArgumentException($"Unsupported language '{culture}'; expected one of {string.Join(", ", Cultures)}.", nameof(culture));
        }

        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "UPDATE users SET culture = COALESCE($c, culture), site_id = COALESCE($s, site_id) WHERE user_name = $u;";
        command.Parameters.AddWithValue("$u", userName);
        command.Parameters.AddWithValue("$c", (object?)culture ?? DBNull.Value);
        command.Parameters.AddWithValue("$s", (object?)siteId ?? DBNull.Value);
        command.ExecuteNonQuery();
    }

    /// <summary>Creates the first administrator when there is no user at all. Returns the generated password, if any.</summary>
    public string? EnsureBootstrapAdmin(BootstrapAdminOptions options)
    {
        if (Count() > 0)
        {
            return null;
        }

        var generated = string.IsNullOrEmpty(options.Password);
        var password = generated ? Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)) : options.Password!;
        Create(options.UserName, password, Roles.Admin);
        return generated ? password : string.Empty;
    }

    private void SetPasswordHash(CinemaUser user, string newPassword)
    {
        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "UPDATE users SET password_hash = $h, sessions_valid_after = $t WHERE user_name = $u;";
        command.Parameters.AddWithValue("$u", user.UserName);
        command.Parameters.AddWithValue("$h", _hasher.HashPassword(user, newPassword));
        command.Parameters.AddWithValue("$t", _time.GetUtcNow().ToUnixTimeMilliseconds());
        command.ExecuteNonQuery();
    }

    private (CinemaUser? User, string? Hash) FindWithHash(string userName)
    {
        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns}, password_hash FROM users WHERE user_name = $u;";
        command.Parameters.AddWithValue("$u", userName);
        using var reader = command.ExecuteReader();
        return reader.Read() ? (ReadUser(reader), reader.GetString(7)) : (null, null);
    }

    private static CinemaUser ReadUser(Microsoft.Data.Sqlite.SqliteDataReader r) => new(
        r.GetString(0),
        r.GetString(1),
        DateTimeOffset.Parse(r.GetString(2), CultureInfo.InvariantCulture),
        r.GetInt64(3) != 0,
        r.IsDBNull(4) ? null : r.GetString(4),
        r.IsDBNull(5) ? null : r.GetString(5),
        r.IsDBNull(6) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(6)));
}

/// <summary>Append-only record of who changed what (keys, users, imports).</summary>
public sealed class AuditLog
{
    private readonly StateDatabase _db;
    private readonly TimeProvider _time;

    public AuditLog(StateDatabase db, TimeProvider time)
    {
        _db = db;
        _time = time;
    }

    public void Write(string actor, string action, string subject, string? detail = null)
    {
        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO audit_log(at, actor, action, subject, detail) VALUES ($at, $actor, $action, $subject, $detail);";
        command.Parameters.AddWithValue("$at", _time.GetUtcNow().ToString("O"));
        command.Parameters.AddWithValue("$actor", actor);
        command.Parameters.AddWithValue("$action", action);
        command.Parameters.AddWithValue("$subject", subject);
        command.Parameters.AddWithValue("$detail", (object?)detail ?? DBNull.Value);
        command.ExecuteNonQuery();
    }

    /// <summary>The newest entries first, optionally only those whose actor, action or subject contain <paramref name="search"/>.</summary>
    public IReadOnlyList<AuditEntry> Recent(int limit, string? search = null)
    {
        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT at, actor, action, subject, detail FROM audit_log
            WHERE $q IS NULL OR instr(lower(actor || ' ' || action || ' ' || subject || ' ' || COALESCE(detail, '')), lower($q)) > 0
            ORDER BY id DESC LIMIT $n;
            """;
        command.Parameters.AddWithValue("$q", string.IsNullOrWhiteSpace(search) ? DBNull.Value : search.Trim());
        command.Parameters.AddWithValue("$n", limit);
        using var r = command.ExecuteReader();
        var list = new List<AuditEntry>();
        while (r.Read()) list.Add(new AuditEntry(DateTimeOffset.Parse(r.GetString(0), CultureInfo.InvariantCulture), r.GetString(1), r.GetString(2), r.GetString(3), r.IsDBNull(4) ? null : r.GetString(4)));
        return list;
    }
}

/// <summary>One line of the audit log.</summary>
public sealed record AuditEntry(DateTimeOffset At, string Actor, string Action, string Subject, string? Detail);

/// <summary>Creates the state tables and the first administrator before the host starts serving.</summary>
public sealed class StateInitializer : IHostedService
{
    private readonly StateDatabase _db;
    private readonly UserStore _users;
    private readonly IOptions<ServerOptions> _options;
    private readonly ILogger<StateInitializer> _logger;

    public StateInitializer(StateDatabase db, UserStore users, IOptions<ServerOptions> options, ILogger<StateInitializer> logger)
    {
        _db = db;
        _users = users;
        _options = options;
        _logger = logger;
    }

    /// <summary>Where a generated first password is written (readable by the service's user only); never logged.</summary>
    public const string InitialPasswordFile = "initial-admin-password";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _db.EnsureCreated();
        var admin = _options.Value.BootstrapAdmin;
        var password = _users.EnsureBootstrapAdmin(admin);
        if (password is { Length: > 0 })
        {
            var file = Path.Combine(Path.GetFullPath(_options.Value.DataDirectory), InitialPasswordFile);
            File.WriteAllText(file, password + Environment.NewLine);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            AuthLog.AdminBootstrappedGenerated(_logger, admin.UserName, file);
        }
        else if (password is not null)
        {
            AuthLog.AdminBootstrappedConfigured(_logger, admin.UserName);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
