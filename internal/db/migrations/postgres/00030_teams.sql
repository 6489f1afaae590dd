-- Teams (docs/teams.md): a user belongs to one or more workspaces, with one
-- role in each. The users row keeps the workspace the user was first
-- created in; memberships say where the user may sign in and what they may
-- do there. Existing users become owners of their workspace, which is what
-- they could do before roles existed.
--
-- A signed-in session now names a membership rather than a user's home
-- workspace, so switching workspace keeps the session's pair valid and
-- removing a membership ends the sessions in that workspace.
--
-- API tokens carry a role too; existing tokens get admin, which can do
-- everything the API offered before roles existed.
--
-- Campaigns and LinkedIn account settings record who last changed them
-- (the do-not-contact list already records who added an entry).

-- +goose Up
CREATE TABLE memberships (
    user_id      text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    workspace_id text NOT NULL REFERENCES workspaces (id),
    role         text NOT NULL CONSTRAINT memberships_role_chk CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    CONSTRAINT memberships_user_workspace_key PRIMARY KEY (user_id, workspace_id)
);
CREATE INDEX memberships_workspace_idx ON memberships (workspace_id);
INSERT INTO memberships (user_id, workspace_id, role, created_at, updated_at)
SELECT id, workspace_id, 'owner', created_at, created_at FROM users;

ALTER TABLE web_sessions DROP CONSTRAINT web_sessions_user_fk;
ALTER TABLE web_sessions ADD CONSTRAINT web_sessions_membership_fk FOREIGN KEY (user_id, workspace_id)
    REFERENCES memberships (user_id, workspace_id) ON DELETE CASCADE;

ALTER TABLE api_tokens ADD COLUMN role text NOT NULL DEFAULT 'admin'
    CONSTRAINT api_tokens_role_chk CHECK (role IN ('owner', 'admin', 'member', 'viewer'));

ALTER TABLE campaigns ADD COLUMN updated_by text
    CONSTRAINT campaigns_updated_by_chk CHECK (updated_by IS NULL OR length(updated_by) BETWEEN 1 AND 300);
ALTER TABLE linkedin_accounts ADD COLUMN settings_updated_by text
    CONSTRAINT linkedin_accounts_settings_updated_by_chk CHECK (settings_updated_by IS NULL OR length(settings_updated_by) BETWEEN 1 AND 300);

-- A removed do-not-contact entry leaves a row saying who removed it (the
-- entry itself records who added it).
CREATE TABLE do_not_contact_removals (
    entry_id     text PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspaces (id),
    entry        text NOT NULL,
    created_by   text NOT NULL,
    removed_by   text NOT NULL CONSTRAINT do_not_contact_removals_removed_by_chk CHECK (length(removed_by) BETWEEN 1 AND 300),
    removed_at   timestamptz NOT NULL
);
CREATE INDEX do_not_contact_removals_workspace_idx ON do_not_contact_removals (workspace_id, removed_at);

-- +goose Down
DROP TABLE do_not_contact_removals;
ALTER TABLE linkedin_accounts DROP COLUMN settings_updated_by;
ALTER TABLE campaigns DROP COLUMN updated_by;
ALTER TABLE api_tokens DROP COLUMN role;
ALTER TABLE web_sessions DROP CONSTRAINT web_sessions_membership_fk;
DELETE FROM web_sessions s WHERE s.user_id IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = s.user_id AND u.workspace_id = s.workspace_id);
ALTER TABLE web_sessions ADD CONSTRAINT web_sessions_user_fk FOREIGN KEY (user_id, workspace_id)
    REFERENCES users (id, workspace_id) ON DELETE CASCADE;
DROP TABLE memberships;
