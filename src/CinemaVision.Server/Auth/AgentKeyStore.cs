using System.Security.Cryptography;
using System.Text;
using CinemaVision.Server.Storage;

namespace CinemaVision.Server.Auth;

/// <summary>An edge agent as the admin sees it. The key itself is never stored, only its SHA-256.</summary>
public sealed record AgentRecord(string AgentId, string SiteId, string DisplayName, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt, string KeyPrefix)
{
    public bool IsRevoked => RevokedAt is not null;
}

/// <summary>The outcome of looking up a presented key.</summary>
public enum AgentKeyStatus
{
    Unknown = 0,
    Valid = 1,
    Revoked = 2,
}

public sealed class AgentKeySchema : IStateSchema
{
    public string Name => "agents";

    public string CreateSql => """
        CREATE TABLE IF NOT EXISTS agents (
            agent_id TEXT PRIMARY KEY,
            site_id TEXT NOT NULL,
            display_name TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT NULL
        );
        CREATE TABLE IF NOT EXISTS agent_keys (
            key_hash BLOB PRIMARY KEY,
            agent_id TEXT NOT NULL REFERENCES agents(agent_id),
            key_prefix TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT NULL
        );
        CREATE INDEX IF NOT EXISTS ix_agent_keys_agent ON agent_keys(agent_id);
        """;
}

/// <summary>Creates, checks and revokes agent API keys. Keys are 256-bit random strings; lookup is by hash.</summary>
public sealed class AgentKeyStore
{
    private const string KeyPrefix = "cvk_";
    private readonly StateDatabase _db;
    private readonly TimeProvider _time;

    public AgentKeyStore(StateDatabase db, TimeProvider time)
    {
        _db = db;
        _time = time;
    }

    /// <summary>
    /// Registers the agent, or re-keys an existing one, and returns the only copy of the new key. Re-keying revokes
    /// every earlier key of the agent in the same transaction: a key that leaked, or the key of the agent's former
    /// site, stops working at once. Returns the site the agent belonged to before (null for a new agent).
    /// </summary>
    public (AgentRecord Agent, string ApiKey) CreateKey(string agentId, string siteId, string? displayName) => CreateKey(agentId, siteId, displayName, out _);

    /// <inheritdoc cref="CreateKey(string, string, string?)"/>
    public (AgentRecord Agent, string ApiKey) CreateKey(string agentId, string siteId, string? displayName, out (string? FormerSite, int RevokedKeys) previous)
    {
        var key = KeyPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        var now = _time.GetUtcNow();
        using var connection = _db.Open();
        using var tx = connection.BeginTransaction(deferred: false);
        string? formerSite;
        using (var find = connection.CreateCommand())
        {
            find.Transaction = tx;
            find.CommandText = "SELECT site_id FROM agents WHERE agent_id = $id;";
            find.Parameters.AddWithValue("$id", agentId);
            formerSite = find.ExecuteScalar() as string;
        }

        int revoked;
        using (var revoke = connection.CreateCommand())
        {
            revoke.Transaction = tx;
            revoke.CommandText = "UPDATE agent_keys SET revoked_at = $now WHERE agent_id = $id AND revoked_at IS NULL;";
            revoke.Parameters.AddWithValue("$id", agentId);
            revoke.Parameters.AddWithValue("$now", now.ToString("O"));
            revoked = revoke.ExecuteNonQuery();
        }

        previous = (formerSite, revoked);
        using (var upsert = connection.CreateCommand())
        {
            upsert.Transaction = tx;
            upsert.CommandText = """
                INSERT INTO agents(agent_id, site_id, display_name, created_at, revoked_at) VALUES ($id, $site, $name, $now, NULL)
                ON CONFLICT(agent_id) DO UPDATE SET site_id = excluded.site_id, display_name = excluded.display_name, revoked_at = NULL;
                """;
            upsert.Parameters.AddWithValue("$id", agentId);
            upsert.Parameters.AddWithValue("$site", siteId);
            upsert.Parameters.AddWithValue("$name", displayName ?? agentId);
            upsert.Parameters.AddWithValue("$now", now.ToString("O"));
            upsert.ExecuteNonQuery();
        }

        using (var insert = connection.CreateCommand())
        {
            insert.Transaction = tx;
            insert.CommandText = "INSERT INTO agent_keys(key_hash, agent_id, key_prefix, created_at) VALUES ($hash, $id, $prefix, $now);";
            insert.Parameters.AddWithValue("$hash", Hash(key));
            insert.Parameters.AddWithValue("$id", agentId);
            insert.Parameters.AddWithValue("$prefix", key[..(KeyPrefix.Length + 6)]);
            insert.Parameters.AddWithValue("$now", now.ToString("O"));
            insert.ExecuteNonQuery();
        }

        tx.Commit();
        return (Find(agentId)!, key);
    }

    /// <summary>Revokes the agent and every key it holds. Returns false for an unknown agent.</summary>
    public bool Revoke(string agentId)
    {
        var now = _time.GetUtcNow().ToString("O");
        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            UPDATE agent_keys SET revoked_at = $now WHERE agent_id = $id AND revoked_at IS NULL;
            UPDATE agents SET revoked_at = $now WHERE agent_id = $id;
            """;
        command.Parameters.AddWithValue("$id", agentId);
        command.Parameters.AddWithValue("$now", now);
        return command.ExecuteNonQuery() > 0;
    }

    public (AgentKeyStatus Status, AgentRecord? Agent) Authenticate(string presentedKey)
    {
        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT a.agent_id, a.site_id, a.display_name, a.created_at, COALESCE(k.revoked_at, a.revoked_at), k.key_prefix
            FROM agent_keys k JOIN agents a ON a.agent_id = k.agent_id WHERE k.key_hash = $hash;
            """;
        command.Parameters.AddWithValue("$hash", Hash(presentedKey));
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return (AgentKeyStatus.Unknown, null);
        }

        var agent = ReadAgent(reader);
        return (agent.IsRevoked ? AgentKeyStatus.Revoked : AgentKeyStatus.Valid, agent);
    }

    public AgentRecord? Find(string agentId) => List().FirstOrDefault(a => a.AgentId == agentId);

    public IReadOnlyList<AgentRecord> List()
    {
        using var connection = _db.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT a.agent_id, a.site_id, a.display_name, a.created_at, a.revoked_at,
                   COALESCE((SELECT key_prefix FROM agent_keys k WHERE k.agent_id = a.agent_id ORDER BY created_at DESC LIMIT 1), '')
            FROM agents a ORDER BY a.site_id, a.agent_id;
            """;
        using var reader = command.ExecuteReader();
        var agents = new List<AgentRecord>();
        while (reader.Read())
        {
            agents.Add(ReadAgent(reader));
        }

        return agents;
    }

    private static AgentRecord ReadAgent(Microsoft.Data.Sqlite.SqliteDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.GetString(2),
        DateTimeOffset.Parse(reader.GetString(3), System.Globalization.CultureInfo.InvariantCulture),
        reader.IsDBNull(4) ? null : DateTimeOffset.Parse(reader.GetString(4), System.Globalization.CultureInfo.InvariantCulture),
        reader.GetString(5));

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
