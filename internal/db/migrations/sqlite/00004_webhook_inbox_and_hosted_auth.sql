-- The durable webhook inbox and hosted-auth links (docs/health.md#webhooks-from-unipile,
-- docs/accounts.md#connect-and-reconnect). The PostgreSQL file of the same number must behave the
-- same; see it for the reasoning. Times are stored as text in one format
-- (UTC, microseconds), so text comparison is time comparison.

-- +goose Up
CREATE TABLE webhook_inbox (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    dedupe_key          TEXT NOT NULL
                        CONSTRAINT webhook_inbox_dedupe_key_key UNIQUE
                        CONSTRAINT webhook_inbox_dedupe_key_chk CHECK (length(dedupe_key) BETWEEN 1 AND 200),
    source              TEXT NOT NULL
                        CONSTRAINT webhook_inbox_source_chk CHECK (source IN ('account_status', 'users', 'messaging', 'unknown')),
    event               TEXT NOT NULL,
    provider_account_id TEXT,
    status_message      TEXT,
    payload             TEXT NOT NULL
                        CONSTRAINT webhook_inbox_payload_chk CHECK (json_valid(payload) AND json_type(payload) = 'object'),
    state               TEXT NOT NULL DEFAULT 'pending'
                        CONSTRAINT webhook_inbox_state_chk CHECK (state IN ('pending', 'processed', 'ignored', 'failed')),
    note                TEXT NOT NULL DEFAULT '',
    attempts            INTEGER NOT NULL DEFAULT 0 CONSTRAINT webhook_inbox_attempts_chk CHECK (attempts >= 0),
    deliveries          INTEGER NOT NULL DEFAULT 1 CONSTRAINT webhook_inbox_deliveries_chk CHECK (deliveries >= 1),
    last_error          TEXT,
    received_at         TIMESTAMP NOT NULL,
    last_received_at    TIMESTAMP NOT NULL,
    claimed_until       TIMESTAMP,
    processed_at        TIMESTAMP,
    CONSTRAINT webhook_inbox_processed_chk CHECK ((state = 'pending') = (processed_at IS NULL)),
    CONSTRAINT webhook_inbox_claim_chk CHECK (state = 'pending' OR claimed_until IS NULL),
    CONSTRAINT webhook_inbox_account_status_chk CHECK (
        source <> 'account_status' OR (provider_account_id IS NOT NULL AND status_message IS NOT NULL)),
    CONSTRAINT webhook_inbox_received_chk CHECK (last_received_at >= received_at)
);
CREATE INDEX webhook_inbox_pending_idx ON webhook_inbox (id) WHERE state = 'pending';
CREATE INDEX webhook_inbox_account_idx ON webhook_inbox (provider_account_id, id);

-- +goose StatementBegin
CREATE TRIGGER webhook_inbox_guard_delete
    BEFORE DELETE ON webhook_inbox
    WHEN OLD.state = 'pending'
BEGIN
    SELECT RAISE(ABORT, 'webhook_inbox_guard: a pending delivery cannot be deleted before it is processed');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER webhook_inbox_guard_update
    BEFORE UPDATE ON webhook_inbox
BEGIN
    SELECT RAISE(ABORT, 'webhook_inbox_guard: a delivery is immutable')
     WHERE NEW.id IS NOT OLD.id OR NEW.dedupe_key IS NOT OLD.dedupe_key OR NEW.source IS NOT OLD.source
        OR NEW.event IS NOT OLD.event OR NEW.provider_account_id IS NOT OLD.provider_account_id
        OR NEW.status_message IS NOT OLD.status_message OR NEW.payload IS NOT OLD.payload
        OR NEW.received_at IS NOT OLD.received_at;
    SELECT RAISE(ABORT, 'webhook_inbox_guard: a finished delivery cannot be processed again')
     WHERE OLD.state <> 'pending'
       AND (NEW.state IS NOT OLD.state OR NEW.processed_at IS NOT OLD.processed_at OR NEW.note IS NOT OLD.note
            OR NEW.attempts IS NOT OLD.attempts OR NEW.last_error IS NOT OLD.last_error
            OR NEW.claimed_until IS NOT OLD.claimed_until);
    SELECT RAISE(ABORT, 'webhook_inbox_guard: delivery counters only grow')
     WHERE NEW.deliveries < OLD.deliveries OR NEW.last_received_at < OLD.last_received_at;
END;
-- +goose StatementEnd

CREATE TABLE hosted_auth_links (
    id                  TEXT PRIMARY KEY,
    token_hash          TEXT NOT NULL
                        CONSTRAINT hosted_auth_links_token_hash_key UNIQUE
                        CONSTRAINT hosted_auth_links_token_hash_chk CHECK (length(token_hash) = 64 AND token_hash NOT GLOB '*[^0-9a-f]*'),
    workspace_id        TEXT NOT NULL REFERENCES workspaces (id),
    link_type           TEXT NOT NULL
                        CONSTRAINT hosted_auth_links_type_chk CHECK (link_type IN ('create', 'reconnect')),
    account_id          TEXT REFERENCES linkedin_accounts (id),
    provider_account_id TEXT,
    created_at          TIMESTAMP NOT NULL,
    expires_at          TIMESTAMP NOT NULL,
    used_at             TIMESTAMP,
    result_status       TEXT
                        CONSTRAINT hosted_auth_links_result_chk CHECK (result_status IN ('CREATION_SUCCESS', 'RECONNECTED', 'OK')),
    CONSTRAINT hosted_auth_links_expiry_chk CHECK (expires_at > created_at),
    CONSTRAINT hosted_auth_links_reconnect_chk CHECK (
        link_type <> 'reconnect' OR (account_id IS NOT NULL AND provider_account_id IS NOT NULL)),
    CONSTRAINT hosted_auth_links_create_chk CHECK (link_type <> 'create' OR provider_account_id IS NULL),
    CONSTRAINT hosted_auth_links_used_chk CHECK (
        (used_at IS NULL) = (result_status IS NULL)
        AND (used_at IS NULL OR (account_id IS NOT NULL AND used_at >= created_at AND used_at <= expires_at)))
);
CREATE INDEX hosted_auth_links_workspace_idx ON hosted_auth_links (workspace_id, created_at);

-- +goose StatementBegin
CREATE TRIGGER hosted_auth_links_guard_insert
    BEFORE INSERT ON hosted_auth_links
BEGIN
    SELECT RAISE(ABORT, 'hosted_auth_links_guard: the account is not in the link''s workspace')
     WHERE NEW.account_id IS NOT NULL
       AND (SELECT workspace_id FROM linkedin_accounts WHERE id = NEW.account_id) IS NOT NEW.workspace_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER hosted_auth_links_guard_update
    BEFORE UPDATE ON hosted_auth_links
BEGIN
    SELECT RAISE(ABORT, 'hosted_auth_links_guard: the link was already used')
     WHERE OLD.used_at IS NOT NULL
       AND (NEW.id IS NOT OLD.id OR NEW.token_hash IS NOT OLD.token_hash OR NEW.workspace_id IS NOT OLD.workspace_id
            OR NEW.link_type IS NOT OLD.link_type OR NEW.account_id IS NOT OLD.account_id
            OR NEW.provider_account_id IS NOT OLD.provider_account_id OR NEW.created_at IS NOT OLD.created_at
            OR NEW.expires_at IS NOT OLD.expires_at OR NEW.used_at IS NOT OLD.used_at
            OR NEW.result_status IS NOT OLD.result_status);
    SELECT RAISE(ABORT, 'hosted_auth_links_guard: a link can only be marked used')
     WHERE NEW.id IS NOT OLD.id OR NEW.token_hash IS NOT OLD.token_hash OR NEW.workspace_id IS NOT OLD.workspace_id
        OR NEW.link_type IS NOT OLD.link_type OR NEW.provider_account_id IS NOT OLD.provider_account_id
        OR NEW.created_at IS NOT OLD.created_at OR NEW.expires_at IS NOT OLD.expires_at
        OR (OLD.account_id IS NOT NULL AND NEW.account_id IS NOT OLD.account_id)
        OR (NEW.account_id IS NOT OLD.account_id AND NEW.used_at IS NULL);
    SELECT RAISE(ABORT, 'hosted_auth_links_guard: the account is not in the link''s workspace')
     WHERE NEW.account_id IS NOT NULL
       AND (SELECT workspace_id FROM linkedin_accounts WHERE id = NEW.account_id) IS NOT NEW.workspace_id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE hosted_auth_links;
DROP TABLE webhook_inbox;
