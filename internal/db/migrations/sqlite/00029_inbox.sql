-- The inbox; see the PostgreSQL migration of the same number (docs/inbox.md): every sender's conversations and their
-- messages, filled from the messaging webhooks and from a resumable
-- backfill of the chat and message lists. A conversation is one chat of one
-- account; a message is stored once per conversation (its provider id).
-- inbox_backfills and inbox_backfill_chats hold where each account's
-- backfill stands, so a restart resumes it without duplicates.

-- +goose Up
CREATE TABLE conversations (
    id                   text PRIMARY KEY,
    workspace_id         text NOT NULL REFERENCES workspaces (id),
    account_id           text NOT NULL REFERENCES linkedin_accounts (id),
    provider_chat_id     text NOT NULL CONSTRAINT conversations_provider_chat_id_chk CHECK (length(provider_chat_id) BETWEEN 1 AND 200),
    attendee_provider_id text CONSTRAINT conversations_attendee_provider_id_chk CHECK (length(attendee_provider_id) BETWEEN 1 AND 200),
    attendee_name        text NOT NULL DEFAULT '' CONSTRAINT conversations_attendee_name_chk CHECK (length(attendee_name) <= 300),
    prospect_id          text REFERENCES prospects (id),
    campaign_id          text REFERENCES campaigns (id),
    last_message_at      TIMESTAMP,
    last_message_text    text NOT NULL DEFAULT '',
    unread               integer NOT NULL DEFAULT 0 CONSTRAINT conversations_unread_chk CHECK (unread >= 0),
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL,
    CONSTRAINT conversations_chat_key UNIQUE (account_id, provider_chat_id),
    CONSTRAINT conversations_campaign_chk CHECK (campaign_id IS NULL OR prospect_id IS NOT NULL)
);
CREATE INDEX conversations_list_idx ON conversations (workspace_id, last_message_at DESC, id);
CREATE INDEX conversations_prospect_idx ON conversations (prospect_id) WHERE prospect_id IS NOT NULL;

CREATE TABLE conversation_messages (
    id                  text PRIMARY KEY,
    conversation_id     text NOT NULL REFERENCES conversations (id),
    provider_message_id text NOT NULL CONSTRAINT conversation_messages_provider_message_id_chk
                        CHECK (length(provider_message_id) BETWEEN 1 AND 200),
    from_self           INTEGER NOT NULL CONSTRAINT conversation_messages_from_self_chk CHECK (from_self IN (0, 1)),
    sender_provider_id  text CONSTRAINT conversation_messages_sender_chk CHECK (length(sender_provider_id) BETWEEN 1 AND 200),
    text                text NOT NULL DEFAULT '' CONSTRAINT conversation_messages_text_chk CHECK (length(text) <= 20000),
    sent_at             TIMESTAMP NOT NULL,
    stored_at           TIMESTAMP NOT NULL,
    CONSTRAINT conversation_messages_provider_key UNIQUE (conversation_id, provider_message_id)
);
CREATE INDEX conversation_messages_thread_idx ON conversation_messages (conversation_id, sent_at, id);

CREATE TABLE inbox_backfills (
    account_id   text PRIMARY KEY REFERENCES linkedin_accounts (id),
    chats_cursor text,
    chats_done   INTEGER NOT NULL DEFAULT 0 CONSTRAINT inbox_backfills_chats_done_chk CHECK (chats_done IN (0, 1)),
    done_at      TIMESTAMP,
    next_at      TIMESTAMP NOT NULL,
    requests     integer NOT NULL DEFAULT 0 CONSTRAINT inbox_backfills_requests_chk CHECK (requests >= 0),
    last_error   text,
    CONSTRAINT inbox_backfills_done_chk CHECK (done_at IS NULL OR chats_done = 1)
);

CREATE TABLE inbox_backfill_chats (
    account_id       text NOT NULL REFERENCES linkedin_accounts (id),
    provider_chat_id text NOT NULL,
    messages_cursor  text,
    done             INTEGER NOT NULL DEFAULT 0 CONSTRAINT inbox_backfill_chats_done_chk CHECK (done IN (0, 1)),
    PRIMARY KEY (account_id, provider_chat_id)
);
CREATE INDEX inbox_backfill_chats_todo_idx ON inbox_backfill_chats (account_id) WHERE done = 0;


-- A reply typed in the inbox is a ledger row like every send; see the
-- PostgreSQL migration. SQLite cannot drop a NOT NULL or change a CHECK, so
-- sends is rebuilt again (as 00024 left it), with its indexes and triggers;
-- invitations, which references it, is set aside and made again around it.
CREATE TABLE invitations_kept AS SELECT * FROM invitations;
DROP TABLE invitations;
CREATE TABLE sends_new (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id),
    account_id    TEXT NOT NULL REFERENCES linkedin_accounts (id),
    campaign_id   TEXT REFERENCES campaigns (id),
    enrollment_id TEXT REFERENCES enrollments (id),
    prospect_id   TEXT REFERENCES prospects (id),
    step_id       TEXT,
    action        TEXT NOT NULL
                  CONSTRAINT sends_action_chk CHECK (action IN ('invite', 'message', 'inmail', 'view_profile', 'withdraw', 'reply')),
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
    conversation_id TEXT REFERENCES conversations (id),
    reply_text    TEXT CONSTRAINT sends_reply_text_chk CHECK (length(reply_text) BETWEEN 1 AND 8000),
    CONSTRAINT sends_reply_chk CHECK (
        (action = 'reply') = (conversation_id IS NOT NULL AND reply_text IS NOT NULL)
        AND (action = 'reply' OR (campaign_id IS NOT NULL AND enrollment_id IS NOT NULL AND prospect_id IS NOT NULL AND step_id IS NOT NULL))
        AND (action <> 'reply' OR (campaign_id IS NULL AND enrollment_id IS NULL AND step_id IS NULL))),    CONSTRAINT sends_confirmed_chat_chk
        CHECK (state <> 'confirmed' OR action NOT IN ('message', 'inmail', 'reply') OR chat_id IS NOT NULL OR settled_by IS NOT NULL),
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
CREATE INDEX sends_conversation_idx ON sends (conversation_id, claimed_at) WHERE conversation_id IS NOT NULL;
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

-- +goose StatementBegin
CREATE TRIGGER sends_reply_identity
    BEFORE UPDATE ON sends
    WHEN OLD.conversation_id IS NOT NEW.conversation_id OR OLD.reply_text IS NOT NEW.reply_text
BEGIN
    SELECT RAISE(ABORT, 'sends_reply_identity: a reply''s conversation and text cannot change');
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

INSERT INTO invitations SELECT * FROM invitations_kept;
DROP TABLE invitations_kept;

-- +goose Down
DROP TRIGGER sends_reply_identity;
DROP TABLE inbox_backfill_chats;
DROP TABLE inbox_backfills;
DROP TABLE conversation_messages;
DROP TABLE conversations;
