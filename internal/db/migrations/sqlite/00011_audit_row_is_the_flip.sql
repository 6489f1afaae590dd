-- The audit row is the flip (see the PostgreSQL migration of the same
-- number for why). Inserting an audit row applies it to the account, and a
-- status change is refused unless it is the one the account's newest audit
-- row describes. Only the apply trigger below can meet that: once a row is
-- applied the account is at its to_status, which differs from its
-- from_status, so a later hand-written update never matches it. The pairing
-- columns, their always-empty target table and the pairing triggers go;
-- SQLite cannot drop columns under constraints, so the trail is rebuilt.

-- +goose Up
DROP TRIGGER linkedin_accounts_audit_pairing;
DROP TRIGGER linkedin_accounts_audit_paired;
DROP TRIGGER linkedin_accounts_audit_creation;
DROP TRIGGER linkedin_account_status_audit_before_insert;
DROP TRIGGER linkedin_account_status_audit_no_update;
DROP TRIGGER linkedin_account_status_audit_no_delete;

CREATE TABLE linkedin_account_status_audit_rebuilt (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id      TEXT NOT NULL REFERENCES linkedin_accounts (id),
    from_status     TEXT,
    to_status       TEXT NOT NULL,
    reason          TEXT NOT NULL,
    source          TEXT NOT NULL,
    actor           TEXT NOT NULL DEFAULT '',
    strikes         INTEGER NOT NULL DEFAULT 0,
    created_at      TIMESTAMP NOT NULL,
    -- The copy the flip showed; NULL on rows from before this migration.
    last_error      TEXT,
    CONSTRAINT linkedin_account_status_audit_status_chk CHECK (
        (from_status IS NULL OR from_status IN ('connecting', 'connected', 'needs_verification', 'disconnected', 'restricted', 'error'))
        AND to_status IN ('connecting', 'connected', 'needs_verification', 'disconnected', 'restricted', 'error')),
    CONSTRAINT linkedin_account_status_audit_change_chk CHECK (from_status IS NOT to_status)
);
INSERT INTO linkedin_account_status_audit_rebuilt (id, account_id, from_status, to_status, reason, source, actor, strikes, created_at)
SELECT id, account_id, from_status, to_status, reason, source, actor, strikes, created_at FROM linkedin_account_status_audit;
DROP TABLE linkedin_account_status_audit;
DROP TABLE linkedin_account_status_audit_unpaired;
ALTER TABLE linkedin_account_status_audit_rebuilt RENAME TO linkedin_account_status_audit;
CREATE INDEX linkedin_account_status_audit_account_idx ON linkedin_account_status_audit (account_id, id);

-- +goose StatementBegin
CREATE TRIGGER linkedin_account_status_audit_chain
    BEFORE INSERT ON linkedin_account_status_audit
BEGIN
    SELECT RAISE(ABORT, 'linkedin_account_status_audit_chain: only the account''s creation row may have no from_status')
     WHERE NEW.from_status IS NULL
       AND (EXISTS (SELECT 1 FROM linkedin_account_status_audit WHERE account_id = NEW.account_id)
            OR NEW.to_status IS NOT (SELECT status FROM linkedin_accounts WHERE id = NEW.account_id));
    SELECT RAISE(ABORT, 'linkedin_account_status_audit_chain: the row must start at the account''s current status; use the state-flip helper (account.Flip)')
     WHERE NEW.from_status IS NOT NULL
       AND NEW.from_status IS NOT (SELECT status FROM linkedin_accounts WHERE id = NEW.account_id);
    -- The rules of account.CheckTransition (PostgreSQL holds them as CHECKs
    -- on new rows): which source may cause which status, the one edge the
    -- table lacks, strikes reset on connect, copy on leaving connected.
    SELECT RAISE(ABORT, 'linkedin_account_status_audit_source_chk: that source may not cause that status; use the state-flip helper (account.Flip)')
     WHERE NOT CASE WHEN NEW.from_status IS NULL THEN NEW.source = 'create'
                    WHEN NEW.source IN ('health_check', 'webhook', 'hosted_auth', 'sync') THEN 1
                    WHEN NEW.source = 'send_error' THEN NEW.to_status IN ('disconnected', 'restricted', 'needs_verification', 'error')
                    WHEN NEW.source IN ('operator', 'repair') THEN NEW.to_status = 'disconnected'
                    ELSE 0 END;
    SELECT RAISE(ABORT, 'linkedin_account_status_audit_transition_chk: a restricted account does not go back to connecting')
     WHERE NEW.from_status = 'restricted' AND NEW.to_status = 'connecting';
    SELECT RAISE(ABORT, 'linkedin_account_status_audit_strikes_chk: becoming connected requires strikes reset to 0; use the state-flip helper (account.Flip)')
     WHERE NEW.to_status = 'connected' AND NEW.strikes <> 0;
    SELECT RAISE(ABORT, 'linkedin_account_status_audit_copy_chk: a flip away from connected must carry copy saying why')
     WHERE NEW.from_status = 'connected' AND NEW.to_status <> 'connected' AND COALESCE(NEW.last_error, '') = '';
END;
-- +goose StatementEnd

-- Disconnect markers as account.Flip sets them: cleared on connect; set
-- when leaving connected (or when missing), kept otherwise.
-- +goose StatementBegin
CREATE TRIGGER linkedin_account_status_audit_apply
    AFTER INSERT ON linkedin_account_status_audit
    WHEN NEW.from_status IS NOT NULL
BEGIN
    UPDATE linkedin_accounts
       SET status = NEW.to_status,
           last_error = NEW.last_error,
           disconnected_at = CASE WHEN NEW.to_status = 'connected' THEN NULL
                                  WHEN status = 'connected' OR disconnected_at IS NULL THEN NEW.created_at
                                  ELSE disconnected_at END,
           disconnected_by = CASE WHEN NEW.to_status = 'connected' THEN NULL ELSE NEW.source END,
           strikes = NEW.strikes,
           updated_at = NEW.created_at
     WHERE id = NEW.account_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER linkedin_account_status_audit_no_update
    BEFORE UPDATE ON linkedin_account_status_audit
BEGIN
    SELECT RAISE(ABORT, 'linkedin_account_status_audit_append_only: rows cannot be changed');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER linkedin_account_status_audit_no_delete
    BEFORE DELETE ON linkedin_account_status_audit
BEGIN
    SELECT RAISE(ABORT, 'linkedin_account_status_audit_append_only: rows cannot be deleted');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER linkedin_accounts_audit_pairing
    BEFORE UPDATE ON linkedin_accounts
    WHEN OLD.status IS NOT NEW.status
BEGIN
    SELECT RAISE(ABORT, 'linkedin_accounts_audit_pairing: status changed without its audit row; change status only through the state-flip helper (account.Flip)')
     WHERE NOT EXISTS (SELECT 1 FROM linkedin_account_status_audit a
                        WHERE a.id = (SELECT max(id) FROM linkedin_account_status_audit WHERE account_id = NEW.id)
                          AND a.from_status IS OLD.status AND a.to_status IS NEW.status);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER linkedin_accounts_audit_creation
    AFTER INSERT ON linkedin_accounts
BEGIN
    INSERT INTO linkedin_account_status_audit (account_id, from_status, to_status, reason, source, actor, strikes, created_at)
    VALUES (NEW.id, NULL, NEW.status, 'account created', 'create', '', NEW.strikes, NEW.created_at);
END;
-- +goose StatementEnd

-- +goose Down
-- Not reversible on SQLite (the rebuilt trail drops the pairing columns):
-- restore a backup taken before the upgrade instead.
