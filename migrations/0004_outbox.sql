-- The outbox: every message Mimi sends (chat posts, edits, thread replies, email), written in the
-- same transaction as the state change it reports, then delivered by the notify lanes (src/notify/).

-- kind:    post | edit | reply
-- subject: incident (an incident's own message) | timeline (a thread reply about it) | summary
--          (a burst roll-up) | fallback (email when chat failed) | deadman (the alert pipeline)
-- state:   pending | sending (handed to the sink; unknown outcome after a crash) | sent |
--          superseded (a newer edit replaced it, or it was folded into its unsent post) | dead
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    idem_key         TEXT    NOT NULL UNIQUE,  -- idempotency key; also the Matrix transaction id
    sink             TEXT    NOT NULL,         -- configured sink name (slack, matrix, email)
    target           TEXT    NOT NULL,         -- channel id, room id, or email recipients (comma-separated)
    incident_id      INTEGER REFERENCES incidents(id),
    thread           TEXT    NOT NULL,         -- ordering key: rows of one thread are sent in id order
    kind             TEXT    NOT NULL,
    subject          TEXT    NOT NULL,
    parent_id        INTEGER REFERENCES outbox(id), -- edit: the message edited; reply: the message replied to
    payload          TEXT    NOT NULL,         -- JSON notify::message::Rendered (platform-neutral)
    can_edit         INTEGER NOT NULL DEFAULT 1, -- the sink edits messages in place (email does not)
    fallback_to      TEXT,                     -- email recipients if chat delivery does not succeed
    state            TEXT    NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    message_ref      TEXT,                     -- the platform's id once sent (Slack ts, Matrix event id, Message-ID)
    thread_root      TEXT,                     -- the id of the thread's top message (for replies)
    original_at      INTEGER NOT NULL,         -- when the news happened (late deliveries say so)
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    sent_at          INTEGER,
    last_error       TEXT
);
CREATE INDEX outbox_open ON outbox (sink, id) WHERE state IN ('pending', 'sending');
CREATE INDEX outbox_thread_open ON outbox (thread, id) WHERE state IN ('pending', 'sending');
CREATE INDEX outbox_by_incident ON outbox (incident_id, id);
CREATE INDEX outbox_by_parent ON outbox (parent_id);

-- Alertmanager's always-firing Watchdog, per cluster: the dead man's switch. No incident, no timeline.
CREATE TABLE heartbeats (
    cluster      TEXT    PRIMARY KEY,
    first_seen   INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL,
    beats        INTEGER NOT NULL DEFAULT 1,
    silent_since INTEGER              -- set while the alarm is raised (the Watchdog stopped arriving)
);
