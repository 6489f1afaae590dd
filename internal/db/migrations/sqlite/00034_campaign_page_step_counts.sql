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
    id INTEGER PRIMARY KEY,
    campaign_id text NOT NULL,
    account_id text NOT NULL,
    step_id text NOT NULL,
    n integer NOT NULL CONSTRAINT enrollment_step_counts_n_chk CHECK (n <> 0)
);
CREATE INDEX enrollment_step_counts_campaign_idx ON enrollment_step_counts (campaign_id, account_id, step_id);

-- Row triggers: a delta per enrollment that comes to a step, leaves one,
-- or moves between steps, senders or campaigns; the claim and the
-- answers, which move none of these, append nothing.
-- +goose StatementBegin
CREATE TRIGGER enrollment_step_counts_added AFTER INSERT ON enrollments
    WHEN NEW.state IN ('active', 'soft_paused') AND NEW.step_id IS NOT NULL
BEGIN
    INSERT INTO enrollment_step_counts (campaign_id, account_id, step_id, n)
    VALUES (NEW.campaign_id, NEW.account_id, NEW.step_id, 1);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER enrollment_step_counts_moved AFTER UPDATE OF state, step_id, account_id, campaign_id ON enrollments
    WHEN OLD.campaign_id IS NOT NEW.campaign_id OR OLD.account_id IS NOT NEW.account_id
      OR OLD.step_id IS NOT NEW.step_id
      OR (OLD.state IN ('active', 'soft_paused')) IS NOT (NEW.state IN ('active', 'soft_paused'))
BEGIN
    INSERT INTO enrollment_step_counts (campaign_id, account_id, step_id, n)
    SELECT OLD.campaign_id, OLD.account_id, OLD.step_id, -1
     WHERE OLD.state IN ('active', 'soft_paused') AND OLD.step_id IS NOT NULL;
    INSERT INTO enrollment_step_counts (campaign_id, account_id, step_id, n)
    SELECT NEW.campaign_id, NEW.account_id, NEW.step_id, 1
     WHERE NEW.state IN ('active', 'soft_paused') AND NEW.step_id IS NOT NULL;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER enrollment_step_counts_removed AFTER DELETE ON enrollments
    WHEN OLD.state IN ('active', 'soft_paused') AND OLD.step_id IS NOT NULL
BEGIN
    INSERT INTO enrollment_step_counts (campaign_id, account_id, step_id, n)
    VALUES (OLD.campaign_id, OLD.account_id, OLD.step_id, -1);
END;
-- +goose StatementEnd

-- A delta is never edited: only the triggers append and only the fold
-- (which deletes rows and appends their sums in one transaction) removes.
-- +goose StatementBegin
CREATE TRIGGER enrollment_step_counts_immutable BEFORE UPDATE ON enrollment_step_counts
BEGIN
    SELECT RAISE(ABORT, 'enrollment_step_counts_immutable: a count delta cannot change');
END;
-- +goose StatementEnd

INSERT INTO enrollment_step_counts (campaign_id, account_id, step_id, n)
SELECT campaign_id, account_id, step_id, count(*) FROM enrollments
 WHERE state IN ('active', 'soft_paused') AND step_id IS NOT NULL
 GROUP BY campaign_id, account_id, step_id;

-- The forecast's listing reads its prospects' id and accept stamp from the
-- index too (no lookup of each row).
DROP INDEX enrollments_campaign_live_idx;
CREATE INDEX enrollments_campaign_live_idx ON enrollments (campaign_id, step_id, replied_at, next_action_at, account_id, state, accepted_at, id)
    WHERE state IN ('active', 'soft_paused');

-- +goose Down
DROP INDEX enrollments_campaign_live_idx;
CREATE INDEX enrollments_campaign_live_idx ON enrollments (campaign_id, step_id, replied_at, next_action_at, account_id, state)
    WHERE state IN ('active', 'soft_paused');
DROP TRIGGER enrollment_step_counts_immutable;
DROP TRIGGER enrollment_step_counts_removed;
DROP TRIGGER enrollment_step_counts_moved;
DROP TRIGGER enrollment_step_counts_added;
DROP TABLE enrollment_step_counts;
