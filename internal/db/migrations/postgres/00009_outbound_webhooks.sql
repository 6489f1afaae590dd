-- Outbound webhooks (docs/surfaces.md#outbound-webhooks): per-workspace endpoints, the events
-- emitted inside the transaction of the change they describe, one delivery
-- per (event, endpoint) retried with backoff, and a log of every attempt.
--
-- The endpoint secret itself is never stored: the column secret holds the
-- signing key hex(SHA-256(secret)) (outbound.SigningKey). The secret is
-- shown once at creation; the key is wiped when the endpoint is deleted.
-- The attempt bound (8) matches outbound.MaxAttempts.

-- +goose Up
CREATE TABLE outbound_endpoints (
    id           text PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspaces (id),
    url          text NOT NULL
                 CONSTRAINT outbound_endpoints_url_chk CHECK (url ~ '^https?://' AND length(url) <= 2048),
    -- Comma-separated event names; empty means every event.
    events       text NOT NULL DEFAULT '',
    secret       text NOT NULL,
    active       boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL,
    deleted_at   timestamptz,
    CONSTRAINT outbound_endpoints_secret_chk CHECK (deleted_at IS NOT NULL OR length(secret) >= 32),
    CONSTRAINT outbound_endpoints_deleted_chk CHECK (deleted_at IS NULL OR (NOT active AND secret = '')),
    CONSTRAINT outbound_endpoints_ws_uniq UNIQUE (id, workspace_id)
);
CREATE UNIQUE INDEX outbound_endpoints_url_uidx ON outbound_endpoints (workspace_id, url) WHERE deleted_at IS NULL;

CREATE TABLE outbound_events (
    id           text PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspaces (id),
    type         text NOT NULL
                 CONSTRAINT outbound_events_type_chk CHECK (type IN ('linkedin.invite_accepted', 'linkedin.reply_received',
                   'linkedin.message_sent', 'linkedin.account_disconnected', 'linkedin.account_connected')),
    -- The exact JSON body every delivery of this event sends.
    body         text NOT NULL,
    created_at   timestamptz NOT NULL,
    CONSTRAINT outbound_events_ws_uniq UNIQUE (id, workspace_id)
);
CREATE INDEX outbound_events_workspace_idx ON outbound_events (workspace_id, created_at);

CREATE TABLE outbound_deliveries (
    id               text PRIMARY KEY,
    workspace_id     text NOT NULL REFERENCES workspaces (id),
    event_id         text NOT NULL,
    endpoint_id      text NOT NULL,
    state            text NOT NULL DEFAULT 'pending'
                     CONSTRAINT outbound_deliveries_state_chk CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts         integer NOT NULL DEFAULT 0
                     CONSTRAINT outbound_deliveries_attempts_chk CHECK (attempts BETWEEN 0 AND 8),
    next_attempt_at  timestamptz,
    last_status_code integer,
    last_error       text,
    delivered_at     timestamptz,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    CONSTRAINT outbound_deliveries_event_fk FOREIGN KEY (event_id, workspace_id) REFERENCES outbound_events (id, workspace_id),
    CONSTRAINT outbound_deliveries_endpoint_fk FOREIGN KEY (endpoint_id, workspace_id) REFERENCES outbound_endpoints (id, workspace_id),
    CONSTRAINT outbound_deliveries_once_uniq UNIQUE (event_id, endpoint_id),
    CONSTRAINT outbound_deliveries_next_chk CHECK ((state = 'pending') = (next_attempt_at IS NOT NULL)),
    CONSTRAINT outbound_deliveries_delivered_chk CHECK ((state = 'delivered') = (delivered_at IS NOT NULL) AND (state <> 'delivered' OR attempts >= 1)),
    CONSTRAINT outbound_deliveries_failed_chk CHECK (state <> 'failed' OR (last_error IS NOT NULL AND length(last_error) > 0))
);
CREATE INDEX outbound_deliveries_due_idx ON outbound_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbound_deliveries_workspace_idx ON outbound_deliveries (workspace_id, created_at, id);

CREATE TABLE outbound_delivery_attempts (
    id           text PRIMARY KEY,
    delivery_id  text NOT NULL REFERENCES outbound_deliveries (id),
    attempt      integer NOT NULL
                 CONSTRAINT outbound_delivery_attempts_attempt_chk CHECK (attempt BETWEEN 1 AND 8),
    status_code  integer
                 CONSTRAINT outbound_delivery_attempts_status_chk CHECK (status_code IS NULL OR status_code BETWEEN 100 AND 599),
    error        text,
    duration_ms  bigint NOT NULL CONSTRAINT outbound_delivery_attempts_duration_chk CHECK (duration_ms >= 0),
    attempted_at timestamptz NOT NULL,
    CONSTRAINT outbound_delivery_attempts_once_uniq UNIQUE (delivery_id, attempt),
    CONSTRAINT outbound_delivery_attempts_outcome_chk CHECK (error IS NOT NULL OR status_code BETWEEN 200 AND 299)
);

-- +goose Down
DROP TABLE outbound_delivery_attempts;
DROP TABLE outbound_deliveries;
DROP TABLE outbound_events;
DROP TABLE outbound_endpoints;
