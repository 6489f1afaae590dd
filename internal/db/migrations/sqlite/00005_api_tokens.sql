-- Workspace-scoped API tokens. Only a SHA-256 hash of each token is kept;
-- the token itself is shown once, when it is created.

-- +goose Up
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    token_hash   TEXT NOT NULL UNIQUE CONSTRAINT api_tokens_hash_chk CHECK (length(token_hash) = 64),
    name         TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at   TIMESTAMP
);
CREATE INDEX api_tokens_workspace_idx ON api_tokens (workspace_id);

-- +goose Down
DROP TABLE api_tokens;
