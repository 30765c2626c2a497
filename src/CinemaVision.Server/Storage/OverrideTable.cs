namespace CinemaVision.Server.Storage;

/// <summary>One administrator's override of a configured setting: its name, its value (JSON), who changed it and when.</summary>
public sealed record OverrideRow(string Name, string Value, string By, DateTimeOffset At);

/// <summary>
/// Runtime overrides of configured settings kept in one state.db table (<c>name</c>, a value column, <c>updated_by</c>,
/// <c>updated_at</c>): written whole, deleted to revert to the configuration. The one home of that row's lifecycle for
/// alert rules and notification channels; callers keep their own locks, caches and audit lines.
/// </summary>
public sealed class OverrideTable(StateDatabase db, string table, string valueColumn, TimeProvider time)
{
    /// <summary>Inserts or replaces the override of <paramref name="name"/>.</summary>
    public void Write(string name, string value, string by)
    {
        using var c = db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"INSERT OR REPLACE INTO {table} (name, {valueColumn}, updated_by, updated_at) VALUES ($n, $v, $by, $at)";
        cmd.Parameters.AddWithValue("$n", name);
        cmd.Parameters.AddWithValue("$v", value);
        cmd.Parameters.AddWithValue("$by", by);
        cmd.Parameters.AddWithValue("$at", time.GetUtcNow().ToUnixTimeMilliseconds());
        cmd.ExecuteNonQuery();
    }

    /// <summary>Removes the override of <paramref name="name"/>; false when there was none.</summary>
    public bool Remove(string name)
    {
        using var c = db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"DELETE FROM {table} WHERE name = $n";
        cmd.Parameters.AddWithValue("$n", name);
        return cmd.ExecuteNonQuery() > 0;
    }

    /// <summary>Every override, oldest change first.</summary>
    public IReadOnlyList<OverrideRow> All()
    {
        using var c = db.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT name, {valueColumn}, updated_by, updated_at FROM {table} ORDER BY updated_at, name";
        using var r = cmd.ExecuteReader();
        var rows = new List<OverrideRow>();
        while (r.Read()) rows.Add(new OverrideRow(r.GetString(0), r.GetString(1), r.GetString(2), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3))));
        return rows;
    }
}
