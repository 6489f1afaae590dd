-- The durable webhook inbox and hosted-auth links (docs/health.md#webhooks-from-unipile,
-- docs/accounts.md#connect-and-reconnect). The SQLite file of the same number must behave the same.
--
-- webhook_inbox: every authenticated Unipile delivery is stored here before
-- it is acknowledged, so a crash after the 200 loses nothing. Unipile
-- retries a delivery up to five times with the same body; dedupe_key (made
-- by internal/webhook from the payload) is unique, so retries and other
-- deliveries of the same logical event collapse into one row and one
-- effect. A row is processed at most once: once it leaves 'pending' its
-- outcome can never change again.
--
-- hosted_auth_links: one row per hosted-auth link Keel minted. Only the
-- SHA-256 of the link's notify_url token is kept, so a database leak does
-- not hand out working callback URLs; a link is single-use and cannot be
-- used after it expires.

-- +goose Up
CREATE TABLE webhook_inbox (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dedupe_key          text NOT NULL
                        CONSTRAINT webhook_inbox_dedupe_key_key UNIQUE
                        CONSTRAINT webhook_inbox_dedupe_key_chk CHECK (length(dedupe_key) BETWEEN 1 AND 200),
    source              text NOT NULL
                        CONSTRAINT webhook_inbox_source_chk CHECK (source IN ('account_status', 'users', 'messaging', 'unknown')),
    event               text NOT NULL,
    provider_account_id text,
    status_message      text,
    payload             text NOT NULL
                        CONSTRAINT webhook_inbox_payload_chk CHECK (json_typeof(payload::json) = 'object'),
    state               text NOT NULL DEFAULT 'pending'
                        CONSTRAINT webhook_inbox_state_chk CHECK (state IN ('pending', 'processed', 'ignored', 'failed')),
    note                text NOT NULL DEFAULT '',
    attempts            integer NOT NULL DEFAULT 0 CONSTRAINT webhook_inbox_attempts_chk CHECK (attempts >= 0),
    deliveries          integer NOT NULL DEFAULT 1 CONSTRAINT webhook_inbox_deliveries_chk CHECK (deliveries >= 1),
    last_error          text,
    received_at         timestamptz NOT NULL,
    last_received_at    timestamptz NOT NULL,
    claimed_until       timestamptz,
    processed_at        timestamptz,
    -- processed_at is the "done" marker: set exactly when the row left pending.
    CONSTRAINT webhook_inbox_processed_chk CHECK ((state = 'pending') = (processed_at IS NULL)),
    -- A finished row holds no claim.
    CONSTRAINT webhook_inbox_claim_chk CHECK (state = 'pending' OR claimed_until IS NULL),
    -- Status events are only useful (and only deduplicated) with both parts.
    CONSTRAINT webhook_inbox_account_status_chk CHECK (
        source <> 'account_status' OR (provider_account_id IS NOT NULL AND status_message IS NOT NULL)),
    CONSTRAINT webhook_inbox_received_chk CHECK (last_received_at >= received_at)
);
-- The work queue: pending rows in arrival order.
CREATE INDEX webhook_inbox_pending_idx ON webhook_inbox (id) WHERE state = 'pending';
-- The receiver's "latest status event of this account" lookup.
CREATE INDEX webhook_inbox_account_idx ON webhook_inbox (provider_account_id, id);

-- What a delivery said is immutable, a pending row cannot be deleted (that
-- would drop a delivery Unipile was told we had), and a finished row keeps
-- its outcome: only its delivery counter may still grow.
-- +goose StatementBegin
CREATE FUNCTION webhook_inbox_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.state = 'pending' THEN
            RAISE EXCEPTION 'webhook_inbox_guard: pending delivery % cannot be deleted before it is processed', OLD.id
                USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'webhook_inbox_guard';
        END IF;
        RETURN OLD;
    END IF;
    IF (NEW.id, NEW.dedupe_key, NEW.source, NEW.event, NEW.provider_account_id, NEW.status_message, NEW.payload, NEW.received_at)
       IS DISTINCT FROM
       (OLD.id, OLD.dedupe_key, OLD.source, OLD.event, OLD.provider_account_id, OLD.status_message, OLD.payload, OLD.received_at) THEN
        RAISE EXCEPTION 'webhook_inbox_guard: delivery % is immutable', OLD.id
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'webhook_inbox_guard';
    END IF;
    IF OLD.state <> 'pending'
       AND (NEW.state, NEW.processed_at, NEW.note, NEW.attempts, NEW.last_error, NEW.claimed_until)
           IS DISTINCT FROM (OLD.state, OLD.processed_at, OLD.note, OLD.attempts, OLD.last_error, OLD.claimed_until) THEN
        RAISE EXCEPTION 'webhook_inbox_guard: delivery % is already %; it cannot be processed again', OLD.id, OLD.state
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'webhook_inbox_guard';
    END IF;
    IF NEW.deliveries < OLD.deliveries OR NEW.last_received_at < OLD.last_received_at THEN
        RAISE EXCEPTION 'webhook_inbox_guard: delivery counters of % only grow', OLD.id
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'webhook_inbox_guard';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER webhook_inbox_guard
    BEFORE UPDATE OR DELETE ON webhook_inbox
    FOR EACH ROW EXECUTE FUNCTION webhook_inbox_guard();

CREATE TABLE hosted_auth_links (
    id                  text PRIMARY KEY,
    token_hash          text NOT NULL
                        CONSTRAINT hosted_auth_links_token_hash_key UNIQUE
                        CONSTRAINT hosted_auth_links_token_hash_chk CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    workspace_id        text NOT NULL REFERENCES workspaces (id),
    link_type           text NOT NULL
                        CONSTRAINT hosted_auth_links_type_chk CHECK (link_type IN ('create', 'reconnect')),
    -- The account to reconnect, or (create links, once used) the account
    -- the link created.
    account_id          text REFERENCES linkedin_accounts (id),
    -- reconnect_account as sent to Unipile (reconnect links only).
    provider_account_id text,
    created_at          timestamptz NOT NULL,
    expires_at          timestamptz NOT NULL,
    used_at             timestamptz,
    result_status       text
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

-- A link is single-use: once used_at is set nothing about it changes. What
-- it was minted for never changes. The account it names always belongs to
-- the link's workspace, so a callback can never move an account across
-- workspaces.
-- +goose StatementBegin
CREATE FUNCTION hosted_auth_links_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.account_id IS NOT NULL
       AND (SELECT workspace_id FROM linkedin_accounts WHERE id = NEW.account_id) IS DISTINCT FROM NEW.workspace_id THEN
        RAISE EXCEPTION 'hosted_auth_links_guard: account % is not in workspace %', NEW.account_id, NEW.workspace_id
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'hosted_auth_links_guard';
    END IF;
    IF TG_OP = 'UPDATE' THEN
        IF OLD.used_at IS NOT NULL AND ROW(NEW.*) IS DISTINCT FROM ROW(OLD.*) THEN
            RAISE EXCEPTION 'hosted_auth_links_guard: link % was already used', OLD.id
                USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'hosted_auth_links_guard';
        END IF;
        IF (NEW.id, NEW.token_hash, NEW.workspace_id, NEW.link_type, NEW.provider_account_id, NEW.created_at, NEW.expires_at)
           IS DISTINCT FROM
           (OLD.id, OLD.token_hash, OLD.workspace_id, OLD.link_type, OLD.provider_account_id, OLD.created_at, OLD.expires_at)
           OR (OLD.account_id IS NOT NULL AND NEW.account_id IS DISTINCT FROM OLD.account_id)
           OR (NEW.account_id IS DISTINCT FROM OLD.account_id AND NEW.used_at IS NULL) THEN
            RAISE EXCEPTION 'hosted_auth_links_guard: link % can only be marked used', OLD.id
                USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'hosted_auth_links_guard';
        END IF;
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER hosted_auth_links_guard
    BEFORE INSERT OR UPDATE ON hosted_auth_links
    FOR EACH ROW EXECUTE FUNCTION hosted_auth_links_guard();

-- +goose Down
DROP TABLE hosted_auth_links;
DROP TABLE webhook_inbox;
DROP FUNCTION hosted_auth_links_guard();
DROP FUNCTION webhook_inbox_guard();
