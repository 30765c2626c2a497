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

    /// <summary>When empty a random password is generated and logged once.</summary>
    public string? Password { get; set; }
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
                errors.Add($"{p}:TimeSeries:Influx:Url must be an absolute http(s) URL (was '{influx.Url}').");
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
