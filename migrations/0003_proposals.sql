-- What analyzers concluded, the actions they proposed (and what became of each), and the audit row
-- of every action run (RELIABILITY F07).

CREATE TABLE analyses (
    id           INTEGER PRIMARY KEY,
    incident_id  INTEGER NOT NULL REFERENCES incidents(id),
    at           INTEGER NOT NULL,
    analysis     TEXT    NOT NULL    -- JSON: domain::analysis::Analysis
);
CREATE INDEX analyses_by_incident ON analyses (incident_id, id);

-- state: pending | approved | rejected | expired | refused | superseded | executing | executed | failed
CREATE TABLE proposals (
    id           INTEGER PRIMARY KEY,
    public_id    TEXT    NOT NULL UNIQUE,   -- what buttons and commands carry
    incident_id  INTEGER NOT NULL REFERENCES incidents(id),
    rank         INTEGER NOT NULL,          -- the analyzer's order of preference
    action       TEXT    NOT NULL,          -- JSON ActionSpec
    reason       TEXT    NOT NULL,
    proposer     TEXT    NOT NULL,          -- "rules", "llm:<model>", or a person
    risk         TEXT,
    approval     TEXT,                      -- auto | one | two
    state        TEXT    NOT NULL,
    refused      TEXT,                      -- why it cannot be approved (policy, dry run, ...)
    dry_run      TEXT,                      -- JSON cluster::actions::DryRun
    pending      TEXT,                      -- JSON domain::approval::PendingApproval (decisions, messages)
    version      INTEGER NOT NULL DEFAULT 0, -- compare-and-set for decisions (C08)
    expires_at   INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX proposals_by_incident ON proposals (incident_id, rank);
CREATE INDEX proposals_pending ON proposals (expires_at) WHERE state = 'pending';

-- One row per executed (or attempted) action: who proposed and approved it, what was sent, what the
-- API answered, and how verification ended.
CREATE TABLE action_runs (
    id             INTEGER PRIMARY KEY,
    proposal_id    INTEGER NOT NULL UNIQUE REFERENCES proposals(id),
    incident_id    INTEGER NOT NULL REFERENCES incidents(id),
    cluster        TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    target         TEXT    NOT NULL,
    parameters     TEXT    NOT NULL,        -- JSON ActionSpec
    proposer       TEXT    NOT NULL,
    approvers      TEXT    NOT NULL,        -- JSON list of approver ids ("policy" for auto-approval)
    approved_at    INTEGER NOT NULL,
    dry_run        TEXT,                    -- JSON, the rehearsal before executing
    started_at     INTEGER NOT NULL,
    finished_at    INTEGER,
    outcome        TEXT,                    -- executed | failed | refused | blocked | unknown
    response       TEXT,                    -- JSON: what the API answered, or the error
    healthy_since  INTEGER,                 -- verification: first time the success criteria held
    verification   TEXT,                    -- JSON observations
    verified       TEXT,                    -- verified | not_fixed | timed_out
    verified_at    INTEGER
);
CREATE INDEX action_runs_recent ON action_runs (cluster, started_at);
