PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE agents (
    agent_id TEXT PRIMARY KEY,
    site_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT NULL
);
INSERT INTO agents VALUES('edge-1','site-a','edge-1','2026-11-30T23:19:20.9194116+00:00',NULL);
CREATE TABLE agent_keys (
    key_hash BLOB PRIMARY KEY,
    agent_id TEXT NOT NULL REFERENCES agents(agent_id),
    key_prefix TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT NULL
);
INSERT INTO agent_keys VALUES(X'2e40b6316c1f0cea632cb4b45804b2fb67753e6d64a69a7775f326a0359de3ad','edge-1','cvk_zzjD0C','2026-11-30T23:19:20.9194116+00:00',NULL);
INSERT INTO agent_keys VALUES(X'cf48dfcb851f00d0c0afee91ce12ce3ed49c04edc9c2bfb28236f1fece250fdb','edge-1','cvk_F1m3di','2026-11-30T23:19:21.7278178+00:00',NULL);
CREATE TABLE users (
    user_name TEXT PRIMARY KEY COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0
);
INSERT INTO users VALUES('admin','AQAAAAIAAYagAAAAEAssHt/uwHjpPHN9z3wAKCIAfix7MsbrF4x6s16CeZfKXVtacvkMvUgJvHpQDT2s+Q==','Admin','2026-11-30T23:19:18.3321598+00:00',0);
INSERT INTO users VALUES('guard','AQAAAAIAAYagAAAAEJL68kAsveU9Z9cRePTrQzRTOkDsAuWWRPrBcLkLbSH1mCE/PWGuYxz0Qs/doiAynQ==','Security','2026-11-30T23:19:22.1270069+00:00',0);
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NULL
);
INSERT INTO audit_log VALUES(1,'2026-11-30T23:19:20.7965289+00:00','admin','sign-in','admin',NULL);
INSERT INTO audit_log VALUES(2,'2026-11-30T23:19:20.9463651+00:00','admin','agent-key-created','edge-1','site-a');
INSERT INTO audit_log VALUES(3,'2026-11-30T23:19:21.7289969+00:00','admin','agent-key-created','edge-1','site-a');
INSERT INTO audit_log VALUES(4,'2026-11-30T23:19:22.3599095+00:00','admin','user.create','guard','Security');
CREATE TABLE ingested_items (
    agent_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    stored_at INTEGER NOT NULL,
    PRIMARY KEY (agent_id, item_id)) WITHOUT ROWID;
INSERT INTO ingested_items VALUES('edge-1','r0-h1','r0-b1',1796080763176);
INSERT INTO ingested_items VALUES('edge-1','r0-o1','r0-b1',1796080763176);
INSERT INTO ingested_items VALUES('edge-1','r0-o2','r0-b1',1796080763176);
INSERT INTO ingested_items VALUES('edge-1','r0-p1','r0-b1',1796080763176);
INSERT INTO ingested_items VALUES('edge-1','r0-s1','r0-b1',1796080763176);
CREATE TABLE showings (
    site_id TEXT NOT NULL,
    id TEXT NOT NULL,
    auditorium_id TEXT NOT NULL,
    film TEXT NOT NULL,
    start_ms INTEGER NOT NULL,
    feature_ms INTEGER NOT NULL,
    end_ms INTEGER NOT NULL,
    PRIMARY KEY (site_id, id));
INSERT INTO showings VALUES('site-a','show-1','aud-1','Film A',1768068000000,1768068900000,1768076100000);
CREATE TABLE tickets (
    site_id TEXT NOT NULL,
    showing_id TEXT NOT NULL,
    seat_id TEXT NOT NULL,
    PRIMARY KEY (site_id, showing_id, seat_id));
CREATE TABLE auditorium_configs (
    site_id TEXT NOT NULL,
    auditorium_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    etag TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (site_id, auditorium_id));
CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    group_key TEXT NOT NULL,
    rule TEXT NOT NULL,
    status INTEGER NOT NULL,
    opened_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    body TEXT NOT NULL);
INSERT INTO alerts VALUES('al-site-a-aud-1-r0-inc-1','piracy|site-a|aud-1|cam-1|F12','piracy',0,1796080763229,1796080763229,'{"id":"al-site-a-aud-1-r0-inc-1","groupKey":"piracy|site-a|aud-1|cam-1|F12","ruleName":"piracy","severity":"Critical","status":"Open","openedAt":"2026-11-30T23:19:23.2290248+00:00","lastEventAt":"2026-11-30T21:19:22+00:00","eventCount":1,"escalationLevel":0,"lastNotifiedAt":"2026-11-30T23:19:23.2290248+00:00","muted":false,"acknowledgedBy":null,"acknowledgedAt":null,"resolvedBy":null,"resolvedAt":null,"resolutionNote":null,"incidentIds":["r0-inc-1"],"latest":{"eventId":"r0-p1","incidentId":"r0-inc-1","category":"Piracy","kind":"Phone","phase":"Start","siteId":"site-a","auditoriumId":"aud-1","cameraId":"cam-1","seatId":"F12","at":"2026-11-30T21:19:22+00:00","confidence":0.8,"evidenceId":"r0-ev-1.jpg","summary":"Possible recording (phone) at seat F12 in auditorium aud-1, held up 7 s, confidence 80 %"}}');
INSERT INTO alerts VALUES('al-site-a-aud-1-r0-inc-2','camera|site-a|aud-1|cam-2|-','camera',0,1796080763324,1796080763324,'{"id":"al-site-a-aud-1-r0-inc-2","groupKey":"camera|site-a|aud-1|cam-2|-","ruleName":"camera","severity":"Warning","status":"Open","openedAt":"2026-11-30T23:19:23.3242134+00:00","lastEventAt":"2026-11-30T21:19:22+00:00","eventCount":1,"escalationLevel":0,"lastNotifiedAt":"2026-11-30T23:19:23.3242134+00:00","muted":false,"acknowledgedBy":null,"acknowledgedAt":null,"resolvedBy":null,"resolvedAt":null,"resolutionNote":null,"incidentIds":["r0-inc-2"],"latest":{"eventId":"r0-h1","incidentId":"r0-inc-2","category":"CameraHealth","kind":"Frozen","phase":"Start","siteId":"site-a","auditoriumId":"aud-1","cameraId":"cam-2","seatId":null,"at":"2026-11-30T21:19:22+00:00","confidence":1,"evidenceId":null,"summary":"Camera cam-2 in auditorium aud-1: frozen (measured 12.5, threshold 10)"}}');
CREATE TABLE alert_history (
    alert_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    action TEXT NOT NULL,
    by_user TEXT,
    detail TEXT);
INSERT INTO alert_history VALUES('al-site-a-aud-1-r0-inc-1',1796080763229,'opened',NULL,'r0-p1');
INSERT INTO alert_history VALUES('al-site-a-aud-1-r0-inc-2',1796080763324,'opened',NULL,'r0-h1');
CREATE TABLE notification_attempts (
    alert_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    reason TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    at INTEGER NOT NULL,
    succeeded INTEGER NOT NULL,
    error TEXT);
INSERT INTO notification_attempts VALUES('al-site-a-aud-1-r0-inc-2','live','opened',1,1796080763364,1,NULL);
INSERT INTO notification_attempts VALUES('al-site-a-aud-1-r0-inc-1','live','opened',1,1796080763327,1,NULL);
CREATE TABLE notification_queue (
    id TEXT PRIMARY KEY,
    alert_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    reason TEXT NOT NULL,
    attempt INTEGER NOT NULL);
CREATE TABLE alert_mutes (
    id TEXT PRIMARY KEY,
    until INTEGER NOT NULL,
    body TEXT NOT NULL);
CREATE TABLE evidence (
    id TEXT PRIMARY KEY,
    agent_id TEXT NOT NULL,
    site_id TEXT NOT NULL,
    content_type TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    created_at INTEGER NOT NULL);
INSERT INTO evidence VALUES('r0-ev-1.jpg','edge-1','site-a','image/jpeg',250,1796080763675);
DELETE FROM sqlite_sequence;
INSERT INTO sqlite_sequence VALUES('audit_log',4);
CREATE INDEX ix_agent_keys_agent ON agent_keys(agent_id);
CREATE INDEX ix_ingested_items_time ON ingested_items(stored_at);
CREATE INDEX ix_showings_time ON showings(site_id, start_ms);
CREATE INDEX ix_alerts_group ON alerts(group_key, updated_at);
CREATE INDEX ix_alerts_status ON alerts(status, updated_at);
CREATE INDEX ix_alert_history ON alert_history(alert_id, at);
CREATE INDEX ix_attempts ON notification_attempts(alert_id, at);
CREATE INDEX ix_evidence_time ON evidence(created_at);
COMMIT;
