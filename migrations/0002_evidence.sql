-- Evidence gathered from the cluster for an incident (redacted). Each gathering is a row, so the
-- state before and after an action can be compared; the newest is the incident's evidence.
CREATE TABLE evidence (
    id           INTEGER PRIMARY KEY,
    incident_id  INTEGER NOT NULL REFERENCES incidents(id),
    gathered_at  INTEGER NOT NULL,
    bundle       TEXT    NOT NULL,   -- JSON: cluster::evidence::Evidence
    rendered     TEXT    NOT NULL    -- the text the analyzer sees, within evidence.budget_bytes
);
CREATE INDEX evidence_by_incident ON evidence (incident_id, id);
