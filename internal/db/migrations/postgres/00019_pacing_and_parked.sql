-- Pacing settings per account, and which gate parked an enrollment:
--   * pacing_spread: a day's remaining sends are spread over what is left
--     of the window; pacing_min_gap_seconds / pacing_max_gap_seconds bound
--     the random gap between two actions of the account. The floor of the
--     installation (KEEL_MIN_SPACING) is checked by the account service;
--     the database holds what is always true: 1 s <= min <= max <= 3600 s.
--   * enrollments.parked_by: the gate code (window, daily_cap, …) when a
--     closed gate set next_action_at to the time it would clear, NULL when
--     the time is anything else (a wait, a condition timeout, an in-flight
--     recheck). Only such rows are made due again when something that can
--     lift a gate changes (docs/sending.md#re-evaluation). A finished
--     prospect is parked by nothing.

-- +goose Up
ALTER TABLE linkedin_accounts ADD COLUMN pacing_spread boolean NOT NULL DEFAULT true;
ALTER TABLE linkedin_accounts ADD COLUMN pacing_min_gap_seconds integer NOT NULL DEFAULT 60;
ALTER TABLE linkedin_accounts ADD COLUMN pacing_max_gap_seconds integer NOT NULL DEFAULT 180;
ALTER TABLE linkedin_accounts ADD CONSTRAINT linkedin_accounts_pacing_min_gap_chk CHECK (pacing_min_gap_seconds >= 1);
ALTER TABLE linkedin_accounts ADD CONSTRAINT linkedin_accounts_pacing_max_gap_chk
    CHECK (pacing_max_gap_seconds >= pacing_min_gap_seconds AND pacing_max_gap_seconds <= 3600);

ALTER TABLE enrollments ADD COLUMN parked_by text;
ALTER TABLE enrollments ADD CONSTRAINT enrollments_parked_by_chk
    CHECK (parked_by IS NULL OR (state IN ('active', 'soft_paused') AND next_action_at IS NOT NULL AND length(parked_by) > 0));

-- +goose Down
ALTER TABLE enrollments DROP CONSTRAINT enrollments_parked_by_chk;
ALTER TABLE enrollments DROP COLUMN parked_by;
ALTER TABLE linkedin_accounts DROP CONSTRAINT linkedin_accounts_pacing_max_gap_chk;
ALTER TABLE linkedin_accounts DROP CONSTRAINT linkedin_accounts_pacing_min_gap_chk;
ALTER TABLE linkedin_accounts DROP COLUMN pacing_max_gap_seconds;
ALTER TABLE linkedin_accounts DROP COLUMN pacing_min_gap_seconds;
ALTER TABLE linkedin_accounts DROP COLUMN pacing_spread;
