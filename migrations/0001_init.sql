-- Mimi's durable state. Times are Unix milliseconds (INTEGER) unless named *_text (RFC 3339).

-- Every accepted webhook delivery, as received. `digest` is the deduplication identity
-- (cluster, groupKey, the set of (fingerprint, status, startsAt, endsAt)); a repeat is not stored.
CREATE TABLE deliveries (
    id             INTEGER PRIMARY KEY,
    digest         BLOB    NOT NULL UNIQUE,
    received_at    INTEGER NOT NULL,
    cluster        TEXT    NOT NULL,
    group_key      TEXT    NOT NULL,
    status         TEXT    NOT NULL,
    alert_count    INTEGER NOT NULL,
    auth_identity  TEXT    NOT NULL,
    payload        BLOB    NOT NULL,
    incident_id    INTEGER REFERENCES incidents(id)
);

-- One episode of one alert group. A group that fires again after resolving opens a new episode.
CREATE TABLE incidents (
    id               INTEGER PRIMARY KEY,
    cluster          TEXT    NOT NULL,
    group_key        TEXT    NOT NULL,
    episode          INTEGER NOT NULL,
    state            TEXT    NOT NULL,
    alertname        TEXT    NOT NULL,
    namespace        TEXT,
    severity         TEXT,
    summary          TEXT,
    external_url     TEXT    NOT NULL,
    truncated_alerts INTEGER NOT NULL DEFAULT 0,
    firing_alerts    INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    resolved_at      INTEGER,
    UNIQUE (cluster, group_key, episode)
);
CREATE INDEX incidents_by_state ON incidents (state, id);
CREATE INDEX incidents_by_namespace ON incidents (namespace, id);

-- The alerts of an incident; one row per (fingerprint, startsAt), updated as it resolves.
CREATE TABLE alerts (
    id               INTEGER PRIMARY KEY,
    incident_id      INTEGER NOT NULL REFERENCES incidents(id),
    fingerprint      TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    starts_at_text   TEXT    NOT NULL,
    ends_at_text     TEXT,
    labels           TEXT    NOT NULL,
    annotations      TEXT    NOT NULL,
    generator_url    TEXT    NOT NULL,
    first_delivery   INTEGER NOT NULL REFERENCES deliveries(id),
    last_delivery    INTEGER NOT NULL REFERENCES deliveries(id),
    updated_at       INTEGER NOT NULL,
    UNIQUE (incident_id, fingerprint, starts_at_text)
);

-- Append-only timeline and audit trail. Each row carries the hash of the previous row, so a changed
-- or deleted row breaks the chain (`mimi audit verify`).
CREATE TABLE incident_events (
    id           INTEGER PRIMARY KEY,
    incident_id  INTEGER REFERENCES incidents(id),
    at           INTEGER NOT NULL,
    kind         TEXT    NOT NULL,
    actor        TEXT    NOT NULL,
    detail       TEXT    NOT NULL,
    prev_hash    BLOB    NOT NULL,
    hash         BLOB    NOT NULL
);
CREATE INDEX incident_events_by_incident ON incident_events (incident_id, id);

CREATE TRIGGER incident_events_no_update BEFORE UPDATE ON incident_events
BEGIN SELECT RAISE(ABORT, 'incident_events is append-only'); END;
CREATE TRIGGER incident_events_no_delete BEFORE DELETE ON incident_events
BEGIN SELECT RAISE(ABORT, 'incident_events is append-only'); END;

-- Persisted pipeline steps. Jobs with the same `key` run one at a time, in id order.
-- state: pending | running | dead (done jobs are deleted; their outcome is in the timeline).
CREATE TABLE jobs (
    id            INTEGER PRIMARY KEY,
    step          TEXT    NOT NULL,
    key           TEXT    NOT NULL,
    incident_id   INTEGER REFERENCES incidents(id),
    delivery_id   INTEGER REFERENCES deliveries(id),
    state         TEXT    NOT NULL DEFAULT 'pending',
    attempts      INTEGER NOT NULL DEFAULT 0,
    run_at        INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    last_error    TEXT
);
-- Claiming scans pending jobs in id order and stops at the first one that is due and not blocked
-- by an earlier job with its key; without this index every claim sorted the whole backlog.
CREATE INDEX jobs_pending ON jobs (id) WHERE state = 'pending';
CREATE INDEX jobs_pending_due ON jobs (run_at) WHERE state = 'pending';
CREATE INDEX jobs_by_key ON jobs (key, id);
CREATE INDEX jobs_by_incident ON jobs (incident_id);
