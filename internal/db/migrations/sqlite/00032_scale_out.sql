-- Scale-out, measured; see the PostgreSQL migration of the same number
-- (docs/benchmarks.md#state-flips-with-audit). A flip changes status, so
-- every index holding status is written on every flip: neither is kept.
-- The accounts overview's counts read the workspace's accounts through
-- linkedin_accounts_workspace_idx, and the few reads by status alone scan
-- a table of some thousand rows. (The guard's WHEN clause change is
-- PostgreSQL's: SQLite's guard is no function call.)

-- The two partial indexes on enrollments serve the scheduler pass's reads
-- of due work per account and per timed step.

-- +goose Up
CREATE INDEX enrollments_account_due_idx ON enrollments (account_id, next_action_at, id) WHERE state = 'active';
CREATE INDEX enrollments_step_due_idx ON enrollments (campaign_id, step_id, next_action_at) WHERE state = 'active';
DROP INDEX linkedin_accounts_workspace_status_idx;
DROP INDEX linkedin_accounts_status_idx;

-- +goose Down
DROP INDEX enrollments_step_due_idx;
DROP INDEX enrollments_account_due_idx;
CREATE INDEX linkedin_accounts_status_idx ON linkedin_accounts (status);
CREATE INDEX linkedin_accounts_workspace_status_idx ON linkedin_accounts (workspace_id, status);
