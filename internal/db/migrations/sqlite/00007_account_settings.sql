-- Per-account sending settings: window (in the account's timezone), the
-- configured caps, and when its ramp started. The tier's hard ceilings are
-- database rules too, so no write can configure a cap above them.

-- +goose Up
ALTER TABLE linkedin_accounts ADD COLUMN window_days TEXT NOT NULL DEFAULT 'mon,tue,wed,thu,fri';
ALTER TABLE linkedin_accounts ADD COLUMN window_start INTEGER NOT NULL DEFAULT 540
    CONSTRAINT linkedin_accounts_window_start_chk CHECK (window_start BETWEEN 0 AND 1439);
ALTER TABLE linkedin_accounts ADD COLUMN window_end INTEGER NOT NULL DEFAULT 1080
    CONSTRAINT linkedin_accounts_window_chk CHECK (window_end BETWEEN 1 AND 1440 AND window_end > window_start);
ALTER TABLE linkedin_accounts ADD COLUMN cap_invite_daily INTEGER NOT NULL DEFAULT 20
    CONSTRAINT linkedin_accounts_cap_invite_daily_chk CHECK (cap_invite_daily >= 0 AND cap_invite_daily <= CASE WHEN tier = 'free' THEN 30 ELSE 100 END);
ALTER TABLE linkedin_accounts ADD COLUMN cap_invite_weekly INTEGER NOT NULL DEFAULT 100
    CONSTRAINT linkedin_accounts_cap_invite_weekly_chk CHECK (cap_invite_weekly >= 0 AND cap_invite_weekly <= CASE WHEN tier = 'free' THEN 100 ELSE 200 END);
ALTER TABLE linkedin_accounts ADD COLUMN cap_message_daily INTEGER NOT NULL DEFAULT 50
    CONSTRAINT linkedin_accounts_cap_message_daily_chk CHECK (cap_message_daily BETWEEN 0 AND 150);
-- Free accounts have no InMail: the default is 0, raised to 10 for paid tiers.
ALTER TABLE linkedin_accounts ADD COLUMN cap_inmail_daily INTEGER NOT NULL DEFAULT 0
    CONSTRAINT linkedin_accounts_cap_inmail_daily_chk CHECK (cap_inmail_daily >= 0 AND cap_inmail_daily <= CASE WHEN tier = 'free' THEN 0 ELSE 50 END);
ALTER TABLE linkedin_accounts ADD COLUMN cap_view_profile_daily INTEGER NOT NULL DEFAULT 40
    CONSTRAINT linkedin_accounts_cap_view_profile_daily_chk CHECK (cap_view_profile_daily BETWEEN 0 AND 100);
UPDATE linkedin_accounts SET cap_inmail_daily = 10 WHERE tier <> 'free';
ALTER TABLE linkedin_accounts ADD COLUMN ramp_started_at TIMESTAMP;

-- +goose Down
ALTER TABLE linkedin_accounts DROP COLUMN ramp_started_at;
ALTER TABLE linkedin_accounts DROP COLUMN cap_view_profile_daily;
ALTER TABLE linkedin_accounts DROP COLUMN cap_inmail_daily;
ALTER TABLE linkedin_accounts DROP COLUMN cap_message_daily;
ALTER TABLE linkedin_accounts DROP COLUMN cap_invite_weekly;
ALTER TABLE linkedin_accounts DROP COLUMN cap_invite_daily;
ALTER TABLE linkedin_accounts DROP COLUMN window_end;
ALTER TABLE linkedin_accounts DROP COLUMN window_start;
ALTER TABLE linkedin_accounts DROP COLUMN window_days;
