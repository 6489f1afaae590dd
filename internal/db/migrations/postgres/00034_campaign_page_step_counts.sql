-- The campaign page's first render of a minute at 100,000 prospects
-- (docs/benchmarks.md#campaign-page, docs/storage.md#enrollment-step-counts).
-- The forecast counts the live prospects its horizon cannot reach per
-- sender and step: it reads here how many each sender has at each step,
-- and takes away those it lists, instead of counting the rest over the
-- index. The counts are deltas the enrollments' own triggers append and a
-- fold sums, as enrollment_state_counts are; only prospects at a step
-- (active or soft-paused) are counted.

-- +goose Up
CREATE TABLE enrollment_step_counts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id text NOT NULL,
    account_id text NOT NULL,
    step_id text NOT NULL,
    n bigint NOT NULL CONSTRAINT enrollment_step_counts_n_chk CHECK (n <> 0)
);
CREATE INDEX enrollment_step_counts_campaign_idx ON enrollment_step_counts (campaign_id, account_id, step_id);

-- Statement-level triggers with transition tables, as for
-- enrollment_state_counts: one row per (campaign, sender, step) a
-- statement moves prospects into or out of.
-- +goose StatementBegin
CREATE FUNCTION enrollment_step_counts_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO enrollment_step_counts (campaign_id, account_id, step_id, n)
    SELECT campaign_id, account_id, step_id, count(*) FROM enrollment_steps_added
     WHERE state IN ('active', 'soft_paused') AND step_id IS NOT NULL
     GROUP BY campaign_id, account_id, step_id;
    RETURN NULL;
END $$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION enrollment_step_counts_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A claim or an answer moves no prospect between steps: it ends here,
    -- before the counting query starts.
    IF NOT EXISTS (SELECT 1 FROM enrollment_steps_after a JOIN enrollment_steps_before b ON b.id = a.id
                    WHERE a.campaign_id <> b.campaign_id OR a.account_id <> b.account_id
                       OR a.step_id IS DISTINCT FROM b.step_id
                       OR (a.state IN ('active', 'soft_paused')) <> (b.state IN ('active', 'soft_paused'))) THEN
        RETURN NULL;
    END IF;
    INSERT INTO enrollment_step_counts (campaign_id, account_id, step_id, n)
    SELECT campaign_id, account_id, step_id, sum(d) FROM (
        SELECT campaign_id, account_id, step_id, 1 AS d FROM enrollment_steps_after
         WHERE state IN ('active', 'soft_paused') AND step_id IS NOT NULL
        UNION ALL
        SELECT campaign_id, account_id, step_id, -1 AS d FROM enrollment_steps_before
         WHERE state IN ('active', 'soft_paused') AND step_id IS NOT NULL) x
    GROUP BY campaign_id, account_id, step_id HAVING sum(d) <> 0;
    RETURN NULL;
END $$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION enrollment_step_counts_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO enrollment_step_counts (campaign_id, account_id, step_id, n)
    SELECT campaign_id, account_id, step_id, -count(*) FROM enrollment_steps_removed
     WHERE state IN ('active', 'soft_paused') AND step_id IS NOT NULL
     GROUP BY campaign_id, account_id, step_id;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER enrollment_step_counts_added AFTER INSERT ON enrollments
    REFERENCING NEW TABLE AS enrollment_steps_added
    FOR EACH STATEMENT EXECUTE FUNCTION enrollment_step_counts_added();
CREATE TRIGGER enrollment_step_counts_moved AFTER UPDATE ON enrollments
    REFERENCING OLD TABLE AS enrollment_steps_before NEW TABLE AS enrollment_steps_after
    FOR EACH STATEMENT EXECUTE FUNCTION enrollment_step_counts_moved();
CREATE TRIGGER enrollment_step_counts_removed AFTER DELETE ON enrollments
    REFERENCING OLD TABLE AS enrollment_steps_removed
    FOR EACH STATEMENT EXECUTE FUNCTION enrollment_step_counts_removed();

-- A delta is never edited: only the triggers append and only the fold
-- (which deletes rows and appends their sums in one transaction) removes.
-- +goose StatementBegin
CREATE FUNCTION enrollment_step_counts_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'enrollment_step_counts_immutable: a count delta cannot change'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'enrollment_step_counts_immutable';
END $$;
-- +goose StatementEnd
CREATE TRIGGER enrollment_step_counts_immutable BEFORE UPDATE ON enrollment_step_counts
    FOR EACH ROW EXECUTE FUNCTION enrollment_step_counts_immutable();

INSERT INTO enrollment_step_counts (campaign_id, account_id, step_id, n)
SELECT campaign_id, account_id, step_id, count(*) FROM enrollments
 WHERE state IN ('active', 'soft_paused') AND step_id IS NOT NULL
 GROUP BY campaign_id, account_id, step_id;

-- The forecast's listing reads its prospects' id and accept stamp from the
-- index too (an index-only scan where the visibility map allows).
DROP INDEX enrollments_campaign_live_idx;
CREATE INDEX enrollments_campaign_live_idx ON enrollments (campaign_id, step_id, replied_at, next_action_at, account_id, state)
    INCLUDE (accepted_at, id) WHERE state IN ('active', 'soft_paused');

-- +goose Down
DROP INDEX enrollments_campaign_live_idx;
CREATE INDEX enrollments_campaign_live_idx ON enrollments (campaign_id, step_id, replied_at, next_action_at, account_id, state)
    WHERE state IN ('active', 'soft_paused');
DROP TRIGGER enrollment_step_counts_immutable ON enrollment_step_counts;
DROP FUNCTION enrollment_step_counts_immutable();
DROP TRIGGER enrollment_step_counts_removed ON enrollments;
DROP TRIGGER enrollment_step_counts_moved ON enrollments;
DROP TRIGGER enrollment_step_counts_added ON enrollments;
DROP FUNCTION enrollment_step_counts_removed();
DROP FUNCTION enrollment_step_counts_moved();
DROP FUNCTION enrollment_step_counts_added();
DROP TABLE enrollment_step_counts;
