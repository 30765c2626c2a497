namespace CinemaVision.Server.Storage;

/// <summary>
/// The versioned changes to <c>state.db</c>, one home so version numbers never collide. Version 0 is the first
/// release (before versioning); <c>tests/.../Fixtures/release-0</c> holds a database of that release and the tests
/// migrate it. Add a step at the end; never edit or reorder a released one.
/// </summary>
public static class StateMigrations
{
    public static IReadOnlyList<SchemaMigration> All { get; } =
    [
        new(1, "evidence bound to its writer: sha256 and a stored flag (the row is written before the file)", (c, tx) =>
        {
            SchemaMigrator.AddColumnIfMissing(c, tx, "evidence", "sha256", "TEXT NULL");

            // Files of the first release were written before their row: a row there means the file was complete.
            SchemaMigrator.AddColumnIfMissing(c, tx, "evidence", "stored", "INTEGER NOT NULL DEFAULT 1");
        }),
        new(2, "notification queue with due times (retries wait in the database, not in memory)", (c, tx) =>
            SchemaMigrator.AddColumnIfMissing(c, tx, "notification_queue", "due_at", "INTEGER NOT NULL DEFAULT 0")),
        new(3, "a re-keyed agent keeps only its newest key", (c, tx) =>
        {
            if (SchemaMigrator.TableExists(c, tx, "agent_keys"))
            {
                SchemaMigrator.Exec(c, tx, """
                    UPDATE agent_keys SET revoked_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                    WHERE revoked_at IS NULL AND rowid NOT IN (
                        SELECT k.rowid FROM agent_keys k
                        WHERE k.created_at = (SELECT MAX(created_at) FROM agent_keys n WHERE n.agent_id = k.agent_id));
                    """);
            }
        }),
        new(4, "people keep their language, site and the time before which their sessions are void", (c, tx) =>
        {
            SchemaMigrator.AddColumnIfMissing(c, tx, "users", "culture", "TEXT NULL");
            SchemaMigrator.AddColumnIfMissing(c, tx, "users", "site_id", "TEXT NULL");
            SchemaMigrator.AddColumnIfMissing(c, tx, "users", "sessions_valid_after", "INTEGER NULL");
        }),
    ];
}
