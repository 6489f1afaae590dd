-- The tier an operator sets raises cap ceilings, so it is checked against
-- what Unipile reports about the account (connection_params.im.premiumFeatures):
--   * provider_features: the reported features, comma-separated between
--     commas (",premium,sales_navigator,"; "," = reported, none), NULL when
--     the provider never reported them; provider_features_at: when.
--   * a tier change to a tier the reported features do not include is
--     refused (free is always allowed; premium needs any paid feature).
--   * every tier change writes a row to account_tier_changes (append-only)
--     with who made it (tier_changed_by, set by the same UPDATE) and what
--     the provider reported then; a change made without saying who is
--     recorded as unattributed.

-- +goose Up
ALTER TABLE linkedin_accounts ADD COLUMN provider_features TEXT
    CONSTRAINT linkedin_accounts_provider_features_chk CHECK (provider_features IS NULL OR provider_features = ',' OR provider_features LIKE ',%,');
ALTER TABLE linkedin_accounts ADD COLUMN provider_features_at TIMESTAMP;
ALTER TABLE linkedin_accounts ADD COLUMN tier_changed_by TEXT;
ALTER TABLE linkedin_accounts ADD COLUMN tier_changed_at TIMESTAMP;

CREATE TABLE account_tier_changes (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id        TEXT NOT NULL REFERENCES linkedin_accounts (id),
    from_tier         TEXT NOT NULL,
    to_tier           TEXT NOT NULL,
    changed_by        TEXT NOT NULL,
    changed_at        TIMESTAMP NOT NULL,
    -- What the provider reported when the change was made (NULL: nothing).
    provider_features TEXT
);
CREATE INDEX account_tier_changes_account_idx ON account_tier_changes (account_id, id);

-- +goose StatementBegin
CREATE TRIGGER linkedin_accounts_tier_guard BEFORE UPDATE OF tier ON linkedin_accounts
FOR EACH ROW WHEN OLD.tier IS NOT NEW.tier AND NEW.tier <> 'free' AND NEW.provider_features IS NOT NULL
    AND NOT (NEW.provider_features LIKE '%,' || NEW.tier || ',%'
             OR (NEW.tier = 'premium' AND NEW.provider_features <> ','))
BEGIN
    SELECT RAISE(ABORT, 'linkedin_accounts_tier_reported_chk: the provider does not report this tier for the account');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER linkedin_accounts_tier_record AFTER UPDATE OF tier ON linkedin_accounts
FOR EACH ROW WHEN OLD.tier IS NOT NEW.tier
BEGIN
    INSERT INTO account_tier_changes (account_id, from_tier, to_tier, changed_by, changed_at, provider_features)
    VALUES (NEW.id, OLD.tier, NEW.tier,
            CASE WHEN NEW.tier_changed_by IS NOT NULL AND NEW.tier_changed_at IS NOT OLD.tier_changed_at
                 THEN NEW.tier_changed_by ELSE 'unattributed (direct database write)' END,
            CASE WHEN NEW.tier_changed_at IS NOT OLD.tier_changed_at THEN NEW.tier_changed_at ELSE CURRENT_TIMESTAMP END,
            NEW.provider_features);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER account_tier_changes_no_update BEFORE UPDATE ON account_tier_changes
BEGIN
    SELECT RAISE(ABORT, 'account_tier_changes_append_only: tier changes are never edited or deleted');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER account_tier_changes_no_delete BEFORE DELETE ON account_tier_changes
BEGIN
    SELECT RAISE(ABORT, 'account_tier_changes_append_only: tier changes are never edited or deleted');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER account_tier_changes_no_delete;
DROP TRIGGER account_tier_changes_no_update;
DROP TRIGGER linkedin_accounts_tier_record;
DROP TRIGGER linkedin_accounts_tier_guard;
DROP TABLE account_tier_changes;
ALTER TABLE linkedin_accounts DROP COLUMN tier_changed_at;
ALTER TABLE linkedin_accounts DROP COLUMN tier_changed_by;
ALTER TABLE linkedin_accounts DROP COLUMN provider_features_at;
ALTER TABLE linkedin_accounts DROP COLUMN provider_features;
