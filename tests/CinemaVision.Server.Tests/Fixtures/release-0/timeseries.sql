PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE occupancy (
    site TEXT NOT NULL, auditorium TEXT NOT NULL, camera TEXT NOT NULL, ts INTEGER NOT NULL,
    id TEXT NOT NULL, people INTEGER NOT NULL, seats_occupied INTEGER NOT NULL, seats_total INTEGER NOT NULL,
    seats_unknown INTEGER NOT NULL, confidence REAL NOT NULL, showing TEXT NULL,
    PRIMARY KEY (site, auditorium, camera, ts)) WITHOUT ROWID;
INSERT INTO occupancy VALUES('site-a','aud-1','',1796073562000,'r0-o1',10,10,200,0,0.9000000000000000222,NULL);
INSERT INTO occupancy VALUES('site-a','aud-1','cam-1',1796073562000,'r0-o2',4,4,100,0,0.9000000000000000222,NULL);
CREATE TABLE occupancy_1m (
    site TEXT NOT NULL, auditorium TEXT NOT NULL, minute INTEGER NOT NULL,
    people REAL NOT NULL, seats_occupied REAL NOT NULL, seats_total INTEGER NOT NULL, confidence REAL NOT NULL, samples INTEGER NOT NULL,
    PRIMARY KEY (site, auditorium, minute)) WITHOUT ROWID;
CREATE TABLE seat_state (
    site TEXT NOT NULL, auditorium TEXT NOT NULL, seat TEXT NOT NULL, ts INTEGER NOT NULL,
    id TEXT NOT NULL, camera TEXT NOT NULL, state INTEGER NOT NULL, confidence REAL NOT NULL, showing TEXT NULL,
    PRIMARY KEY (site, auditorium, seat, ts)) WITHOUT ROWID;
INSERT INTO seat_state VALUES('site-a','aud-1','A1',1796073562000,'r0-s1','cam-1',2,0.94999999999999995559,NULL);
CREATE TABLE incident (
    site TEXT NOT NULL, auditorium TEXT NOT NULL, camera TEXT NOT NULL, type TEXT NOT NULL, kind TEXT NOT NULL,
    incident_id TEXT NOT NULL, ts INTEGER NOT NULL, id TEXT NOT NULL, phase INTEGER NOT NULL, started_at INTEGER NOT NULL,
    confidence REAL NOT NULL, seat TEXT NULL, evidence TEXT NULL, detail TEXT NULL, payload TEXT NOT NULL,
    PRIMARY KEY (site, auditorium, camera, type, kind, incident_id, ts)) WITHOUT ROWID;
INSERT INTO incident VALUES('site-a','aud-1','cam-1','piracy','Phone','r0-inc-1',1796073562000,'r0-p1',0,1796073562000,0.8000000000000000444,'F12','r0-ev-1.jpg',NULL,'{"id":"r0-p1","incidentId":"r0-inc-1","phase":"start","device":"phone","siteId":"site-a","auditoriumId":"aud-1","cameraId":"cam-1","seatId":"F12","startedAt":"2026-11-30T21:19:22+00:00","timestamp":"2026-11-30T21:19:22+00:00","heldUpSeconds":6.5,"confidence":0.8,"evidenceId":"r0-ev-1.jpg","detail":null,"showingId":null,"duration":"00:00:00"}');
INSERT INTO incident VALUES('site-a','aud-1','cam-2','camera_health','Frozen','r0-inc-2',1796073562000,'r0-h1',0,1796073562000,1.0,NULL,NULL,NULL,'{"id":"r0-h1","incidentId":"r0-inc-2","phase":"start","kind":"frozen","siteId":"site-a","auditoriumId":"aud-1","cameraId":"cam-2","startedAt":"2026-11-30T21:19:22+00:00","timestamp":"2026-11-30T21:19:22+00:00","measuredValue":12.5,"threshold":10,"detail":null}');
CREATE TABLE agent_health (
    site TEXT NOT NULL, agent TEXT NOT NULL, ts INTEGER NOT NULL, id TEXT NOT NULL, payload TEXT NOT NULL,
    PRIMARY KEY (site, agent, ts)) WITHOUT ROWID;
CREATE TABLE ts_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE INDEX ix_occupancy_showing ON occupancy(showing) WHERE showing IS NOT NULL;
CREATE INDEX ix_incident_time ON incident(site, ts);
COMMIT;
