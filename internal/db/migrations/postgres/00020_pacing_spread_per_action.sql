-- The spread of a day's sends over the window holds only the next action
-- of the same type (docs/sending.md#pacing): account_pacing keeps, next to
-- the spacing every action keeps (next_allowed_at), one "spread until" per
-- action type. NULL: no spread holds that action.

-- +goose Up
ALTER TABLE account_pacing ADD COLUMN spread_invite_until timestamptz;
ALTER TABLE account_pacing ADD COLUMN spread_message_until timestamptz;
ALTER TABLE account_pacing ADD COLUMN spread_inmail_until timestamptz;
ALTER TABLE account_pacing ADD COLUMN spread_view_profile_until timestamptz;

-- +goose Down
ALTER TABLE account_pacing DROP COLUMN spread_view_profile_until;
ALTER TABLE account_pacing DROP COLUMN spread_inmail_until;
ALTER TABLE account_pacing DROP COLUMN spread_message_until;
ALTER TABLE account_pacing DROP COLUMN spread_invite_until;
