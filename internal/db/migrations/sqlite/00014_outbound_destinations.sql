-- Outbound webhooks: honest delivery logs and endpoints disabled after
-- permanent failure; see postgres/00014_outbound_destinations.sql for the
-- story. SQLite cannot add CHECK constraints to a table, so triggers hold
-- the same rules under the same names.

-- +goose Up
ALTER TABLE outbound_endpoints ADD COLUMN failing_since TIMESTAMP;
ALTER TABLE outbound_endpoints ADD COLUMN disabled_at TIMESTAMP;
ALTER TABLE outbound_endpoints ADD COLUMN disabled_reason TEXT;

UPDATE outbound_deliveries
   SET last_error = CASE WHEN last_status_code IS NOT NULL THEN 'HTTP ' || last_status_code ELSE 'connection failed' END
 WHERE last_error IS NOT NULL AND last_error NOT IN ('endpoint deleted', 'gave up');
UPDATE outbound_delivery_attempts
   SET error = CASE WHEN status_code IS NOT NULL THEN 'HTTP ' || status_code ELSE 'connection failed' END
 WHERE error IS NOT NULL;

-- +goose StatementBegin
CREATE TRIGGER outbound_endpoints_disabled_chk_insert
    BEFORE INSERT ON outbound_endpoints
    WHEN NOT ((NEW.disabled_at IS NULL) = (NEW.disabled_reason IS NULL)
        AND (NEW.disabled_at IS NULL OR (NEW.active = 0 AND NEW.failing_since IS NOT NULL AND length(NEW.disabled_reason) > 0)))
BEGIN
    SELECT RAISE(ABORT, 'outbound_endpoints_disabled_chk: a disabled endpoint is inactive, has a reason and a failing_since');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER outbound_endpoints_disabled_chk_update
    BEFORE UPDATE ON outbound_endpoints
    WHEN NOT ((NEW.disabled_at IS NULL) = (NEW.disabled_reason IS NULL)
        AND (NEW.disabled_at IS NULL OR (NEW.active = 0 AND NEW.failing_since IS NOT NULL AND length(NEW.disabled_reason) > 0)))
BEGIN
    SELECT RAISE(ABORT, 'outbound_endpoints_disabled_chk: a disabled endpoint is inactive, has a reason and a failing_since');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER outbound_deliveries_error_vocabulary_chk_insert
    BEFORE INSERT ON outbound_deliveries
    WHEN NEW.last_error IS NOT NULL AND NEW.last_error NOT GLOB 'HTTP [1-5][0-9][0-9]' AND NEW.last_error NOT IN (
            'timeout', 'connection failed', 'TLS error', 'DNS lookup failed',
            'refused: private address', 'refused: loopback address', 'refused: link-local address',
            'refused: multicast address', 'refused: unspecified address', 'refused: reserved address',
            'refused: Keel''s own address', 'endpoint deleted', 'endpoint disabled', 'gave up')
BEGIN
    SELECT RAISE(ABORT, 'outbound_deliveries_error_vocabulary_chk: delivery errors use the fixed vocabulary');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER outbound_deliveries_error_vocabulary_chk_update
    BEFORE UPDATE ON outbound_deliveries
    WHEN NEW.last_error IS NOT NULL AND NEW.last_error NOT GLOB 'HTTP [1-5][0-9][0-9]' AND NEW.last_error NOT IN (
            'timeout', 'connection failed', 'TLS error', 'DNS lookup failed',
            'refused: private address', 'refused: loopback address', 'refused: link-local address',
            'refused: multicast address', 'refused: unspecified address', 'refused: reserved address',
            'refused: Keel''s own address', 'endpoint deleted', 'endpoint disabled', 'gave up')
BEGIN
    SELECT RAISE(ABORT, 'outbound_deliveries_error_vocabulary_chk: delivery errors use the fixed vocabulary');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER outbound_delivery_attempts_error_vocabulary_chk_insert
    BEFORE INSERT ON outbound_delivery_attempts
    WHEN NEW.error IS NOT NULL AND NEW.error NOT GLOB 'HTTP [1-5][0-9][0-9]' AND NEW.error NOT IN (
            'timeout', 'connection failed', 'TLS error', 'DNS lookup failed',
            'refused: private address', 'refused: loopback address', 'refused: link-local address',
            'refused: multicast address', 'refused: unspecified address', 'refused: reserved address',
            'refused: Keel''s own address')
BEGIN
    SELECT RAISE(ABORT, 'outbound_delivery_attempts_error_vocabulary_chk: delivery errors use the fixed vocabulary');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER outbound_delivery_attempts_error_vocabulary_chk_update
    BEFORE UPDATE ON outbound_delivery_attempts
    WHEN NEW.error IS NOT NULL AND NEW.error NOT GLOB 'HTTP [1-5][0-9][0-9]' AND NEW.error NOT IN (
            'timeout', 'connection failed', 'TLS error', 'DNS lookup failed',
            'refused: private address', 'refused: loopback address', 'refused: link-local address',
            'refused: multicast address', 'refused: unspecified address', 'refused: reserved address',
            'refused: Keel''s own address')
BEGIN
    SELECT RAISE(ABORT, 'outbound_delivery_attempts_error_vocabulary_chk: delivery errors use the fixed vocabulary');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER outbound_delivery_attempts_error_vocabulary_chk_update;
DROP TRIGGER outbound_delivery_attempts_error_vocabulary_chk_insert;
DROP TRIGGER outbound_deliveries_error_vocabulary_chk_update;
DROP TRIGGER outbound_deliveries_error_vocabulary_chk_insert;
DROP TRIGGER outbound_endpoints_disabled_chk_update;
DROP TRIGGER outbound_endpoints_disabled_chk_insert;
ALTER TABLE outbound_endpoints DROP COLUMN disabled_reason;
ALTER TABLE outbound_endpoints DROP COLUMN disabled_at;
ALTER TABLE outbound_endpoints DROP COLUMN failing_since;
