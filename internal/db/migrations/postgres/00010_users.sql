-- People who sign in to the web UI. Passwords are kept only as slow hashes
-- (bcrypt); an email is unique per workspace.

-- +goose Up
CREATE TABLE users (
    id            text PRIMARY KEY,
    workspace_id  text NOT NULL REFERENCES workspaces (id),
    email         text NOT NULL CONSTRAINT users_email_chk CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254 AND email LIKE '%_@_%'),
    password_hash text NOT NULL CONSTRAINT users_password_hash_chk CHECK (substr(password_hash, 1, 4) IN ('$2a$', '$2b$', '$2y$')),
    created_at    timestamptz NOT NULL,
    CONSTRAINT users_workspace_email_key UNIQUE (workspace_id, email)
);

-- +goose Down
DROP TABLE users;
