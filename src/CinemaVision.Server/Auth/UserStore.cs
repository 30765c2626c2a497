using System.Globalization;
using System.Security.Cryptography;
using CinemaVision.Server.Configuration;
using CinemaVision.Server.Storage;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace CinemaVision.Server.Auth;

/// <summary>A person who signs in to the dashboard.</summary>
public sealed record CinemaUser(string UserName, string Role, DateTimeOffset CreatedAt, bool Disabled);

public sealed class UserSchema : IStateSchema
{
    public string Name => "users";

    public string CreateSql => """
        CREATE TABLE IF NOT EXISTS users (
            user_name TEXT PRIMARY KEY COLLATE NOCASE,
            password_hash TEXT NOT NULL,
            role TEXT NOT NULL,
            created_at TEXT NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0
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

    /// <summary>The user when the password matches and the account is enabled; null otherwise.</summary>
    public CinemaUser? Verify(string userName, string password)
    {
        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT user_name, password_hash, role, created_at, disabled FROM users WHERE user_name = $u;";
        command.Parameters.AddWithValue("$u", userName);
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            _hasher.VerifyHashedPassword(new CinemaUser(userName, Roles.Manager, default, true), _dummyHash, password);
            return null;
        }

        var user = new CinemaUser(reader.GetString(0), reader.GetString(2), DateTimeOffset.Parse(reader.GetString(3), CultureInfo.InvariantCulture), reader.GetInt64(4) != 0);
        var result = _hasher.VerifyHashedPassword(user, reader.GetString(1), password);
        return result == PasswordVerificationResult.Failed || user.Disabled ? null : user;
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
}

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
