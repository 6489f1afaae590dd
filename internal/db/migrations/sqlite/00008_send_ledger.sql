-- The send ledger (docs/sending.md#the-send-ledger); see postgres/00008_send_ledger.sql for
-- the story. Same tables, constraints and rules on SQLite.

-- +goose Up
CREATE TABLE sends (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id),
    account_id    TEXT NOT NULL REFERENCES linkedin_accounts (id),
    campaign_id   TEXT NOT NULL REFERENCES campaigns (id),
    enrollment_id TEXT NOT NULL REFERENCES enrollments (id),
    prospect_id   TEXT NOT NULL REFERENCES prospects (id),
    step_id       TEXT NOT NULL,
    action        TEXT NOT NULL
                  CONSTRAINT sends_action_chk CHECK (action IN ('invite', 'message', 'inmail', 'view_profile')),
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
    CONSTRAINT sends_confirmed_chat_chk CHECK (state <> 'confirmed' OR action NOT IN ('message', 'inmail') OR chat_id IS NOT NULL),
    CONSTRAINT sends_dispatched_at_chk CHECK (state IN ('intent', 'cancelled') OR dispatched_at IS NOT NULL),
    CONSTRAINT sends_failed_error_chk CHECK (state NOT IN ('failed', 'cancelled') OR (error IS NOT NULL AND length(error) > 0)),
    CONSTRAINT sends_finished_chk CHECK ((state IN ('confirmed', 'failed', 'cancelled')) = (finished_at IS NOT NULL)),
    CONSTRAINT sends_parked_chk CHECK (parked_at IS NULL OR state = 'unknown')
);
CREATE UNIQUE INDEX sends_one_per_step_uidx ON sends (campaign_id, step_id, prospect_id) WHERE state NOT IN ('failed', 'cancelled');
CREATE INDEX sends_account_action_idx ON sends (account_id, action, claimed_at);
CREATE INDEX sends_campaign_action_idx ON sends (campaign_id, action, claimed_at);
CREATE INDEX sends_open_idx ON sends (state, claimed_at) WHERE state IN ('intent', 'dispatched', 'unknown');

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
     WHERE NEW.id IS NOT OLD.id OR NEW.account_id IS NOT OLD.account_id OR NEW.campaign_id IS NOT OLD.campaign_id
        OR NEW.enrollment_id IS NOT OLD.enrollment_id OR NEW.prospect_id IS NOT OLD.prospect_id
        OR NEW.step_id IS NOT OLD.step_id OR NEW.action IS NOT OLD.action OR NEW.claimed_at IS NOT OLD.claimed_at;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER sends_no_delete
    BEFORE DELETE ON sends
BEGIN
    SELECT RAISE(ABORT, 'sends_append_only: sends are a ledger, rows cannot be deleted');
END;
-- +goose StatementEnd

CREATE TABLE send_blocks (
    account_id TEXT NOT NULL REFERENCES linkedin_accounts (id),
    action     TEXT NOT NULL CONSTRAINT send_blocks_action_chk CHECK (action IN ('invite', 'message', 'inmail', 'view_profile')),
    kind       TEXT NOT NULL CONSTRAINT send_blocks_kind_chk CHECK (kind IN ('cooldown', 'credits')),
    until      TIMESTAMP NOT NULL,
    reason     TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, action, kind)
);

CREATE TABLE account_pacing (
    account_id      TEXT PRIMARY KEY REFERENCES linkedin_accounts (id),
    next_allowed_at TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE account_pacing;
DROP TABLE send_blocks;
DROP TABLE sends;
