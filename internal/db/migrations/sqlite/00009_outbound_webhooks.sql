-- Outbound webhooks; see postgres/00009_outbound_webhooks.sql for the story
-- (the endpoint secret column holds only hex(SHA-256(secret)), the signing key). Same tables,
-- constraints and rules on SQLite.

-- +goose Up
CREATE TABLE outbound_endpoints (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    url          TEXT NOT NULL
                 CONSTRAINT outbound_endpoints_url_chk CHECK ((url LIKE 'http://%' OR url LIKE 'https://%') AND length(url) <= 2048),
    events       TEXT NOT NULL DEFAULT '',
    secret       TEXT NOT NULL,
    active       INTEGER NOT NULL DEFAULT 1 CONSTRAINT outbound_endpoints_active_chk CHECK (active IN (0, 1)),
    created_at   TIMESTAMP NOT NULL,
    deleted_at   TIMESTAMP,
    CONSTRAINT outbound_endpoints_secret_chk CHECK (deleted_at IS NOT NULL OR length(secret) >= 32),
    CONSTRAINT outbound_endpoints_deleted_chk CHECK (deleted_at IS NULL OR (active = 0 AND secret = '')),
    CONSTRAINT outbound_endpoints_ws_uniq UNIQUE (id, workspace_id)
);
CREATE UNIQUE INDEX outbound_endpoints_url_uidx ON outbound_endpoints (workspace_id, url) WHERE deleted_at IS NULL;

CREATE TABLE outbound_events (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    type         TEXT NOT NULL
                 CONSTRAINT outbound_events_type_chk CHECK (type IN ('linkedin.invite_accepted', 'linkedin.reply_received',
                   'linkedin.message_sent', 'linkedin.account_disconnected', 'linkedin.account_connected')),
    body         TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    CONSTRAINT outbound_events_ws_uniq UNIQUE (id, workspace_id)
);
CREATE INDEX outbound_events_workspace_idx ON outbound_events (workspace_id, created_at);

CREATE TABLE outbound_deliveries (
    id               TEXT PRIMARY KEY,
    workspace_id     TEXT NOT NULL REFERENCES workspaces (id),
    event_id         TEXT NOT NULL,
    endpoint_id      TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'pending'
                     CONSTRAINT outbound_deliveries_state_chk CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0
                     CONSTRAINT outbound_deliveries_attempts_chk CHECK (attempts BETWEEN 0 AND 8),
    next_attempt_at  TIMESTAMP,
    last_status_code INTEGER,
    last_error       TEXT,
    delivered_at     TIMESTAMP,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
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
    id           TEXT PRIMARY KEY,
    delivery_id  TEXT NOT NULL REFERENCES outbound_deliveries (id),
    attempt      INTEGER NOT NULL
                 CONSTRAINT outbound_delivery_attempts_attempt_chk CHECK (attempt BETWEEN 1 AND 8),
    status_code  INTEGER
                 CONSTRAINT outbound_delivery_attempts_status_chk CHECK (status_code IS NULL OR status_code BETWEEN 100 AND 599),
    error        TEXT,
    duration_ms  INTEGER NOT NULL CONSTRAINT outbound_delivery_attempts_duration_chk CHECK (duration_ms >= 0),
    attempted_at TIMESTAMP NOT NULL,
    CONSTRAINT outbound_delivery_attempts_once_uniq UNIQUE (delivery_id, attempt),
    CONSTRAINT outbound_delivery_attempts_outcome_chk CHECK (error IS NOT NULL OR status_code BETWEEN 200 AND 299)
);

-- +goose Down
DROP TABLE outbound_delivery_attempts;
DROP TABLE outbound_deliveries;
DROP TABLE outbound_events;
DROP TABLE outbound_endpoints;
