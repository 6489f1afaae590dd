-- Scale-out, measured (docs/benchmarks.md#state-flips-with-audit).
--
-- A flip rewrites the account row. Migration 11 made that rewrite a
-- heap-only update (no index holds status); migration 28's
-- (workspace_id, status) index for the accounts overview's counts undid
-- it, so every flip again wrote an entry into each of the table's six
-- indexes. The counts read the workspace's accounts through
-- linkedin_accounts_workspace_idx instead (a few thousand rows), and flips
-- are heap-only again.
--
-- The guard that refuses a status change without its audit row ran a
-- plpgsql function on every flip only to find it was called from the
-- apply trigger. The same test moves into the trigger's WHEN clause,
-- evaluated before any function call: pg_trigger_depth() is 0 for a
-- client's UPDATE and 1 for the apply trigger's, so the function now runs
-- only to refuse.

-- A scheduler pass reads the first few due enrollments of each account
-- (enrollments_account_due_idx) and the due waits and conditions of each
-- running campaign's timed steps (enrollments_step_due_idx): short index
-- reads whose cost follows the accounts and the due work, not the size of
-- the due backlog or of the table
-- (docs/benchmarks.md#scheduler-pass-at-10000000-enrollments).

-- +goose Up
CREATE INDEX enrollments_account_due_idx ON enrollments (account_id, next_action_at, id) WHERE state = 'active';
CREATE INDEX enrollments_step_due_idx ON enrollments (campaign_id, step_id, next_action_at) WHERE state = 'active';
DROP INDEX linkedin_accounts_workspace_status_idx;
DROP TRIGGER linkedin_accounts_audit_pairing ON linkedin_accounts;
CREATE TRIGGER linkedin_accounts_audit_pairing
    BEFORE UPDATE ON linkedin_accounts
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status AND pg_trigger_depth() < 1)
    EXECUTE FUNCTION linkedin_accounts_status_from_audit();

-- +goose Down
DROP INDEX enrollments_step_due_idx;
DROP INDEX enrollments_account_due_idx;
DROP TRIGGER linkedin_accounts_audit_pairing ON linkedin_accounts;
CREATE TRIGGER linkedin_accounts_audit_pairing
    BEFORE UPDATE ON linkedin_accounts
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION linkedin_accounts_status_from_audit();
CREATE INDEX linkedin_accounts_workspace_status_idx ON linkedin_accounts (workspace_id, status);
