-- Teams; see the PostgreSQL migration of the same number for the story.
-- SQLite cannot change a foreign key of an existing table, so web_sessions
-- is rebuilt (as 00016 left it) referencing memberships instead of users.

-- +goose Up
CREATE TABLE memberships (
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    role         TEXT NOT NULL CONSTRAINT memberships_role_chk CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    CONSTRAINT memberships_user_workspace_key PRIMARY KEY (user_id, workspace_id)
);
CREATE INDEX memberships_workspace_idx ON memberships (workspace_id);
INSERT INTO memberships (user_id, workspace_id, role, created_at, updated_at)
SELECT id, workspace_id, 'owner', created_at, created_at FROM users;

CREATE TABLE web_sessions_new (
    id_hash      TEXT PRIMARY KEY CONSTRAINT web_sessions_id_hash_chk CHECK (length(id_hash) = 64),
    user_id      TEXT,
    workspace_id TEXT,
    csrf         TEXT NOT NULL CONSTRAINT web_sessions_csrf_chk CHECK (length(csrf) >= 43),
    flash        TEXT,
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    CONSTRAINT web_sessions_membership_fk FOREIGN KEY (user_id, workspace_id)
        REFERENCES memberships (user_id, workspace_id) ON DELETE CASCADE,
    CONSTRAINT web_sessions_user_pair_chk CHECK ((user_id IS NULL) = (workspace_id IS NULL)),
    CONSTRAINT web_sessions_times_chk CHECK (last_seen_at >= created_at AND expires_at > last_seen_at)
);
INSERT INTO web_sessions_new (id_hash, user_id, workspace_id, csrf, flash, created_at, last_seen_at, expires_at)
SELECT id_hash, user_id, workspace_id, csrf, flash, created_at, last_seen_at, expires_at FROM web_sessions;
DROP TABLE web_sessions;
ALTER TABLE web_sessions_new RENAME TO web_sessions;
CREATE INDEX web_sessions_expires_idx ON web_sessions (expires_at);
CREATE INDEX web_sessions_user_idx ON web_sessions (user_id);

ALTER TABLE api_tokens ADD COLUMN role TEXT NOT NULL DEFAULT 'admin'
    CONSTRAINT api_tokens_role_chk CHECK (role IN ('owner', 'admin', 'member', 'viewer'));

ALTER TABLE campaigns ADD COLUMN updated_by TEXT
    CONSTRAINT campaigns_updated_by_chk CHECK (updated_by IS NULL OR length(updated_by) BETWEEN 1 AND 300);
ALTER TABLE linkedin_accounts ADD COLUMN settings_updated_by TEXT
    CONSTRAINT linkedin_accounts_settings_updated_by_chk CHECK (settings_updated_by IS NULL OR length(settings_updated_by) BETWEEN 1 AND 300);

-- A removed do-not-contact entry leaves a row saying who removed it (the
-- entry itself records who added it).
CREATE TABLE do_not_contact_removals (
    entry_id     TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    entry        TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    removed_by   TEXT NOT NULL CONSTRAINT do_not_contact_removals_removed_by_chk CHECK (length(removed_by) BETWEEN 1 AND 300),
    removed_at   TIMESTAMP NOT NULL
);
CREATE INDEX do_not_contact_removals_workspace_idx ON do_not_contact_removals (workspace_id, removed_at);

-- +goose Down
DROP TABLE do_not_contact_removals;
ALTER TABLE linkedin_accounts DROP COLUMN settings_updated_by;
ALTER TABLE campaigns DROP COLUMN updated_by;
ALTER TABLE api_tokens DROP COLUMN role;
CREATE TABLE web_sessions_old (
    id_hash      TEXT PRIMARY KEY CONSTRAINT web_sessions_id_hash_chk CHECK (length(id_hash) = 64),
    user_id      TEXT,
    workspace_id TEXT,
    csrf         TEXT NOT NULL CONSTRAINT web_sessions_csrf_chk CHECK (length(csrf) >= 43),
    flash        TEXT,
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    CONSTRAINT web_sessions_user_fk FOREIGN KEY (user_id, workspace_id)
        REFERENCES users (id, workspace_id) ON DELETE CASCADE,
    CONSTRAINT web_sessions_user_pair_chk CHECK ((user_id IS NULL) = (workspace_id IS NULL)),
    CONSTRAINT web_sessions_times_chk CHECK (last_seen_at >= created_at AND expires_at > last_seen_at)
);
INSERT INTO web_sessions_old (id_hash, user_id, workspace_id, csrf, flash, created_at, last_seen_at, expires_at)
SELECT s.id_hash, s.user_id, s.workspace_id, s.csrf, s.flash, s.created_at, s.last_seen_at, s.expires_at FROM web_sessions s
WHERE s.user_id IS NULL OR EXISTS (SELECT 1 FROM users u WHERE u.id = s.user_id AND u.workspace_id = s.workspace_id);
DROP TABLE web_sessions;
ALTER TABLE web_sessions_old RENAME TO web_sessions;
CREATE INDEX web_sessions_expires_idx ON web_sessions (expires_at);
CREATE INDEX web_sessions_user_idx ON web_sessions (user_id);
DROP TABLE memberships;
