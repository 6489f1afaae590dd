-- Pending invitations and their withdrawal; see the PostgreSQL migration of
-- the same number for the story. SQLite cannot change a CHECK of an
-- existing table, so sends is rebuilt (as 00021 left it) with 'withdraw'
-- among its actions and the one-per-step index over the action too.

-- +goose Up
ALTER TABLE linkedin_accounts ADD COLUMN cap_invite_pending INTEGER NOT NULL DEFAULT 400
    CONSTRAINT linkedin_accounts_cap_invite_pending_chk CHECK (cap_invite_pending BETWEEN 0 AND 700);
ALTER TABLE linkedin_accounts ADD COLUMN cap_withdraw_daily INTEGER NOT NULL DEFAULT 50
    CONSTRAINT linkedin_accounts_cap_withdraw_daily_chk CHECK (cap_withdraw_daily BETWEEN 0 AND 100);
ALTER TABLE linkedin_accounts ADD COLUMN withdraw_after_days INTEGER NOT NULL DEFAULT 21
    CONSTRAINT linkedin_accounts_withdraw_after_days_chk CHECK (withdraw_after_days = 0 OR withdraw_after_days BETWEEN 7 AND 180);

ALTER TABLE account_pacing ADD COLUMN spread_withdraw_until TIMESTAMP;

-- A limit signal on a withdrawal cools withdrawals down: send_blocks is
-- rebuilt with 'withdraw' among its actions, with its triggers.
CREATE TABLE send_blocks_new (
    account_id TEXT NOT NULL REFERENCES linkedin_accounts (id),
    action     TEXT NOT NULL CONSTRAINT send_blocks_action_chk CHECK (action IN ('invite', 'message', 'inmail', 'view_profile', 'withdraw')),
    kind       TEXT NOT NULL CONSTRAINT send_blocks_kind_chk CHECK (kind IN ('cooldown', 'credits')),
    until      TIMESTAMP NOT NULL,
    reason     TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, action, kind)
);
INSERT INTO send_blocks_new (account_id, action, kind, until, reason, created_at)
SELECT account_id, action, kind, until, reason, created_at FROM send_blocks;
DROP TABLE send_blocks;
ALTER TABLE send_blocks_new RENAME TO send_blocks;
-- +goose StatementBegin
CREATE TRIGGER send_blocks_credits_inmail_chk_insert
    BEFORE INSERT ON send_blocks
    WHEN NEW.kind = 'credits' AND NEW.action <> 'inmail'
BEGIN
    SELECT RAISE(ABORT, 'send_blocks_credits_inmail_chk: a credits breaker holds only InMail');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER send_blocks_credits_inmail_chk_update
    BEFORE UPDATE ON send_blocks
    WHEN NEW.kind = 'credits' AND NEW.action <> 'inmail'
BEGIN
    SELECT RAISE(ABORT, 'send_blocks_credits_inmail_chk: a credits breaker holds only InMail');
END;
-- +goose StatementEnd

CREATE TABLE sends_new (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id),
    account_id    TEXT NOT NULL REFERENCES linkedin_accounts (id),
    campaign_id   TEXT NOT NULL REFERENCES campaigns (id),
    enrollment_id TEXT NOT NULL REFERENCES enrollments (id),
    prospect_id   TEXT NOT NULL REFERENCES prospects (id),
    step_id       TEXT NOT NULL,
    action        TEXT NOT NULL
                  CONSTRAINT sends_action_chk CHECK (action IN ('invite', 'message', 'inmail', 'view_profile', 'withdraw')),
    state         TEXT NOT NULL DEFAULT 'intent'
                  CONSTRAINT sends_state_chk CHECK (state IN ('intent', 'dispatched', 'confirmed', 'failed', 'unknown', 'cancelled')),
    with_note     INTEGER NOT NULL DEFAULT 0 CONSTRAINT sends_with_note_chk CHECK (with_note IN (0, 1)),
    claimed_at    TIMESTAMP NOT NULL,
    dispatched_at TIMESTAMP,
    finished_at   TIMESTAMP,
    provider_ref  TEXT,
    chat_id       TEXT,
    error_kind    TEXT,
    error         TEXT,
    parked_at     TIMESTAMP,
    settled_by    TEXT,
    settled_at    TIMESTAMP,
    CONSTRAINT sends_confirmed_chat_chk
        CHECK (state <> 'confirmed' OR action NOT IN ('message', 'inmail') OR chat_id IS NOT NULL OR settled_by IS NOT NULL),
    CONSTRAINT sends_dispatched_at_chk CHECK (state IN ('intent', 'cancelled') OR dispatched_at IS NOT NULL),
    CONSTRAINT sends_failed_error_chk CHECK (state NOT IN ('failed', 'cancelled') OR (error IS NOT NULL AND length(error) > 0)),
    CONSTRAINT sends_finished_chk CHECK ((state IN ('confirmed', 'failed', 'cancelled')) = (finished_at IS NOT NULL)),
    CONSTRAINT sends_parked_chk CHECK (parked_at IS NULL OR state = 'unknown'),
    CONSTRAINT sends_settled_chk CHECK ((settled_by IS NULL) = (settled_at IS NULL)
        AND (settled_by IS NULL OR (length(settled_by) BETWEEN 1 AND 200 AND state IN ('confirmed', 'failed'))))
);
INSERT INTO sends_new (id, workspace_id, account_id, campaign_id, enrollment_id, prospect_id, step_id, action, state,
    with_note, claimed_at, dispatched_at, finished_at, provider_ref, chat_id, error_kind, error, parked_at, settled_by, settled_at)
SELECT id, workspace_id, account_id, campaign_id, enrollment_id, prospect_id, step_id, action, state,
    with_note, claimed_at, dispatched_at, finished_at, provider_ref, chat_id, error_kind, error, parked_at, settled_by, settled_at FROM sends;
DROP TABLE sends;
ALTER TABLE sends_new RENAME TO sends;
CREATE UNIQUE INDEX sends_one_per_step_uidx ON sends (campaign_id, step_id, prospect_id, action) WHERE state NOT IN ('failed', 'cancelled');
CREATE INDEX sends_account_action_idx ON sends (account_id, action, claimed_at);
CREATE INDEX sends_campaign_action_idx ON sends (campaign_id, action, claimed_at);
CREATE INDEX sends_open_idx ON sends (state, claimed_at) WHERE state IN ('intent', 'dispatched', 'unknown');
-- +goose StatementBegin
CREATE TRIGGER sends_no_delete
    BEFORE DELETE ON sends
BEGIN
    SELECT RAISE(ABORT, 'sends_append_only: sends are a ledger, rows cannot be deleted');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER sends_note_invite_chk
    BEFORE INSERT ON sends
    WHEN NEW.with_note AND NEW.action <> 'invite'
BEGIN
    SELECT RAISE(ABORT, 'sends_note_invite_chk: only an invitation carries a note');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER sends_state_machine
    BEFORE UPDATE ON sends
BEGIN
    SELECT RAISE(ABORT, 'sends_state_machine: a send cannot move between these states')
     WHERE OLD.state IS NOT NEW.state
       AND NOT ((OLD.state = 'intent' AND NEW.state IN ('dispatched', 'cancelled'))
             OR (OLD.state = 'dispatched' AND NEW.state IN ('confirmed', 'failed', 'unknown'))
             OR (OLD.state = 'unknown' AND NEW.state IN ('confirmed', 'failed')));
    SELECT RAISE(ABORT, 'sends_state_machine: a send''s identity cannot change')
     WHERE NEW.id IS NOT OLD.id OR NEW.workspace_id IS NOT OLD.workspace_id OR NEW.account_id IS NOT OLD.account_id
        OR NEW.campaign_id IS NOT OLD.campaign_id OR NEW.enrollment_id IS NOT OLD.enrollment_id
        OR NEW.prospect_id IS NOT OLD.prospect_id OR NEW.step_id IS NOT OLD.step_id OR NEW.action IS NOT OLD.action
        OR NEW.with_note IS NOT OLD.with_note OR NEW.claimed_at IS NOT OLD.claimed_at;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER sends_withdraw_of_invite
    BEFORE INSERT ON sends
    WHEN NEW.action = 'withdraw' AND NOT EXISTS (SELECT 1 FROM sends s WHERE s.campaign_id = NEW.campaign_id
        AND s.step_id = NEW.step_id AND s.prospect_id = NEW.prospect_id AND s.account_id = NEW.account_id
        AND s.action = 'invite' AND s.state = 'confirmed'
        AND s.state NOT IN ('failed', 'cancelled'))
BEGIN
    SELECT RAISE(ABORT, 'sends_withdraw_of_invite: a withdrawal needs the confirmed invitation it withdraws');
END;
-- +goose StatementEnd

CREATE TABLE invitations (
    id                     TEXT PRIMARY KEY,
    workspace_id           TEXT NOT NULL REFERENCES workspaces (id),
    account_id             TEXT NOT NULL REFERENCES linkedin_accounts (id),
    send_id                TEXT UNIQUE REFERENCES sends (id),
    prospect_id            TEXT REFERENCES prospects (id),
    provider_invitation_id TEXT CONSTRAINT invitations_provider_invitation_id_chk
                           CHECK (length(provider_invitation_id) BETWEEN 1 AND 200),
    invited_provider_id    TEXT CONSTRAINT invitations_invited_provider_id_chk
                           CHECK (length(invited_provider_id) BETWEEN 1 AND 200),
    sent_at                TIMESTAMP NOT NULL,
    state                  TEXT NOT NULL DEFAULT 'pending'
                           CONSTRAINT invitations_state_chk CHECK (state IN ('pending', 'accepted', 'withdrawn', 'gone')),
    closed_at              TIMESTAMP,
    withdraw_at            TIMESTAMP,
    seen_at                TIMESTAMP,
    CONSTRAINT invitations_closed_chk CHECK ((state = 'pending') = (closed_at IS NULL)),
    CONSTRAINT invitations_origin_chk CHECK ((send_id IS NULL) = (prospect_id IS NULL)
        AND (send_id IS NOT NULL OR provider_invitation_id IS NOT NULL)),
    CONSTRAINT invitations_withdrawn_chk CHECK (state <> 'withdrawn' OR send_id IS NOT NULL),
    CONSTRAINT invitations_withdraw_at_chk CHECK (withdraw_at IS NULL OR (state = 'pending' AND send_id IS NOT NULL))
);
CREATE UNIQUE INDEX invitations_provider_uidx ON invitations (account_id, provider_invitation_id)
    WHERE provider_invitation_id IS NOT NULL;
CREATE INDEX invitations_pending_idx ON invitations (account_id, sent_at) WHERE state = 'pending';
CREATE INDEX invitations_withdraw_due_idx ON invitations (withdraw_at) WHERE withdraw_at IS NOT NULL;
CREATE INDEX invitations_prospect_idx ON invitations (prospect_id, state) WHERE prospect_id IS NOT NULL;

CREATE TABLE invitation_syncs (
    account_id TEXT PRIMARY KEY REFERENCES linkedin_accounts (id),
    next_at    TIMESTAMP NOT NULL,
    synced_at  TIMESTAMP,
    listed     INTEGER CONSTRAINT invitation_syncs_listed_chk CHECK (listed >= 0),
    outside    INTEGER CONSTRAINT invitation_syncs_outside_chk CHECK (outside >= 0),
    last_error TEXT
);

INSERT INTO invitations (id, workspace_id, account_id, send_id, prospect_id, sent_at)
SELECT s.id, s.workspace_id, s.account_id, s.id, s.prospect_id, COALESCE(s.dispatched_at, s.claimed_at)
  FROM sends s JOIN enrollments en ON en.id = s.enrollment_id
 WHERE s.action = 'invite' AND s.state = 'confirmed' AND en.accepted_at IS NULL;

-- +goose Down
DROP TABLE invitation_syncs;
DROP TABLE invitations;
DROP TRIGGER sends_withdraw_of_invite;
ALTER TABLE account_pacing DROP COLUMN spread_withdraw_until;
ALTER TABLE linkedin_accounts DROP COLUMN withdraw_after_days;
ALTER TABLE linkedin_accounts DROP COLUMN cap_withdraw_daily;
ALTER TABLE linkedin_accounts DROP COLUMN cap_invite_pending;
