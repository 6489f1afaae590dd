-- Outbound webhooks: honest delivery logs and endpoints disabled after
-- permanent failure (docs/operations.md, "Outbound webhooks: destinations
-- and the allow-list").
--
--   * A tenant reads last_error and each attempt's error through the API,
--     so they hold only a fixed vocabulary ("HTTP 500", "timeout",
--     "refused: private address", …), never a dial error or a response
--     body, which made the delivery log a port-scan oracle. Rows written
--     before are rewritten to that vocabulary first.
--   * failing_since is when the endpoint's current run of permanent
--     failures (4xx other than 408/429, or a refused destination) began;
--     a success clears it. After 24 hours of it the endpoint is disabled:
--     disabled_at and disabled_reason say when and why, and a disabled
--     endpoint is inactive.

-- +goose Up
ALTER TABLE outbound_endpoints
    ADD COLUMN failing_since   timestamptz,
    ADD COLUMN disabled_at     timestamptz,
    ADD COLUMN disabled_reason text;
ALTER TABLE outbound_endpoints ADD CONSTRAINT outbound_endpoints_disabled_chk CHECK (
    (disabled_at IS NULL) = (disabled_reason IS NULL)
    AND (disabled_at IS NULL OR (NOT active AND failing_since IS NOT NULL AND length(disabled_reason) > 0)));

UPDATE outbound_deliveries
   SET last_error = CASE WHEN last_status_code IS NOT NULL THEN 'HTTP ' || last_status_code ELSE 'connection failed' END
 WHERE last_error IS NOT NULL AND last_error NOT IN ('endpoint deleted', 'gave up');
UPDATE outbound_delivery_attempts
   SET error = CASE WHEN status_code IS NOT NULL THEN 'HTTP ' || status_code ELSE 'connection failed' END
 WHERE error IS NOT NULL;

ALTER TABLE outbound_deliveries ADD CONSTRAINT outbound_deliveries_error_vocabulary_chk CHECK (
    last_error IS NULL OR last_error ~ '^HTTP [1-5][0-9][0-9]$' OR last_error IN (
        'timeout', 'connection failed', 'TLS error', 'DNS lookup failed',
        'refused: private address', 'refused: loopback address', 'refused: link-local address',
        'refused: multicast address', 'refused: unspecified address', 'refused: reserved address',
        'refused: Keel''s own address', 'endpoint deleted', 'endpoint disabled', 'gave up'));
ALTER TABLE outbound_delivery_attempts ADD CONSTRAINT outbound_delivery_attempts_error_vocabulary_chk CHECK (
    error IS NULL OR error ~ '^HTTP [1-5][0-9][0-9]$' OR error IN (
        'timeout', 'connection failed', 'TLS error', 'DNS lookup failed',
        'refused: private address', 'refused: loopback address', 'refused: link-local address',
        'refused: multicast address', 'refused: unspecified address', 'refused: reserved address',
        'refused: Keel''s own address'));

-- +goose Down
ALTER TABLE outbound_delivery_attempts DROP CONSTRAINT outbound_delivery_attempts_error_vocabulary_chk;
ALTER TABLE outbound_deliveries DROP CONSTRAINT outbound_deliveries_error_vocabulary_chk;
ALTER TABLE outbound_endpoints DROP CONSTRAINT outbound_endpoints_disabled_chk;
ALTER TABLE outbound_endpoints DROP COLUMN disabled_reason, DROP COLUMN disabled_at, DROP COLUMN failing_since;
