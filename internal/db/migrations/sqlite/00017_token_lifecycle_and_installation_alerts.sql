-- API tokens may carry an expiry; revocation is final; installation-wide
-- alerts are acknowledged only by installation operators (see the
-- PostgreSQL migration of the same number). SQLite cannot add a CHECK to an
-- existing table, so the rules are triggers that raise with the names
-- PostgreSQL's constraints carry. Like PostgreSQL's NOT VALID constraint,
-- the alert rule holds for new writes and leaves older rows as they are.

-- +goose Up
ALTER TABLE api_tokens ADD COLUMN expires_at TIMESTAMP;

-- +goose StatementBegin
CREATE TRIGGER api_tokens_expiry_chk_insert
    BEFORE INSERT ON api_tokens
    WHEN NEW.expires_at IS NOT NULL AND NEW.expires_at <= NEW.created_at
BEGIN
    SELECT RAISE(ABORT, 'api_tokens_expiry_chk: a token expires after it is created');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER api_tokens_expiry_chk_update
    BEFORE UPDATE OF expires_at, created_at ON api_tokens
    WHEN NEW.expires_at IS NOT NULL AND NEW.expires_at <= NEW.created_at
BEGIN
    SELECT RAISE(ABORT, 'api_tokens_expiry_chk: a token expires after it is created');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER api_tokens_revocation_final
    BEFORE UPDATE OF revoked_at ON api_tokens
    WHEN OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS NOT OLD.revoked_at
BEGIN
    SELECT RAISE(ABORT, 'api_tokens_revocation_final: a revoked token stays revoked');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER admin_alerts_installation_ack_chk_insert
    BEFORE INSERT ON admin_alerts
    WHEN NEW.workspace_id IS NULL AND NEW.acknowledged_by IS NOT NULL
     AND substr(NEW.acknowledged_by, 1, 9) <> 'operator:'
BEGIN
    SELECT RAISE(ABORT, 'admin_alerts_installation_ack_chk: only an installation operator acknowledges an installation-wide alert');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER admin_alerts_installation_ack_chk_update
    BEFORE UPDATE OF workspace_id, acknowledged_by ON admin_alerts
    WHEN NEW.workspace_id IS NULL AND NEW.acknowledged_by IS NOT NULL
     AND substr(NEW.acknowledged_by, 1, 9) <> 'operator:'
BEGIN
    SELECT RAISE(ABORT, 'admin_alerts_installation_ack_chk: only an installation operator acknowledges an installation-wide alert');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER admin_alerts_installation_ack_chk_update;
DROP TRIGGER admin_alerts_installation_ack_chk_insert;
DROP TRIGGER api_tokens_revocation_final;
DROP TRIGGER api_tokens_expiry_chk_update;
DROP TRIGGER api_tokens_expiry_chk_insert;
ALTER TABLE api_tokens DROP COLUMN expires_at;
