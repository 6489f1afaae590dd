-- Accept bridging and unknown outcomes settled by a person; see the
-- PostgreSQL migration of the same number for the story. SQLite cannot
-- change a CHECK of an existing table, so sends is rebuilt with the
-- relaxed sends_confirmed_chat_chk and the new sends_settled_chk, and its
-- indexes and triggers (as 00012 left them) are made again.

-- +goose Up
ALTER TABLE prospects ADD COLUMN member_id TEXT
    CONSTRAINT prospects_member_id_chk CHECK (length(member_id) BETWEEN 1 AND 200);
ALTER TABLE prospects ADD COLUMN public_handle TEXT
    CONSTRAINT prospects_public_handle_chk CHECK (length(public_handle) BETWEEN 1 AND 200 AND public_handle = lower(public_handle));
CREATE INDEX prospects_member_id_idx ON prospects (workspace_id, member_id) WHERE member_id IS NOT NULL;
CREATE INDEX prospects_public_handle_idx ON prospects (workspace_id, public_handle) WHERE public_handle IS NOT NULL;

CREATE TABLE unmatched_accepts (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id),
    account_id    TEXT NOT NULL REFERENCES linkedin_accounts (id),
    person_key    TEXT NOT NULL CONSTRAINT unmatched_accepts_person_key_chk CHECK (length(person_key) BETWEEN 1 AND 220),
    provider_id   TEXT CONSTRAINT unmatched_accepts_provider_id_chk CHECK (length(provider_id) BETWEEN 1 AND 200),
    public_handle TEXT CONSTRAINT unmatched_accepts_public_handle_chk CHECK (length(public_handle) BETWEEN 1 AND 200),
    source        TEXT NOT NULL CONSTRAINT unmatched_accepts_source_chk CHECK (length(source) BETWEEN 1 AND 50),
    seen_at       TIMESTAMP NOT NULL,
    CONSTRAINT unmatched_accepts_identity_chk CHECK (
        (provider_id IS NOT NULL AND person_key = provider_id)
        OR (provider_id IS NULL AND public_handle IS NOT NULL AND person_key = 'handle:' || public_handle)),
    CONSTRAINT unmatched_accepts_person_key UNIQUE (account_id, person_key)
);
CREATE INDEX unmatched_accepts_workspace_idx ON unmatched_accepts (workspace_id, seen_at);

CREATE TABLE sends_new (
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
    with_note, claimed_at, dispatched_at, finished_at, provider_ref, chat_id, error_kind, error, parked_at)
SELECT id, workspace_id, account_id, campaign_id, enrollment_id, prospect_id, step_id, action, state,
    with_note, claimed_at, dispatched_at, finished_at, provider_ref, chat_id, error_kind, error, parked_at FROM sends;
DROP TABLE sends;
ALTER TABLE sends_new RENAME TO sends;
CREATE UNIQUE INDEX sends_one_per_step_uidx ON sends (campaign_id, step_id, prospect_id) WHERE state NOT IN ('failed', 'cancelled');
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

-- +goose Down
DROP TABLE unmatched_accepts;
DROP INDEX prospects_public_handle_idx;
DROP INDEX prospects_member_id_idx;
ALTER TABLE prospects DROP COLUMN public_handle;
ALTER TABLE prospects DROP COLUMN member_id;
