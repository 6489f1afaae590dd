-- The inbox's account index served one query only: finding an account's
-- previous account_status delivery, inside the acknowledgement's
-- transaction. Indexing every delivery (messages, relations) by account
-- made each acknowledgement write an entry nobody reads, and made that
-- lookup walk past an account's messages. Only status deliveries need it.
-- Also: a delivery of an unknown event is stored only as a trace, never
-- processed, so its row is ignored from the start.

-- +goose Up
DROP INDEX webhook_inbox_account_idx;
CREATE INDEX webhook_inbox_status_account_idx ON webhook_inbox (provider_account_id, id) WHERE source = 'account_status';

ALTER TABLE webhook_inbox ADD CONSTRAINT webhook_inbox_unknown_ignored_chk CHECK (source <> 'unknown' OR state = 'ignored');

-- +goose Down
ALTER TABLE webhook_inbox DROP CONSTRAINT webhook_inbox_unknown_ignored_chk;
DROP INDEX webhook_inbox_status_account_idx;
CREATE INDEX webhook_inbox_account_idx ON webhook_inbox (provider_account_id, id);
