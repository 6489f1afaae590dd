-- Core tables: workspaces, LinkedIn accounts, the status audit trail and
-- admin alerts. The two account-state CHECKs (connected iff not
-- disconnected, no split state) arrive in 00002 so that a database restored
-- from before them can be upgraded: see 00002.

-- +goose Up
CREATE TABLE workspaces (
    id         text PRIMARY KEY,
    slug       text NOT NULL UNIQUE
               CONSTRAINT workspaces_slug_chk CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name       text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL
);

CREATE TABLE linkedin_accounts (
    id                  text PRIMARY KEY,
    workspace_id        text NOT NULL REFERENCES workspaces (id),
    provider_account_id text NOT NULL UNIQUE,
    name                text NOT NULL DEFAULT '',
    status              text NOT NULL
                        CONSTRAINT linkedin_accounts_status_chk CHECK (status IN
                          ('connecting', 'connected', 'needs_verification', 'disconnected', 'restricted', 'error')),
    last_error          text,
    disconnected_at     timestamptz,
    disconnected_by     text,
    strikes             integer NOT NULL DEFAULT 0
                        CONSTRAINT linkedin_accounts_strikes_chk CHECK (strikes BETWEEN 0 AND 3),
    tier                text NOT NULL DEFAULT 'free'
                        CONSTRAINT linkedin_accounts_tier_chk CHECK (tier IN ('free', 'premium', 'sales_navigator', 'recruiter')),
    timezone            text NOT NULL DEFAULT 'UTC',
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);
CREATE INDEX linkedin_accounts_workspace_idx ON linkedin_accounts (workspace_id, id);
CREATE INDEX linkedin_accounts_status_idx ON linkedin_accounts (status);

-- One row per status change. from_status is NULL only for the row written
-- when the account is created. txid ties a row to the transaction that
-- wrote it; paired says a status UPDATE consumed it.
CREATE TABLE linkedin_account_status_audit (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  text NOT NULL REFERENCES linkedin_accounts (id),
    from_status text,
    to_status   text NOT NULL,
    reason      text NOT NULL,
    source      text NOT NULL,
    actor       text NOT NULL DEFAULT '',
    strikes     integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL,
    txid        bigint NOT NULL DEFAULT txid_current(),
    paired      boolean NOT NULL DEFAULT false,
    CONSTRAINT linkedin_account_status_audit_status_chk CHECK (
        (from_status IS NULL OR from_status IN ('connecting', 'connected', 'needs_verification', 'disconnected', 'restricted', 'error'))
        AND to_status IN ('connecting', 'connected', 'needs_verification', 'disconnected', 'restricted', 'error')),
    CONSTRAINT linkedin_account_status_audit_change_chk CHECK (from_status IS DISTINCT FROM to_status)
);
CREATE INDEX linkedin_account_status_audit_account_idx ON linkedin_account_status_audit (account_id, id);
-- Unpaired rows live only inside the transaction that wrote them; this
-- index keeps the pairing lookup independent of the trail's length.
CREATE INDEX linkedin_account_status_audit_unpaired_idx ON linkedin_account_status_audit (account_id) WHERE NOT paired;

-- Audit rows are written before the status UPDATE they pair with. On insert
-- the row must start where the account is now, and only the creation row
-- may arrive already paired.
-- +goose StatementBegin
CREATE FUNCTION linkedin_account_status_audit_before_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    current_status text;
BEGIN
    SELECT status INTO current_status FROM linkedin_accounts WHERE id = NEW.account_id;
    IF NEW.from_status IS NULL THEN
        IF EXISTS (SELECT 1 FROM linkedin_account_status_audit WHERE account_id = NEW.account_id)
           OR NEW.to_status IS DISTINCT FROM current_status THEN
            RAISE EXCEPTION 'linkedin_account_status_audit: only the account''s creation row may have no from_status'
                USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'linkedin_account_status_audit_chain';
        END IF;
        NEW.paired := true;
    ELSE
        IF NEW.from_status IS DISTINCT FROM current_status THEN
            RAISE EXCEPTION 'linkedin_account_status_audit: row for account % starts at % but the account is %; use the state-flip helper (account.Flip)',
                NEW.account_id, NEW.from_status, current_status
                USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'linkedin_account_status_audit_chain';
        END IF;
        IF NEW.paired THEN
            RAISE EXCEPTION 'linkedin_account_status_audit: a new row cannot arrive paired; use the state-flip helper (account.Flip)'
                USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'linkedin_account_status_audit_pairing';
        END IF;
        NEW.txid := txid_current();
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER linkedin_account_status_audit_before_insert
    BEFORE INSERT ON linkedin_account_status_audit
    FOR EACH ROW EXECUTE FUNCTION linkedin_account_status_audit_before_insert();

-- The audit trail is append-only. The one permitted change is the pairing
-- itself, made by the account trigger below (trigger depth 2).
-- +goose StatementBegin
CREATE FUNCTION linkedin_account_status_audit_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'linkedin_account_status_audit is append-only: rows cannot be deleted'
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'linkedin_account_status_audit_append_only';
    END IF;
    IF pg_trigger_depth() < 2
       OR OLD.paired OR NOT NEW.paired
       OR (NEW.id, NEW.account_id, NEW.from_status, NEW.to_status, NEW.reason, NEW.source, NEW.actor, NEW.strikes, NEW.created_at, NEW.txid)
          IS DISTINCT FROM
          (OLD.id, OLD.account_id, OLD.from_status, OLD.to_status, OLD.reason, OLD.source, OLD.actor, OLD.strikes, OLD.created_at, OLD.txid) THEN
        RAISE EXCEPTION 'linkedin_account_status_audit is append-only: rows cannot be changed'
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'linkedin_account_status_audit_append_only';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER linkedin_account_status_audit_guard
    BEFORE UPDATE OR DELETE ON linkedin_account_status_audit
    FOR EACH ROW EXECUTE FUNCTION linkedin_account_status_audit_guard();

-- At commit every audit row must have been consumed by a status change, so
-- an audit row never describes a flip that did not happen.
-- +goose StatementBegin
CREATE FUNCTION linkedin_account_status_audit_must_pair() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT (SELECT paired FROM linkedin_account_status_audit WHERE id = NEW.id) THEN
        RAISE EXCEPTION 'linkedin_account_status_audit: row % (% -> %) was never paired with a status change of account %; use the state-flip helper (account.Flip)',
            NEW.id, NEW.from_status, NEW.to_status, NEW.account_id
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'linkedin_account_status_audit_pairing';
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE CONSTRAINT TRIGGER linkedin_account_status_audit_must_pair
    AFTER INSERT ON linkedin_account_status_audit
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION linkedin_account_status_audit_must_pair();

-- Audit pairing: an UPDATE that changes status must consume a fresh audit
-- row (this transaction, this account, this exact transition, not yet
-- paired). Becoming connected also requires the strikes to be reset.
-- +goose StatementBegin
CREATE FUNCTION linkedin_accounts_audit_pairing() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    audit_id bigint;
BEGIN
    IF NEW.status = 'connected' AND NEW.strikes <> 0 THEN
        RAISE EXCEPTION 'linkedin_accounts %: becoming connected requires strikes reset to 0; use the state-flip helper (account.Flip)', NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'linkedin_accounts_audit_pairing';
    END IF;
    SELECT id INTO audit_id FROM linkedin_account_status_audit
     WHERE account_id = NEW.id AND from_status = OLD.status AND to_status = NEW.status
       AND NOT paired AND txid = txid_current()
     ORDER BY id DESC LIMIT 1;
    IF audit_id IS NULL THEN
        RAISE EXCEPTION 'linkedin_accounts %: status change % -> % has no fresh audit row in this transaction; change status only through the state-flip helper (account.Flip)',
            NEW.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'linkedin_accounts_audit_pairing';
    END IF;
    UPDATE linkedin_account_status_audit SET paired = true WHERE id = audit_id;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER linkedin_accounts_audit_pairing
    BEFORE UPDATE ON linkedin_accounts
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION linkedin_accounts_audit_pairing();

-- Creation is audited too, so every account's trail starts at its first
-- status and the chain can be checked from the beginning.
-- +goose StatementBegin
CREATE FUNCTION linkedin_accounts_audit_creation() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO linkedin_account_status_audit (account_id, from_status, to_status, reason, source, actor, strikes, created_at)
    VALUES (NEW.id, NULL, NEW.status, 'account created', 'create', '', NEW.strikes, NEW.created_at);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER linkedin_accounts_audit_creation
    AFTER INSERT ON linkedin_accounts
    FOR EACH ROW EXECUTE FUNCTION linkedin_accounts_audit_creation();

CREATE TABLE admin_alerts (
    id              text PRIMARY KEY,
    workspace_id    text REFERENCES workspaces (id),
    kind            text NOT NULL,
    severity        text NOT NULL CONSTRAINT admin_alerts_severity_chk CHECK (severity IN ('info', 'warning', 'critical')),
    subject_type    text CONSTRAINT admin_alerts_subject_type_chk CHECK (subject_type IN ('account', 'campaign')),
    subject_id      text,
    message         text NOT NULL,
    dedupe_key      text NOT NULL,
    occurrences     integer NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL,
    last_seen_at    timestamptz NOT NULL,
    acknowledged_at timestamptz,
    acknowledged_by text,
    CONSTRAINT admin_alerts_subject_chk CHECK ((subject_type IS NULL) = (subject_id IS NULL)),
    CONSTRAINT admin_alerts_ack_chk CHECK ((acknowledged_at IS NULL) = (acknowledged_by IS NULL))
);
-- One open alert per condition.
CREATE UNIQUE INDEX admin_alerts_open_dedupe_idx ON admin_alerts (dedupe_key) WHERE acknowledged_at IS NULL;
CREATE INDEX admin_alerts_workspace_idx ON admin_alerts (workspace_id, created_at);

-- +goose Down
DROP TABLE admin_alerts;
DROP TABLE linkedin_account_status_audit;
DROP TABLE linkedin_accounts;
DROP TABLE workspaces;
DROP FUNCTION linkedin_accounts_audit_creation();
DROP FUNCTION linkedin_accounts_audit_pairing();
DROP FUNCTION linkedin_account_status_audit_must_pair();
DROP FUNCTION linkedin_account_status_audit_guard();
DROP FUNCTION linkedin_account_status_audit_before_insert();
