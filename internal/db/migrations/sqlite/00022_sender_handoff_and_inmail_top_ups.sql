-- Senders come and go; InMail credits come back:
--   * workspaces.sender_handoff_hours: how long a campaign sender may stay
--     disconnected before its not-yet-contacted prospects are handed to the
--     campaign's other connected senders (docs/campaigns.md#senders).
--     Between 1 hour and 30 days; 72 by default.
--   * inmail_top_ups: every clearing of an account's InMail credits
--     breaker, with who did it (a user, a token, or the daily balance
--     check) and when (docs/sending.md#inmail-credits). Append-only.

-- +goose Up
ALTER TABLE workspaces ADD COLUMN sender_handoff_hours INTEGER NOT NULL DEFAULT 72
    CONSTRAINT workspaces_sender_handoff_hours_chk CHECK (sender_handoff_hours BETWEEN 1 AND 720);

CREATE TABLE inmail_top_ups (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL REFERENCES linkedin_accounts (id),
    cleared_by TEXT NOT NULL CONSTRAINT inmail_top_ups_cleared_by_chk CHECK (length(cleared_by) > 0),
    source     TEXT NOT NULL CONSTRAINT inmail_top_ups_source_chk CHECK (source IN ('manual', 'balance_check')),
    balance    INTEGER CONSTRAINT inmail_top_ups_balance_chk CHECK (balance IS NULL OR balance > 0),
    cleared_at TIMESTAMP NOT NULL,
    CONSTRAINT inmail_top_ups_balance_source_chk CHECK (source = 'manual' OR balance IS NOT NULL)
);
CREATE INDEX inmail_top_ups_account_idx ON inmail_top_ups (account_id, id);

-- +goose StatementBegin
CREATE TRIGGER inmail_top_ups_no_update BEFORE UPDATE ON inmail_top_ups
BEGIN
    SELECT RAISE(ABORT, 'inmail_top_ups_append_only: top-ups are never edited or deleted');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER inmail_top_ups_no_delete BEFORE DELETE ON inmail_top_ups
BEGIN
    SELECT RAISE(ABORT, 'inmail_top_ups_append_only: top-ups are never edited or deleted');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER inmail_top_ups_no_delete;
DROP TRIGGER inmail_top_ups_no_update;
DROP TABLE inmail_top_ups;
ALTER TABLE workspaces DROP COLUMN sender_handoff_hours;
