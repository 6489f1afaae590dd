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

-- +goose Down
DROP TABLE inbox_backfill_chats;
DROP TABLE inbox_backfills;
DROP TABLE conversation_messages;
DROP TABLE conversations;
