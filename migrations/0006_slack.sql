-- Inbound chat deliveries already handled (Slack Events API event ids, interaction and command
-- trigger ids), so a retry or replay is answered once (RELIABILITY C03, C13). Kept a day.
CREATE TABLE chat_seen (
    key      TEXT    PRIMARY KEY,   -- e.g. "slack:event:Ev0123", "slack:trigger:123.456.abc"
    seen_at  INTEGER NOT NULL
);
CREATE INDEX chat_seen_at ON chat_seen (seen_at);
