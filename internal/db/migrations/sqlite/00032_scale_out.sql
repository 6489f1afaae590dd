-- Scale-out, measured; see the PostgreSQL migration of the same number
-- (docs/benchmarks.md#state-flips-with-audit). A flip changes status, so
-- every index holding status is written on every flip: neither is kept.
-- The accounts overview's counts read the workspace's accounts through
-- linkedin_accounts_workspace_idx, and the few reads by status alone scan
-- a table of some thousand rows. (The guard's WHEN clause change is
-- PostgreSQL's: SQLite's guard is no function call.)

-- +goose Up
DROP INDEX linkedin_accounts_workspace_status_idx;
DROP INDEX linkedin_accounts_status_idx;

-- +goose Down
CREATE INDEX linkedin_accounts_status_idx ON linkedin_accounts (status);
CREATE INDEX linkedin_accounts_workspace_status_idx ON linkedin_accounts (workspace_id, status);
