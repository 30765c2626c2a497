using CinemaVision.Server.Storage;

namespace CinemaVision.Server.Ingest;

/// <summary>
/// The schema of <c>timeseries.db</c> (latest shape) and its versioned steps from earlier releases. Version 0 is
/// the first release: its series keys lacked the item id (two items at the same instant overwrote each other) and
/// its ledger lived in <c>state.db</c> (moved here when the file is opened, see <see cref="IngestDatabase"/>).
/// </summary>
public static class TimeSeriesMigrations
{
    public const string LatestSchema = """
        CREATE TABLE IF NOT EXISTS occupancy (
            site TEXT NOT NULL, auditorium TEXT NOT NULL, camera TEXT NOT NULL, ts INTEGER NOT NULL,
            id TEXT NOT NULL, people INTEGER NOT NULL, seats_occupied INTEGER NOT NULL, seats_total INTEGER NOT NULL,
            seats_unknown INTEGER NOT NULL, confidence REAL NOT NULL, showing TEXT NULL,
            PRIMARY KEY (site, auditorium, camera, ts, id)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS ix_occupancy_showing ON occupancy(showing) WHERE showing IS NOT NULL;
        CREATE TABLE IF NOT EXISTS occupancy_1m (
            site TEXT NOT NULL, auditorium TEXT NOT NULL, minute INTEGER NOT NULL,
            people REAL NOT NULL, seats_occupied REAL NOT NULL, seats_total INTEGER NOT NULL, confidence REAL NOT NULL, samples INTEGER NOT NULL,
            PRIMARY KEY (site, auditorium, minute)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS seat_state (
            site TEXT NOT NULL, auditorium TEXT NOT NULL, seat TEXT NOT NULL, ts INTEGER NOT NULL,
            id TEXT NOT NULL, camera TEXT NOT NULL, state INTEGER NOT NULL, confidence REAL NOT NULL, showing TEXT NULL,
            PRIMARY KEY (site, auditorium, seat, ts, id)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS incident (
            site TEXT NOT NULL, auditorium TEXT NOT NULL, camera TEXT NOT NULL, type TEXT NOT NULL, kind TEXT NOT NULL,
            incident_id TEXT NOT NULL, ts INTEGER NOT NULL, id TEXT NOT NULL, phase INTEGER NOT NULL, started_at INTEGER NOT NULL,
            confidence REAL NOT NULL, seat TEXT NULL, evidence TEXT NULL, detail TEXT NULL, payload TEXT NOT NULL,
            PRIMARY KEY (site, auditorium, camera, type, kind, incident_id, ts, id)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS ix_incident_time ON incident(site, ts);
        CREATE TABLE IF NOT EXISTS agent_health (
            site TEXT NOT NULL, agent TEXT NOT NULL, ts INTEGER NOT NULL, id TEXT NOT NULL, payload TEXT NOT NULL,
            PRIMARY KEY (site, agent, ts, id)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS ts_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS ingested_items (
            agent_id TEXT NOT NULL, item_id TEXT NOT NULL, batch_id TEXT NOT NULL, stored_at INTEGER NOT NULL,
            PRIMARY KEY (agent_id, item_id)) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS ix_ingested_items_time ON ingested_items(stored_at);
        CREATE TABLE IF NOT EXISTS alert_signals (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, agent_id TEXT NOT NULL, event_id TEXT NOT NULL, body TEXT NOT NULL, enqueued_at INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS forward_queue (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL, enqueued_at INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS forward_dead_letters (
            seq INTEGER PRIMARY KEY, body TEXT NOT NULL, status INTEGER NOT NULL, error TEXT NOT NULL, failed_at INTEGER NOT NULL);
        """;

    public static IReadOnlyList<SchemaMigration> All { get; } =
    [
        new(1, "series keyed by item id too (items at the same instant no longer overwrite each other)", (c, tx) =>
        {
            Rebuild(c, tx, "occupancy", """
                CREATE TABLE occupancy (
                    site TEXT NOT NULL, auditorium TEXT NOT NULL, camera TEXT NOT NULL, ts INTEGER NOT NULL,
                    id TEXT NOT NULL, people INTEGER NOT NULL, seats_occupied INTEGER NOT NULL, seats_total INTEGER NOT NULL,
                    seats_unknown INTEGER NOT NULL, confidence REAL NOT NULL, showing TEXT NULL,
                    PRIMARY KEY (site, auditorium, camera, ts, id)) WITHOUT ROWID;
                """);
            Rebuild(c, tx, "seat_state", """
                CREATE TABLE seat_state (
                    site TEXT NOT NULL, auditorium TEXT NOT NULL, seat TEXT NOT NULL, ts INTEGER NOT NULL,
                    id TEXT NOT NULL, camera TEXT NOT NULL, state INTEGER NOT NULL, confidence REAL NOT NULL, showing TEXT NULL,
                    PRIMARY KEY (site, auditorium, seat, ts, id)) WITHOUT ROWID;
                """);
            Rebuild(c, tx, "incident", """
                CREATE TABLE incident (
                    site TEXT NOT NULL, auditorium TEXT NOT NULL, camera TEXT NOT NULL, type TEXT NOT NULL, kind TEXT NOT NULL,
                    incident_id TEXT NOT NULL, ts INTEGER NOT NULL, id TEXT NOT NULL, phase INTEGER NOT NULL, started_at INTEGER NOT NULL,
                    confidence REAL NOT NULL, seat TEXT NULL, evidence TEXT NULL, detail TEXT NULL, payload TEXT NOT NULL,
                    PRIMARY KEY (site, auditorium, camera, type, kind, incident_id, ts, id)) WITHOUT ROWID;
                """);
            Rebuild(c, tx, "agent_health", """
                CREATE TABLE agent_health (
                    site TEXT NOT NULL, agent TEXT NOT NULL, ts INTEGER NOT NULL, id TEXT NOT NULL, payload TEXT NOT NULL,
                    PRIMARY KEY (site, agent, ts, id)) WITHOUT ROWID;
                """);
        }),
    ];

    private static void Rebuild(Microsoft.Data.Sqlite.SqliteConnection c, Microsoft.Data.Sqlite.SqliteTransaction tx, string table, string create)
    {
        if (!SchemaMigrator.TableExists(c, tx, table))
        {
            return;
        }

        SchemaMigrator.Exec(c, tx, $"ALTER TABLE {table} RENAME TO {table}_v0;");
        SchemaMigrator.Exec(c, tx, create);
        SchemaMigrator.Exec(c, tx, $"INSERT OR IGNORE INTO {table} SELECT * FROM {table}_v0; DROP TABLE {table}_v0;");
    }
}
