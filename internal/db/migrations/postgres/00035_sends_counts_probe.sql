-- The send counts' "once per prospect" probes (docs/storage.md#campaign-send-counts)
-- ask whether an enrollment has another confirmed send of an action in a
-- campaign (and by a sender): with the action and sender right after the
-- campaign in sends_enrollment_confirmed_idx each probe is one seek, where
-- the step in between made it walk every confirmed send of the enrollment
-- in the campaign.

-- +goose Up
DROP INDEX sends_enrollment_confirmed_idx;
CREATE INDEX sends_enrollment_confirmed_idx ON sends (enrollment_id, campaign_id, action, account_id, step_id, dispatched_at)
    WHERE state = 'confirmed';

-- +goose Down
DROP INDEX sends_enrollment_confirmed_idx;
CREATE INDEX sends_enrollment_confirmed_idx ON sends (enrollment_id, campaign_id, step_id, action, account_id, dispatched_at)
    WHERE state = 'confirmed';
