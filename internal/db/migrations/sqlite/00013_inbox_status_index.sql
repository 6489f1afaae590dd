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

-- +goose StatementBegin
CREATE TRIGGER webhook_inbox_unknown_ignored_chk_insert
    BEFORE INSERT ON webhook_inbox
    WHEN NEW.source = 'unknown' AND NEW.state <> 'ignored'
BEGIN
    SELECT RAISE(ABORT, 'webhook_inbox_unknown_ignored_chk: a delivery of an unknown event is stored as ignored');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER webhook_inbox_unknown_ignored_chk_update
    BEFORE UPDATE ON webhook_inbox
    WHEN NEW.source = 'unknown' AND NEW.state <> 'ignored'
BEGIN
    SELECT RAISE(ABORT, 'webhook_inbox_unknown_ignored_chk: a delivery of an unknown event is stored as ignored');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER webhook_inbox_unknown_ignored_chk_update;
DROP TRIGGER webhook_inbox_unknown_ignored_chk_insert;
DROP INDEX webhook_inbox_status_account_idx;
CREATE INDEX webhook_inbox_account_idx ON webhook_inbox (provider_account_id, id);
