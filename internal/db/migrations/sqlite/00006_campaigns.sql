-- Campaigns, their sender accounts, prospects and enrollments (docs/campaigns.md#campaigns-and-steps).
-- postgres/00006_campaigns.sql holds the same tables, constraints and
-- triggers; the differences are dialect only (JSON functions, booleans as
-- 0/1, triggers written inline).
--
-- Workspace consistency is carried by composite foreign keys: a sender, a
-- prospect and an enrollment each name the workspace of the campaign they
-- belong to, and the (id, workspace_id) pairs they reference must exist.

-- +goose Up

-- The target of the (account, workspace) foreign keys below. id alone is
-- already unique, so this index refuses nothing; SQLite needs a unique index
-- on exactly the referenced columns.
CREATE UNIQUE INDEX linkedin_accounts_id_workspace_uidx ON linkedin_accounts (id, workspace_id);

CREATE TABLE campaigns (
    id                 TEXT PRIMARY KEY,
    workspace_id       TEXT NOT NULL REFERENCES workspaces (id),
    name               TEXT NOT NULL
                       CONSTRAINT campaigns_name_chk CHECK (length(trim(name)) BETWEEN 1 AND 200),
    status             TEXT NOT NULL DEFAULT 'draft'
                       CONSTRAINT campaigns_status_chk CHECK (status IN ('draft', 'running', 'paused', 'completed', 'archived')),
    paused_reason      TEXT
                       CONSTRAINT campaigns_paused_reason_chk CHECK (paused_reason IN
                         ('manual', 'account_disconnected', 'account_restricted', 'account_error',
                          'needs_verification', 'high_failure_rate', 'template_error')),
    steps              TEXT NOT NULL
                       CONSTRAINT campaigns_steps_chk CHECK (json_valid(steps) AND json_type(steps) = 'array' AND json_array_length(steps) > 0),
    cap_invite         INTEGER NOT NULL,
    cap_message        INTEGER NOT NULL,
    cap_inmail         INTEGER NOT NULL,
    cap_view_profile   INTEGER NOT NULL,
    stop_on_reply      INTEGER NOT NULL DEFAULT 1
                       CONSTRAINT campaigns_stop_on_reply_chk CHECK (stop_on_reply IN (0, 1)),
    late_accept_policy TEXT NOT NULL DEFAULT 'follow_up'
                       CONSTRAINT campaigns_late_accept_policy_chk CHECK (late_accept_policy IN ('follow_up', 'record_only')),
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL,
    CONSTRAINT campaigns_paused_iff_reason_chk CHECK ((status = 'paused') = (paused_reason IS NOT NULL)),
    CONSTRAINT campaigns_daily_caps_chk CHECK (cap_invite >= 0 AND cap_message >= 0 AND cap_inmail >= 0 AND cap_view_profile >= 0),
    CONSTRAINT campaigns_id_workspace_key UNIQUE (id, workspace_id)
);
CREATE INDEX campaigns_workspace_idx ON campaigns (workspace_id, id);
CREATE INDEX campaigns_status_idx ON campaigns (status);

CREATE TABLE campaign_accounts (
    campaign_id  TEXT NOT NULL,
    account_id   TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    position     INTEGER NOT NULL CONSTRAINT campaign_accounts_position_chk CHECK (position >= 0),
    added_at     TIMESTAMP NOT NULL,
    removed_at   TIMESTAMP,
    PRIMARY KEY (campaign_id, account_id),
    CONSTRAINT campaign_accounts_campaign_fk FOREIGN KEY (campaign_id, workspace_id) REFERENCES campaigns (id, workspace_id),
    CONSTRAINT campaign_accounts_account_fk FOREIGN KEY (account_id, workspace_id) REFERENCES linkedin_accounts (id, workspace_id),
    CONSTRAINT campaign_accounts_removed_chk CHECK (removed_at IS NULL OR removed_at >= added_at)
);
CREATE INDEX campaign_accounts_account_idx ON campaign_accounts (account_id);

CREATE TABLE prospects (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id),
    linkedin_url  TEXT,
    public_slug   TEXT CONSTRAINT prospects_public_slug_chk CHECK (length(public_slug) BETWEEN 1 AND 200),
    sales_nav_id  TEXT CONSTRAINT prospects_sales_nav_id_chk CHECK (length(sales_nav_id) BETWEEN 1 AND 200),
    provider_id   TEXT CONSTRAINT prospects_provider_id_chk CHECK (length(provider_id) BETWEEN 1 AND 200),
    first_name    TEXT NOT NULL DEFAULT '',
    last_name     TEXT NOT NULL DEFAULT '',
    company       TEXT NOT NULL DEFAULT '',
    custom_fields TEXT NOT NULL DEFAULT '{}'
                  CONSTRAINT prospects_custom_fields_chk CHECK (json_valid(custom_fields) AND json_type(custom_fields) = 'object'),
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    CONSTRAINT prospects_identifier_chk CHECK (public_slug IS NOT NULL OR sales_nav_id IS NOT NULL OR provider_id IS NOT NULL),
    CONSTRAINT prospects_linkedin_url_chk CHECK ((linkedin_url IS NULL) = (public_slug IS NULL)
        AND (linkedin_url IS NULL OR substr(linkedin_url, 1, 28) = 'https://www.linkedin.com/in/')),
    CONSTRAINT prospects_id_workspace_key UNIQUE (id, workspace_id)
);
CREATE UNIQUE INDEX prospects_public_slug_uidx ON prospects (workspace_id, public_slug) WHERE public_slug IS NOT NULL;
CREATE UNIQUE INDEX prospects_sales_nav_id_uidx ON prospects (workspace_id, sales_nav_id) WHERE sales_nav_id IS NOT NULL;
CREATE UNIQUE INDEX prospects_provider_id_uidx ON prospects (workspace_id, provider_id) WHERE provider_id IS NOT NULL;

CREATE TABLE enrollments (
    id             TEXT PRIMARY KEY,
    workspace_id   TEXT NOT NULL,
    campaign_id    TEXT NOT NULL,
    prospect_id    TEXT NOT NULL,
    account_id     TEXT NOT NULL,
    state          TEXT NOT NULL DEFAULT 'pending'
                   CONSTRAINT enrollments_state_chk CHECK (state IN
                     ('pending', 'active', 'soft_paused', 'completed', 'replied', 'ended', 'failed')),
    step_id        TEXT,
    next_action_at TIMESTAMP,
    ended_reason   TEXT,
    last_error     TEXT,
    failures       INTEGER NOT NULL DEFAULT 0
                   CONSTRAINT enrollments_failures_chk CHECK (failures BETWEEN 0 AND 3),
    accepted_at    TIMESTAMP,
    replied_at     TIMESTAMP,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    CONSTRAINT enrollments_campaign_prospect_key UNIQUE (campaign_id, prospect_id),
    CONSTRAINT enrollments_campaign_fk FOREIGN KEY (campaign_id, workspace_id) REFERENCES campaigns (id, workspace_id),
    CONSTRAINT enrollments_prospect_fk FOREIGN KEY (prospect_id, workspace_id) REFERENCES prospects (id, workspace_id),
    CONSTRAINT enrollments_sender_fk FOREIGN KEY (campaign_id, account_id) REFERENCES campaign_accounts (campaign_id, account_id),
    CONSTRAINT enrollments_pending_chk CHECK (state <> 'pending' OR (step_id IS NULL AND next_action_at IS NULL)),
    CONSTRAINT enrollments_step_chk CHECK (state NOT IN ('active', 'soft_paused') OR step_id IS NOT NULL),
    CONSTRAINT enrollments_active_next_action_chk CHECK (state <> 'active' OR next_action_at IS NOT NULL),
    CONSTRAINT enrollments_ended_reason_chk CHECK ((state = 'ended') = (ended_reason IS NOT NULL AND length(ended_reason) > 0)),
    CONSTRAINT enrollments_failed_error_chk CHECK (state <> 'failed' OR (last_error IS NOT NULL AND length(last_error) > 0)),
    CONSTRAINT enrollments_replied_chk CHECK (state <> 'replied' OR replied_at IS NOT NULL)
);
CREATE INDEX enrollments_campaign_idx ON enrollments (campaign_id, state);
CREATE INDEX enrollments_sender_idx ON enrollments (account_id, state);
CREATE INDEX enrollments_prospect_idx ON enrollments (prospect_id);
CREATE INDEX enrollments_due_idx ON enrollments (next_action_at) WHERE state = 'active';

-- A live enrollment (pending, active, soft-paused) must be worked by a
-- current sender of its campaign, never by one taken off it.
-- +goose StatementBegin
CREATE TRIGGER enrollments_sender_current_insert
    BEFORE INSERT ON enrollments
    WHEN NEW.state IN ('pending', 'active', 'soft_paused')
BEGIN
    SELECT RAISE(ABORT, 'enrollments_sender_current: a live enrollment cannot be worked by an account taken off its campaign')
     WHERE EXISTS (SELECT 1 FROM campaign_accounts
                    WHERE campaign_id = NEW.campaign_id AND account_id = NEW.account_id AND removed_at IS NOT NULL);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER enrollments_sender_current_update
    BEFORE UPDATE OF state, account_id ON enrollments
    WHEN NEW.state IN ('pending', 'active', 'soft_paused')
BEGIN
    SELECT RAISE(ABORT, 'enrollments_sender_current: a live enrollment cannot be worked by an account taken off its campaign')
     WHERE EXISTS (SELECT 1 FROM campaign_accounts
                    WHERE campaign_id = NEW.campaign_id AND account_id = NEW.account_id AND removed_at IS NOT NULL);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER campaign_accounts_removal_guard
    BEFORE UPDATE OF removed_at ON campaign_accounts
    WHEN NEW.removed_at IS NOT NULL AND OLD.removed_at IS NULL
BEGIN
    SELECT RAISE(ABORT, 'enrollments_sender_current: the account still works live enrollments of this campaign; move or end them first')
     WHERE EXISTS (SELECT 1 FROM enrollments
                    WHERE campaign_id = NEW.campaign_id AND account_id = NEW.account_id
                      AND state IN ('pending', 'active', 'soft_paused'));
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE enrollments;
DROP TABLE prospects;
DROP TABLE campaign_accounts;
DROP TABLE campaigns;
DROP INDEX linkedin_accounts_id_workspace_uidx;
