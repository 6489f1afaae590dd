-- The campaign page at 100,000 prospects (docs/benchmarks.md#campaign-page,
-- docs/storage.md#enrollment-state-counts): a campaign's prospects per
-- state are kept by the database beside the enrollments, as deltas the
-- enrollments' own triggers append and a fold sums; and the diagnosis's
-- lookups read index entries instead of the campaign's rows.

-- +goose Up
CREATE TABLE enrollment_state_counts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id text NOT NULL,
    state text NOT NULL,
    n bigint NOT NULL CONSTRAINT enrollment_state_counts_n_chk CHECK (n <> 0)
);
CREATE INDEX enrollment_state_counts_campaign_idx ON enrollment_state_counts (campaign_id, state);

-- Statement-level triggers with transition tables: an import of 100,000
-- prospects appends one row per state, and an update that moves no
-- enrollment between states appends nothing.
-- +goose StatementBegin
CREATE FUNCTION enrollment_state_counts_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO enrollment_state_counts (campaign_id, state, n)
    SELECT campaign_id, state, count(*) FROM enrollment_rows_added GROUP BY campaign_id, state;
    RETURN NULL;
END $$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION enrollment_state_counts_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO enrollment_state_counts (campaign_id, state, n)
    SELECT campaign_id, state, sum(d) FROM (
        SELECT campaign_id, state, 1 AS d FROM enrollment_rows_after
        UNION ALL
        SELECT campaign_id, state, -1 AS d FROM enrollment_rows_before) x
    GROUP BY campaign_id, state HAVING sum(d) <> 0;
    RETURN NULL;
END $$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION enrollment_state_counts_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO enrollment_state_counts (campaign_id, state, n)
    SELECT campaign_id, state, -count(*) FROM enrollment_rows_removed GROUP BY campaign_id, state;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER enrollment_state_counts_added AFTER INSERT ON enrollments
    REFERENCING NEW TABLE AS enrollment_rows_added
    FOR EACH STATEMENT EXECUTE FUNCTION enrollment_state_counts_added();
CREATE TRIGGER enrollment_state_counts_moved AFTER UPDATE ON enrollments
    REFERENCING OLD TABLE AS enrollment_rows_before NEW TABLE AS enrollment_rows_after
    FOR EACH STATEMENT EXECUTE FUNCTION enrollment_state_counts_moved();
CREATE TRIGGER enrollment_state_counts_removed AFTER DELETE ON enrollments
    REFERENCING OLD TABLE AS enrollment_rows_removed
    FOR EACH STATEMENT EXECUTE FUNCTION enrollment_state_counts_removed();

-- A delta is never edited: only the triggers append and only the fold
-- (which deletes rows and appends their sums in one transaction) removes.
-- +goose StatementBegin
CREATE FUNCTION enrollment_state_counts_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'enrollment_state_counts_immutable: a count delta cannot change'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'enrollment_state_counts_immutable';
END $$;
-- +goose StatementEnd
CREATE TRIGGER enrollment_state_counts_immutable BEFORE UPDATE ON enrollment_state_counts
    FOR EACH ROW EXECUTE FUNCTION enrollment_state_counts_immutable();

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
-- Prospects ended for a reason the diagnosis names; the pattern operator
-- class lets "LIKE 'condition %'" read a prefix range whatever the
-- database's collation.
CREATE INDEX enrollments_campaign_ended_idx ON enrollments (campaign_id, ended_reason text_pattern_ops) WHERE state = 'ended';
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
DROP TRIGGER enrollment_state_counts_immutable ON enrollment_state_counts;
DROP FUNCTION enrollment_state_counts_immutable();
DROP TRIGGER enrollment_state_counts_removed ON enrollments;
DROP TRIGGER enrollment_state_counts_moved ON enrollments;
DROP TRIGGER enrollment_state_counts_added ON enrollments;
DROP FUNCTION enrollment_state_counts_removed();
DROP FUNCTION enrollment_state_counts_moved();
DROP FUNCTION enrollment_state_counts_added();
DROP TABLE enrollment_state_counts;
