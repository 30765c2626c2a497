using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CinemaVision.Core.Events;
using CinemaVision.Server.Configuration;
using InfluxDB.Client.Api.Domain;
using InfluxDB.Client.Writes;

namespace CinemaVision.Server.Storage.TimeSeries;

/// <summary>
/// InfluxDB through the v1-compatible API (<c>/write</c> line protocol, <c>/query</c> InfluxQL), which 1.x serves
/// natively, 2.x with a DBRP mapping and a token, and 3.x natively.
/// Schema (tags are bounded: site, auditorium, camera, seat, type, kind; ids are fields):
/// <list type="bullet">
/// <item><c>raw.occupancy</c> tags site, auditorium, camera (<c>_all</c> for the auditorium-wide figure); fields people, seats_occupied, seats_total, seats_unknown, confidence, id, showing.</item>
/// <item><c>rollup.occupancy_1m</c> same tags without camera; mean people/occupied, max total, mean confidence, samples.</item>
/// <item><c>raw.seat_state</c> tags site, auditorium, seat, camera; fields state, confidence, id, showing.</item>
/// <item><c>rollup.incident</c> tags site, auditorium, camera, type, kind; fields id, incident_id, phase, started_at, confidence, seat, evidence, detail, payload.</item>
/// <item><c>raw.agent_health</c> tags site, agent; fields id, payload.</item>
/// </list>
/// A replayed point has the same series and time and overwrites itself. Raw data lives in retention policy
/// <c>raw</c>, rollups and incidents in <c>rollup</c>, each with its configured duration.
/// </summary>
public sealed partial class InfluxTimeSeriesStore : ITimeSeriesStore, IDisposable
{
    public const string HttpClientName = "influx";
    public const string RawPolicy = "raw";
    public const string RollupPolicy = "rollup";
    private const string AllCameras = "_all";
    private readonly HttpClient _http;
    private readonly TimeSeriesOptions _options;
    private readonly InfluxOptions _influx;
    private readonly ILogger<InfluxTimeSeriesStore> _logger;
    private readonly SemaphoreSlim _init = new(1, 1);
    private volatile bool _initialized;
    private long _rollupWatermarkMs = -1;

    public InfluxTimeSeriesStore(TimeSeriesOptions options, HttpClient http, ILogger<InfluxTimeSeriesStore> logger)
    {
        _options = options;
        _influx = options.Influx;
        _http = http;
        _http.BaseAddress ??= new Uri(_influx.Url.TrimEnd('/') + "/");
        _http.Timeout = TimeSpan.FromSeconds(_influx.TimeoutSeconds);
        _logger = logger;
    }

    public void Dispose() => _init.Dispose();

    /// <summary>Writes a batch directly (tools and tests; the service forwards through <see cref="InfluxForwarder"/>).</summary>
    public async Task WriteAsync(IngestBatch batch, CancellationToken cancellationToken)
    {
        await EnsureInitializedAsync(cancellationToken);
        foreach (var group in batch.Events.Select(ToLine).GroupBy(l => l.Policy))
        {
            var lines = group.Select(l => l.Line).ToList();
            for (var start = 0; start < lines.Count; start += _influx.MaxPointsPerWrite)
            {
                var body = string.Join('\n', lines.Skip(start).Take(_influx.MaxPointsPerWrite));
                var url = $"write?db={Uri.EscapeDataString(_influx.Database)}&rp={group.Key}&precision=ns";
                using var _ = await SendWithRetryAsync(() => new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "text/plain") }, "write", cancellationToken);
            }
        }
    }

    /// <summary>
    /// One event as one line of line protocol, and the retention policy it goes to. Ids are fields except the
    /// incident id, a tag so that two incidents at the same instant (two phones in one frame) are two series. Each
    /// point's time is its millisecond plus a sub-millisecond offset derived from the item id: two items at the same
    /// millisecond never share a point (InfluxDB would keep only the last), a replayed item lands on itself, and
    /// queries in milliseconds see the time unchanged.
    /// </summary>
    /// <exception cref="LineProtocolException">A tag value line protocol cannot carry (a backslash, a line break).</exception>
    public static (string Policy, string Line) ToLine(EdgeEvent e) => e switch
    {
        OccupancySample o => (RawPolicy, Point(PointData.Measurement("occupancy").Tag("site", LineProtocol.Tag(o.SiteId)).Tag("auditorium", LineProtocol.Tag(o.AuditoriumId)).Tag("camera", LineProtocol.Tag(o.CameraId ?? AllCameras))
            .Field("people", (long)o.People).Field("seats_occupied", (long)o.SeatsOccupied).Field("seats_total", (long)o.SeatsTotal)
            .Field("seats_unknown", (long)o.SeatsUnknown).Field("confidence", o.Confidence).Field("id", o.Id), "showing", o.ShowingId, o.Timestamp, o.Id)),
        SeatStateChange s => (RawPolicy, Point(PointData.Measurement("seat_state").Tag("site", LineProtocol.Tag(s.SiteId)).Tag("auditorium", LineProtocol.Tag(s.AuditoriumId)).Tag("seat", LineProtocol.Tag(s.SeatId)).Tag("camera", LineProtocol.Tag(s.CameraId))
            .Field("state", (long)s.State).Field("confidence", s.Confidence).Field("id", s.Id), "showing", s.ShowingId, s.Timestamp, s.Id)),
        AgentHealth h => (RawPolicy, Point(PointData.Measurement("agent_health").Tag("site", LineProtocol.Tag(h.SiteId)).Tag("agent", LineProtocol.Tag(h.AgentId))
            .Field("id", h.Id).Field("outbox_pending", h.OutboxPending).Field("cpu_percent", h.CpuPercent).Field("payload", JsonSerializer.Serialize(h, IngestJson.Options)), null, null, h.Timestamp, h.Id)),
        AnomalyEvent a => (RollupPolicy, Incident(IncidentTypes.Anomaly, a.Kind.ToString(), a.SiteId, a.AuditoriumId, a.CameraId, a.IncidentId, a.Id, a.Phase, a.StartedAt, a.Timestamp, a.Confidence, a.SeatId, a.EvidenceId, a.Detail, JsonSerializer.Serialize(a, IngestJson.Options))),
        PiracySuspicion p => (RollupPolicy, Incident(IncidentTypes.Piracy, p.Device.ToString(), p.SiteId, p.AuditoriumId, p.CameraId, p.IncidentId, p.Id, p.Phase, p.StartedAt, p.Timestamp, p.Confidence, p.SeatId, p.EvidenceId, p.Detail, JsonSerializer.Serialize(p, IngestJson.Options))),
        CameraHealthEvent c => (RollupPolicy, Incident(IncidentTypes.CameraHealth, c.Kind.ToString(), c.SiteId, c.AuditoriumId, c.CameraId, c.IncidentId, c.Id, c.Phase, c.StartedAt, c.Timestamp, 1.0, null, null, c.Detail, JsonSerializer.Serialize(c, IngestJson.Options))),
        _ => throw new LineProtocolException($"Event type {e.GetType().Name} has no time-series form."),
    };

    /// <summary>
    /// One attempt to write lines of one retention policy, classified for the forwarder: written, refused for good
    /// (400, 413, 422: a point InfluxDB will never take), refused for configuration (401, 403, 404: retried, the
    /// points are not to blame), or transient (timeouts, connection errors, 5xx, 429).
    /// </summary>
    public async Task<InfluxWriteOutcome> TryWriteLinesAsync(string policy, IReadOnlyList<string> lines, CancellationToken cancellationToken)
    {
        try
        {
            await EnsureInitializedAsync(cancellationToken);
        }
        catch (TimeSeriesStoreException ex)
        {
            return new InfluxWriteOutcome(InfluxWriteResult.Transient, 0, ex.Message, null);
        }

        var url = $"write?db={Uri.EscapeDataString(_influx.Database)}&rp={policy}&precision=ns";
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(string.Join('\n', lines), Encoding.UTF8, "text/plain") };
        Authorize(request);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return new InfluxWriteOutcome(InfluxWriteResult.Transient, 0, ex is TaskCanceledException ? $"no answer within {_influx.TimeoutSeconds} s" : ex.Message, null);
        }

        using (response)
        {
            if (response.IsSuccessStatusCode)
            {
                return new InfluxWriteOutcome(InfluxWriteResult.Written, (int)response.StatusCode, null, null);
            }

            var status = (int)response.StatusCode;
            var error = ExtractError(await response.Content.ReadAsStringAsync(cancellationToken));
            var kind = status switch
            {
                400 or 413 or 422 => InfluxWriteResult.Rejected,
                401 or 403 or 404 => InfluxWriteResult.Misconfigured,
                _ => InfluxWriteResult.Transient,
            };
            return new InfluxWriteOutcome(kind, status, error, response.Headers.RetryAfter?.Delta);
        }
    }

    public async Task<IReadOnlyList<OccupancyPoint>> GetOccupancyAsync(string siteId, string auditoriumId, DateTimeOffset from, DateTimeOffset to, OccupancyResolution resolution, CancellationToken cancellationToken)
    {
        var useRollup = resolution == OccupancyResolution.OneMinute
            || (resolution == OccupancyResolution.Auto && from < DateTimeOffset.UtcNow.AddDays(-_options.RawRetentionDays));
        var q = useRollup
            ? $"SELECT people, seats_occupied, seats_total, confidence, samples FROM {Rp(RollupPolicy)}.occupancy_1m WHERE site={S(siteId)} AND auditorium={S(auditoriumId)} AND {TimeRange(from, to)}"
            : $"SELECT people, seats_occupied, seats_total, confidence FROM {Rp(RawPolicy)}.occupancy WHERE site={S(siteId)} AND auditorium={S(auditoriumId)} AND camera='{AllCameras}' AND {TimeRange(from, to)}";
        var rows = await QueryAsync(q, cancellationToken);
        return rows.Select(r => new OccupancyPoint(r.Time, r.Double("people"), r.Double("seats_occupied"), (int)r.Double("seats_total"), r.Double("confidence"), useRollup ? (int)r.Double("samples") : 1)).ToList();
    }

    public async Task<IReadOnlyList<OccupancySample>> GetShowingOccupancyAsync(string siteId, string auditoriumId, string showingId, CancellationToken cancellationToken)
    {
        var rows = await QueryAsync($"SELECT * FROM {Rp(RawPolicy)}.occupancy WHERE site={S(siteId)} AND auditorium={S(auditoriumId)} AND camera='{AllCameras}' AND showing={S(showingId)}", cancellationToken);
        return rows.Select(ToOccupancy).ToList();
    }

    public async Task<IReadOnlyList<OccupancySample>> GetLatestOccupancyAsync(string siteId, CancellationToken cancellationToken)
    {
        var rows = await QueryAsync($"SELECT * FROM {Rp(RawPolicy)}.occupancy WHERE site={S(siteId)} AND camera='{AllCameras}' GROUP BY auditorium ORDER BY time DESC LIMIT 1", cancellationToken);
        return rows.Select(ToOccupancy).OrderBy(o => o.AuditoriumId, StringComparer.Ordinal).ToList();
    }

    public async Task<IReadOnlyList<SeatStateChange>> GetSeatChangesAsync(string siteId, string auditoriumId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        var rows = await QueryAsync($"SELECT * FROM {Rp(RawPolicy)}.seat_state WHERE site={S(siteId)} AND auditorium={S(auditoriumId)} AND {TimeRange(from, to)}", cancellationToken);
        return rows.Select(ToSeat).OrderBy(s => s.Timestamp).ThenBy(s => s.SeatId, StringComparer.Ordinal).ToList();
    }

    public async Task<IReadOnlyDictionary<string, SeatStateChange>> GetSeatStatesAtAsync(string siteId, string auditoriumId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var rows = await QueryAsync($"SELECT * FROM {Rp(RawPolicy)}.seat_state WHERE site={S(siteId)} AND auditorium={S(auditoriumId)} AND time <= {Ms(at)}ms GROUP BY seat ORDER BY time DESC LIMIT 1", cancellationToken);
        var latest = new Dictionary<string, SeatStateChange>(StringComparer.Ordinal);
        foreach (var seat in rows.Select(ToSeat))
        {
            if (!latest.TryGetValue(seat.SeatId, out var known) || known.Timestamp < seat.Timestamp)
            {
                latest[seat.SeatId] = seat;
            }
        }

        return latest;
    }

    public async Task<IReadOnlyList<StoredEvent>> GetEventsAsync(EventQuery query, CancellationToken cancellationToken)
    {
        var where = new StringBuilder($"site={S(query.SiteId)} AND {TimeRange(query.From, query.To)}");
        if (query.AuditoriumId is not null)
        {
            where.Append(CultureInfo.InvariantCulture, $" AND auditorium={S(query.AuditoriumId)}");
        }

        if (query.Kind is not null)
        {
            where.Append(CultureInfo.InvariantCulture, $" AND (kind={S(query.Kind)} OR type={S(query.Kind)})");
        }

        var rows = await QueryAsync($"SELECT * FROM {Rp(RollupPolicy)}.incident WHERE {where} ORDER BY time DESC LIMIT {query.Limit.ToString(CultureInfo.InvariantCulture)}", cancellationToken);
        return rows.Select(r => new StoredEvent(
            r.String("id")!, r.String("type")!, r.String("kind")!, r.String("incident_id")!, (IncidentPhase)(int)r.Double("phase"), r.String("site")!, r.String("auditorium")!, r.String("camera")!,
            DateTimeOffset.FromUnixTimeMilliseconds((long)r.Double("started_at")), r.Time, r.Double("confidence"), r.String("seat"), r.String("evidence"), r.String("detail")))
            .OrderByDescending(e => e.Timestamp).ToList();
    }

    public async Task<IReadOnlyList<CameraHealthEvent>> GetCameraHealthAsync(string siteId, string auditoriumId, string? cameraId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        var camera = cameraId is null ? string.Empty : $" AND camera={S(cameraId)}";
        var rows = await QueryAsync($"SELECT payload FROM {Rp(RollupPolicy)}.incident WHERE site={S(siteId)} AND auditorium={S(auditoriumId)} AND type='{IncidentTypes.CameraHealth}'{camera} AND {TimeRange(from, to)}", cancellationToken);
        return rows.Select(r => JsonSerializer.Deserialize<CameraHealthEvent>(r.String("payload")!, IngestJson.Options)!).OrderBy(e => e.Timestamp).ToList();
    }

    public async Task<IReadOnlyList<AgentHealth>> GetLatestAgentHealthAsync(string siteId, CancellationToken cancellationToken)
    {
        var rows = await QueryAsync($"SELECT payload FROM {Rp(RawPolicy)}.agent_health WHERE site={S(siteId)} GROUP BY agent ORDER BY time DESC LIMIT 1", cancellationToken);
        return rows.Select(r => JsonSerializer.Deserialize<AgentHealth>(r.String("payload")!, IngestJson.Options)!).OrderBy(h => h.AgentId, StringComparer.Ordinal).ToList();
    }

    public async Task<IReadOnlyList<AgentHealth>> GetAgentHealthAsync(string siteId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        var rows = await QueryAsync($"SELECT payload FROM {Rp(RawPolicy)}.agent_health WHERE site={S(siteId)} AND {TimeRange(from, to)}", cancellationToken);
        return rows.Select(r => JsonSerializer.Deserialize<AgentHealth>(r.String("payload")!, IngestJson.Options)!).OrderBy(h => h.Timestamp).ThenBy(h => h.AgentId, StringComparer.Ordinal).ToList();
    }

    public async Task RunMaintenanceAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await EnsureInitializedAsync(cancellationToken);

        // Retention is the policies' job; the rollup is a SELECT INTO over the recent window (an hour behind the
        // previous run for late samples), so it behaves the same on every server that speaks InfluxQL INTO.
        var nowMs = Ms(now);
        var fromMs = _rollupWatermarkMs < 0 ? Ms(now.AddDays(-_options.RawRetentionDays)) : _rollupWatermarkMs - 3_600_000;
        fromMs -= fromMs % 60_000;
        var q = $"SELECT mean(people) AS people, mean(seats_occupied) AS seats_occupied, max(seats_total) AS seats_total, mean(confidence) AS confidence, count(people) AS samples "
            + $"INTO {Rp(RollupPolicy)}.occupancy_1m FROM {Rp(RawPolicy)}.occupancy WHERE camera='{AllCameras}' AND time >= {fromMs.ToString(CultureInfo.InvariantCulture)}ms AND time < {nowMs.ToString(CultureInfo.InvariantCulture)}ms GROUP BY time(1m), site, auditorium";
        await QueryAsync(q, cancellationToken, post: true);
        _rollupWatermarkMs = nowMs;
    }

    private static string Incident(string type, string kind, string site, string auditorium, string camera, string incidentId, string id, IncidentPhase phase, DateTimeOffset startedAt, DateTimeOffset timestamp, double confidence, string? seat, string? evidence, string? detail, string payload)
    {
        var p = PointData.Measurement("incident").Tag("site", LineProtocol.Tag(site)).Tag("auditorium", LineProtocol.Tag(auditorium)).Tag("camera", LineProtocol.Tag(camera)).Tag("type", type).Tag("kind", kind).Tag("incident", LineProtocol.Tag(incidentId))
            .Field("id", id).Field("incident_id", incidentId).Field("phase", (long)phase).Field("started_at", Ms(startedAt)).Field("confidence", confidence).Field("payload", payload);
        if (seat is not null)
        {
            p = p.Field("seat", seat);
        }

        if (evidence is not null)
        {
            p = p.Field("evidence", evidence);
        }

        if (detail is not null)
        {
            p = p.Field("detail", detail);
        }

        return p.Timestamp(LineProtocol.Nanoseconds(timestamp, id), WritePrecision.Ns).ToLineProtocol();
    }

    private static string Point(PointData p, string? optionalField, string? optionalValue, DateTimeOffset timestamp, string id)
    {
        if (optionalField is not null && optionalValue is not null)
        {
            p = p.Field(optionalField, optionalValue);
        }

        return p.Timestamp(LineProtocol.Nanoseconds(timestamp, id), WritePrecision.Ns).ToLineProtocol();
    }

    private async Task EnsureInitializedAsync(CancellationToken cancellationToken)
    {
        if (_initialized)
        {
            return;
        }

        await _init.WaitAsync(cancellationToken);
        try
        {
            if (_initialized || !_influx.CreateDatabase)
            {
                _initialized = true;
                return;
            }

            var db = Db;
            await QueryAsync($"CREATE DATABASE {db}", cancellationToken, post: true);
            foreach (var (policy, days, isDefault) in new[] { (RawPolicy, _options.RawRetentionDays, true), (RollupPolicy, _options.RollupRetentionDays, false) })
            {
                var duration = days.ToString(CultureInfo.InvariantCulture) + "d";
                try
                {
                    await QueryAsync($"CREATE RETENTION POLICY \"{policy}\" ON {db} DURATION {duration} REPLICATION 1{(isDefault ? " DEFAULT" : string.Empty)}", cancellationToken, post: true);
                }
                catch (TimeSeriesStoreException ex) when (ex.Message.Contains("already exists", StringComparison.OrdinalIgnoreCase))
                {
                    await QueryAsync($"ALTER RETENTION POLICY \"{policy}\" ON {db} DURATION {duration}{(isDefault ? " DEFAULT" : string.Empty)}", cancellationToken, post: true);
                }
            }

            _initialized = true;
        }
        finally
        {
            _init.Release();
        }
    }

    private async Task<List<Row>> QueryAsync(string influxQl, CancellationToken cancellationToken, bool post = false)
    {
        var form = new Dictionary<string, string> { ["db"] = _influx.Database, ["q"] = influxQl, ["epoch"] = "ms" };
        using var response = await SendWithRetryAsync(
            () => post
                ? new HttpRequestMessage(HttpMethod.Post, "query") { Content = new FormUrlEncodedContent(form) }
                : new HttpRequestMessage(HttpMethod.Get, "query?" + string.Join('&', form.Select(kv => kv.Key + "=" + Uri.EscapeDataString(kv.Value)))),
            "query",
            cancellationToken);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var json = await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken);
        var rows = new List<Row>();
        foreach (var result in json.RootElement.GetProperty("results").EnumerateArray())
        {
            if (result.TryGetProperty("error", out var error))
            {
                throw new TimeSeriesStoreException($"InfluxDB at {_influx.Url} refused the query ({error.GetString()}): {influxQl}");
            }

            if (!result.TryGetProperty("series", out var series))
            {
                continue;
            }

            foreach (var s in series.EnumerateArray())
            {
                var tags = s.TryGetProperty("tags", out var t) ? t.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString(), StringComparer.Ordinal) : [];
                var columns = s.GetProperty("columns").EnumerateArray().Select(c => c.GetString()!).ToArray();
                foreach (var values in s.GetProperty("values").EnumerateArray())
                {
                    var cells = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
                    var i = 0;
                    foreach (var v in values.EnumerateArray())
                    {
                        cells[columns[i++]] = v.Clone();
                    }

                    rows.Add(new Row(cells, tags));
                }
            }
        }

        return rows;
    }

    private async Task<HttpResponseMessage> SendWithRetryAsync(Func<HttpRequestMessage> create, string what, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var request = create();
            Authorize(request);
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, cancellationToken);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                if (attempt >= _influx.MaxRetries)
                {
                    throw new TimeSeriesStoreException($"InfluxDB at {_influx.Url} is unreachable ({what} failed after {attempt + 1} attempts): {ex.Message}", ex);
                }

                await Task.Delay(Backoff(attempt, null), cancellationToken);
                continue;
            }

            if (response.IsSuccessStatusCode)
            {
                return response;
            }

            var status = (int)response.StatusCode;
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            var retryAfter = response.Headers.RetryAfter?.Delta;
            response.Dispose();
            if ((status == 429 || status >= 500) && attempt < _influx.MaxRetries)
            {
                InfluxRetry(_logger, what, status, attempt + 1);
                await Task.Delay(Backoff(attempt, retryAfter), cancellationToken);
                continue;
            }

            var reason = status switch
            {
                400 => "rejected the points",
                401 or 403 => "refused the credentials (check Influx:Token or Username/Password)",
                404 => "has no such database or endpoint (check Influx:Database and the DBRP mapping)",
                _ => $"answered {status}",
            };
            throw new TimeSeriesStoreException($"InfluxDB at {_influx.Url} {reason} on {what}: {ExtractError(body)}");
        }
    }

    private TimeSpan Backoff(int attempt, TimeSpan? retryAfter)
    {
        if (retryAfter is { } server && server > TimeSpan.Zero)
        {
            return server < TimeSpan.FromSeconds(30) ? server : TimeSpan.FromSeconds(30);
        }

        // Exponential from 100 ms with full jitter so many writers do not retry in step.
        var ceiling = 100 * (1 << Math.Min(attempt, 8));
        return TimeSpan.FromMilliseconds(ceiling / 2 + RandomNumberGenerator.GetInt32(ceiling / 2 + 1));
    }

    private void Authorize(HttpRequestMessage request)
    {
        if (!string.IsNullOrEmpty(_influx.Token))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Token", _influx.Token);
        }
        else if (!string.IsNullOrEmpty(_influx.Username))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(_influx.Username + ":" + _influx.Password)));
        }
    }

    private static string ExtractError(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.TryGetProperty("error", out var e))
            {
                return e.GetString() ?? body;
            }
        }
        catch (JsonException)
        {
        }

        return body.Length > 500 ? body[..500] : body;
    }

    private string Db => "\"" + _influx.Database + "\"";

    private string Rp(string policy) => $"{Db}.\"{policy}\"";

    private static long Ms(DateTimeOffset t) => t.ToUnixTimeMilliseconds();

    private static string TimeRange(DateTimeOffset from, DateTimeOffset to) =>
        $"time >= {Ms(from).ToString(CultureInfo.InvariantCulture)}ms AND time < {Ms(to).ToString(CultureInfo.InvariantCulture)}ms";

    /// <summary>An InfluxQL string literal.</summary>
    private static string S(string value) => "'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";

    private static OccupancySample ToOccupancy(Row r)
    {
        var camera = r.String("camera");
        return new OccupancySample(r.String("id")!, r.String("site")!, r.String("auditorium")!, camera is null or AllCameras ? null : camera, r.Time,
            (int)r.Double("people"), (int)r.Double("seats_occupied"), (int)r.Double("seats_total"), (int)r.Double("seats_unknown"), r.Double("confidence"), r.String("showing"));
    }

    private static SeatStateChange ToSeat(Row r) =>
        new(r.String("id")!, r.String("site")!, r.String("auditorium")!, r.String("camera")!, r.String("seat")!, r.Time, (SeatState)(int)r.Double("state"), r.Double("confidence"), r.String("showing"));

    [LoggerMessage(EventId = 3101, EventName = "InfluxRetry", Level = LogLevel.Warning, Message = "InfluxDB {What} answered {Status}; retry {Attempt}")]
    private static partial void InfluxRetry(ILogger logger, string what, int status, int attempt);

    /// <summary>One result row; tag values come from the row or from the series' GROUP BY tags.</summary>
    private sealed class Row(Dictionary<string, JsonElement> cells, Dictionary<string, string?> tags)
    {
        public DateTimeOffset Time => DateTimeOffset.FromUnixTimeMilliseconds(cells["time"].GetInt64());

        public string? String(string name) =>
            cells.TryGetValue(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : tags.GetValueOrDefault(name);

        public double Double(string name) => cells.TryGetValue(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : 0;
    }
}
