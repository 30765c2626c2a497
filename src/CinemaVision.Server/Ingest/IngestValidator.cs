using CinemaVision.Core.Events;

namespace CinemaVision.Server.Ingest;

/// <summary>
/// Checks a batch item by item and names every bad field the way the JSON spells it (<c>occupancy[3].seatsTotal</c>),
/// so an agent's developer can find it. Pure: the endpoint rejects the whole batch when any error is found.
/// </summary>
public static class IngestValidator
{
    /// <summary>Identifiers become time-series tags and keys: short and printable.</summary>
    public const int MaxIdLength = 128;

    public static Dictionary<string, string[]> Validate(IngestBatch batch, string agentSiteId, DateTimeOffset now)
    {
        var errors = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        void Add(string field, string message)
        {
            if (!errors.TryGetValue(field, out var list))
            {
                errors[field] = list = [];
            }

            list.Add(message);
        }

        void Id(string field, string? value, bool required = true)
        {
            if (value is null || value.Length == 0)
            {
                if (required)
                {
                    Add(field, "is required.");
                }
            }
            else if (value.Length > MaxIdLength || value.Any(char.IsControl))
            {
                Add(field, $"must be at most {MaxIdLength} printable characters.");
            }
        }

        void Site(string field, string? siteId)
        {
            Id(field, siteId);
            if (siteId is { Length: > 0 } && !string.Equals(siteId, agentSiteId, StringComparison.Ordinal))
            {
                Add(field, $"'{siteId}' is not this agent's site ('{agentSiteId}').");
            }
        }

        void Time(string field, DateTimeOffset t)
        {
            // A clock days off corrupts series and retention; a little skew is normal.
            if (t < now.AddYears(-1) || t > now.AddHours(1))
            {
                Add(field, $"{t:O} is outside the accepted window (one year back to one hour ahead of server time).");
            }
        }

        void Unit(string field, double v)
        {
            if (double.IsNaN(v) || v < 0 || v > 1)
            {
                Add(field, "must be between 0 and 1.");
            }
        }

        void Phase(string field, IncidentPhase phase, DateTimeOffset startedAt, DateTimeOffset timestamp, string prefix)
        {
            if (!Enum.IsDefined(phase))
            {
                Add(field, "must be start, update or end.");
            }

            if (timestamp < startedAt)
            {
                Add(prefix + ".timestamp", "must not be before startedAt.");
            }
        }

        Id("batchId", batch.BatchId);
        Id("agentId", batch.AgentId);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        void UniqueId(string prefix, string? id)
        {
            Id(prefix + ".id", id);
            if (id is { Length: > 0 } && !ids.Add(id))
            {
                Add(prefix + ".id", $"'{id}' appears more than once in the batch.");
            }
        }

        for (var i = 0; i < batch.Occupancy.Count; i++)
        {
            var o = batch.Occupancy[i];
            var p = $"occupancy[{i}]";
            if (o is null)
            {
                Add(p, "must not be null.");
                continue;
            }

            UniqueId(p, o.Id);
            Site(p + ".siteId", o.SiteId);
            Id(p + ".auditoriumId", o.AuditoriumId);
            Id(p + ".cameraId", o.CameraId, required: false);
            Id(p + ".showingId", o.ShowingId, required: false);
            Time(p + ".timestamp", o.Timestamp);
            // A camera may watch only aisles and exits (no seats); an auditorium-wide figure always has seats.
            if (o.CameraId is null ? o.SeatsTotal is < 1 or > 10_000 : o.SeatsTotal is < 0 or > 10_000)
            {
                Add(p + ".seatsTotal", o.CameraId is null ? "must be between 1 and 10000." : "must be between 0 and 10000.");
            }

            if (o.People is < 0 or > 20_000)
            {
                Add(p + ".people", "must be between 0 and 20000.");
            }

            if (o.SeatsOccupied < 0 || o.SeatsOccupied > o.SeatsTotal)
            {
                Add(p + ".seatsOccupied", "must be between 0 and seatsTotal.");
            }

            if (o.SeatsUnknown < 0 || o.SeatsUnknown + o.SeatsOccupied > o.SeatsTotal)
            {
                Add(p + ".seatsUnknown", "must be at least 0 and seatsOccupied + seatsUnknown must not exceed seatsTotal.");
            }

            Unit(p + ".confidence", o.Confidence);
        }

        for (var i = 0; i < batch.Seats.Count; i++)
        {
            var s = batch.Seats[i];
            var p = $"seats[{i}]";
            if (s is null)
            {
                Add(p, "must not be null.");
                continue;
            }

            UniqueId(p, s.Id);
            Site(p + ".siteId", s.SiteId);
            Id(p + ".auditoriumId", s.AuditoriumId);
            Id(p + ".cameraId", s.CameraId);
            Id(p + ".seatId", s.SeatId);
            Id(p + ".showingId", s.ShowingId, required: false);
            Time(p + ".timestamp", s.Timestamp);
            if (!Enum.IsDefined(s.State))
            {
                Add(p + ".state", "must be unknown, empty or occupied.");
            }

            Unit(p + ".confidence", s.Confidence);
        }

        for (var i = 0; i < batch.Anomalies.Count; i++)
        {
            var a = batch.Anomalies[i];
            var p = $"anomalies[{i}]";
            if (a is null)
            {
                Add(p, "must not be null.");
                continue;
            }

            UniqueId(p, a.Id);
            Id(p + ".incidentId", a.IncidentId);
            Site(p + ".siteId", a.SiteId);
            Id(p + ".auditoriumId", a.AuditoriumId);
            Id(p + ".cameraId", a.CameraId);
            Id(p + ".zoneId", a.ZoneId, required: false);
            Id(p + ".seatId", a.SeatId, required: false);
            Id(p + ".evidenceId", a.EvidenceId, required: false);
            Time(p + ".timestamp", a.Timestamp);
            Time(p + ".startedAt", a.StartedAt);
            Phase(p + ".phase", a.Phase, a.StartedAt, a.Timestamp, p);
            if (!Enum.IsDefined(a.Kind))
            {
                Add(p + ".kind", "is not a known anomaly kind.");
            }

            if (a.People < 0)
            {
                Add(p + ".people", "must not be negative.");
            }

            Unit(p + ".confidence", a.Confidence);
            if (a.Detail is { Length: > 2000 })
            {
                Add(p + ".detail", "must be at most 2000 characters.");
            }
        }

        for (var i = 0; i < batch.Piracy.Count; i++)
        {
            var a = batch.Piracy[i];
            var p = $"piracy[{i}]";
            if (a is null)
            {
                Add(p, "must not be null.");
                continue;
            }

            UniqueId(p, a.Id);
            Id(p + ".incidentId", a.IncidentId);
            Site(p + ".siteId", a.SiteId);
            Id(p + ".auditoriumId", a.AuditoriumId);
            Id(p + ".cameraId", a.CameraId);
            Id(p + ".seatId", a.SeatId, required: false);
            Id(p + ".evidenceId", a.EvidenceId, required: false);
            Time(p + ".timestamp", a.Timestamp);
            Time(p + ".startedAt", a.StartedAt);
            Phase(p + ".phase", a.Phase, a.StartedAt, a.Timestamp, p);
            if (!Enum.IsDefined(a.Device))
            {
                Add(p + ".device", "is not a known recording device.");
            }

            if (double.IsNaN(a.HeldUpSeconds) || a.HeldUpSeconds < 0)
            {
                Add(p + ".heldUpSeconds", "must not be negative.");
            }

            Unit(p + ".confidence", a.Confidence);
            if (a.Detail is { Length: > 2000 })
            {
                Add(p + ".detail", "must be at most 2000 characters.");
            }
        }

        for (var i = 0; i < batch.CameraHealth.Count; i++)
        {
            var c = batch.CameraHealth[i];
            var p = $"cameraHealth[{i}]";
            if (c is null)
            {
                Add(p, "must not be null.");
                continue;
            }

            UniqueId(p, c.Id);
            Id(p + ".incidentId", c.IncidentId);
            Site(p + ".siteId", c.SiteId);
            Id(p + ".auditoriumId", c.AuditoriumId);
            Id(p + ".cameraId", c.CameraId);
            Time(p + ".timestamp", c.Timestamp);
            Time(p + ".startedAt", c.StartedAt);
            Phase(p + ".phase", c.Phase, c.StartedAt, c.Timestamp, p);
            if (!Enum.IsDefined(c.Kind))
            {
                Add(p + ".kind", "is not a known camera-health kind.");
            }

            if (!double.IsFinite(c.MeasuredValue))
            {
                Add(p + ".measuredValue", "must be a finite number.");
            }

            if (!double.IsFinite(c.Threshold))
            {
                Add(p + ".threshold", "must be a finite number.");
            }
        }

        for (var i = 0; i < batch.AgentHealth.Count; i++)
        {
            var h = batch.AgentHealth[i];
            var p = $"agentHealth[{i}]";
            if (h is null)
            {
                Add(p, "must not be null.");
                continue;
            }

            UniqueId(p, h.Id);
            Site(p + ".siteId", h.SiteId);
            Id(p + ".agentId", h.AgentId);
            if (h.AgentId is { Length: > 0 } && !string.Equals(h.AgentId, batch.AgentId, StringComparison.Ordinal))
            {
                Add(p + ".agentId", "must be the batch's agentId.");
            }

            Time(p + ".timestamp", h.Timestamp);
            if (h.Cameras is null)
            {
                Add(p + ".cameras", "is required (may be empty).");
            }
        }

        return errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);
    }

    /// <summary>The first item written for another site than the agent's (answered with 403, not 400), or null.</summary>
    public static string? FindForeignSite(IngestBatch batch, string agentSiteId)
    {
        static string? First<T>(IReadOnlyList<T> items, string name, Func<T, string?> site, string agentSiteId)
        {
            for (var i = 0; i < items.Count; i++)
            {
                if (items[i] is not null && site(items[i]) is { Length: > 0 } s && !string.Equals(s, agentSiteId, StringComparison.Ordinal))
                {
                    return $"{name}[{i}].siteId";
                }
            }

            return null;
        }

        return First(batch.Occupancy, "occupancy", x => x.SiteId, agentSiteId)
            ?? First(batch.Seats, "seats", x => x.SiteId, agentSiteId)
            ?? First(batch.Anomalies, "anomalies", x => x.SiteId, agentSiteId)
            ?? First(batch.Piracy, "piracy", x => x.SiteId, agentSiteId)
            ?? First(batch.CameraHealth, "cameraHealth", x => x.SiteId, agentSiteId)
            ?? First(batch.AgentHealth, "agentHealth", x => x.SiteId, agentSiteId);
    }
}
