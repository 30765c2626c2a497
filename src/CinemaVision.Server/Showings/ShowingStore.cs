using System.Globalization;
using System.Text.Json;
using CinemaVision.Core.Showings;
using CinemaVision.Server.Storage;

namespace CinemaVision.Server.Showings;

public sealed class ShowingSchema : IStateSchema
{
    public string Name => "showings";

    public string CreateSql => """
        CREATE TABLE IF NOT EXISTS showings (
            site_id TEXT NOT NULL,
            id TEXT NOT NULL,
            auditorium_id TEXT NOT NULL,
            film TEXT NOT NULL,
            start_ms INTEGER NOT NULL,
            feature_ms INTEGER NOT NULL,
            end_ms INTEGER NOT NULL,
            PRIMARY KEY (site_id, id));
        CREATE INDEX IF NOT EXISTS ix_showings_time ON showings(site_id, start_ms);
        CREATE TABLE IF NOT EXISTS tickets (
            site_id TEXT NOT NULL,
            showing_id TEXT NOT NULL,
            seat_id TEXT NOT NULL,
            PRIMARY KEY (site_id, showing_id, seat_id));
        """;
}

/// <summary>A problem in an imported file, with where it is.</summary>
public sealed record ImportProblem(int Line, string Column, string Message)
{
    public override string ToString() => $"line {Line}, {Column}: {Message}";
}

/// <summary>The screening schedule and sold seats, per site.</summary>
public sealed partial class ShowingStore(StateDatabase db)
{
    private static readonly string[] Columns = ["auditorium", "film", "start", "end", "feature_start"];

    /// <summary>Largest schedule file accepted.</summary>
    public const long MaxScheduleBytes = 4 * 1024 * 1024;

    /// <summary>Most showings in one import (a multiplex's year is far fewer).</summary>
    public const int MaxScheduleRows = 20_000;

    /// <summary>Longest showing, doors to end.</summary>
    public static readonly TimeSpan MaxShowingLength = TimeSpan.FromHours(12);

    /// <summary>
    /// The bounds a schedule must keep besides its own consistency: at most <see cref="MaxScheduleRows"/> rows,
    /// showings no longer than <see cref="MaxShowingLength"/>, dates from a year back to two years ahead, and
    /// identifiers and film titles that are printable and short.
    /// </summary>
    public static IEnumerable<ImportProblem> CheckBounds(IReadOnlyList<Showing> showings, DateTimeOffset now)
    {
        if (showings.Count > MaxScheduleRows)
        {
            yield return new ImportProblem(0, "*", $"{showings.Count} showings; at most {MaxScheduleRows} per import");
            yield break;
        }

        for (var i = 0; i < showings.Count; i++)
        {
            var s = showings[i];
            var line = i + 1;
            if (s.End - s.Start > MaxShowingLength) yield return new ImportProblem(line, "end", $"the showing lasts {(s.End - s.Start).TotalHours:0.#} h; at most {MaxShowingLength.TotalHours:0} h");
            if (s.Start < now.AddYears(-1) || s.Start > now.AddYears(2)) yield return new ImportProblem(line, "start", $"{s.Start:O} is outside one year back to two years ahead");
            if (Http.InputRules.IdProblem(s.AuditoriumId) is { } a) yield return new ImportProblem(line, "auditorium", a);
            if (Http.InputRules.IdProblem(s.Id) is { } id) yield return new ImportProblem(line, "id", id);
            if (Http.InputRules.TextProblem(s.Film, Http.InputRules.MaxShortText, multiline: false) is { } f) yield return new ImportProblem(line, "film", f);
        }
    }

    /// <summary>
    /// Parses a schedule (CSV with a header, or a JSON array); every problem is reported with its line and column, and
    /// nothing is stored unless all rows are valid. Times without an offset are in <paramref name="siteZone"/> (the
    /// cinema's local time; UTC when not given).
    /// </summary>
    public static (List<Showing> Showings, List<ImportProblem> Problems) ParseSchedule(string text, bool json, TimeZoneInfo? siteZone = null)
    {
        var rows = new List<(int Line, Dictionary<string, string?> Cells)>();
        var problems = new List<ImportProblem>();
        if (json)
        {
            try
            {
                using var doc = JsonDocument.Parse(text);
                int i = 0;
                foreach (var item in doc.RootElement.EnumerateArray())
                {
                    i++;
                    rows.Add((i, item.EnumerateObject().ToDictionary(p => Snake(p.Name), p => p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : p.Value.ToString(), StringComparer.OrdinalIgnoreCase)));
                }
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException)
            {
                problems.Add(new ImportProblem(0, "$", $"not a JSON array of showings: {ex.Message}"));
                return ([], problems);
            }
        }
        else
        {
            var lines = text.Replace("\r", "", StringComparison.Ordinal).Split('\n');
            var header = lines[0].Split(',').Select(h => Snake(h.Trim())).ToList();
            foreach (var missing in Columns.Where(c => !header.Contains(c, StringComparer.OrdinalIgnoreCase))) problems.Add(new ImportProblem(1, missing, "column missing from the header"));
            for (int l = 1; l < lines.Length; l++)
            {
                if (string.IsNullOrWhiteSpace(lines[l])) continue;
                var cells = lines[l].Split(',');
                if (cells.Length != header.Count)
                {
                    problems.Add(new ImportProblem(l + 1, "*", $"{cells.Length} cells, the header has {header.Count}"));
                    continue;
                }

                rows.Add((l + 1, header.Select((h, i) => (h, cells[i].Trim())).ToDictionary(x => x.h, x => (string?)x.Item2, StringComparer.OrdinalIgnoreCase)));
            }
        }

        var showings = new List<Showing>();
        foreach (var (line, cells) in rows)
        {
            string? Get(string c) => cells.TryGetValue(c, out var v) && !string.IsNullOrWhiteSpace(v) ? v : null;
            DateTimeOffset? Time(string c)
            {
                var v = Get(c);
                if (v is null) { problems.Add(new ImportProblem(line, c, "required")); return null; }
                if (DateTimeOffset.TryParse(v, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t))
                {
                    // An offset in the text wins; a local time is the site's wall-clock time.
                    if (siteZone is not null && DateTime.TryParse(v, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var local) && local.Kind == DateTimeKind.Unspecified)
                    {
                        if (siteZone.IsInvalidTime(local))
                        {
                            problems.Add(new ImportProblem(line, c, $"'{v}' does not exist in {siteZone.Id} (the clocks skip it)"));
                            return null;
                        }

                        return new DateTimeOffset(local, siteZone.GetUtcOffset(local));
                    }

                    return t;
                }

                problems.Add(new ImportProblem(line, c, $"'{v}' is not a date and time (ISO 8601, e.g. 2026-11-24T19:30:00+01:00)"));
                return null;
            }

            var auditorium = Get("auditorium");
            var film = Get("film");
            if (auditorium is null) problems.Add(new ImportProblem(line, "auditorium", "required"));
            if (film is null) problems.Add(new ImportProblem(line, "film", "required"));
            var start = Time("start");
            var end = Time("end");
            var feature = Time("feature_start");
            if (start is null || end is null || feature is null || auditorium is null || film is null) continue;
            if (!(start <= feature && feature < end)) { problems.Add(new ImportProblem(line, "feature_start", "must satisfy start <= feature_start < end")); continue; }
            var id = Get("id") ?? string.Create(CultureInfo.InvariantCulture, $"{auditorium}-{start.Value.UtcDateTime:yyyyMMddHHmm}");
            showings.Add(new Showing(id, auditorium, film, start.Value, feature.Value, end.Value));
        }

        return (showings, problems);
    }

    /// <summary>
    /// Parses the seats sold for a showing: a JSON array of seat ids, or one id per line (commas and semicolons also
    /// separate; a "seat" header is skipped). Every bad id is reported with its line; nothing is stored unless all are valid.
    /// </summary>
    public static (List<string> Seats, List<ImportProblem> Problems) ParseTickets(string text, bool json)
    {
        var seats = new List<string>();
        var problems = new List<ImportProblem>();
        if (json)
        {
            try
            {
                using var doc = JsonDocument.Parse(text);
                int i = 0;
                foreach (var item in doc.RootElement.EnumerateArray())
                {
                    i++;
                    if (item.ValueKind == JsonValueKind.String) Add(item.GetString()!, i, "$[" + (i - 1).ToString(CultureInfo.InvariantCulture) + "]");
                    else problems.Add(new ImportProblem(i, "$[" + (i - 1).ToString(CultureInfo.InvariantCulture) + "]", "must be a seat id string"));
                }
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException)
            {
                problems.Add(new ImportProblem(0, "$", $"expected a JSON array of seat ids: {ex.Message}"));
            }

            return (seats, problems);
        }

        var lines = text.Replace("\r", "", StringComparison.Ordinal).Split('\n');
        for (int l = 0; l < lines.Length; l++)
        {
            foreach (var cell in lines[l].Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (l == 0 && cell.Equals("seat", StringComparison.OrdinalIgnoreCase)) continue;
                Add(cell, l + 1, "seat");
            }
        }

        return (seats, problems);

        void Add(string seat, int line, string column)
        {
            if (SeatIdPattern().IsMatch(seat)) seats.Add(seat);
            else problems.Add(new ImportProblem(line, column, $"'{seat}' is not a seat id like F12"));
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z]{1,3}[0-9]{1,4}$")]
    private static partial System.Text.RegularExpressions.Regex SeatIdPattern();

    public void Upsert(string siteId, IReadOnlyList<Showing> showings)
    {
        using var c = db.Open();
        using var tx = c.BeginTransaction();
        foreach (var s in showings)
        {
            using var cmd = c.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = """
                INSERT INTO showings (site_id, id, auditorium_id, film, start_ms, feature_ms, end_ms) VALUES ($site, $id, $a, $f, $s, $fs, $e)
                ON CONFLICT(site_id, id) DO UPDATE SET auditorium_id = $a, film = $f, start_ms = $s, feature_ms = $fs, end_ms = $e
                """;
            cmd.Parameters.AddWithValue("$site", siteId);
            cmd.Parameters.AddWithValue("$id", s.Id);
            cmd.Parameters.AddWithValue("$a", s.AuditoriumId);
            cmd.Parameters.AddWithValue("$f", s.Film);
            cmd.Parameters.AddWithValue("$s", s.Start.ToUnixTimeMilliseconds());
            cmd.Parameters.AddWithValue("$fs", s.FeatureStart.ToUnixTimeMilliseconds());
            cmd.Parameters.AddWithValue("$e", s.End.ToUnixTimeMilliseconds());
            cmd.ExecuteNonQuery();
        }

        tx.Commit();
    }

    public IReadOnlyList<Showing> Between(string siteId, DateTimeOffset from, DateTimeOffset to)
    {
        using var c = db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT id, auditorium_id, film, start_ms, feature_ms, end_ms FROM showings WHERE site_id = $site AND end_ms > $from AND start_ms < $to ORDER BY start_ms";
        cmd.Parameters.AddWithValue("$site", siteId);
        cmd.Parameters.AddWithValue("$from", from.ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$to", to.ToUnixTimeMilliseconds());
        return Read(cmd);
    }

    public Showing? Get(string siteId, string id)
    {
        using var c = db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT id, auditorium_id, film, start_ms, feature_ms, end_ms FROM showings WHERE site_id = $site AND id = $id";
        cmd.Parameters.AddWithValue("$site", siteId);
        cmd.Parameters.AddWithValue("$id", id);
        return Read(cmd).FirstOrDefault();
    }

    public void SetTickets(string siteId, string showingId, IEnumerable<string> seats)
    {
        using var c = db.Open();
        using var tx = c.BeginTransaction();
        using (var del = c.CreateCommand())
        {
            del.Transaction = tx;
            del.CommandText = "DELETE FROM tickets WHERE site_id = $site AND showing_id = $id";
            del.Parameters.AddWithValue("$site", siteId);
            del.Parameters.AddWithValue("$id", showingId);
            del.ExecuteNonQuery();
        }

        foreach (var seat in seats.Distinct(StringComparer.Ordinal))
        {
            using var cmd = c.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = "INSERT INTO tickets (site_id, showing_id, seat_id) VALUES ($site, $id, $seat)";
            cmd.Parameters.AddWithValue("$site", siteId);
            cmd.Parameters.AddWithValue("$id", showingId);
            cmd.Parameters.AddWithValue("$seat", seat);
            cmd.ExecuteNonQuery();
        }

        tx.Commit();
    }

    public IReadOnlySet<string> Tickets(string siteId, string showingId)
    {
        using var c = db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT seat_id FROM tickets WHERE site_id = $site AND showing_id = $id";
        cmd.Parameters.AddWithValue("$site", siteId);
        cmd.Parameters.AddWithValue("$id", showingId);
        using var r = cmd.ExecuteReader();
        var set = new HashSet<string>(StringComparer.Ordinal);
        while (r.Read()) set.Add(r.GetString(0));
        return set;
    }

    private static List<Showing> Read(Microsoft.Data.Sqlite.SqliteCommand cmd)
    {
        using var r = cmd.ExecuteReader();
        var list = new List<Showing>();
        while (r.Read())
        {
            list.Add(new Showing(r.GetString(0), r.GetString(1), r.GetString(2), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3)), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4)), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(5))));
        }

        return list;
    }

    private static string Snake(string name) => name.Replace("featureStart", "feature_start", StringComparison.OrdinalIgnoreCase).Replace("feature start", "feature_start", StringComparison.OrdinalIgnoreCase);
}
