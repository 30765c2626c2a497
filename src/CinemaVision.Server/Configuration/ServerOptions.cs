using Microsoft.Extensions.Options;

namespace CinemaVision.Server.Configuration;

/// <summary>The central service's settings (section <c>CinemaVision</c>). Validated at start, every bad key named.</summary>
public sealed class ServerOptions
{
    public const string Section = "CinemaVision";

    /// <summary>Folder for the embedded databases; CINEMAVISION_DATA_DIR overrides it.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>
    /// IANA time zone of sites no administrator has configured (schedules without an offset, reports and the dashboard
    /// are in the site's zone); empty uses the server's own zone.
    /// </summary>
    public string DefaultTimeZone { get; set; } = "";

    public IngestOptions Ingest { get; set; } = new();

    public TimeSeriesOptions TimeSeries { get; set; } = new();

    public BootstrapAdminOptions BootstrapAdmin { get; set; } = new();

    public SecurityOptions Security { get; set; } = new();

    public HttpsOptions Https { get; set; } = new();
}

public sealed class IngestOptions
{
    /// <summary>Largest accepted request body; bigger batches get 413.</summary>
    public long MaxBodyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Most items accepted in one batch; more gets 413.</summary>
    public int MaxItemsPerBatch { get; set; } = 5000;

    /// <summary>Batches stored at the same time; beyond this and the queue, agents get 429.</summary>
    public int MaxConcurrentBatches { get; set; } = 8;

    /// <summary>Batches allowed to wait for a slot before the service answers 429.</summary>
    public int QueueLimit { get; set; } = 64;

    /// <summary>Seconds an agent is told to wait (Retry-After) when the service is overloaded.</summary>
    public int RetryAfterSeconds { get; set; } = 2;

    /// <summary>
    /// Most events accepted but not yet written to InfluxDB (provider Influx). Beyond it agents get 429 with
    /// <see cref="BacklogRetryAfterSeconds"/> and keep their events in their own outbox; nothing is dropped. About
    /// 400 bytes of disk per event (1,000,000 events: about 400 MB).
    /// </summary>
    public long MaxForwardBacklog { get; set; } = 1_000_000;

    /// <summary>Most incident events accepted but not yet turned into alerts; beyond it agents get 429.</summary>
    public long MaxPendingAlertSignals { get; set; } = 100_000;

    /// <summary>Retry-After when a backlog is full (it drains at InfluxDB's pace, not in a second or two).</summary>
    public int BacklogRetryAfterSeconds { get; set; } = 30;

    /// <summary>
    /// How long an item id stays in the idempotency ledger: the agents' retry horizon. An agent re-sends an item
    /// until it has recorded the acknowledgement, normally within seconds; after an outage it re-sends what it never
    /// saw acknowledged. A copy arriving later than this after the first was stored would be stored again (the series
    /// overwrite themselves; the alert joins the open one). Keep it longer than the longest an agent can be cut off.
    /// </summary>
    public double LedgerRetentionDays { get; set; } = 30;

    /// <summary>How often expired ledger entries are removed.</summary>
    public double LedgerPruneIntervalMinutes { get; set; } = 60;
}

public enum TimeSeriesProvider
{
    Sqlite = 0,
    Influx = 1,
}

public sealed class TimeSeriesOptions
{
    public TimeSeriesProvider Provider { get; set; } = TimeSeriesProvider.Sqlite;

    /// <summary>Raw samples older than this are removed (their 1-minute rollups stay).</summary>
    public int RawRetentionDays { get; set; } = 14;

    /// <summary>1-minute rollups older than this are removed.</summary>
    public int RollupRetentionDays { get; set; } = 400;

    /// <summary>How often rollups and retention run.</summary>
    public int MaintenanceIntervalSeconds { get; set; } = 300;

    public InfluxOptions Influx { get; set; } = new();
}

public sealed class InfluxOptions
{
    /// <summary>Base URL of an InfluxDB serving the v1 API (1.x natively, 2.x with a DBRP mapping, 3.x).</summary>
    public string Url { get; set; } = "http://127.0.0.1:8086";

    public string Database { get; set; } = "cinemavision";

    /// <summary>2.x/3.x token (sent as <c>Authorization: Token ...</c>); leave empty for 1.x.</summary>
    public string? Token { get; set; }

    /// <summary>1.x basic-auth user (optional).</summary>
    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>Create the database and retention policies at start (1.x only; 2.x/3.x are provisioned outside).</summary>
    public bool CreateDatabase { get; set; } = true;

    public int MaxPointsPerWrite { get; set; } = 5000;

    public int MaxRetries { get; set; } = 4;

    public int TimeoutSeconds { get; set; } = 15;
}

/// <summary>The first administrator, created when no user exists yet.</summary>
public sealed class BootstrapAdminOptions
{
    public string UserName { get; set; } = "admin";

    /// <summary>
    /// When empty a random password is generated and written to <c>DATA/initial-admin-password</c> (readable by the
    /// service's user only); the log names the file, never the password.
    /// </summary>
    public string? Password { get; set; }
}

/// <summary>Sign-in throttling and cross-site protection.</summary>
public sealed class SecurityOptions
{
    /// <summary>
    /// Origins (scheme://host[:port]) besides the service's own from which browsers may change state with the
    /// sign-in cookie: the address people type when the service sits behind a reverse proxy.
    /// </summary>
    public List<string> AllowedOrigins { get; set; } = [];

    /// <summary>Wrong passwords for one user name before it is throttled.</summary>
    public int FreeAttemptsPerUser { get; set; } = 5;

    /// <summary>Wrong passwords from one address (any user names) before it is throttled.</summary>
    public int FreeAttemptsPerAddress { get; set; } = 20;

    /// <summary>Longest wait imposed; each further failure doubles the wait up to this.</summary>
    public int MaxLockoutSeconds { get; set; } = 900;

    /// <summary>Failures older than this are forgotten.</summary>
    public int FailureWindowMinutes { get; set; } = 15;
}

/// <summary>
/// HTTPS. Endpoints come from the usual ASP.NET Core settings (<c>--urls https://0.0.0.0:8443</c>,
/// <c>Kestrel:Endpoints</c>). A certificate the installer supplies goes in <c>Kestrel:Certificates:Default:Path</c>
/// (and <c>:Password</c> or <c>:KeyPath</c>); without one the service generates a self-signed certificate in
/// <c>DATA/tls/</c> at first start, and agents pin its SHA-256 fingerprint (printed at start and written to
/// <c>DATA/tls/certificate.sha256</c>).
/// </summary>
public sealed class HttpsOptions
{
    /// <summary>Generate (once) and use a self-signed certificate when an https endpoint has none.</summary>
    public bool GenerateCertificate { get; set; } = true;

    /// <summary>Host names and addresses the generated certificate names (besides localhost and 127.0.0.1).</summary>
    public List<string> CertificateHosts { get; set; } = [];

    /// <summary>Strict-Transport-Security max-age sent over HTTPS (0 turns HSTS off).</summary>
    public int HstsMaxAgeDays { get; set; } = 365;

    /// <summary>Send browsers that arrive over plain HTTP to the HTTPS endpoint (when there is one).</summary>
    public bool RedirectHttp { get; set; } = true;
}

/// <summary>Collects every configuration problem at once, naming the key.</summary>
public sealed class ServerOptionsValidator : IValidateOptions<ServerOptions>
{
    public ValidateOptionsResult Validate(string? name, ServerOptions options)
    {
        var errors = new List<string>();
        const string p = ServerOptions.Section;
        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            errors.Add($"{p}:DataDirectory must name a folder.");
        }

        if (options.DefaultTimeZone is { Length: > 0 } zone && !TimeZoneInfo.TryFindSystemTimeZoneById(zone, out _))
        {
            errors.Add($"{p}:DefaultTimeZone '{zone}' is not a known time zone (use an IANA id such as Asia/Shanghai).");
        }

        var ingest = options.Ingest;
        if (ingest.MaxBodyBytes is < 1024 or > 256L * 1024 * 1024)
        {
            errors.Add($"{p}:Ingest:MaxBodyBytes must be between 1024 and 268435456 (was {ingest.MaxBodyBytes}).");
        }

        if (ingest.MaxItemsPerBatch is < 1 or > 100_000)
        {
            errors.Add($"{p}:Ingest:MaxItemsPerBatch must be between 1 and 100000 (was {ingest.MaxItemsPerBatch}).");
        }

        if (ingest.MaxConcurrentBatches is < 1 or > 256)
        {
            errors.Add($"{p}:Ingest:MaxConcurrentBatches must be between 1 and 256 (was {ingest.MaxConcurrentBatches}).");
        }

        if (ingest.QueueLimit is < 0 or > 10_000)
        {
            errors.Add($"{p}:Ingest:QueueLimit must be between 0 and 10000 (was {ingest.QueueLimit}).");
        }

        if (ingest.RetryAfterSeconds is < 1 or > 3600)
        {
            errors.Add($"{p}:Ingest:RetryAfterSeconds must be between 1 and 3600 (was {ingest.RetryAfterSeconds}).");
        }

        if (ingest.MaxForwardBacklog < 1000)
        {
            errors.Add($"{p}:Ingest:MaxForwardBacklog must be at least 1000 (was {ingest.MaxForwardBacklog}).");
        }

        if (ingest.MaxPendingAlertSignals < 100)
        {
            errors.Add($"{p}:Ingest:MaxPendingAlertSignals must be at least 100 (was {ingest.MaxPendingAlertSignals}).");
        }

        if (ingest.BacklogRetryAfterSeconds is < 1 or > 3600)
        {
            errors.Add($"{p}:Ingest:BacklogRetryAfterSeconds must be between 1 and 3600 (was {ingest.BacklogRetryAfterSeconds}).");
        }

        if (!double.IsFinite(ingest.LedgerRetentionDays) || ingest.LedgerRetentionDays < 1)
        {
            errors.Add($"{p}:Ingest:LedgerRetentionDays must be at least 1: it is how long agents may retry (was {ingest.LedgerRetentionDays}).");
        }

        if (!double.IsFinite(ingest.LedgerPruneIntervalMinutes) || ingest.LedgerPruneIntervalMinutes < 1)
        {
            errors.Add($"{p}:Ingest:LedgerPruneIntervalMinutes must be at least 1 (was {ingest.LedgerPruneIntervalMinutes}).");
        }

        var security = options.Security;
        foreach (var origin in security.AllowedOrigins)
        {
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var o) || (o.Scheme != Uri.UriSchemeHttp && o.Scheme != Uri.UriSchemeHttps) || o.AbsolutePath != "/")
            {
                errors.Add($"{p}:Security:AllowedOrigins: '{origin}' is not an origin like https://cinema.example:8443.");
            }
        }

        if (security.FreeAttemptsPerUser is < 1 or > 1000 || security.FreeAttemptsPerAddress is < 1 or > 100_000)
        {
            errors.Add($"{p}:Security:FreeAttemptsPerUser (1-1000) and FreeAttemptsPerAddress (1-100000) must be positive.");
        }

        if (security.MaxLockoutSeconds is < 1 or > 86_400 || security.FailureWindowMinutes is < 1 or > 1440)
        {
            errors.Add($"{p}:Security:MaxLockoutSeconds (1-86400) and FailureWindowMinutes (1-1440) are out of range.");
        }

        if (options.Https.HstsMaxAgeDays is < 0 or > 3650)
        {
            errors.Add($"{p}:Https:HstsMaxAgeDays must be between 0 and 3650 (was {options.Https.HstsMaxAgeDays}).");
        }

        var ts = options.TimeSeries;
        if (!Enum.IsDefined(ts.Provider))
        {
            errors.Add($"{p}:TimeSeries:Provider must be Sqlite or Influx.");
        }

        if (ts.RawRetentionDays < 1)
        {
            errors.Add($"{p}:TimeSeries:RawRetentionDays must be at least 1 (was {ts.RawRetentionDays}).");
        }

        if (ts.RollupRetentionDays < ts.RawRetentionDays)
        {
            errors.Add($"{p}:TimeSeries:RollupRetentionDays must be at least RawRetentionDays (was {ts.RollupRetentionDays}).");
        }

        if (ts.MaintenanceIntervalSeconds < 10)
        {
            errors.Add($"{p}:TimeSeries:MaintenanceIntervalSeconds must be at least 10 (was {ts.MaintenanceIntervalSeconds}).");
        }

        if (ts.Provider == TimeSeriesProvider.Influx)
        {
            var influx = ts.Influx;
            if (!Uri.TryCreate(influx.Url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                errors.Add($"{p}:TimeSeries:Influx:Url must be an absolute http(s) URL.");
            }

            if (string.IsNullOrWhiteSpace(influx.Database) || influx.Database.Contains('"', StringComparison.Ordinal))
            {
                errors.Add($"{p}:TimeSeries:Influx:Database must be a non-empty name without quotes.");
            }

            if (!string.IsNullOrEmpty(influx.Token) && !string.IsNullOrEmpty(influx.Username))
            {
                errors.Add($"{p}:TimeSeries:Influx:Token and Username are exclusive (token for 2.x/3.x, user for 1.x).");
            }

            if (influx.MaxPointsPerWrite is < 1 or > 100_000)
            {
                errors.Add($"{p}:TimeSeries:Influx:MaxPointsPerWrite must be between 1 and 100000.");
            }

            if (influx.MaxRetries is < 0 or > 10)
            {
                errors.Add($"{p}:TimeSeries:Influx:MaxRetries must be between 0 and 10.");
            }

            if (influx.TimeoutSeconds is < 1 or > 300)
            {
                errors.Add($"{p}:TimeSeries:Influx:TimeoutSeconds must be between 1 and 300.");
            }
        }

        if (string.IsNullOrWhiteSpace(options.BootstrapAdmin.UserName))
        {
            errors.Add($"{p}:BootstrapAdmin:UserName must not be empty.");
        }

        if (options.BootstrapAdmin.Password is { Length: > 0 and < 12 })
        {
            errors.Add($"{p}:BootstrapAdmin:Password must be at least 12 characters.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
