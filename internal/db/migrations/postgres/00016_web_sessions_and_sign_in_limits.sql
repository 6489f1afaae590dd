-- Web UI sessions and failed sign-ins live in the database, so restarts keep
-- people signed in and every replica shares the same sessions and counts.
-- A session row holds only a SHA-256 hash of its cookie value, like API
-- tokens. A signed-in session names a user of its own workspace (the
-- composite key makes a session that crosses workspaces impossible); an
-- anonymous one (the sign-in form's CSRF token) names neither.

-- +goose Up
CREATE UNIQUE INDEX users_id_workspace_key ON users (id, workspace_id);

CREATE TABLE web_sessions (
    id_hash      text PRIMARY KEY CONSTRAINT web_sessions_id_hash_chk CHECK (length(id_hash) = 64),
    user_id      text,
    workspace_id text,
    csrf         text NOT NULL CONSTRAINT web_sessions_csrf_chk CHECK (length(csrf) >= 43),
    flash        text,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    CONSTRAINT web_sessions_user_fk FOREIGN KEY (user_id, workspace_id)
        REFERENCES users (id, workspace_id) ON DELETE CASCADE,
    CONSTRAINT web_sessions_user_pair_chk CHECK ((user_id IS NULL) = (workspace_id IS NULL)),
    CONSTRAINT web_sessions_times_chk CHECK (last_seen_at >= created_at AND expires_at > last_seen_at)
);
CREATE INDEX web_sessions_expires_idx ON web_sessions (expires_at);
CREATE INDEX web_sessions_user_idx ON web_sessions (user_id);

-- One row per failed sign-in (and, briefly, per attempt in progress). The
-- account key is a hash of the workspace slug and email as typed, so
-- attempts on accounts that do not exist count the same way and the table
-- names no one; the source is the client address (an IPv6 client by its /64).
CREATE TABLE login_failures (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_key text NOT NULL CONSTRAINT login_failures_account_key_chk CHECK (length(account_key) = 64),
    source      text NOT NULL CONSTRAINT login_failures_source_chk CHECK (length(source) BETWEEN 1 AND 64),
    at          timestamptz NOT NULL
);
CREATE INDEX login_failures_account_idx ON login_failures (account_key, at);
CREATE INDEX login_failures_source_idx ON login_failures (source, at);
CREATE INDEX login_failures_at_idx ON login_failures (at);

-- +goose Down
DROP TABLE login_failures;
DROP TABLE web_sessions;
DROP INDEX users_id_workspace_key;
