-- Core tables: workspaces, LinkedIn accounts with every account-state
-- invariant of docs/accounts.md#invariants, the status audit trail and admin alerts.
-- SQLite cannot add a CHECK to an existing table, so (unlike PostgreSQL,
-- whose 00002 adds them) the constraints are part of the table from the
-- start. The phrase list must stay equal to account.TerminalPatterns.

-- +goose Up
CREATE TABLE workspaces (
    id         TEXT PRIMARY KEY,
    slug       TEXT NOT NULL UNIQUE
               CONSTRAINT workspaces_slug_chk CHECK (length(slug) BETWEEN 1 AND 63
                   AND slug NOT GLOB '*[^a-z0-9-]*' AND substr(slug, 1, 1) <> '-'),
    name       TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE linkedin_accounts (
    id                  TEXT PRIMARY KEY,
    workspace_id        TEXT NOT NULL REFERENCES workspaces (id),
    provider_account_id TEXT NOT NULL UNIQUE,
    name                TEXT NOT NULL DEFAULT '',
    status              TEXT NOT NULL
                        CONSTRAINT linkedin_accounts_status_chk CHECK (status IN
                          ('connecting', 'connected', 'needs_verification', 'disconnected', 'restricted', 'error')),
    last_error          TEXT,
    disconnected_at     TIMESTAMP,
    disconnected_by     TEXT,
    strikes             INTEGER NOT NULL DEFAULT 0
                        CONSTRAINT linkedin_accounts_strikes_chk CHECK (strikes BETWEEN 0 AND 3),
    tier                TEXT NOT NULL DEFAULT 'free'
                        CONSTRAINT linkedin_accounts_tier_chk CHECK (tier IN ('free', 'premium', 'sales_navigator', 'recruiter')),
    timezone            TEXT NOT NULL DEFAULT 'UTC',
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL,
    CONSTRAINT linkedin_accounts_connected_iff_not_disconnected_chk
        CHECK ((status = 'connected') = (disconnected_at IS NULL)),
    CONSTRAINT linkedin_accounts_disconnected_by_chk
        CHECK (status <> 'connected' OR disconnected_by IS NULL),
    CONSTRAINT linkedin_accounts_no_split_state_chk
        CHECK (status <> 'connected' OR last_error IS NULL OR NOT (
               lower(last_error) LIKE '%no longer registered%'
            OR lower(last_error) LIKE '%please reconnect%'
            OR lower(last_error) LIKE '%account not found%reconnect%'
            OR lower(last_error) LIKE '%reconnect needed%'
            OR lower(last_error) LIKE '%reconnect required%'
            OR lower(last_error) LIKE '%must be connected again%'
            OR lower(last_error) LIKE '%credentials expired%'))
);
CREATE INDEX linkedin_accounts_workspace_idx ON linkedin_accounts (workspace_id, id);
CREATE INDEX linkedin_accounts_status_idx ON linkedin_accounts (status);

-- Always empty: an unpaired audit row points here through a deferred
-- foreign key, so a transaction that leaves an audit row unpaired cannot
-- commit. That is how SQLite, which has no transaction ids, knows that an
-- unpaired row is fresh from the current transaction.
CREATE TABLE linkedin_account_status_audit_unpaired (id INTEGER PRIMARY KEY);
-- +goose StatementBegin
CREATE TRIGGER linkedin_account_status_audit_unpaired_empty
    BEFORE INSERT ON linkedin_account_status_audit_unpaired
BEGIN
    SELECT RAISE(ABORT, 'linkedin_account_status_audit_unpaired must stay empty');
END;
-- +goose StatementEnd

CREATE TABLE linkedin_account_status_audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  TEXT NOT NULL REFERENCES linkedin_accounts (id),
    from_status TEXT,
    to_status   TEXT NOT NULL,
    reason      TEXT NOT NULL,
    source      TEXT NOT NULL,
    actor       TEXT NOT NULL DEFAULT '',
    strikes     INTEGER NOT NULL DEFAULT 0,
    created_at  TIMESTAMP NOT NULL,
    paired      INTEGER NOT NULL DEFAULT 0,
    pair_guard  INTEGER DEFAULT 0
                REFERENCES linkedin_account_status_audit_unpaired (id) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT linkedin_account_status_audit_status_chk CHECK (
        (from_status IS NULL OR from_status IN ('connecting', 'connected', 'needs_verification', 'disconnected', 'restricted', 'error'))
        AND to_status IN ('connecting', 'connected', 'needs_verification', 'disconnected', 'restricted', 'error')),
    CONSTRAINT linkedin_account_status_audit_change_chk CHECK (from_status IS NOT to_status),
    CONSTRAINT linkedin_account_status_audit_pair_guard_chk CHECK (paired IN (0, 1) AND (paired = 1) = (pair_guard IS NULL))
);
CREATE INDEX linkedin_account_status_audit_account_idx ON linkedin_account_status_audit (account_id, id);
-- Unpaired rows live only inside the transaction that wrote them; this
-- index keeps the pairing lookup independent of the trail's length.
CREATE INDEX linkedin_account_status_audit_unpaired_idx ON linkedin_account_status_audit (account_id) WHERE paired = 0;

-- +goose StatementBegin
CREATE TRIGGER linkedin_account_status_audit_before_insert
    BEFORE INSERT ON linkedin_account_status_audit
BEGIN
    SELECT RAISE(ABORT, 'linkedin_account_status_audit_chain: only the account''s creation row may have no from_status')
     WHERE NEW.from_status IS NULL
       AND (EXISTS (SELECT 1 FROM linkedin_account_status_audit WHERE account_id = NEW.account_id)
            OR NEW.to_status IS NOT (SELECT status FROM linkedin_accounts WHERE id = NEW.account_id)
            OR NEW.paired <> 1);
    SELECT RAISE(ABORT, 'linkedin_account_status_audit_chain: the row must start at the account''s current status; use the state-flip helper (account.Flip)')
     WHERE NEW.from_status IS NOT NULL
       AND NEW.from_status IS NOT (SELECT status FROM linkedin_accounts WHERE id = NEW.account_id);
    SELECT RAISE(ABORT, 'linkedin_account_status_audit_pairing: a new row cannot arrive paired; use the state-flip helper (account.Flip)')
     WHERE NEW.from_status IS NOT NULL AND NEW.paired <> 0;
END;
-- +goose StatementEnd

-- Append-only. The one permitted change is the pairing, which must extend
-- the chain: it ends where the account now is and starts where the last
-- paired row ended. A hand-made pairing cannot meet both.
-- +goose StatementBegin
CREATE TRIGGER linkedin_account_status_audit_no_delete
    BEFORE DELETE ON linkedin_account_status_audit
BEGIN
    SELECT RAISE(ABORT, 'linkedin_account_status_audit_append_only: rows cannot be deleted');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER linkedin_account_status_audit_no_update
    BEFORE UPDATE ON linkedin_account_status_audit
BEGIN
    SELECT RAISE(ABORT, 'linkedin_account_status_audit_append_only: rows cannot be changed')
     WHERE OLD.paired <> 0 OR NEW.paired <> 1 OR NEW.pair_guard IS NOT NULL
        OR NEW.id IS NOT OLD.id OR NEW.account_id IS NOT OLD.account_id
        OR NEW.from_status IS NOT OLD.from_status OR NEW.to_status IS NOT OLD.to_status
        OR NEW.reason IS NOT OLD.reason OR NEW.source IS NOT OLD.source OR NEW.actor IS NOT OLD.actor
        OR NEW.strikes IS NOT OLD.strikes OR NEW.created_at IS NOT OLD.created_at
        OR NEW.to_status IS NOT (SELECT status FROM linkedin_accounts WHERE id = NEW.account_id)
        OR NEW.from_status IS NOT (SELECT to_status FROM linkedin_account_status_audit
                                    WHERE account_id = NEW.account_id AND paired = 1
                                    ORDER BY id DESC LIMIT 1);
END;
-- +goose StatementEnd

-- Audit pairing: an UPDATE that changes status must consume a fresh audit
-- row for this account and this exact transition. Becoming connected also
-- requires the strikes to be reset.
-- +goose StatementBegin
CREATE TRIGGER linkedin_accounts_audit_pairing
    BEFORE UPDATE OF status ON linkedin_accounts
    WHEN OLD.status IS NOT NEW.status
BEGIN
    SELECT RAISE(ABORT, 'linkedin_accounts_audit_pairing: becoming connected requires strikes reset to 0; use the state-flip helper (account.Flip)')
     WHERE NEW.status = 'connected' AND NEW.strikes <> 0;
    SELECT RAISE(ABORT, 'linkedin_accounts_audit_pairing: status changed without a fresh audit row for that transition; change status only through the state-flip helper (account.Flip)')
     WHERE NOT EXISTS (SELECT 1 FROM linkedin_account_status_audit
                        WHERE account_id = NEW.id AND from_status = OLD.status
                          AND to_status = NEW.status AND paired = 0);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER linkedin_accounts_audit_paired
    AFTER UPDATE OF status ON linkedin_accounts
    WHEN OLD.status IS NOT NEW.status
BEGIN
    UPDATE linkedin_account_status_audit SET paired = 1, pair_guard = NULL
     WHERE id = (SELECT max(id) FROM linkedin_account_status_audit
                  WHERE account_id = NEW.id AND from_status = OLD.status
                    AND to_status = NEW.status AND paired = 0);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER linkedin_accounts_audit_creation
    AFTER INSERT ON linkedin_accounts
BEGIN
    INSERT INTO linkedin_account_status_audit
        (account_id, from_status, to_status, reason, source, actor, strikes, created_at, paired, pair_guard)
    VALUES (NEW.id, NULL, NEW.status, 'account created', 'create', '', NEW.strikes, NEW.created_at, 1, NULL);
END;
-- +goose StatementEnd

CREATE TABLE admin_alerts (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT REFERENCES workspaces (id),
    kind            TEXT NOT NULL,
    severity        TEXT NOT NULL CONSTRAINT admin_alerts_severity_chk CHECK (severity IN ('info', 'warning', 'critical')),
    subject_type    TEXT CONSTRAINT admin_alerts_subject_type_chk CHECK (subject_type IN ('account', 'campaign')),
    subject_id      TEXT,
    message         TEXT NOT NULL,
    dedupe_key      TEXT NOT NULL,
    occurrences     INTEGER NOT NULL DEFAULT 1,
    created_at      TIMESTAMP NOT NULL,
    last_seen_at    TIMESTAMP NOT NULL,
    acknowledged_at TIMESTAMP,
    acknowledged_by TEXT,
    CONSTRAINT admin_alerts_subject_chk CHECK ((subject_type IS NULL) = (subject_id IS NULL)),
    CONSTRAINT admin_alerts_ack_chk CHECK ((acknowledged_at IS NULL) = (acknowledged_by IS NULL))
);
CREATE UNIQUE INDEX admin_alerts_open_dedupe_idx ON admin_alerts (dedupe_key) WHERE acknowledged_at IS NULL;
CREATE INDEX admin_alerts_workspace_idx ON admin_alerts (workspace_id, created_at);

-- +goose Down
DROP TABLE admin_alerts;
DROP TABLE linkedin_account_status_audit;
DROP TABLE linkedin_account_status_audit_unpaired;
DROP TABLE linkedin_accounts;
DROP TABLE workspaces;
