using CinemaVision.Core.Events;
using CinemaVision.Server.Http;

namespace CinemaVision.Server.Ingest;

/// <summary>
/// Checks a batch item by item and names every bad field the way the JSON spells it (<c>events[3].seatsTotal</c>),
/// so an agent's developer can find it. Pure: the endpoint rejects the whole batch when any error is found.
/// </summary>
public static class IngestValidator
{
    /// <summary>Identifiers become time-series tags and keys: short and printable (<see cref="InputRules"/>).</summary>
    public const int MaxIdLength = InputRules.MaxIdLength;

    /// <summary>Cameras one heartbeat may describe.</summary>
    public const int MaxCamerasPerHeartbeat = 256;

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
            else if (InputRules.IdProblem(value) is { } problem)
            {
                Add(field, problem);
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
            if (!double.IsFinite(v) || v < 0 || v > 1)
            {
                Add(field, "must be between 0 and 1.");
            }
        }

        void Range(string field, double v, double min, double max)
        {
            if (InputRules.RangeProblem(v, min, max) is { } problem)
            {
                Add(field, problem);
            }
        }

        void Text(string field, string? text, int max, bool multiline = true)
        {
            if (InputRules.TextProblem(text, max, multiline) is { } problem)
            {
                Add(field, problem);
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

        void Detail(string field, string? detail) => Text(field, detail, InputRules.MaxText);

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

        for (var i = 0; i < batch.Events.Count; i++)
        {
            var p = $"events[{i}]";
            var e = batch.Events[i];
            if (e is null)
            {
                Add(p, "must not be null.");
                continue;
            }

            UniqueId(p, e.Id);
            Site(p + ".siteId", e.SiteId);
            Time(p + ".timestamp", e.Timestamp);
            if (e is IIncidentEvent incident)
            {
                Id(p + ".incidentId", incident.IncidentId);
                Id(p + ".auditoriumId", incident.AuditoriumId);
                Id(p + ".cameraId", incident.CameraId);
                Time(p + ".startedAt", incident.StartedAt);
                Phase(p + ".phase", incident.Phase, incident.StartedAt, incident.Timestamp, p);
            }

            switch (e)
            {
                case OccupancySample o:
                    Id(p + ".auditoriumId", o.AuditoriumId);
                    Id(p + ".cameraId", o.CameraId, required: false);
                    Id(p + ".showingId", o.ShowingId, required: false);
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
                    break;

                case SeatStateChange s:
                    Id(p + ".auditoriumId", s.AuditoriumId);
                    Id(p + ".cameraId", s.CameraId);
                    Id(p + ".seatId", s.SeatId);
                    Id(p + ".showingId", s.ShowingId, required: false);
                    if (!Enum.IsDefined(s.State))
                    {
                        Add(p + ".state", "must be unknown, empty or occupied.");
                    }

                    Unit(p + ".confidence", s.Confidence);
                    break;

                case AnomalyEvent a:
                    Id(p + ".zoneId", a.ZoneId, required: false);
                    Id(p + ".seatId", a.SeatId, required: false);
                    Id(p + ".evidenceId", a.EvidenceId, required: false);
                    Id(p + ".showingId", a.ShowingId, required: false);
                    if (!Enum.IsDefined(a.Kind))
                    {
                        Add(p + ".kind", "is not a known anomaly kind.");
                    }

                    Range(p + ".people", a.People, 0, 20_000);

                    Unit(p + ".confidence", a.Confidence);
                    Detail(p + ".detail", a.Detail);
                    break;

                case PiracySuspicion a:
                    Id(p + ".seatId", a.SeatId, required: false);
                    Id(p + ".evidenceId", a.EvidenceId, required: false);
                    Id(p + ".showingId", a.ShowingId, required: false);
                    if (!Enum.IsDefined(a.Device))
                    {
                        Add(p + ".device", "is not a known recording device.");
                    }

                    Range(p + ".heldUpSeconds", a.HeldUpSeconds, 0, 86_400);

                    Unit(p + ".confidence", a.Confidence);
                    Detail(p + ".detail", a.Detail);
                    break;

                case CameraHealthEvent c:
                    if (!Enum.IsDefined(c.Kind))
                    {
                        Add(p + ".kind", "is not a known camera-health kind.");
                    }

                    Range(p + ".measuredValue", c.MeasuredValue, -1e9, 1e9);
                    Range(p + ".threshold", c.Threshold, -1e9, 1e9);
                    Detail(p + ".detail", c.Detail);
                    break;

                case AgentHealth h:
                    Id(p + ".agentId", h.AgentId);
                    if (h.AgentId is { Length: > 0 } && !string.Equals(h.AgentId, batch.AgentId, StringComparison.Ordinal))
                    {
                        Add(p + ".agentId", "must be the batch's agentId.");
                    }

                    Text(p + ".version", h.Version, 64, multiline: false);
                    Range(p + ".outboxPending", h.OutboxPending, 0, 1e12);
                    Range(p + ".cpuPercent", h.CpuPercent, 0, 100 * 1024);
                    Range(p + ".managedMemoryBytes", h.ManagedMemoryBytes, 0, 1e15);
                    Range(p + ".outboxBytes", h.OutboxBytes, 0, 1e15);
                    Range(p + ".uploadLagSeconds", h.UploadLagSeconds, 0, 400 * 86_400);
                    Range(p + ".droppedSamples", h.DroppedSamples, 0, 1e15);
                    Range(p + ".uptimeSeconds", h.UptimeSeconds, 0, 20 * 365 * 86_400.0);
                    Range(p + ".residentMemoryBytes", h.ResidentMemoryBytes, 0, 1e15);
                    if (h.Cameras is null)
                    {
                        Add(p + ".cameras", "is required (may be empty).");
                    }
                    else if (h.Cameras.Count > MaxCamerasPerHeartbeat)
                    {
                        Add(p + ".cameras", $"at most {MaxCamerasPerHeartbeat} cameras per heartbeat (was {h.Cameras.Count}).");
                    }
                    else
                    {
                        for (var c = 0; c < h.Cameras.Count; c++)
                        {
                            var q = $"{p}.cameras[{c}]";
                            var cam = h.Cameras[c];
                            if (cam is null)
                            {
                                Add(q, "must not be null.");
                                continue;
                            }

                            Id(q + ".cameraId", cam.CameraId);
                            Id(q + ".auditoriumId", cam.AuditoriumId);
                            Id(q + ".state", cam.State);
                            Range(q + ".analysedFps", cam.AnalysedFps, 0, 1000);
                            Range(q + ".framesRead", cam.FramesRead, 0, 1e15);
                            Range(q + ".framesSkipped", cam.FramesSkipped, 0, 1e15);
                            Range(q + ".reconnects", cam.Reconnects, 0, 1e12);
                            Range(q + ".msPerFrame", cam.MsPerFrame, 0, 1e7);
                            Range(q + ".occupancyPasses", cam.OccupancyPasses, 0, 1e15);
                            Range(q + ".watchFps", cam.WatchFps, 0, 1000);
                            if (cam.LastOccupancyAgeSeconds is { } age)
                            {
                                Range(q + ".lastOccupancyAgeSeconds", age, 0, 1e10);
                            }

                            Range(q + ".tileMs", cam.TileMs, 0, 1e7);
                            Range(q + ".tilesPerSecond", cam.TilesPerSecond, 0, 1e7);
                            Range(q + ".tilesReused", cam.TilesReused, 0, 1e15);
                            Range(q + ".passesSkipped", cam.PassesSkipped, 0, 1e15);
                            Text(q + ".lastError", cam.LastError, InputRules.MaxText);
                        }
                    }

                    break;
            }
        }

        return errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);
    }

    /// <summary>The first event written for another site than the agent's (answered with 403, not 400), or null.</summary>
    public static string? FindForeignSite(IngestBatch batch, string agentSiteId)
    {
        for (var i = 0; i < batch.Events.Count; i++)
        {
            if (batch.Events[i] is { SiteId: { Length: > 0 } s } && !string.Equals(s, agentSiteId, StringComparison.Ordinal))
            {
                return $"events[{i}].siteId";
            }
        }

        return null;
    }
}
