-- The inbox (docs/inbox.md): every sender's conversations and their
-- messages, filled from the messaging webhooks and from a resumable
-- backfill of the chat and message lists. A conversation is one chat of one
-- account; a message is stored once per conversation (its provider id).
-- inbox_backfills and inbox_backfill_chats hold where each account's
-- backfill stands, so a restart resumes it without duplicates.
--
-- A reply typed in the inbox is a ledger row like every send (action
-- 'reply', docs/inbox.md#replying): it names its conversation and keeps its
-- text; it belongs to no campaign, enrollment or step, which every other
-- action still must name (sends_reply_chk). Its conversation and text never
-- change (sends_reply_identity), and a confirmed reply has its chat.

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
    last_message_at      timestamptz,
    last_message_text    text NOT NULL DEFAULT '',
    unread               integer NOT NULL DEFAULT 0 CONSTRAINT conversations_unread_chk CHECK (unread >= 0),
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
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
    from_self           boolean NOT NULL,
    sender_provider_id  text CONSTRAINT conversation_messages_sender_chk CHECK (length(sender_provider_id) BETWEEN 1 AND 200),
    text                text NOT NULL DEFAULT '' CONSTRAINT conversation_messages_text_chk CHECK (length(text) <= 20000),
    sent_at             timestamptz NOT NULL,
    stored_at           timestamptz NOT NULL,
    CONSTRAINT conversation_messages_provider_key UNIQUE (conversation_id, provider_message_id)
);
CREATE INDEX conversation_messages_thread_idx ON conversation_messages (conversation_id, sent_at, id);

CREATE TABLE inbox_backfills (
    account_id   text PRIMARY KEY REFERENCES linkedin_accounts (id),
    chats_cursor text,
    chats_done   boolean NOT NULL DEFAULT false,
    done_at      timestamptz,
    next_at      timestamptz NOT NULL,
    requests     integer NOT NULL DEFAULT 0 CONSTRAINT inbox_backfills_requests_chk CHECK (requests >= 0),
    last_error   text,
    CONSTRAINT inbox_backfills_done_chk CHECK (done_at IS NULL OR chats_done)
);

CREATE TABLE inbox_backfill_chats (
    account_id       text NOT NULL REFERENCES linkedin_accounts (id),
    provider_chat_id text NOT NULL,
    messages_cursor  text,
    done             boolean NOT NULL DEFAULT false,
    PRIMARY KEY (account_id, provider_chat_id)
);
CREATE INDEX inbox_backfill_chats_todo_idx ON inbox_backfill_chats (account_id) WHERE NOT done;

ALTER TABLE sends
    ALTER COLUMN campaign_id DROP NOT NULL,
    ALTER COLUMN enrollment_id DROP NOT NULL,
    ALTER COLUMN prospect_id DROP NOT NULL,
    ALTER COLUMN step_id DROP NOT NULL,
    ADD COLUMN conversation_id text REFERENCES conversations (id),
    ADD COLUMN reply_text text CONSTRAINT sends_reply_text_chk CHECK (length(reply_text) BETWEEN 1 AND 8000);
ALTER TABLE sends DROP CONSTRAINT sends_action_chk;
ALTER TABLE sends ADD CONSTRAINT sends_action_chk CHECK (action IN ('invite', 'message', 'inmail', 'view_profile', 'withdraw', 'reply'));
ALTER TABLE sends ADD CONSTRAINT sends_reply_chk CHECK (
    (action = 'reply') = (conversation_id IS NOT NULL AND reply_text IS NOT NULL)
    AND (action = 'reply' OR (campaign_id IS NOT NULL AND enrollment_id IS NOT NULL AND prospect_id IS NOT NULL AND step_id IS NOT NULL))
    AND (action <> 'reply' OR (campaign_id IS NULL AND enrollment_id IS NULL AND step_id IS NULL)));
ALTER TABLE sends DROP CONSTRAINT sends_confirmed_chat_chk;
ALTER TABLE sends ADD CONSTRAINT sends_confirmed_chat_chk
    CHECK (state <> 'confirmed' OR action NOT IN ('message', 'inmail', 'reply') OR chat_id IS NOT NULL OR settled_by IS NOT NULL);
CREATE INDEX sends_conversation_idx ON sends (conversation_id, claimed_at) WHERE conversation_id IS NOT NULL;

-- +goose StatementBegin
CREATE FUNCTION sends_reply_identity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'sends_reply_identity: a reply''s conversation and text cannot change'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'sends_reply_identity';
END $$;
-- +goose StatementEnd
CREATE TRIGGER sends_reply_identity BEFORE UPDATE ON sends FOR EACH ROW
    WHEN (OLD.conversation_id IS DISTINCT FROM NEW.conversation_id OR OLD.reply_text IS DISTINCT FROM NEW.reply_text)
    EXECUTE FUNCTION sends_reply_identity();

-- +goose Down
DROP TRIGGER sends_reply_identity ON sends;
DROP FUNCTION sends_reply_identity();
DROP INDEX sends_conversation_idx;
ALTER TABLE sends DROP CONSTRAINT sends_confirmed_chat_chk;
ALTER TABLE sends ADD CONSTRAINT sends_confirmed_chat_chk
    CHECK (state <> 'confirmed' OR action NOT IN ('message', 'inmail') OR chat_id IS NOT NULL OR settled_by IS NOT NULL);
ALTER TABLE sends DROP CONSTRAINT sends_reply_chk;
ALTER TABLE sends DROP CONSTRAINT sends_action_chk;
ALTER TABLE sends ADD CONSTRAINT sends_action_chk CHECK (action IN ('invite', 'message', 'inmail', 'view_profile', 'withdraw'));
ALTER TABLE sends DROP COLUMN reply_text, DROP COLUMN conversation_id;
DROP TABLE inbox_backfill_chats;
DROP TABLE inbox_backfills;
DROP TABLE conversation_messages;
DROP TABLE conversations;
