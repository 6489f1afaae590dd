-- The campaign page's forecast at 100,000 prospects
-- (docs/benchmarks.md#campaign-page): it lists the live prospects its
-- horizon can reach, per step by due time, and counts the rest per sender
-- and step, all from this index: the count reads no row, and replied_at
-- before next_action_at keeps both the unreplied prospects due within the
-- horizon and the replied ones a range each. (state is a column for
-- SQLite, which reads it to check the query's own state term.)

-- +goose Up
CREATE INDEX enrollments_campaign_live_idx ON enrollments (campaign_id, step_id, replied_at, next_action_at, account_id, state)
    WHERE state IN ('active', 'soft_paused');

-- +goose Down
DROP INDEX enrollments_campaign_live_idx;
