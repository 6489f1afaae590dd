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
ALTER TABLE linkedin_accounts ADD COLUMN provider_features text
    CONSTRAINT linkedin_accounts_provider_features_chk CHECK (provider_features IS NULL OR provider_features = ',' OR provider_features LIKE ',%,');
ALTER TABLE linkedin_accounts ADD COLUMN provider_features_at timestamptz;
ALTER TABLE linkedin_accounts ADD COLUMN tier_changed_by text;
ALTER TABLE linkedin_accounts ADD COLUMN tier_changed_at timestamptz;

CREATE TABLE account_tier_changes (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id        text NOT NULL REFERENCES linkedin_accounts (id),
    from_tier         text NOT NULL,
    to_tier           text NOT NULL,
    changed_by        text NOT NULL,
    changed_at        timestamptz NOT NULL,
    -- What the provider reported when the change was made (NULL: nothing).
    provider_features text
);
CREATE INDEX account_tier_changes_account_idx ON account_tier_changes (account_id, id);

-- +goose StatementBegin
CREATE FUNCTION linkedin_accounts_tier_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.tier <> 'free' AND NEW.provider_features IS NOT NULL
       AND NOT (NEW.provider_features LIKE '%,' || NEW.tier || ',%'
                OR (NEW.tier = 'premium' AND NEW.provider_features <> ',')) THEN
        RAISE EXCEPTION 'linkedin_accounts_tier_reported_chk: the provider does not report tier % for account %', NEW.tier, NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'linkedin_accounts_tier_reported_chk';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER linkedin_accounts_tier_guard BEFORE UPDATE OF tier ON linkedin_accounts
    FOR EACH ROW WHEN (OLD.tier IS DISTINCT FROM NEW.tier) EXECUTE FUNCTION linkedin_accounts_tier_guard();

-- +goose StatementBegin
CREATE FUNCTION linkedin_accounts_tier_record() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO account_tier_changes (account_id, from_tier, to_tier, changed_by, changed_at, provider_features)
    VALUES (NEW.id, OLD.tier, NEW.tier,
            CASE WHEN NEW.tier_changed_by IS NOT NULL AND NEW.tier_changed_at IS DISTINCT FROM OLD.tier_changed_at
                 THEN NEW.tier_changed_by ELSE 'unattributed (direct database write)' END,
            CASE WHEN NEW.tier_changed_at IS DISTINCT FROM OLD.tier_changed_at THEN NEW.tier_changed_at ELSE now() END,
            NEW.provider_features);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER linkedin_accounts_tier_record AFTER UPDATE OF tier ON linkedin_accounts
    FOR EACH ROW WHEN (OLD.tier IS DISTINCT FROM NEW.tier) EXECUTE FUNCTION linkedin_accounts_tier_record();

-- +goose StatementBegin
CREATE FUNCTION account_tier_changes_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'account_tier_changes_append_only: tier changes are never edited or deleted'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'account_tier_changes_append_only';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER account_tier_changes_append_only BEFORE UPDATE OR DELETE ON account_tier_changes
    FOR EACH ROW EXECUTE FUNCTION account_tier_changes_append_only();

-- +goose Down
DROP TRIGGER account_tier_changes_append_only ON account_tier_changes;
DROP FUNCTION account_tier_changes_append_only();
DROP TRIGGER linkedin_accounts_tier_record ON linkedin_accounts;
DROP FUNCTION linkedin_accounts_tier_record();
DROP TRIGGER linkedin_accounts_tier_guard ON linkedin_accounts;
DROP FUNCTION linkedin_accounts_tier_guard();
DROP TABLE account_tier_changes;
ALTER TABLE linkedin_accounts DROP COLUMN tier_changed_at;
ALTER TABLE linkedin_accounts DROP COLUMN tier_changed_by;
ALTER TABLE linkedin_accounts DROP COLUMN provider_features_at;
ALTER TABLE linkedin_accounts DROP COLUMN provider_features;
