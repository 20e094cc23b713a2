-- The context of a question thread (its last question as an intent), so follow-ups such as
-- "what about ai-sre?" keep it. Stored here, never re-read from the chat platform.
CREATE TABLE qa_threads (
    thread      TEXT    PRIMARY KEY,
    intent      TEXT    NOT NULL,      -- JSON qa::intent::Intent
    updated_at  INTEGER NOT NULL
);
