-- The audit row is the flip.
--
-- Before: account.Flip wrote an audit row, then updated the account; the
-- status UPDATE had to find and mark ("pair") a fresh audit row, and a
-- deferred trigger checked at commit that every audit row had been paired.
-- That cost three trigger queries, an UPDATE of the audit row and a deferred
-- trigger event per flip.
-- Now inserting an audit row applies it: its trigger moves the account from
-- from_status to to_status (refusing the row when the account is elsewhere)
-- and writes the copy, disconnect marker and strikes the row carries. A
-- status change that does not come from that trigger is refused. So an
-- audit row cannot describe a flip that did not happen, and a flip cannot
-- happen without its audit row, with one trigger query per flip. The trail
-- becomes strictly append-only.

-- +goose Up
DROP TRIGGER linkedin_accounts_audit_pairing ON linkedin_accounts;
DROP TRIGGER linkedin_account_status_audit_must_pair ON linkedin_account_status_audit;
DROP TRIGGER linkedin_account_status_audit_before_insert ON linkedin_account_status_audit;
DROP TRIGGER linkedin_account_status_audit_guard ON linkedin_account_status_audit;
DROP INDEX linkedin_account_status_audit_unpaired_idx;
ALTER TABLE linkedin_account_status_audit DROP COLUMN paired, DROP COLUMN txid;

-- The copy the flip showed; NULL on rows from before this migration.
ALTER TABLE linkedin_account_status_audit ADD COLUMN last_error text;

-- The rules of account.CheckTransition, now that a row is the flip: which
-- source may cause which status, the one edge the table lacks, strikes
-- reset on connect, and copy saying why an account left connected. Rows
-- from before keep what they were written with (the copy rule cannot hold
-- for them: they carry no copy); the others are validated below.
ALTER TABLE linkedin_account_status_audit
    ADD CONSTRAINT linkedin_account_status_audit_source_chk CHECK (
        CASE WHEN from_status IS NULL THEN source = 'create'
             WHEN source IN ('health_check', 'webhook', 'hosted_auth', 'sync') THEN true
             WHEN source = 'send_error' THEN to_status IN ('disconnected', 'restricted', 'needs_verification', 'error')
             WHEN source IN ('operator', 'repair') THEN to_status = 'disconnected'
             ELSE false END) NOT VALID,
    ADD CONSTRAINT linkedin_account_status_audit_transition_chk CHECK (
        NOT (from_status = 'restricted' AND to_status = 'connecting')) NOT VALID,
    ADD CONSTRAINT linkedin_account_status_audit_strikes_chk CHECK (
        to_status <> 'connected' OR strikes = 0) NOT VALID,
    ADD CONSTRAINT linkedin_account_status_audit_copy_chk CHECK (
        from_status IS DISTINCT FROM 'connected' OR to_status = 'connected' OR COALESCE(last_error, '') <> '') NOT VALID;
-- +goose StatementBegin
DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['linkedin_account_status_audit_source_chk', 'linkedin_account_status_audit_transition_chk',
                                'linkedin_account_status_audit_strikes_chk'] LOOP
        BEGIN
            EXECUTE format('ALTER TABLE linkedin_account_status_audit VALIDATE CONSTRAINT %I', name);
        EXCEPTION WHEN check_violation THEN
            RAISE WARNING '% stays NOT VALID: audit rows written before it break it (new rows are checked)', name;
        END;
    END LOOP;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION linkedin_account_status_audit_apply() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.from_status IS NULL THEN
        -- The creation row, written by linkedin_accounts_audit_creation.
        IF EXISTS (SELECT 1 FROM linkedin_account_status_audit WHERE account_id = NEW.account_id)
           OR NEW.to_status IS DISTINCT FROM (SELECT status FROM linkedin_accounts WHERE id = NEW.account_id) THEN
            RAISE EXCEPTION 'linkedin_account_status_audit: only the account''s creation row may have no from_status'
                USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'linkedin_account_status_audit_chain';
        END IF;
    ELSE
        -- Disconnect markers as account.Flip sets them: cleared on connect;
        -- set when leaving connected (or when missing), kept otherwise.
        UPDATE linkedin_accounts
           SET status = NEW.to_status,
               last_error = NEW.last_error,
               disconnected_at = CASE WHEN NEW.to_status = 'connected' THEN NULL
                                      WHEN status = 'connected' OR disconnected_at IS NULL THEN NEW.created_at
                                      ELSE disconnected_at END,
               disconnected_by = CASE WHEN NEW.to_status = 'connected' THEN NULL ELSE NEW.source END,
               strikes = NEW.strikes,
               updated_at = NEW.created_at
         WHERE id = NEW.account_id AND status = NEW.from_status;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'linkedin_account_status_audit: row for account % starts at % but the account is elsewhere; use the state-flip helper (account.Flip)',
                NEW.account_id, NEW.from_status
                USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'linkedin_account_status_audit_chain';
        END IF;
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER linkedin_account_status_audit_apply
    BEFORE INSERT ON linkedin_account_status_audit
    FOR EACH ROW EXECUTE FUNCTION linkedin_account_status_audit_apply();

-- +goose StatementBegin
CREATE FUNCTION linkedin_account_status_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'linkedin_account_status_audit is append-only: rows cannot be changed'
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'linkedin_account_status_audit_append_only';
    END IF;
    RAISE EXCEPTION 'linkedin_account_status_audit is append-only: rows cannot be deleted'
        USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'linkedin_account_status_audit_append_only';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER linkedin_account_status_audit_append_only
    BEFORE UPDATE OR DELETE ON linkedin_account_status_audit
    FOR EACH ROW EXECUTE FUNCTION linkedin_account_status_audit_append_only();
CREATE TRIGGER linkedin_account_status_audit_no_truncate
    BEFORE TRUNCATE ON linkedin_account_status_audit
    FOR EACH STATEMENT EXECUTE FUNCTION linkedin_account_status_audit_append_only();

-- A status change must come from linkedin_account_status_audit_apply, the
-- only trigger in the schema that updates linkedin_accounts: it runs at
-- trigger depth 1, so its UPDATE reaches this trigger at depth 2, while a
-- client's UPDATE reaches it at depth 1.
-- +goose StatementBegin
CREATE FUNCTION linkedin_accounts_status_from_audit() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'linkedin_accounts %: status change % -> % without its audit row; change status only through the state-flip helper (account.Flip)',
            NEW.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'linkedin_accounts_audit_pairing';
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER linkedin_accounts_audit_pairing
    BEFORE UPDATE ON linkedin_accounts
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION linkedin_accounts_status_from_audit();

-- A flip rewrites the account row; with no index on status (the few status
-- filters scan a table of some thousand rows) and room left on each page,
-- that rewrite is a heap-only update: no index entries, about 40% less WAL.
DROP INDEX linkedin_accounts_status_idx;
ALTER TABLE linkedin_accounts SET (fillfactor = 80);

-- Every statement that writes a row rebuilds the table's CHECK expressions
-- from their stored form, so their size is paid on every flip. The same
-- rules, written compactly: one regular expression for the terminal phrases
-- (still account.TerminalPatterns, each LIKE '%a%b%' as 'a.*b'), arrays
-- for the value lists. A split-state rule that 00002 left NOT VALID stays
-- so until `keel migrate` can validate it.
-- +goose StatementBegin
DO $$
DECLARE
    statuses CONSTANT text := '''{connecting,connected,needs_verification,disconnected,restricted,error}''::text[]';
    terminal CONSTANT text := '(no longer registered|please reconnect|account not found.*reconnect|reconnect needed|reconnect required|must be connected again|credentials expired)';
    c record;
BEGIN
    FOR c IN
        SELECT * FROM (VALUES
            ('linkedin_accounts', 'linkedin_accounts_no_split_state_chk',
             format('CHECK (status <> %L OR last_error IS NULL OR lower(last_error) !~ %L)', 'connected', terminal)),
            ('linkedin_accounts', 'linkedin_accounts_status_chk', 'CHECK (status = ANY (' || statuses || '))'),
            ('linkedin_accounts', 'linkedin_accounts_tier_chk', 'CHECK (tier = ANY (''{free,premium,sales_navigator,recruiter}''::text[]))'),
            ('linkedin_account_status_audit', 'linkedin_account_status_audit_status_chk',
             'CHECK ((from_status IS NULL OR from_status = ANY (' || statuses || ')) AND to_status = ANY (' || statuses || '))')
        ) AS v(tbl, name, def)
    LOOP
        EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', c.tbl, c.name);
        EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I %s', c.tbl, c.name, c.def)
             || CASE WHEN c.name = 'linkedin_accounts_no_split_state_chk' AND EXISTS (
                    SELECT 1 FROM linkedin_accounts
                     WHERE status = 'connected' AND last_error IS NOT NULL AND lower(last_error) ~ terminal)
                THEN ' NOT VALID' ELSE '' END;
    END LOOP;
END;
$$;
-- +goose StatementEnd

-- +goose Down
ALTER TABLE linkedin_accounts RESET (fillfactor);
CREATE INDEX linkedin_accounts_status_idx ON linkedin_accounts (status);
DROP TRIGGER linkedin_accounts_audit_pairing ON linkedin_accounts;
DROP TRIGGER linkedin_account_status_audit_no_truncate ON linkedin_account_status_audit;
DROP TRIGGER linkedin_account_status_audit_append_only ON linkedin_account_status_audit;
DROP TRIGGER linkedin_account_status_audit_apply ON linkedin_account_status_audit;
DROP FUNCTION linkedin_accounts_status_from_audit();
DROP FUNCTION linkedin_account_status_audit_append_only();
DROP FUNCTION linkedin_account_status_audit_apply();
ALTER TABLE linkedin_account_status_audit
    DROP CONSTRAINT linkedin_account_status_audit_copy_chk,
    DROP CONSTRAINT linkedin_account_status_audit_strikes_chk,
    DROP CONSTRAINT linkedin_account_status_audit_transition_chk,
    DROP CONSTRAINT linkedin_account_status_audit_source_chk,
    DROP COLUMN last_error;
ALTER TABLE linkedin_account_status_audit ADD COLUMN txid bigint NOT NULL DEFAULT txid_current();
ALTER TABLE linkedin_account_status_audit ADD COLUMN paired boolean NOT NULL DEFAULT true;
ALTER TABLE linkedin_account_status_audit ALTER COLUMN paired SET DEFAULT false;
CREATE INDEX linkedin_account_status_audit_unpaired_idx ON linkedin_account_status_audit (account_id) WHERE NOT paired;
CREATE TRIGGER linkedin_account_status_audit_before_insert
    BEFORE INSERT ON linkedin_account_status_audit
    FOR EACH ROW EXECUTE FUNCTION linkedin_account_status_audit_before_insert();
CREATE TRIGGER linkedin_account_status_audit_guard
    BEFORE UPDATE OR DELETE ON linkedin_account_status_audit
    FOR EACH ROW EXECUTE FUNCTION linkedin_account_status_audit_guard();
CREATE CONSTRAINT TRIGGER linkedin_account_status_audit_must_pair
    AFTER INSERT ON linkedin_account_status_audit
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION linkedin_account_status_audit_must_pair();
CREATE TRIGGER linkedin_accounts_audit_pairing
    BEFORE UPDATE ON linkedin_accounts
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION linkedin_accounts_audit_pairing();
