-- The campaign page at 100,000 prospects (docs/benchmarks.md#campaign-page,
-- docs/storage.md#enrollment-state-counts): a campaign's prospects per
-- state are kept by the database beside the enrollments, as deltas the
-- enrollments' own triggers append and a fold sums; and the diagnosis's
-- lookups read index entries instead of the campaign's rows.

-- +goose Up
CREATE TABLE enrollment_state_counts (
    id INTEGER PRIMARY KEY,
    campaign_id text NOT NULL,
    state text NOT NULL,
    n integer NOT NULL CONSTRAINT enrollment_state_counts_n_chk CHECK (n <> 0)
);
CREATE INDEX enrollment_state_counts_campaign_idx ON enrollment_state_counts (campaign_id, state);

-- SQLite has row-level triggers only: one delta per enrollment that
-- enters, moves between states or leaves; an import folds its own at the
-- end of its transaction.
-- +goose StatementBegin
CREATE TRIGGER enrollment_state_counts_added AFTER INSERT ON enrollments
BEGIN
    INSERT INTO enrollment_state_counts (campaign_id, state, n) VALUES (NEW.campaign_id, NEW.state, 1);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER enrollment_state_counts_moved AFTER UPDATE OF state, campaign_id ON enrollments
    WHEN OLD.state IS NOT NEW.state OR OLD.campaign_id IS NOT NEW.campaign_id
BEGIN
    INSERT INTO enrollment_state_counts (campaign_id, state, n)
    VALUES (OLD.campaign_id, OLD.state, -1), (NEW.campaign_id, NEW.state, 1);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER enrollment_state_counts_removed AFTER DELETE ON enrollments
BEGIN
    INSERT INTO enrollment_state_counts (campaign_id, state, n) VALUES (OLD.campaign_id, OLD.state, -1);
END;
-- +goose StatementEnd

-- A delta is never edited: only the triggers append and only the fold
-- (which deletes rows and appends their sums in one transaction) removes.
-- +goose StatementBegin
CREATE TRIGGER enrollment_state_counts_immutable BEFORE UPDATE ON enrollment_state_counts
BEGIN
    SELECT RAISE(ABORT, 'enrollment_state_counts_immutable: a count delta cannot change');
END;
-- +goose StatementEnd

INSERT INTO enrollment_state_counts (campaign_id, state, n)
SELECT campaign_id, state, count(*) FROM enrollments GROUP BY campaign_id, state;

-- Each sender's earliest due prospect at each step, one index probe per
-- sender and step; held prospects are not due (docs/campaigns.md#holds).
-- The id makes the probe's order (next_action_at, id) one that only this
-- index gives, so PostgreSQL never walks enrollments_due_idx instead.
CREATE INDEX enrollments_campaign_due_idx ON enrollments (campaign_id, account_id, step_id, next_action_at, id)
    WHERE state = 'active' AND (parked_by IS NULL OR parked_by <> 'template_variable_missing');
-- Prospects parked by one gate (a hold, the re-invite wait), counted from
-- the index.
CREATE INDEX enrollments_campaign_parked_idx ON enrollments (campaign_id, parked_by, state, next_action_at)
    WHERE parked_by IS NOT NULL;
-- Prospects ended for a reason the diagnosis names.
CREATE INDEX enrollments_campaign_ended_idx ON enrollments (campaign_id, ended_reason) WHERE state = 'ended';
-- The campaign's sends waiting for a person to settle them.
CREATE INDEX sends_campaign_unknown_idx ON sends (campaign_id, claimed_at, id) WHERE state = 'unknown';
-- Covered by enrollments_campaign_state_page_idx (campaign_id, state, id).
DROP INDEX enrollments_campaign_idx;

-- +goose Down
CREATE INDEX enrollments_campaign_idx ON enrollments (campaign_id, state);
DROP INDEX sends_campaign_unknown_idx;
DROP INDEX enrollments_campaign_ended_idx;
DROP INDEX enrollments_campaign_parked_idx;
DROP INDEX enrollments_campaign_due_idx;
DROP TRIGGER enrollment_state_counts_immutable;
DROP TRIGGER enrollment_state_counts_removed;
DROP TRIGGER enrollment_state_counts_moved;
DROP TRIGGER enrollment_state_counts_added;
DROP TABLE enrollment_state_counts;
