-- API tokens may carry an expiry (last_used_at and revoked_at exist since
-- migration 5). Revocation is final: a revoked token never becomes valid
-- again, whoever writes the row.
--
-- Installation-wide alerts (workspace_id NULL) are acknowledged only by
-- installation operators, whose acknowledger carries the prefix
-- 'operator:'. Rows a workspace acknowledged before this rule keep their
-- history: the constraint is added NOT VALID (it holds for every new write)
-- and validated when no such row exists.

-- +goose Up
ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_expiry_chk CHECK (expires_at IS NULL OR expires_at > created_at);

-- +goose StatementBegin
CREATE FUNCTION api_tokens_revocation_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS DISTINCT FROM OLD.revoked_at THEN
        RAISE EXCEPTION 'api_tokens_revocation_final: a revoked token stays revoked'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'api_tokens_revocation_final';
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER api_tokens_revocation_final BEFORE UPDATE ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION api_tokens_revocation_final();

ALTER TABLE admin_alerts ADD CONSTRAINT admin_alerts_installation_ack_chk
    CHECK (workspace_id IS NOT NULL OR acknowledged_by IS NULL OR left(acknowledged_by, 9) = 'operator:') NOT VALID;
-- +goose StatementBegin
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM admin_alerts
                    WHERE workspace_id IS NULL AND acknowledged_by IS NOT NULL
                      AND left(acknowledged_by, 9) <> 'operator:') THEN
        ALTER TABLE admin_alerts VALIDATE CONSTRAINT admin_alerts_installation_ack_chk;
    END IF;
END $$;
-- +goose StatementEnd

-- +goose Down
ALTER TABLE admin_alerts DROP CONSTRAINT admin_alerts_installation_ack_chk;
DROP TRIGGER api_tokens_revocation_final ON api_tokens;
DROP FUNCTION api_tokens_revocation_final();
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_expiry_chk;
ALTER TABLE api_tokens DROP COLUMN expires_at;
